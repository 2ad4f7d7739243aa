"""Lazy reading is really lazy: ``read`` runs no dask computation until the data are asked for, and
the lazy and eager paths give identical data, coordinates and attributes."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from dask.callbacks import Callback

import perovscope.io as pio

LAZY_FILES = [
    "rosettasciio/001_4x2_6bit.mib",
    "rosettasciio/EELS_SI.dm4",
    "rosettasciio/test-MonarcCL_spectrum-SI.dm4",
    "SciFiDatasets/EMDReader_Image_FEI.emd",
    "lumispy/asymmetric_peak_map.hspy",
]


class ComputeCounter(Callback):
    """Counts every dask computation started while active (any scheduler, nested ones too)."""

    def __init__(self):
        super().__init__()
        self.computes = 0

    def _start(self, dsk):
        self.computes += 1


def _arrays(obj):
    if isinstance(obj, xr.DataTree):
        return [node[v] for node in obj.subtree for v in node.data_vars]
    return [obj]


def test_mib_read_does_no_compute_until_asked(data_file):
    path = data_file("rosettasciio/001_4x2_6bit.mib")
    with ComputeCounter() as counter:
        da = pio.read(path)
        # everything a user inspects before computing: shape, dims, coords, metadata, slicing, sums
        assert isinstance(da.data, dsa.Array)
        assert da.shape == (2, 4, 256, 256)
        _ = da.attrs["exposure_s"], da.coords["kx"].values, da.isel(scan_y=0).sum(("ky", "kx"))
        frame_sums = da.sum(("ky", "kx"))
        assert counter.computes == 0, "read() or building the graph computed data"
        values = frame_sums.values  # asked for: now it computes
        assert counter.computes >= 1
    assert int(values.sum()) == 3623664


@pytest.mark.parametrize("rel", LAZY_FILES)
def test_lazy_formats_defer_and_match_eager(data_file, rel):
    path = data_file(rel)
    with ComputeCounter() as counter:
        lazy = pio.read(path, lazy=True)
        assert counter.computes == 0
    eager = pio.read(path, lazy=False)
    for a, b in zip(_arrays(lazy), _arrays(eager), strict=True):
        assert isinstance(a.data, dsa.Array)
        assert isinstance(b.data, np.ndarray)
        assert a.dims == b.dims and a.dtype == b.dtype
        assert a.attrs == b.attrs
        for dim in a.dims:
            np.testing.assert_array_equal(a[dim].values, b[dim].values)
            assert a[dim].attrs == b[dim].attrs
        np.testing.assert_array_equal(a.values, b.values)


def test_lazy_rechunked_reduction_matches_eager(data_file):
    """Odd chunk sizes over the scan give the same per-frame sums as the eager array."""
    path = data_file("rosettasciio/001_4x2_6bit.mib")
    lazy = pio.read(path).chunk({"scan_y": 1, "scan_x": 3, "ky": 100})
    eager = pio.read(path, lazy=False)
    np.testing.assert_array_equal(lazy.sum(("ky", "kx")).values, eager.sum(("ky", "kx")).values)


def test_guarded_chunks_match_and_failures_become_format_errors():
    """The read guard returns the reader's chunks unchanged, and a chunk whose decoding fails (as
    h5py does for a damaged compressed chunk) raises FormatError naming the file at compute time."""
    import dask

    from perovscope.errors import FormatError
    from perovscope.io._lazy import guard_lazy

    base = dsa.arange(7 * 5 * 6, chunks=3).reshape(7, 5, 6).rechunk((3, 2, 6)) * 2
    guarded = guard_lazy(base, "file.hspy")
    assert guarded.chunks == base.chunks
    np.testing.assert_array_equal(guarded.compute(), base.compute())
    np.testing.assert_array_equal(guarded[1:6, 3].compute(), base[1:6, 3].compute())

    def damaged(block):
        if block.min() > 100:
            raise OSError("Can't synchronously read data (filter returned failure during read)")
        return block

    bad = guard_lazy(base.map_blocks(damaged, dtype=base.dtype), "file.hspy")
    assert int(bad[:1, :2].sum().compute()) == int(base[:1, :2].sum().compute())  # healthy chunks read
    with pytest.raises(FormatError, match="file.hspy: cannot read the data"):
        with dask.config.set(scheduler="threads"):
            bad.sum().compute()
