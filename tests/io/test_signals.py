"""Conversion of RosettaSciIO-style signal dicts to the data model, on hand-made dicts with known
answers (dims, unit conversion, axis order, naming of tree nodes, JSON-safe original metadata)."""

from __future__ import annotations

import json

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

from perovscope.io._signals import assemble, signal_to_dataarray
from perovscope.io._units import canonical_unit, json_safe


@pytest.mark.parametrize(("unit", "expected"), [
    ("µm", ("nm", 1e3)), ("um", ("nm", 1e3)), ("nm", ("nm", 1.0)), ("Å", ("nm", 0.1)), ("m", ("nm", 1e9)),
    ("keV", ("eV", 1e3)), ("eV", ("eV", 1.0)), ("1/Å", ("1/nm", 10.0)), ("1/µm", ("1/nm", 1e-3)),
    ("ms", ("s", 1e-3)), ("<undefined>", ("px", 1.0)), ("", ("px", 1.0)), ("mrad", ("mrad", 1.0)),
    ("K", ("K", 1.0)),
])
def test_canonical_units(unit, expected):
    assert canonical_unit(unit) == expected


def _ax(name, size, scale=1.0, offset=0.0, units="", navigate=False, **kw):
    return dict(name=name, size=size, scale=scale, offset=offset, units=units, navigate=navigate, **kw)


def test_eels_si_energy_first_is_transposed_and_converted():
    data = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)  # (energy, y, x) as DM stores it
    sig = {"data": data,
           "axes": [_ax("Energy loss", 5, 0.5, 100.0, "eV", True), _ax("y", 2, 0.002, 0.0, "µm"),
                    _ax("x", 3, 0.002, 0.0, "µm")],
           "metadata": {"Signal": {"signal_type": "EELS", "quantity": "Electrons (Counts)"},
                        "Acquisition_instrument": {"TEM": {"beam_energy": 200.0}}},
           "original_metadata": {"nan": float("nan"), "arr": np.arange(3), "b": b"x"}}
    da = signal_to_dataarray(sig, fmt="test", source="mem")
    assert da.dims == ("y", "x", "energy") and da.attrs["signal"] == "eels"
    np.testing.assert_array_equal(da.values, np.moveaxis(data, 0, -1))
    np.testing.assert_allclose(da.x.values, [0.0, 2.0, 4.0])
    assert da.x.attrs["units"] == "nm" and da.energy.attrs["units"] == "eV"
    np.testing.assert_array_equal(da.energy.values, [100.0, 100.5, 101.0, 101.5, 102.0])
    assert da.attrs["units"] == "counts" and da.attrs["beam_energy_keV"] == 200.0
    om = json.loads(da.attrs["original_metadata"])  # strict JSON: NaN became a string
    assert om == {"nan": "nan", "arr": [0, 1, 2], "b": "x"}


def test_4dstem_dims_and_lazy_data_stays_lazy():
    data = dsa.zeros((3, 4, 8, 8), dtype=np.uint16, chunks=(1, 4, 8, 8))
    sig = {"data": data,
           "axes": [_ax("y", 3, 2.0, 0, "nm", True), _ax("x", 4, 2.0, 0, "nm", True),
                    _ax("ky", 8, 0.1, -0.4, "1/Å"), _ax("kx", 8, 0.1, -0.4, "1/Å")],
           "metadata": {}, "original_metadata": {}}
    da = signal_to_dataarray(sig, fmt="test", source="mem")
    assert da.dims == ("scan_y", "scan_x", "ky", "kx") and da.attrs["signal"] == "4dstem"
    assert isinstance(da.data, dsa.Array) and da.data.chunks == data.chunks
    np.testing.assert_allclose(da.kx.values, np.arange(-4.0, 4.0), atol=1e-12)  # 1/Å -> 1/nm
    assert da.kx.attrs["units"] == "1/nm"


def test_non_uniform_axis_kept_and_size_one_axis_dropped():
    wl = np.array([400.0, 401.0, 403.0, 406.0])
    sig = {"data": np.ones((1, 4)), "axes": [_ax("", 1, navigate=True),
                                             dict(name="Wavelength", units="nm", axis=wl, navigate=False)],
           "metadata": {}, "original_metadata": {}}
    da = signal_to_dataarray(sig, fmt="test", source="mem", default_kind="cl")
    assert da.dims == ("wavelength",) and da.attrs["signal"] == "cl"
    np.testing.assert_array_equal(da.wavelength.values, wl)


def test_image_stack_gets_time_axis():
    sig = {"data": np.zeros((5, 6, 7), np.uint16),
           "axes": [_ax("Time", 5, 0.5, 0, "s", True), _ax("y", 6, units="nm"), _ax("x", 7, units="nm")],
           "metadata": {"General": {"title": "HAADF"}}, "original_metadata": {}}
    da = signal_to_dataarray(sig, fmt="test", source="mem")
    assert da.dims == ("time", "y", "x") and da.attrs["signal"] == "haadf"
    np.testing.assert_array_equal(da.time.values, [0, 0.5, 1.0, 1.5, 2.0])


def test_tree_naming_largest_signal_gets_plain_name():
    def arr(shape, kind):
        dims = ("y", "x", "energy")[-len(shape):]
        return xr.DataArray(np.zeros(shape), dims=dims, attrs={"signal": kind})

    tree = assemble([arr((10,), "eds"), arr((4, 4), "haadf"), arr((4, 4, 10), "eds")], source="s", fmt="f")
    assert set(tree.children) == {"eds", "eds_1", "haadf"}
    assert tree["eds/eds"].shape == (4, 4, 10) and tree["eds_1/eds_1"].shape == (10,)


def test_json_safe_limits_huge_arrays():
    assert json_safe(np.zeros(30000)).startswith("<array shape=(30000,)")
    assert json_safe({"a": (1, np.float32(2.5), float("inf"))}) == {"a": [1, 2.5, "inf"]}
