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
    """Array-like view of a dask array; each chunk is computed on its own, translating failures.

    The reader's graph is materialised once; a chunk request culls it to that chunk's tasks and runs
    them synchronously (about 0.1 ms per chunk instead of re-slicing the whole array each time).
    """

    def __init__(self, array, source: str):
        self.array = array
        self.source = source
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self.ndim = array.ndim
        self._graph = None
        self._keys = array.__dask_keys__()
        self._bounds = [np.cumsum((0, *c)) for c in array.chunks]

    def _chunk_key(self, key):
        if not isinstance(key, tuple) or len(key) != self.ndim:
            return None
        index = []
        for bounds, sl in zip(self._bounds, key, strict=True):
            if not isinstance(sl, slice) or sl.step not in (None, 1):
                return None
            i = int(np.searchsorted(bounds, sl.start or 0, side="right")) - 1
            if i < 0 or i >= len(bounds) - 1 or bounds[i] != (sl.start or 0) or bounds[i + 1] != sl.stop:
                return None
            index.append(i)
        node = self._keys
        for i in index:
            node = node[i]
        return node

    def __getitem__(self, key):
        from dask.local import get_sync
        from dask.optimization import cull

        try:
            chunk = self._chunk_key(key)
            if chunk is None:  # not one whole chunk: slice the array (slower, general)
                return np.asarray(self.array[key].compute(scheduler="sync"))
            if self._graph is None:
                self._graph = dict(self.array.__dask_graph__())
            graph, _ = cull(self._graph, [chunk])
            return np.asarray(get_sync(graph, chunk))
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
