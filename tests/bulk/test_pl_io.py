"""The two-column optical-spectrum text reader: headers, delimiters, axis kinds, quantities, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.errors import FormatError, InputError
from perovscope.io.spectrum_text import read_spectrum_text

LAM = np.arange(400.0, 410.0, 1.0)
VAL = np.linspace(1.0, 2.0, LAM.size)


def _write(tmp_path, name, header, rows, sep="\t"):
    path = tmp_path / name
    lines = list(header) + [sep.join(f"{v:.12g}" for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("sep", ["\t", ",", ";", " "])
def test_headerless_wavelength_file_any_delimiter(tmp_path, sep):
    da = read_spectrum_text(_write(tmp_path, "s.txt", [], zip(LAM, VAL, strict=True), sep=sep))
    assert da.dims == ("wavelength",) and da["wavelength"].attrs["units"] == "nm"
    assert da.attrs["axis_from"] == "range" and da.attrs["quantity"] == "intensity"
    np.testing.assert_allclose(da.values, VAL)


def test_quoted_header_with_units(tmp_path):
    path = _write(tmp_path, "a.txt", ['"1-1_213537 - RawData"', '"Wavelength nm." "Abs."'],
                  zip(LAM, VAL, strict=True), sep=" ")
    da = read_spectrum_text(path)
    assert da.attrs["axis_from"] == "header" and da.attrs["quantity"] == "absorbance"
    assert "RawData" in da.attrs["original_metadata"]


@pytest.mark.parametrize("header, dim, factor", [
    ("Energy (eV),Counts", "energy", 1.0), ("E [meV]\tcounts", "energy", 1e-3),
    ("lambda (um), intensity", "wavelength", 1e3), ("# Wavelength_nm  PL", "wavelength", 1.0),
])
def test_axis_kind_and_unit_from_header(tmp_path, header, dim, factor):
    sep = "," if "," in header else "\t"
    x = np.linspace(1.5, 2.5, 10) if dim == "energy" and factor == 1.0 else LAM
    da = read_spectrum_text(_write(tmp_path, "h.csv", [header], zip(x, VAL, strict=True), sep=sep))
    assert da.dims == (dim,)
    np.testing.assert_allclose(da[dim].values, x * factor)


def test_transmittance_percent_and_decreasing_axis(tmp_path):
    path = _write(tmp_path, "t.csv", ["Wavelength (nm),%T"], zip(LAM[::-1], 50 * VAL, strict=True), sep=",")
    da = read_spectrum_text(path)
    assert da.attrs["quantity"] == "transmittance"
    np.testing.assert_allclose(da.values, 0.5 * VAL)  # percent → fraction
    assert da["wavelength"].values[0] > da["wavelength"].values[-1]  # file order kept


def test_overrides_and_extra_columns(tmp_path):
    rows = [(a, b, 2 * b) for a, b in zip(LAM, VAL, strict=True)]
    path = _write(tmp_path, "m.txt", [], rows)
    da = read_spectrum_text(path, axis="energy", quantity="counts", column=2)
    assert da.dims == ("energy",) and da.attrs["axis_from"] == "given"
    np.testing.assert_allclose(da.values, 2 * VAL)


def test_bad_files_raise_format_errors(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_spectrum_text(tmp_path / "missing.txt")
    (tmp_path / "b.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(FormatError, match="binary"):
        read_spectrum_text(tmp_path / "b.txt")
    (tmp_path / "e.txt").write_text("just a header\n")
    with pytest.raises(FormatError, match="no rows"):
        read_spectrum_text(tmp_path / "e.txt")
    ragged = _write(tmp_path, "r.txt", [], [(1, 2), (2, 3), (3, 4, 5), (4, 5)])
    with pytest.raises(FormatError, match="columns"):
        read_spectrum_text(ragged)
    wn = _write(tmp_path, "w.txt", ["Raman shift (cm-1)\tcounts"], zip(LAM, VAL, strict=True))
    with pytest.raises(FormatError, match="wavenumbers"):
        read_spectrum_text(wn)
    odd = _write(tmp_path, "o.txt", [], zip(np.linspace(20, 30, 10), VAL, strict=True))
    with pytest.raises(FormatError, match="wavelength or an energy"):
        read_spectrum_text(odd)
    mixed = tmp_path / "x.txt"
    mixed.write_text("400\t1\n401\t2\n402\tabc\n403\t4\n")
    with pytest.raises(FormatError, match="line 3"):
        read_spectrum_text(mixed)
    with pytest.raises(InputError, match="axis"):
        read_spectrum_text(odd, axis="time")


def test_real_plqy_and_uvvis_files(data_file):
    cf = read_spectrum_text(data_file("bulk/pl_plqy_uvvis/PLQY_CF.txt"))
    assert cf.dims == ("wavelength",) and cf.size == 64 and float(cf["wavelength"][0]) == 220.0
    uv = read_spectrum_text(data_file("bulk/pl_plqy_uvvis/taucauto_spectrum_1.txt"))
    assert uv.attrs["quantity"] == "absorbance" and uv.size == 551
    assert float(uv["wavelength"][0]) == 250.0 and float(uv["wavelength"][-1]) == 800.0
