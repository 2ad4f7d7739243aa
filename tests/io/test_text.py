"""Plain-text spectra and CSV logs: known tables written here are read back exactly."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.errors import FormatError


def test_bias_log_csv_becomes_dataset_over_time(tmp_path):
    t = np.arange(0.0, 5.0, 0.5)
    current = 1e-3 * t**2
    voltage = 2.5 + 0.1 * t
    el = 100.0 * np.exp(-t)
    path = tmp_path / "bias.csv"
    table = np.stack([t, current, voltage, el], axis=1)
    rows = "\n".join(",".join(repr(float(v)) for v in row) for row in table)
    path.write_text("# device 7, run 2\ntime_s,current_A,voltage_V,el_intensity\n" + rows + "\n")
    ds = pio.read(path)
    assert isinstance(ds, xr.Dataset)
    assert list(ds.data_vars) == ["current_A", "voltage_V", "el_intensity"]
    assert ds.time.attrs["units"] == "s"
    np.testing.assert_array_equal(ds.time.values, t)  # repr() round-trips floats exactly
    np.testing.assert_array_equal(ds.current_A.values, current)
    np.testing.assert_array_equal(ds.voltage_V.values, voltage)
    np.testing.assert_array_equal(ds.el_intensity.values, el)
    assert ds.current_A.attrs["units"] == "A" and ds.voltage_V.attrs["units"] == "V"


def test_time_in_ms_is_converted_to_seconds(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("time_ms;current_mA;voltage_V\n0;1;3\n250;2;3.5\n500;4;4\n")
    ds = pio.read(path)
    np.testing.assert_allclose(ds.time.values, [0.0, 0.25, 0.5], rtol=0, atol=1e-15)
    assert ds.current_mA.attrs["units"] == "mA"


@pytest.mark.parametrize("sep", [",", "\t", ";", "  "])
def test_two_column_energy_spectrum_in_keV(tmp_path, sep):
    energy_keV = np.array([0.5, 0.51, 0.52, 0.53])
    counts = np.array([10, 12, 9, 40])
    path = tmp_path / "spec.txt"
    path.write_text(f"Energy (keV){sep}Counts\n" + "\n".join(f"{e}{sep}{c}" for e, c in
                                                         zip(energy_keV, counts, strict=True)))
    da = pio.read(path)
    assert da.dims == ("energy",) and da.energy.attrs["units"] == "eV"
    np.testing.assert_allclose(da.energy.values, energy_keV * 1e3, rtol=1e-15)
    np.testing.assert_array_equal(da.values, counts)
    assert da.attrs["units"] == "counts"


def test_wavelength_header(tmp_path):
    path = tmp_path / "pl.csv"
    path.write_text("wavelength_nm,intensity\n500.0,1.5\n500.5,2.5\n501.5,0.5\n")
    da = pio.read(path)
    assert da.dims == ("wavelength",) and da.wavelength.attrs["units"] == "nm"
    np.testing.assert_array_equal(da.wavelength.values, [500.0, 500.5, 501.5])  # non-uniform kept


def test_headerless_txt_and_override(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("1 10\n2 20\n3 30\n")
    da = pio.read(path)
    assert da.dims == ("x",)
    again = pio.read(path, dim="energy", units="eV")
    assert again.dims == ("energy",) and again.energy.attrs["units"] == "eV"
    np.testing.assert_array_equal(again.values, [10, 20, 30])


def test_xy_defaults_to_two_theta(tmp_path):
    path = tmp_path / "scan.xy"
    path.write_text("10.0 5\n10.02 7\n")
    da = pio.read(path)
    assert da.dims == ("two_theta",) and da.two_theta.attrs["units"] == "deg" and da.attrs["signal"] == "xrd"


def test_ragged_rows_are_a_format_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(FormatError, match="row 3 has 3 columns"):
        pio.read(path)
