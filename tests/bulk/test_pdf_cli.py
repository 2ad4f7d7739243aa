"""``perovscope bulk pdf``: PDFgui's Ni refinement end to end, G(r) peaks, S(Q) → G(r) from a closed form,
a batched series, and bad input (exit status 2, one line naming the file or option)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

NI = "bulk/pdf/pdfgui_Ni_2-8.chi.gr"
NI_ARGS = ("--structure", "fcc", "--lattice", "3.52", "--rcut", "3", "--qdamp", "0.001")


def _write(path, header, x, y):
    path.write_text(header + "\n".join(f"{a:.6e} {b:.6e}" for a, b in zip(x, y, strict=True)) + "\n")
    return path


def test_ni_refinement_table_units_store_and_figure(run_bulk, data_file):
    status, out, err, folder = run_bulk("pdf", data_file(NI), *NI_ARGS)
    assert status == 0
    head, units, row = (line.split() for line in out.splitlines()[:3])
    assert head[:5] == ["file", "a", "a_std", "uiso", "uiso_std"] and head[-2:] == ["rw", "flag"]
    assert units[:4] == ["Å", "Å", "Å^2", "Å^2"] and "1/Å" in units  # qdamp
    got = dict(zip(head, row, strict=True))
    # PDFgui's project refines fcc Ni over 1.5–10 Å (Qmax 40, Qdamp 0.001 fixed, sratio below 3 Å):
    # a = 3.53175 Å, U_iso = 0.005195 Å², Rw = 0.096; the same model, so to the digits it states
    assert float(got["a"]) == pytest.approx(3.53175, abs=2e-5)  # a_std = 3.5e-5 Å
    assert float(got["uiso"]) == pytest.approx(0.005195, abs=2e-6)
    assert float(got["rw"]) == pytest.approx(0.096, abs=5e-4) and got["flag"] == "0"
    for name in ("pdf.zarr", "pdf.csv", "pdf.png", "pdf.svg"):
        assert (folder / name).stat().st_size > 0
    csv = (folder / "pdf.csv").read_text().splitlines()
    assert csv[0].startswith("# units: ") and "a=Å" in csv[0] and "uiso=Å^2" in csv[0]
    assert csv[1].split(",")[:3] == ["file", "a", "a_std"]
    ds = xr.open_zarr(folder / "pdf.zarr")
    assert {"a", "uiso", "rw", "G_calc", "G_diff", "G", "dG"} <= set(ds.variables)
    assert ds.uiso.attrs["units"] == "Å^2" and ds.r.attrs["units"] == "Å"
    np.testing.assert_allclose(ds.G_diff.values, ds.G.sel(r=ds.r_fit.values, method="nearest").values
                               - ds.G_calc.values, atol=1e-9)


def test_peaks_without_a_structure_are_the_fcc_shells(run_bulk, data_file):
    status, rows, err, _ = run_bulk("pdf", data_file(NI), "--json", "--no-figure")
    assert status == 0 and "no structure given" in err and rows[0]["qmax"] == 40.0
    peaks = [rows[0][f"peak_{k}"] for k in range(1, 6)]
    # the five strongest maxima are the shells a·√(n/2), n = 1, 3, 7, 13, 19 with a = 3.53175 Å; the 1/r
    # factor and the −4πρ₀r baseline pull a maximum in by ≲ σ²/r (σ ≈ 0.1 Å): within 0.01 Å
    shells = 3.53175 * np.sqrt(np.array([1, 3, 7, 13, 19]) / 2)
    np.testing.assert_allclose(peaks, shells, atol=0.01)


def test_structure_factor_transformed_then_peaks(run_bulk, tmp_path):
    q = np.linspace(0.5, 25.0, 1200)  # Debye S(Q) of an fcc powder's first four shells, broadened
    a, u = 3.52, 0.004
    d = a * np.sqrt([0.5, 1.0, 1.5, 2.0])
    n = np.array([12, 6, 24, 12])
    sq = 1 + (n / 4 * np.sin(q[:, None] * d) / (q[:, None] * d) * np.exp(-q[:, None] ** 2 * u)).sum(1)
    path = _write(tmp_path / "fcc.sq", "# S(Q) test\n#L Q S\n", q, sq)
    status, rows, err, folder = run_bulk("pdf", path, "--lorch", "--r-max", "6", "--json")
    assert status == 0 and rows[0]["qmax"] == pytest.approx(25.0) and "Lorch" in err
    # Lorch-broadened peaks (≈ 1.2π/Qmax = 0.15 Å): the first at a/√2 within 0.02 Å
    assert rows[0]["peak_1"] == pytest.approx(d[0], abs=0.02)
    ds = xr.open_zarr(folder / "pdf.zarr")
    assert "source_Q" in ds and ds.G.attrs["units"] and (folder / "pdf.png").exists()


def test_series_is_refined_together(run_bulk, data_file, tmp_path):
    path = data_file(NI)
    copy = tmp_path / "copy.gr"
    copy.write_text(path.read_text())
    status, rows, err, _ = run_bulk("pdf", path, copy, *NI_ARGS, "--json", "--no-figure")
    assert status == 0 and [r["file"] for r in rows] == ["pdfgui_Ni_2-8.chi.gr", "copy.gr"]
    assert rows[0]["a"] == pytest.approx(rows[1]["a"], rel=1e-12)
    assert rows[1]["a"] == pytest.approx(3.53175, abs=2e-5)


@pytest.mark.parametrize("content,needle", [
    (None, "no such file"),
    ("", "no rows of numbers"),
    ("#L r G a b c\n" + "\n".join(f"{0.1 * k} 1 0 0 0" for k in range(1, 30)), "5 columns"),
    ("# a SAXS curve\n" + "\n".join(f"{0.01 * k} {np.exp(-k)} 0.01" for k in range(1, 30)), "not a PDF"),
])
def test_bad_file_exits_2_with_one_line_naming_it(run_bulk, tmp_path, content, needle):
    path = tmp_path / "sample.gr"
    if content is not None:
        path.write_text(content)
    status, out, err, _ = run_bulk("pdf", path)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "sample.gr" in err and needle in err


@pytest.mark.parametrize("args,needle", [
    (("--structure", "fcc"), "--lattice"),
    (("--structure", "fcc", "--lattice", "3.52", "--r-range", "30", "40"), "--r-range 30 40"),
    (("--phase", "no-such-phase"), "unknown phase"),
])
def test_bad_option_exits_2_naming_it(run_bulk, data_file, args, needle):
    status, out, err, _ = run_bulk("pdf", data_file(NI), *args)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert needle in err
