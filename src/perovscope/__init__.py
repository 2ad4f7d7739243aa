"""perovscope: multimodal, interface-resolved, time-resolved electron microscopy of perovskites.

Public entry points::

    import perovscope as ps
    tree = ps.io.read("session.emd")          # any supported instrument file -> DataArray / DataTree
    ps.io.save(tree, "results.zarr")          # atomic zarr write, readable by plain xarray
"""

from importlib.metadata import PackageNotFoundError, version

from . import dims, errors
from .errors import CalibrationError, FitError, FormatError, InputError, PerovscopeError

try:
    __version__ = version("perovscope")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "__version__", "dims", "errors",
    "PerovscopeError", "InputError", "FormatError", "CalibrationError", "FitError",
]
