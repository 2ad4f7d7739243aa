"""No silent defaults that change numbers: a missing beam energy, an uncalibrated image or an unknown
length unit is a CalibrationError naming the attribute and the option that sets it; where a default is
legitimate (layer positions in px) it is recorded in attrs and announced once."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.calibrations import length_to_nm, record_default, required_attr
from perovscope.errors import CalibrationError, CalibrationWarning
from perovscope.imaging import find_particles
from perovscope.interfaces import segment_layers
from perovscope.spectroscopy.maps import edx_quantify_map


def _eds_cube(attrs):
    e = np.arange(0, 10_000, 20.0)
    spec = 5 + 400 * np.exp(-0.5 * ((e - 8040) / 60) ** 2) + 200 * np.exp(-0.5 * ((e - 525) / 40) ** 2)
    data = np.random.default_rng(0).poisson(np.broadcast_to(spec, (2, 2, e.size))).astype(np.uint16)
    return xr.DataArray(data, dims=("y", "x", "energy"), name="eds",
                        coords={"y": ("y", [0.0, 1.0], {"units": "nm"}),
                                "x": ("x", [0.0, 1.0], {"units": "nm"}),
                                "energy": ("energy", e, {"units": "eV"})}, attrs=attrs)


def test_edx_without_beam_energy_is_refused():
    with pytest.raises(CalibrationError, match=r"beam_energy_keV is missing.*--beam-energy-keV"):
        edx_quantify_map(_eds_cube({"signal": "eds"}), ["Cu", "O"])


def test_edx_beam_energy_from_file_or_option():
    from_file = edx_quantify_map(_eds_cube({"signal": "eds", "beam_energy_keV": 300.0}), ["Cu", "O"])
    given = edx_quantify_map(_eds_cube({"signal": "eds"}), ["Cu", "O"], beam_energy_keV=300.0)
    assert from_file.attrs["beam_energy_keV"] == given.attrs["beam_energy_keV"] == 300.0
    np.testing.assert_allclose(from_file["atomic_percent"].values, given["atomic_percent"].values)


def _disk_image(**coords):
    yy, xx = np.mgrid[:48, :48]
    img = np.where((yy - 24) ** 2 + (xx - 24) ** 2 <= 8 ** 2, 1000.0, 10.0)  # a 16-px disk
    return xr.DataArray(img, dims=("y", "x"), name="haadf", coords=coords)


def test_uncalibrated_particles_are_not_reported_in_nm():
    with pytest.raises(CalibrationError, match=r"no pixel size.*--pixel-size"):
        find_particles(_disk_image())  # used to report a 16-px disk as "15.68 nm"
    _, table = find_particles(_disk_image(), pixel_size_nm=0.5)
    assert table["diameter_nm"].iloc[0] == pytest.approx(8.0, rel=0.05)


def test_unknown_length_unit_is_refused():
    axis = np.arange(48.0)
    img = _disk_image(y=("y", axis, {"units": "furlong"}), x=("x", axis, {"units": "furlong"}))
    with pytest.raises(CalibrationError, match="unknown length unit 'furlong'"):
        find_particles(img)
    with pytest.raises(CalibrationError, match="unknown length unit"):
        length_to_nm("parsec", where="map", option="--pixel-size")
    assert length_to_nm("µm", where="map", option="--pixel-size") == 1e3


def test_layers_of_an_uncalibrated_map_are_in_px_and_say_so():
    rows = np.arange(60)[:, None] * np.ones((1, 40))
    img = xr.DataArray(np.random.default_rng(0).poisson(np.where(rows < 30, 100, 10)), dims=("y", "x"))
    with pytest.warns(CalibrationWarning, match="lengths are in px"):
        ds = segment_layers([img], n_layers=2)
    assert ds["interface_y"].attrs["units"] == "px" and ds["thickness"].attrs["units"] == "px"
    assert ds.attrs["defaults_used"] == {"pixel_size": "1 px"}
    assert ds["interface_y"].values[0] == pytest.approx(29.5, abs=1.0)


def test_required_attr_and_record_default():
    da = xr.DataArray([1.0], attrs={"beam_energy_keV": "abc"})
    with pytest.raises(CalibrationError, match="not a number"):
        required_attr(da, "beam_energy_keV", option="--beam-energy-keV")
    assert required_attr(da, "beam_energy_keV", given=80, option="--beam-energy-keV") == 80.0
    attrs = {}
    with pytest.warns(CalibrationWarning):
        record_default(attrs, "beam_energy_keV", 200.0, why="test")
    record_default(attrs, "beam_energy_keV", 200.0, why="test")  # once: no second warning
    assert attrs["defaults_used"] == {"beam_energy_keV": 200.0}
