"""``perovscope bulk saxs``: RAW's glucose-isomerase curve end to end, a closed-form sphere curve in 1/nm,
a series, and bad input (exit status 2, one line naming the file or option)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

RAW = "bulk/saxs/raw_glucose_isomerase.dat"


def _spheres(path, *, mean=50.0, sd=8.0, noise=0.01, seed=0):
    """Polydisperse spheres (Gaussian number distribution, Å) written with q in 1/nm and 1 % errors.

    Returns the path and the closed-form truth: Rg, the volume-weighted mean radius and Porod's
    K = 2πS/Σ n V² of the curve normalised to I(0) = 1.
    """
    q_nm = np.geomspace(0.04, 4.0, 400)
    r = np.linspace(mean - 5 * sd, mean + 5 * sd, 1201)
    n = np.exp(-0.5 * ((r - mean) / sd) ** 2)
    v = 4 / 3 * np.pi * r ** 3
    x = (q_nm[:, None] / 10) * r
    i = ((3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2 * v * v * n).sum(-1) / (n * v * v).sum()
    sig = noise * i
    y = i + sig * np.random.default_rng(seed).standard_normal(i.shape)
    rows = "\n".join(f"{a:.7e} {b:.7e} {c:.7e}" for a, b, c in zip(q_nm, y, sig, strict=True))
    path.write_text("# q (nm^-1)  I  sigma\n" + rows + "\n")
    rg = np.sqrt(0.6 * (n * v * v * r * r).sum() / (n * v * v).sum())
    k = 2 * np.pi * (n * 4 * np.pi * r * r).sum() / (n * v * v).sum()
    return path, rg, (n * v * r).sum() / (n * v).sum(), k


def test_real_file_table_units_store_and_figure(run_bulk, data_file):
    status, out, err, folder = run_bulk("saxs", data_file(RAW), "--bootstrap", "8")
    assert status == 0
    head, units, row = (line.split() for line in out.splitlines()[:3])
    assert head[:5] == ["file", "rg", "rg_std", "i0", "i0_std"]
    assert {"porod_K", "sigma2", "porod_exponent", "invariant", "R_volume", "R_number"} <= set(head)
    assert units[:2] == ["Å", "Å"] and units[head.index("guinier_q_max") - 1] == "1/Å"  # no unit for file
    assert row[0] == "raw_glucose_isomerase.dat"
    # the automatic window (longest from point 0 with q·Rg ≤ 1.3) is RAW's stored fit, points 0–49:
    # Rg = 33.6078 ± 0.2301 Å, I0 = 0.0612246 — the same weighted line, so to 5 digits
    assert float(row[1]) == pytest.approx(33.6078, rel=1e-5)
    assert float(row[2]) == pytest.approx(0.2301, rel=1e-3)
    assert float(row[3]) == pytest.approx(0.0612246, rel=1e-5)
    assert float(row[head.index("guinier_points")]) == 50 and float(row[head.index("qrg_max")]) <= 1.3
    assert "RAW's stored Guinier fit: Rg = 33.61 Å" in err and "1/Å assumed" in err
    for name in ("saxs.zarr", "saxs.csv", "saxs.png", "saxs.svg"):
        assert (folder / name).stat().st_size > 0
    csv = (folder / "saxs.csv").read_text().splitlines()
    assert csv[0].startswith("# units: ") and "rg=Å" in csv[0] and "guinier_q_min=1/Å" in csv[0]
    assert csv[1].split(",")[:3] == ["file", "rg", "rg_std"]
    ds = xr.open_zarr(folder / "saxs.zarr")
    assert {"guinier_rg", "porod_porod_constant", "q4_intensity", "volume_fraction"} <= set(ds.variables)
    assert ds.guinier_rg.attrs["units"] == "Å" and ds.q.attrs["units"] == "1/Å"


def test_fixed_window_reproduces_raw_and_series_is_batched(run_bulk, data_file, tmp_path):
    path = data_file(RAW)
    copy = tmp_path / "second.dat"
    copy.write_text(path.read_text())
    status, rows, err, _ = run_bulk("saxs", path, copy, "--guinier-points", "0", "43", "--no-sizes",
                                    "--no-figure", "--json")
    assert status == 0 and len(rows) == 2 and "R_volume" not in rows[0]
    # RAW's Guinier fit of points 0–42: Rg = 33.299 Å, I0 = 0.060993 (stated to 5 digits)
    for row in rows:
        assert row["rg"] == pytest.approx(33.299, abs=5e-4) and row["i0"] == pytest.approx(0.060993, abs=5e-7)
        assert row["guinier_points"] == 43
    assert rows[0]["porod_K"] == rows[1]["porod_K"]


def test_closed_form_spheres_in_inverse_nm(run_bulk, tmp_path):
    path, rg, r_vol, k = _spheres(tmp_path / "spheres.dat")
    status, rows, err, folder = run_bulk("saxs", path, "--porod-model", "sharp", "--porod-q", "0.2", "0.4",
                                         "--bootstrap", "10", "--json")
    assert status == 0 and "assumed" not in err  # the unit came from the header
    row = rows[0]
    # q converted to 1/Å; Guinier over q·Rg ≤ 1.3 overestimates Rg by the q⁴ term (≈ +1–2 % for
    # spheres), the noise adds ±0.12 Å
    assert row["qrg_max"] <= 1.3 and row["guinier_q_min"] == pytest.approx(0.004)
    assert 1.0 < row["rg"] / rg < 1.025 and row["i0"] == pytest.approx(1.0, abs=0.02)
    # the volume-weighted mean radius is what the data fix best: within 0.5 % (grid + regularisation)
    assert row["R_volume"] == pytest.approx(r_vol, rel=5e-3)
    # Porod's law over q·R = 10–20, where this 16 % polydispersity has smeared the oscillations out
    assert row["porod_exponent"] == pytest.approx(4.0, abs=0.03)
    assert row["porod_K"] == pytest.approx(k, rel=0.02) and row["size_chi2"] < 1.3  # +0.7 % measured
    assert (folder / "saxs.png").exists()


@pytest.mark.parametrize("content,args,needle", [
    (None, (), "no such file"),
    ("", (), "no rows of numbers"),
    ("# q I sigma\n" + "\n".join(f"{0.01 * k} 1 0.1 0 7" for k in range(1, 30)), (), "5 numeric columns"),
    ("### DATA:\n#\n# 10\n# Q I(Q) Error\n0.01 1.0 0.1\n0.02 0.9 0.1\n0.03 0.8 0.1\n", (), "declares 10"),
    ("\n".join(f"{q:.4f} {np.exp(-q * q * 300):.5e} 0.001" for q in np.r_[np.linspace(0.01, 0.2, 30), 0.05]),
     ("--no-sizes",), "not sorted"),
])
def test_bad_file_exits_2_with_one_line_naming_it(run_bulk, tmp_path, content, args, needle):
    path = tmp_path / "curve.dat"
    if content is not None:
        path.write_text(content)
    status, out, err, _ = run_bulk("saxs", path, *args)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "curve.dat" in err and needle in err


@pytest.mark.parametrize("args,needle", [
    (("--guinier-points", "0", "1000"), "--guinier-points 0 1000"),
    (("--porod-q", "5", "6"), "--porod-q 5 6"),
    (("--guinier-q", "0.2", "0.1"), "--guinier-q 0.2 0.1"),
    (("--radii", "50", "10"), "--radii 50 10"),
])
def test_bad_option_exits_2_naming_it(run_bulk, data_file, args, needle):
    status, out, err, _ = run_bulk("saxs", data_file(RAW), *args)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert needle in err
