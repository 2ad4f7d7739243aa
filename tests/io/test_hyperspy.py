"""HyperSpy adapters: round trips keep data, calibrations and kind; files loaded by HyperSpy itself and
by perovscope agree. Run in the bench environment (``.venv-bench``), skipped elsewhere."""

from __future__ import annotations

import importlib.util

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.errors import InputError


def _eels_si(lazy=False):
    data = np.arange(3 * 4 * 50, dtype=np.float32).reshape(3, 4, 50)
    if lazy:
        data = dsa.from_array(data, chunks=(2, 3, 50))
    coords = {"y": ("y", 2.0 * np.arange(3), {"units": "nm"}),
              "x": ("x", 2.0 * np.arange(4), {"units": "nm"}),
              "energy": ("energy", 280.0 + 0.5 * np.arange(50), {"units": "eV"})}
    return xr.DataArray(data, dims=("y", "x", "energy"), coords=coords, name="eels",
                        attrs={"signal": "eels", "units": "counts", "beam_energy_keV": 200.0, "title": "SI"})


@pytest.mark.skipif(importlib.util.find_spec("hyperspy") is not None, reason="HyperSpy is installed here")
def test_without_hyperspy_a_clear_error():
    with pytest.raises(InputError, match="HyperSpy is not installed"):
        pio.to_hyperspy(_eels_si())


@pytest.mark.bench
@pytest.mark.parametrize("lazy", [False, True])
def test_roundtrip_eels_si(lazy):
    pytest.importorskip("hyperspy")
    da = _eels_si(lazy)
    s = pio.to_hyperspy(da)
    assert s.axes_manager.signal_dimension == 1 and s.axes_manager.navigation_shape == (4, 3)
    ax = s.axes_manager.signal_axes[0]
    assert (ax.name, ax.units, ax.offset, ax.scale) == ("energy", "eV", 280.0, 0.5)
    assert s._lazy is lazy
    back = pio.from_hyperspy(s)
    assert back.dims == da.dims and back.attrs["signal"] == "eels"
    for dim in da.dims:
        np.testing.assert_allclose(back[dim].values, da[dim].values, rtol=1e-12)
        assert back[dim].attrs["units"] == da[dim].attrs["units"]
    np.testing.assert_array_equal(np.asarray(back.values), np.asarray(da.values))


@pytest.mark.bench
def test_4dstem_from_file_to_hyperspy(data_file):
    pytest.importorskip("hyperspy")
    da = pio.read(data_file("rosettasciio/001_4x2_6bit.mib"))
    s = pio.to_hyperspy(da)
    assert s.axes_manager.signal_shape == (256, 256) and s.axes_manager.navigation_shape == (4, 2)
    assert int(s.data.sum().compute()) == 3623664


@pytest.mark.bench
@pytest.mark.parametrize(("rel", "node"), [("rosettasciio/EELS_SI.dm4", None),
                                          ("rosettasciio/test_TEM.bcf", "eds"),
                                          ("rosettasciio/test-MonarcCL_spectrum-SI.dm4", None),
                                          ("lumispy/asymmetric_peak_map.hspy", None)])
def test_agrees_with_hyperspy_load(data_file, rel, node):
    """HyperSpy's own loader and perovscope give the same array and calibrations (after unit
    conversion: perovscope stores nm and eV where HyperSpy keeps µm and keV)."""
    hs = pytest.importorskip("hyperspy.api")
    path = data_file(rel)
    ref = hs.load(path)
    if isinstance(ref, list):
        ref = next(r for r in ref if r.axes_manager.signal_dimension == 1)
    ours = pio.read(path, lazy=False)
    if node is not None:
        ours = ours[f"{node}/{node}"]
    via = pio.from_hyperspy(ref)
    assert via.dims == ours.dims
    np.testing.assert_array_equal(np.asarray(via.values), np.asarray(ours.values))
    for dim in ours.dims:
        np.testing.assert_allclose(via[dim].values, ours[dim].values, rtol=1e-9)
        assert via[dim].attrs["units"] == ours[dim].attrs["units"]


@pytest.mark.bench
def test_element_maps_become_an_image_stack(data_file):
    pytest.importorskip("hyperspy")
    maps = pio.read(data_file("rosettasciio/Test SI 16x16 215 kx.emd"))["element_map/element_map"]
    s = pio.to_hyperspy(maps)
    assert s.axes_manager.signal_shape == (16, 16) and s.axes_manager.navigation_shape == (4,)
    np.testing.assert_array_equal(np.asarray(s.data), np.moveaxis(maps.values, -1, 0))
