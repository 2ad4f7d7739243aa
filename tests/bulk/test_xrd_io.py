"""Powder-pattern text files (.xye/.xy, compressed) and the real LaB6 line-profile standard."""

from __future__ import annotations

import bz2
import gzip

import numpy as np
import pytest

from perovscope.bulk.xrd import refine_pattern
from perovscope.bulk.xrd_peaks import find_peaks, index_peaks
from perovscope.bulk.xrd_reflections import XRAY_LINES
from perovscope.errors import FormatError
from perovscope.io.xye import read_xye

LAB6 = "bulk/xrd_powder/xrayutilities_LaB6_d500_si_psd.xye.bz2"


def test_read_real_lab6_file(data_file):
    da = read_xye(data_file(LAB6))
    assert da.dims == ("two_theta",) and da.size == 17381
    assert da["two_theta"].attrs["units"] == "deg" and "sigma" in da.coords
    assert da["two_theta"].values[0] == pytest.approx(4.57208)
    assert da["two_theta"].values[-1] == pytest.approx(150.5783)
    assert da.attrs["units"] == "counts" and da.attrs["format"] == "xye"


def test_real_lab6_refined_lattice_and_all_peaks_indexed(data_file):
    # the source (xrayutilities' LaB6 example) reports Pm-3m, a = 4.15692 Å, B at 6f x = 0.1975;
    # refined here over its fit window 18–148° with Cu Kα1/Kα2, zero shift and displacement
    da = read_xye(data_file(LAB6))
    x, y, s = da["two_theta"].values, da.values, da["sigma"].values
    res = refine_pattern(y, x, "LaB6", sigma=s, two_theta_range=(18, 148), background_order=10, radius_mm=337)
    assert res.cell[0, 0] == pytest.approx(4.15692, abs=1e-3)
    assert res.cell_std[0, 0] < 1e-4
    assert res.rwp < 0.10 and res.gof < 1.5 and res.flag == 0
    keep = (x >= 18) & (x <= 148)
    pk = find_peaks(y[keep], x[keep], sigma=s[keep])
    assert int(pk.count) >= 40
    ix = index_peaks(pk.two_theta, res, kbeta_wavelength=XRAY_LINES["Cu"][2])
    assert ix.indexed.all()
    assert np.all(np.abs(ix.delta) < 0.02)
    assert set(ix.hkl[ix.line == "Kα1"]) >= {"100", "110", "111", "200", "210", "211", "220", "310", "321"}
    assert "Kβ" in set(ix.line)  # the filter's Kβ leak under (110) at 27.4°


def test_two_column_xy_with_header_and_gzip(tmp_path):
    x = np.linspace(10, 20, 11)
    text = "# Pattern title\n# wavelength = 1.5406 A\n2theta intensity\n" + "\n".join(
        f"{a:.3f} {b:.1f}" for a, b in zip(x, x * 10, strict=True))
    p = tmp_path / "p.xy"
    p.write_text(text)
    da = read_xye(p)
    assert da.size == 11 and "sigma" not in da.coords
    assert da.attrs["xray_wavelength_A"] == pytest.approx(1.5406)
    g = tmp_path / "p.xye.gz"
    g.write_bytes(gzip.compress(text.encode()))
    np.testing.assert_allclose(read_xye(g).values, x * 10)
    rev = tmp_path / "rev.xye"
    rev.write_text("\n".join(f"{a} {b} {np.sqrt(b)}" for a, b in zip(x[::-1], x[::-1], strict=True)))
    assert read_xye(rev)["two_theta"].values[0] == 20  # file order kept; analyses accept either direction


@pytest.mark.parametrize("content,match", [
    (b"\x00\x01\x02binary", "binary"),
    (b"# only a header\n# nothing else\n", "fewer than two"),
    (b"10 1 1\n11 2 1\n12 3\n13 4 1\n", "columns"),
    (b"10 1\n11 2\n12 x\n13 4\n", "corrupt"),
    (b"10 1\n11 2\n13 4\nend of data\n", None),
])
def test_bad_text_files(tmp_path, content, match):
    p = tmp_path / "bad.xye"
    p.write_bytes(content)
    if match is None:  # a text footer after the data is kept with the header
        assert read_xye(p).size == 3
        return
    with pytest.raises(FormatError, match=match):
        read_xye(p)


def test_truncated_bz2_and_missing(tmp_path):
    p = tmp_path / "cut.xye.bz2"
    p.write_bytes(bz2.compress(b"10 1 1\n" * 1000)[:40])
    with pytest.raises(FormatError, match="decompress"):
        read_xye(p)
    with pytest.raises(FormatError, match="no such file"):
        read_xye(tmp_path / "absent.xye")
