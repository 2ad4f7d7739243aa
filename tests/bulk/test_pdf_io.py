"""PDF text reader: PDFgetX2/PDFgetX3 .gr and .sq files."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.errors import FormatError
from perovscope.io.pdf_gr import read_pdf_gr, read_pdf_text

NI = "bulk/pdf/pdfgui_Ni_2-8.chi.gr"


def test_pdfgetx2_gr_reader(data_file):
    ds = read_pdf_gr(data_file(NI))
    assert ds.attrs["format"] == "pdfgetx2" and ds.attrs["qmax"] == 40.0 and ds.attrs["qmin"] == 1.0
    assert ds.attrs["number_density"] == pytest.approx(0.10991) and ds.attrs["rstep"] == 0.01
    assert ds.sizes["r"] == 2000 and ds.r.values[0] == pytest.approx(0.01) and ds.r.attrs["units"] == "Å"
    assert ds.G.values[249] == pytest.approx(14.57658) and ds.dG.values[249] == pytest.approx(8.878714e-2)
    # the column named d_r is the −4πρ₀r baseline, not an uncertainty
    assert "d_r" in ds.attrs["dropped_column"]
    assert ds.attrs["number_density_from_baseline"] == pytest.approx(0.10991, rel=1e-5)


def _write(path, header, x, y, extra=None):
    cols = [x, y] + ([] if extra is None else [extra])
    rows = "\n".join(" ".join(f"{v:.6e}" for v in row) for row in zip(*cols, strict=True))
    path.write_text(header + rows + "\n")
    return path


def test_pdfgetx3_gr_and_sq(tmp_path):
    r = np.arange(1, 501) * 0.02
    hdr = "[DEFAULT]\nversion = pdfgetx3-2.1\nqmax = 25.0\nqmin = 0.5\n\n#### start data\n#S 1\n#L r G\n"
    ds = read_pdf_text(_write(tmp_path / "x.gr", hdr, r, np.sin(r)))
    assert ds.attrs["format"] == "pdfgetx3" and ds.attrs["qmax"] == 25.0 and "dG" not in ds
    q = np.linspace(0.5, 25, 300)
    sq = read_pdf_text(_write(tmp_path / "x.sq", hdr.replace("#L r G", "#L Q S"), q, 1 + 0 * q, 0.01 + 0 * q))
    assert sq.attrs["kind"] == "S" and "S" in sq and "dS" in sq and sq.Q.attrs["units"] == "1/Å"


def test_reader_errors(tmp_path):
    ragged = tmp_path / "ragged.gr"
    ragged.write_text("#L r G\n" + "\n".join(f"{i * 0.1} {i}" for i in range(1, 20)) + "\n2.0 1 2 3 4\n")
    with pytest.raises(FormatError, match="columns"):
        read_pdf_gr(ragged)
    binary = tmp_path / "b.gr"
    binary.write_bytes(b"\x00" * 64)
    with pytest.raises(FormatError, match="binary"):
        read_pdf_gr(binary)
    with pytest.raises(FormatError, match="no rows"):
        read_pdf_gr(_write(tmp_path / "e.gr", "header only\n", [], []))
