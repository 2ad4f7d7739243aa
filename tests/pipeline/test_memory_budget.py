"""``--memory-budget``: chunk sizes within the budget, 4D-STEM frames streamed, never materialised.

The frame-level tests stream one simulated 4D-STEM frame (32² scan, 128² detector, uint16: 32 MiB)
through the ``strain`` and ``registration`` code paths from a dask array over the frame in memory.
Its chunks are views of that array, so tracemalloc sees only what the steps allocate; a step that
computed the whole frame would allocate the frame's 32 MiB again.
"""

from __future__ import annotations

import tracemalloc

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.pipeline.context import StepContext
from perovscope.pipeline.memory import (
    COPIES_PER_CHUNK,
    SUB_BLOCK,
    WORK_BYTES_PER_PIXEL,
    frames_in_flight,
    stream_plan,
)
from perovscope.pipeline.runner import _parse_budget
from perovscope.pipeline.steps import diffraction
from perovscope.pipeline.steps._stream import pattern_totals, probe_template, stream_chunks

MiB = 1 << 20


@pytest.mark.parametrize("budget_mib", [8, 64, 128, 512, 2048])
@pytest.mark.parametrize("threads", [1, 2, 8])
@pytest.mark.parametrize("detector", [64, 128, 256])
def test_stream_plan_keeps_every_thread_within_the_budget(budget_mib, threads, detector):
    budget, pixels = budget_mib * MiB, detector * detector
    plan = stream_plan(budget, pattern_pixels=pixels, pattern_bytes=2 * pixels, threads=threads)
    work = SUB_BLOCK * pixels * WORK_BYTES_PER_PIXEL
    smallest = SUB_BLOCK * 2 * pixels
    assert 1 <= plan.threads <= threads
    assert plan.chunk_bytes >= smallest                       # never below one sub-block of patterns
    in_flight = plan.threads * (COPIES_PER_CHUNK * plan.chunk_bytes + work)
    if COPIES_PER_CHUNK * smallest + work <= budget:          # a budget that one thread can keep
        assert in_flight <= budget
        # ... and not a wasteful one: the chunks take what the sub-block work leaves
        assert in_flight > budget - plan.threads * COPIES_PER_CHUNK * 1024
    else:                                                     # the least there is: one thread, one sub-block
        assert plan == (1, smallest)


def test_sub_block_is_the_disk_finders():
    from perovscope.diffraction import analysis

    assert SUB_BLOCK == analysis._SUB_BLOCK     # the alignment of streamed chunks depends on it


def test_stream_plan_for_the_benchmark_session():
    # 128 MiB on 2 threads, 128² uint16 patterns: 24 MiB of disk-finder work per thread, and
    # (64 - 24) / 4 = 10 MiB chunks
    plan = stream_plan(128 * MiB, pattern_pixels=128 * 128, pattern_bytes=2 * 128 * 128, threads=2)
    assert plan.threads == 2
    assert plan.chunk_bytes == (64 * MiB - SUB_BLOCK * 128 * 128 * WORK_BYTES_PER_PIXEL) // COPIES_PER_CHUNK
    assert stream_plan(None, pattern_pixels=1, pattern_bytes=1, threads=None).threads is None


def test_frames_in_flight_share_the_budget():
    assert frames_in_flight(None, workers=6) == 6
    assert frames_in_flight(128 * MiB, workers=6) == 2        # 64 MiB a frame at least
    assert frames_in_flight(16 * MiB, workers=6) == 1
    assert frames_in_flight(8 << 30, workers=6) == 6


@pytest.mark.parametrize("text, value", [("128MiB", 128 * MiB), ("2GB", 2 * 10**9), (4096, 4096)])
def test_budget_sizes_are_parsed(text, value):
    assert _parse_budget(text) == value


@pytest.mark.parametrize("bad", ["lots", "-5MB", 0, "0B"])
def test_bad_budgets_are_refused_naming_the_option(bad):
    with pytest.raises(InputError, match="--memory-budget"):
        _parse_budget(bad)


@pytest.mark.parametrize("nx, stored", [(64, 5), (48, 4), (30, 7), (40, 40)])
def test_stream_chunks_are_whole_rows_of_whole_sub_blocks(nx, stored):
    ny, det = 40, 32
    da = xr.DataArray(dsa.zeros((ny, nx, det, det), dtype=np.uint16, chunks=(stored, stored, det, det)),
                      dims=("scan_y", "scan_x", "ky", "kx"))
    per = det * det * 2
    for chunk_bytes in (SUB_BLOCK * per, 3 * SUB_BLOCK * per, 64 * MiB):
        chunks = stream_chunks(da, chunk_bytes)
        rows, cols = chunks["scan_y"], chunks["scan_x"]
        assert chunks["ky"] == chunks["kx"] == -1
        if cols == -1:      # whole rows: sub-blocks in scan order, as for the frame in memory
            assert (rows * nx) % SUB_BLOCK == 0 or rows == ny
            assert rows * nx * per <= chunk_bytes
        else:               # a row longer than the chunk: one row, whole sub-blocks of columns
            assert rows == 1 and (cols % SUB_BLOCK == 0 or cols == nx)
            assert cols * per <= max(chunk_bytes, SUB_BLOCK * per)
    if nx % SUB_BLOCK == 0:         # a row is whole sub-blocks: whole rows once a row fits
        assert stream_chunks(da, nx * per)["scan_x"] == -1
    if (nx, stored) == (64, 5):     # 5 rows fit: whole stored chunks, each decoded once
        assert stream_chunks(da, 64 * MiB)["scan_y"] == 5
    assert stream_chunks(da.compute(), MiB) is None               # a frame in memory is left as it is


