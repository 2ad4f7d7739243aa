"""SAXS text reader: RAW .dat and generic q/I/σ files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perovscope.errors import FormatError
from perovscope.io.saxs_dat import read_saxs_dat

RAW = "bulk/saxs/raw_glucose_isomerase.dat"


def test_raw_dat_reader(data_file):
    ds = read_saxs_dat(data_file(RAW))
    assert ds.attrs["format"] == "bioxtas_raw_dat" and ds.attrs["declared_points"] == 474
    assert ds.sizes["q"] == 474 and ds.q.attrs["units"] == "1/Å"
    assert ds.q.values[0] == pytest.approx(1.00967275e-02)
    assert ds.sigma.values[0] == pytest.approx(1.59855527e-03)
    header = json.loads(ds.attrs["original_metadata"])
    assert header["analysis"]["guinier"]["nEnd"] == 49
    assert ds.attrs["q_unit_assumed"] == 1  # RAW's header names no unit (RAW writes 1/Å)


def test_generic_text_in_inverse_nm_is_converted(tmp_path):
    q = np.linspace(0.1, 3.0, 40)  # 1/nm
    rows = "\n".join(f"{a:.6e}, {b:.6e}, {c:.6e}" for a, b, c in zip(q, np.exp(-q), 0.01 * np.exp(-q),
                                                                      strict=True))
    path = tmp_path / "curve.csv"
    path.write_text(f"# beamline export\n# q [nm^-1], I [cm^-1], sigma\n{rows}\n")
    ds = read_saxs_dat(path)
    assert ds.attrs["q_unit_original"] == "1/nm" and "q_unit_assumed" not in ds.attrs
    assert np.allclose(ds.q.values, q / 10) and ds.intensity.attrs["units"] == "1/cm"
    two = tmp_path / "two.dat"  # two columns, unit given by the caller
    two.write_text("q I\n" + "\n".join(f"{a} {b}" for a, b in zip(q, np.exp(-q), strict=True)))
    ds = read_saxs_dat(two, q_unit="1/nm")
    assert "sigma" not in ds and np.allclose(ds.q.values, q / 10)


def test_reader_errors(tmp_path, data_file):
    text = data_file(RAW).read_text().splitlines()
    cut = tmp_path / "truncated.dat"
    cut.write_text("\n".join(text[:200]))  # declares 474 points, holds 196
    with pytest.raises(FormatError, match="declares 474"):
        read_saxs_dat(cut)
    binary = tmp_path / "image.dat"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    with pytest.raises(FormatError, match="binary"):
        read_saxs_dat(binary)
    empty = tmp_path / "empty.dat"
    empty.write_text("# nothing\n")
    with pytest.raises(FormatError, match="no rows"):
        read_saxs_dat(empty)
    with pytest.raises(FormatError, match="no such file"):
        read_saxs_dat(tmp_path / "missing.dat")
