"""Lazy (dask) data whose read failures surface as :class:`~perovscope.errors.FormatError`.

A lazily read file is only decoded when the array is computed, so damage in the data region (a bad
compressed HDF5 chunk, a file shortened after opening) appears at compute time. Each chunk of the
reader's dask array is wrapped so that whatever the underlying library raises there is re-raised as a
``FormatError`` naming the file, exactly as it would have been at read time.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError, PerovscopeError

__all__ = ["guard_lazy"]


class _GuardedSource:
    """Array-like view of a dask array; slicing computes that slice, translating failures."""

    def __init__(self, array, source: str):
        self.array = array
        self.source = source
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self.ndim = array.ndim

    def __getitem__(self, key):
        try:
            return np.asarray(self.array[key].compute(scheduler="sync"))
        except PerovscopeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoding failure is a damaged file
            raise FormatError(f"{self.source}: cannot read the data ({type(exc).__name__}: {exc}); "
                              "the file is truncated or corrupt") from exc


def guard_lazy(data, source: str):
    """Wrap a dask array (other arrays are returned unchanged); chunks and dtype are kept."""
    import dask.array as da

    if not isinstance(data, da.Array):
        return data
    return da.from_array(_GuardedSource(data, source), chunks=data.chunks, asarray=False, lock=False,
                         name=f"perovscope-read-{data.name}", meta=np.empty((0,) * data.ndim, data.dtype))