@pytest.fixture(scope="module")
def frame_ctx():
    """A one-frame simulated session over the tree in memory, and its 4D-STEM frame as a dask array."""
    from perovscope.simulate import simulate_device

    tree = simulate_device(seed=0, n_frames=1, scan_shape=(32, 32), detector_shape=(128, 128),
                           haadf_shape=(64, 64), haadf_pixel_nm=2.4, eds_shape=(8, 8))
    ctx = StepContext.from_tree(tree, params=dict(diffraction.DEFAULTS))
    frame = ctx._memory["4dstem"]
    assert frame.dtype == np.uint16
    lazy = frame.chunk({"scan_y": 5, "scan_x": 5})            # as the simulated .hspy files store it
    _warm_up(lazy.isel(time=0, scan_y=slice(0, 10), scan_x=slice(0, 10)).drop_vars("time"))
    return ctx, ctx.with_(_memory={**ctx._memory, "4dstem": lazy}), frame.isel(time=0).nbytes


def _warm_up(sub: xr.DataArray) -> None:
    """Run the streaming code once on a few patterns: what it allocates once (imports, caches) is not
    what the tests measure."""
    from perovscope.diffraction import bragg_disks_map
    from perovscope.diffraction.calibration import calibration_from_coords

    cal = calibration_from_coords(sub)
    probe = probe_template(sub, calibration=cal, chunk_bytes=MiB)
    bragg_disks_map(sub.chunk(stream_chunks(sub, MiB)), probe, calibration=cal).compute()
    pattern_totals(sub, chunk_bytes=MiB)


def _traced(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_streamed_frame_gives_the_strain_of_the_frame_in_memory_to_the_last_bit(frame_ctx):
    in_memory, lazy, _ = frame_ctx
    a = diffraction._measure(in_memory, 0, reference="auto")
    b = diffraction._measure(lazy.with_(memory_budget=8 * MiB, threads=2), 0, reference="auto")
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        xr.testing.assert_identical(a[name], b[name])
    assert a.attrs["basis"] == b.attrs["basis"] and a.attrs["reference_basis"] == b.attrs["reference_basis"]


def test_strain_under_a_small_budget_never_holds_the_frame(frame_ctx):
    """Peak numpy allocation of a streamed frame beyond the frame-in-memory run's own working set.

    Under an 8 MiB budget the plan is one thread and 1 MiB chunks (the disk finder's 24 MiB sub-block
    work exceeds the budget; its own working set is the in-memory run's too), so the streamed run adds
    the chunks in flight (COPIES_PER_CHUNK · 1 MiB), the chunked disk tables (2.6 KiB a pattern,
    2.6 MiB) and the probe sums (1 MiB groups): ~8 MiB. Materialising the frame would add its 32 MiB;
    the bound is half of it.
    """
    in_memory, lazy, frame_bytes = frame_ctx
    _, base = _traced(lambda: diffraction._measure(in_memory, 0, reference="auto"))
    ctx = lazy.with_(memory_budget=8 * MiB, threads=2)
    assert tuple(ctx.stream_plan(ctx._memory["4dstem"])) == (1, SUB_BLOCK * 128 * 128 * 2)
    _, peak = _traced(lambda: diffraction._measure(ctx, 0, reference="auto"))
    assert peak - base < frame_bytes / 2


def test_pattern_totals_stream_and_are_exact(frame_ctx):
    in_memory, lazy, frame_bytes = frame_ctx
    frame = lazy._memory["4dstem"].isel(time=0).drop_vars("time")
    expected = in_memory._memory["4dstem"].isel(time=0).drop_vars("time").astype(float).sum(("ky", "kx"))
    total, peak = _traced(lambda: pattern_totals(frame, chunk_bytes=MiB))
    xr.testing.assert_identical(total, expected)
    # the stored 5x5 chunks (800 KiB) are summed as they are: their int64 sums (8 B a pattern) and
    # dask's bookkeeping stay below a chunk; the frame would be 32 MiB, its float64 copy 128 MiB
    assert peak < MiB
