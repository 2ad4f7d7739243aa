"""Reading instrument files into labelled arrays, and writing/reading perovscope results (zarr).

* :func:`read` — any supported instrument file (Gatan, Bruker, Velox/Berkeley EMD, Merlin, blockfile,
  TIA, JEOL, EMSA, HyperSpy, DigitalSurf, Delmic, LabSpec, Bruker XRD, text/CSV) -> DataArray,
  DataTree or Dataset in the data model of :mod:`perovscope.dims`.
* :func:`save` / :func:`open_results` / :func:`is_complete` — perovscope's own zarr results.
* :func:`find_signal` / :func:`iter_signals` — choose one signal of a multi-signal file or tree.
* :func:`to_hyperspy` / :func:`from_hyperspy` — adapters for HyperSpy users (optional import).
"""

from .formats import FORMATS, supported_extensions
from .hyperspy import from_hyperspy, to_hyperspy
from .reader import read
from .results import is_complete, open_results, save
from .select import find_signal, iter_signals

__all__ = ["read", "save", "open_results", "is_complete", "to_hyperspy", "from_hyperspy", "FORMATS",
           "supported_extensions", "find_signal", "iter_signals"]
