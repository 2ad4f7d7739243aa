"""perovscope: multimodal, interface-resolved, time-resolved electron microscopy of perovskites.

Public entry points::

    import perovscope as ps
    tree = ps.io.read("session.emd")          # any supported instrument file -> DataArray / DataTree
    ps.io.save(tree, "results.zarr")          # atomic zarr write, readable by plain xarray
    sim = ps.simulate.simulate_device()       # synthetic operando session with ground truth
    ps.pipeline.run_session("session.toml")   # a whole operando session -> results folder + report

The areas (``io``, ``simulate``, ``diffraction``, ``imaging``, ``interfaces``, ``spectroscopy``,
``operando``) and the layers above them (``pipeline``, ``report``, ``viewer``) are imported on first
use, so ``import perovscope`` stays light.
"""

import importlib

from . import dims, errors
from .errors import CalibrationError, FitError, FormatError, InputError, PerovscopeError

_AREAS = ("io", "simulate", "diffraction", "imaging", "interfaces", "spectroscopy", "operando", "pipeline",
          "report", "viewer")

__all__ = [
    "__version__", "dims", "errors", *_AREAS,
    "PerovscopeError", "InputError", "FormatError", "CalibrationError", "FitError",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("perovscope")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0"


def __getattr__(name: str):
    if name in _AREAS:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "__version__":  # read from the installed metadata on first use (PEP 562)
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'perovscope' has no attribute {name!r}")
