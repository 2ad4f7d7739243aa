"""Streaming a lazy 4D-STEM frame ``(scan_y, scan_x, ky, kx)`` in chunks, with the results of the frame
in memory to the last bit.

Used by the ``strain`` and ``registration`` steps; the chunk size comes from the run's memory budget
(:mod:`perovscope.pipeline.memory`). Three things keep a streamed frame's results identical to those
of the same frame in memory:

* the chunks are whole scan rows whose patterns fill whole sub-blocks of the disk finder
  (:data:`perovscope.pipeline.memory.SUB_BLOCK` patterns in scan order, as for the frame in memory),
  so the same blocks of patterns meet the same arithmetic (:func:`stream_chunks`);
* the probe template is measured from the mean of the same ≤ 512 patterns spread over the scan that
  :func:`perovscope.diffraction.measure_probe` averages, summed chunk by chunk in integers (exact,
  so the mean is the one of those patterns in memory) (:func:`probe_template`);
* pattern totals of integer counts are summed in int64 (exact) (:func:`pattern_totals`).
"""

from __future__ import annotations

import math
import os

import numpy as np
import xarray as xr

from ..memory import SUB_BLOCK

__all__ = ["stream_chunks", "probe_template", "probe_pattern_indices", "pattern_totals"]

#: Patterns averaged for the probe template (as :func:`perovscope.diffraction.measure_probe` does).
PROBE_PATTERNS = 512


def _pattern_bytes(da: xr.DataArray) -> int:
    return int(da.shape[-1] * da.shape[-2] * da.dtype.itemsize)


def stream_chunks(da: xr.DataArray, chunk_bytes: int) -> dict | None:
    """Dask chunks for streaming a lazy frame through the disk finder.

    Whole scan rows, as many as fit in the chunk size :func:`perovscope.diffraction.bragg_disks_map`
    works with (``chunk_bytes``, or less when the frame is small enough to need more chunks to keep
    every core busy), in a multiple of the rows whose patterns fill whole sub-blocks; where that fits,
    also a multiple of the file's stored chunk rows, so each stored chunk is decoded once. A row too
    long for even one sub-block of rows gives chunks of one row and a multiple of a sub-block of
    columns (still within ``chunk_bytes``, not aligned with the frame in memory). ``None`` for a
    frame in memory or one without two scan axes.
    """
    if getattr(da.data, "chunks", None) is None or da.ndim != 4:
        return None
    ny, nx = da.shape[:2]
    per = _pattern_bytes(da)
    balanced = da.size * da.dtype.itemsize // (4 * (os.cpu_count() or 1))
    target = min(int(chunk_bytes), max(SUB_BLOCK * per, balanced))
    unit = SUB_BLOCK // math.gcd(nx, SUB_BLOCK)              # rows per whole number of sub-blocks
    stored = math.lcm(unit, max(da.chunksizes[da.dims[0]]))   # ... that also hold whole stored chunks
    fit = target // (per * nx)
    rows = fit // stored * stored if fit >= stored else fit // unit * unit
    y, x, ky, kx = da.dims
    if rows >= unit:
        return {y: min(rows, ny), x: -1, ky: -1, kx: -1}
    cols = max(SUB_BLOCK, target // per // SUB_BLOCK * SUB_BLOCK)
    return {y: 1, x: min(cols, nx), ky: -1, kx: -1}


def probe_pattern_indices(shape: tuple[int, ...], max_patterns: int = PROBE_PATTERNS) -> np.ndarray:
    """Flat scan indices (scan order) of the ≤ ``max_patterns`` patterns evenly spread over a scan of
    ``shape`` that :func:`perovscope.diffraction.measure_probe` averages."""
    n = int(np.prod(shape))
    return np.unique(np.linspace(0, n - 1, min(n, max_patterns)).astype(int))


def _gather(da: xr.DataArray, flat: np.ndarray) -> xr.DataArray:
    nav = da.dims[:-2]
    where = np.unravel_index(flat, tuple(da.sizes[d] for d in nav))
    return da.isel({d: xr.DataArray(w, dims="pattern") for d, w in zip(nav, where, strict=True)})


def probe_template(da: xr.DataArray, *, calibration, chunk_bytes: int) -> np.ndarray:
    """The probe template of :func:`perovscope.diffraction.measure_probe` for a lazy frame.

    The mean of the probe patterns is accumulated over groups of ≤ ``chunk_bytes`` of them (int64 sums
    for integer counts: exact, so equal to the float64 mean of the patterns in memory; float counts
    are gathered at once) and handed to :func:`~perovscope.diffraction.measure_probe` as a single
    pattern, whose mean is itself.
    """
    from ...diffraction.probe import measure_probe

    flat = probe_pattern_indices(tuple(da.shape[:-2]))
    if np.issubdtype(da.dtype, np.integer) and getattr(da.data, "chunks", None) is not None:
        group = max(1, int(chunk_bytes) // _pattern_bytes(da))
        total = np.zeros(da.shape[-2:], np.int64)
        for i in range(0, flat.size, group):
            total += np.asarray(_gather(da, flat[i:i + group]).sum("pattern", dtype=np.int64).values)
        mean = total.astype(np.float64) / flat.size
    else:
        mean = np.asarray(_gather(da, flat).mean("pattern").values, np.float64)
    one = xr.DataArray(mean[None], dims=("pattern", *da.dims[-2:]), attrs=da.attrs,
                       coords={d: da[d] for d in da.dims[-2:] if d in da.coords})
    return measure_probe(one, calibration=calibration).template


def pattern_totals(da: xr.DataArray, *, chunk_bytes: int) -> xr.DataArray:
    """Total counts of every pattern ``(scan_y, scan_x)`` in float64, over the frame's chunks (split
    where one holds more than ``chunk_bytes``; never merged: a sum needs no more than a stored chunk).

    Integer counts are summed in int64 and converted once: exact (below 2⁵³ counts per pattern), so
    the totals equal a float64 sum of the frame in memory whatever the chunks.
    """
    if getattr(da.data, "chunks", None) is not None:     # split chunks larger than chunk_bytes
        y, x = da.dims[:2]
        cy, cx = max(da.chunksizes[y]), max(da.chunksizes[x])
        n = max(1, int(chunk_bytes) // _pattern_bytes(da))    # patterns a chunk may hold
        if cy * cx > n:
            cols = min(cx, n)
            da = da.chunk({y: max(1, min(cy, n // cols)), x: cols})
    if np.issubdtype(da.dtype, np.integer) or da.dtype == bool:
        total = da.sum(da.dims[-2:], dtype=np.int64).astype(np.float64)
    else:
        total = da.astype(np.float64).sum(da.dims[-2:])
    return total.compute()
