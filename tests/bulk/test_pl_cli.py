"""``perovscope bulk pl``: peak table, components, energy axis, Urbach tail, series of files, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.lineshapes import gaussian

HC = 1239.8419843320026
E = np.linspace(1.45, 2.05, 700)


def _write_pl(path, *, scale=1.0, shift=0.0, seed=0):
    """A two-Gaussian band (shares 0.3/0.7 in energy) with an exponential tail, counts per nm, written
    as a wavelength file with a header (increasing wavelength)."""
    rng = np.random.default_rng(seed)
    tail = 4e3 * np.exp((E - 1.60 - shift) / 0.025) / (1 + np.exp((E - 1.60 - shift) / 0.01))
    y_e = scale * (gaussian(E, 3e3, 1.69 + shift, 0.12) + gaussian(E, 7e3, 1.75 + shift, 0.08) + tail)
    lam = HC / E
    y_lam = rng.poisson(20.0 * y_e * E**2 / HC + 10.0).astype(float)  # per nm, plus dark counts
    order = np.argsort(lam)
    lines = ["Wavelength (nm)\tIntensity (counts)"] + [f"{a:.5f}\t{b:.1f}" for a, b in
                                                       zip(lam[order], y_lam[order], strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_single_file_table_and_store(run_bulk, tmp_path):
    f = _write_pl(tmp_path / "film.txt")
    status, text, err, out = run_bulk("pl", f, "--no-figure")  # the series test draws the figure
    assert status == 0
    head = text.splitlines()[0].split()
    assert head[:4] == ["file", "peak", "fwhm", "height"] and "urbach_meV" in head
    assert "nm" in text.splitlines()[1]
    for name in ("pl.zarr", "pl.csv"):
        assert (out / name).exists()
    import xarray as xr

    stored = xr.open_datatree(out / "pl.zarr", engine="zarr")
    assert stored["spectrum"].attrs["units"] == "counts/nm" and "urbach_line" in stored.to_dataset()


def test_components_on_the_energy_axis(run_bulk, tmp_path):
    f = _write_pl(tmp_path / "film.txt")
    status, rows, err, out = run_bulk("pl", f, "--components", "2", "--energy", "--window", "1.62:1.95",
                                      "--json", "--no-figure")
    assert status == 0
    r = rows[0]
    assert r["peak"] == pytest.approx(1.745, abs=0.01)
    assert r["c1_centre"] == pytest.approx(1.69, abs=0.01)
    assert r["c2_centre"] == pytest.approx(1.75, abs=0.005)
    # shares of the two Gaussians (0.3/0.7; the tail adds ≈ 1 % to the low one inside the window)
    assert r["c1_share"] == pytest.approx(0.30, abs=0.03) and r["c1_share_std"] > 0
    assert r["c1_share"] + r["c2_share"] == pytest.approx(1.0)
    # the 25 meV exponential tail below the band, fitted on the energy axis after the dark level
    assert r["urbach_meV"] == pytest.approx(25.0, rel=0.1)
    assert 1.45 < r["urbach_lo"] < r["urbach_hi"] < 1.62


def test_series_of_files_gives_retained_intensity_shift_and_width_change(run_bulk, tmp_path):
    files = [_write_pl(tmp_path / f"t{k}.txt", scale=s, shift=d, seed=k)
             for k, (s, d) in enumerate([(1.0, 0.0), (0.98, -0.002), (0.96, -0.004), (0.94, -0.006)])]
    status, rows, err, _ = run_bulk("pl", *files, "--series", "0,250,500,1000", "--series-units", "h",
                                    "--energy", "--json", "--no-figure")
    assert status == 0 and len(rows) == 4
    assert [r["time"] for r in rows] == [0, 250, 500, 1000]
    np.testing.assert_allclose([r["retained_pct"] for r in rows], [100, 98, 96, 94], atol=0.3)
    np.testing.assert_allclose([r["shift"] for r in rows], [0, -0.002, -0.004, -0.006], atol=0.0015)
    assert abs(rows[-1]["delta_fwhm"]) < 0.003
    status, text, _, out = run_bulk("pl", *files, "--components", "2", "--out", str(tmp_path / "series"))
    assert status == 0 and "retained_pct" in text and (out / "pl.png").is_file()


def test_bad_input_exits_2_with_one_line(run_bulk, tmp_path):
    (tmp_path / "bad.txt").write_text("wavelength\tcounts\n500\t1\n501\t2\n502\n")
    status, _, err, _ = run_bulk("pl", tmp_path / "bad.txt")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    f = _write_pl(tmp_path / "ok.txt")
    status, _, err, _ = run_bulk("pl", f, "--series", "0,1")
    assert status == 2 and "--series" in err
    status, _, err, _ = run_bulk("pl", f, "--window", "100:200")
    assert status == 2 and "window" in err
    dup = tmp_path / "dup.txt"
    dup.write_text("wavelength (nm)\tcounts\n500\t1\n501\t2\n501\t3\n502\t4\n503\t5\n")
    status, _, err, _ = run_bulk("pl", dup)
    assert status == 2 and "duplicated" in err
