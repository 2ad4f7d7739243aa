"""The memory budget of a run (``perovscope run --memory-budget``): chunk sizes, threads, frames in flight.

Only two steps touch the 4D-STEM patterns, the largest data of a session by far: ``strain`` (Bragg
disks of every pattern) and ``registration`` (total counts per probe position). Both read a frame
lazily and stream it through dask in chunks of scan positions (detector axes whole), so a step holds
the chunks in flight, never the frame. For one frame in flight with a budget ``B``
(:func:`stream_plan`), each of ``threads`` dask threads holds

``COPIES_PER_CHUNK · chunk + work``

where ``COPIES_PER_CHUNK`` counts the copies of a chunk alive at once (the decoded stored chunks,
the chunk they are merged into, its disk table) and ``work`` is the disk finder's working memory for
one sub-block of 32 patterns (float32 detection map, its FFT, the fit windows):
:data:`WORK_BYTES_PER_PIXEL` per detector pixel of each pattern, 21 MiB for a 128² detector. The
threads are as many as leave each at least ``work`` for its chunks, and the chunk is what remains of
``B / threads`` (at least one sub-block of patterns). With ``--workers`` the budget is shared by the
frames in flight, one per worker process (:func:`frames_in_flight`).

What the budget does not cover is fixed, or small beside the patterns: the interpreter and its
imports, the per-frame results (maps over the scan; the disk tables are 8 % of a uint16 frame), the
lattice and phase fits on those tables (blocks of 4096 patterns), the probe measurement (a mean of
≤ 512 patterns, summed in chunks) and the other modalities (HAADF, EDX), which are read whole.
A stored chunk is decoded whole: a file stored in chunks larger than the chunk size costs one
decoded stored chunk per thread whatever the budget.
"""

from __future__ import annotations

import ctypes
import gc
import os
from typing import NamedTuple

__all__ = ["COPIES_PER_CHUNK", "WORK_BYTES_PER_PIXEL", "SUB_BLOCK", "DEFAULT_CHUNK_BYTES", "StreamPlan",
           "local_threads", "stream_plan", "frames_in_flight", "release_memory"]

#: Copies of one chunk alive while it is processed (see the module docstring).
COPIES_PER_CHUNK = 4
#: Patterns the disk finder processes together (:data:`perovscope.diffraction.analysis._SUB_BLOCK`).
SUB_BLOCK = 32
#: Working memory of the disk finder per detector pixel of each pattern of a sub-block (measured with
#: tracemalloc: 21.5 MiB for 32 patterns of 128², 7.9 MiB for 32 of 64², i.e. ≤ 40 B per pixel plus
#: 2.7 MiB; 48 B covers both).
WORK_BYTES_PER_PIXEL = 48
#: Chunk size without a budget (the default of :func:`perovscope.diffraction.bragg_disks_map`).
DEFAULT_CHUNK_BYTES = 32 << 20


class StreamPlan(NamedTuple):
    """How one frame is streamed: dask ``threads`` (``None``: dask's default) and ``chunk_bytes``."""

    threads: int | None
    chunk_bytes: int


def local_threads() -> int:
    """Threads of dask's local (threaded) scheduler: ``num_workers`` of the dask config, else the CPUs."""
    import dask

    n = dask.config.get("num_workers", None)
    return max(1, int(n) if n else (os.cpu_count() or 1))


def stream_plan(budget: int | None, *, pattern_pixels: int, pattern_bytes: int,
                threads: int | None) -> StreamPlan:
    """Threads and chunk size for streaming one 4D-STEM frame within ``budget`` bytes.

    Parameters
    ----------
    budget : int or None
        Bytes for the chunks in flight of one frame; ``None``: no budget (``threads`` as given,
        :data:`DEFAULT_CHUNK_BYTES`).
    pattern_pixels, pattern_bytes : int
        Detector pixels and bytes of one pattern.
    threads : int or None
        Most dask threads to use (``None``: :func:`local_threads`).

    Returns
    -------
    StreamPlan
        ``threads · (COPIES_PER_CHUNK · chunk_bytes + work) ≤ budget`` with ``work`` =
        ``SUB_BLOCK · pattern_pixels · WORK_BYTES_PER_PIXEL``, unless even one thread and a chunk of
        one sub-block exceed the budget (then exactly that).
    """
    if budget is None:
        return StreamPlan(threads, DEFAULT_CHUNK_BYTES)
    most = local_threads() if threads is None else max(1, int(threads))
    work = SUB_BLOCK * int(pattern_pixels) * WORK_BYTES_PER_PIXEL
    smallest = SUB_BLOCK * int(pattern_bytes)
    n = max(1, min(most, int(budget) // (2 * work + COPIES_PER_CHUNK * smallest)))
    chunk = (int(budget) // n - work) // COPIES_PER_CHUNK
    return StreamPlan(n, max(smallest, chunk))


def frames_in_flight(budget: int | None, *, workers: int, frame_floor: int = 64 << 20) -> int:
    """Frames computed at once on ``workers`` worker processes: all of them without a budget, else as
    many as leave each frame at least ``frame_floor`` bytes of the budget."""
    if budget is None:
        return max(1, workers)
    return max(1, min(workers, int(budget) // frame_floor))


def release_memory() -> None:
    """Collect garbage and give freed heap memory back to the system (glibc ``malloc_trim``).

    Memory freed by numpy stays mapped in the allocator's arenas (one per dask thread) until trimmed,
    so without this the resident size after a step keeps that step's peak into the next one.
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:         # not glibc (macOS, musl, Windows): nothing to trim
        return
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
