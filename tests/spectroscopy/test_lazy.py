"""Lazy paths build graphs without computing, and give the eager numbers."""

import dask
import numpy as np
import pytest
import xarray as xr

from perovscope.spectroscopy.maps import (
    cl_peak_map,
    edx_quantify_map,
    eels_background_map,
    eels_edge_map,
    eels_normalise_map,
    zero_loss_map,
)


class _NoCompute:
    """A dask scheduler that fails if anything is computed (like xarray's raise_if_dask_computes)."""

    def __call__(self, dsk, keys, **kwargs):
        raise AssertionError("a lazy wrapper computed its input while building the graph")


@pytest.fixture
def no_compute():
    with dask.config.set(scheduler=_NoCompute()):
        yield


def test_wrappers_do_not_compute(cl_map, eels_linescan, edx_map, no_compute):
    cl = cl_peak_map(cl_map[0].chunk({"y": 4}))
    eels = eels_background_map(eels_linescan[0].chunk({"x": 9}), window=(580, 615))
    edges = eels_edge_map(eels_linescan[0].chunk({"x": 9}), edges=["I_M45"],
                          background_window=(580, 615))
    norm = eels_normalise_map(eels_linescan[0].chunk({"x": 9}), start=580)
    edx = edx_quantify_map(edx_map[0].chunk({"y": 5}), ["Cs", "Pb", "Br", "Cl"])
    zlp = zero_loss_map(eels_linescan[0].chunk({"x": 9}), window=(600, 700))
    for obj in (cl["centre"], eels["background_subtracted"], edges, norm, edx["atomic_percent"], zlp):
        assert hasattr(obj.data, "dask")


def test_normalise_eager_equals_lazy(eels_linescan):
    da, _ = eels_linescan
    eager = eels_normalise_map(da, start=580)
    lazy = eels_normalise_map(da.chunk({"x": 7}), start=580).compute()
    xr.testing.assert_allclose(eager, lazy)
    np.testing.assert_allclose(eager.sel(energy=slice(580, None)).sum("energy"), 1.0)


def test_no_compute_guard_works(no_compute):
    with pytest.raises(AssertionError, match="computed"):
        xr.DataArray(np.ones((4, 4))).chunk(2).sum().compute()
