"""Kernels compiled with numba on first use, so that importing a module that defines them stays cheap.

``@kernel(**flags)`` marks a function; :func:`compile_kernels` compiles every marked function once
(``numba.njit(cache=True, nogil=True, **flags)``, cached on disk) and rebinds it, in the module that
defines it and in every module that imported it by name, so kernels calling each other across
modules all see the compiled versions. Until then the functions are plain Python.
"""

from __future__ import annotations

import importlib.util
import sys
import threading

__all__ = ["available", "kernel", "compile_kernels"]

_MARKED: list[tuple[object, dict]] = []
_LOCK = threading.Lock()
_DONE: list[bool] = [False]


def available() -> bool:
    """True if the compiled kernels can run (numba importable)."""
    return importlib.util.find_spec("numba") is not None


def kernel(**flags):
    """Mark a function for :func:`compile_kernels` with numba ``njit`` options (e.g. ``fastmath``)."""
    def mark(func):
        _MARKED.append((func, flags))
        return func
    return mark


def compile_kernels() -> None:
    """Compile every marked kernel (once per process) and rebind the names that point to it."""
    with _LOCK:
        if _DONE[0]:
            return
        import numba

        compiled = {id(f): numba.njit(cache=True, nogil=True, **flags)(f) for f, flags in _MARKED}
        modules = {f.__module__ for f, _ in _MARKED}
        for name in modules:
            namespace = vars(sys.modules[name])
            for key, value in list(namespace.items()):
                if id(value) in compiled and callable(value):
                    namespace[key] = compiled[id(value)]
        _DONE[0] = True
