"""``perovscope bulk xrd``: table, JSON, results store, figure, series and errors."""

from __future__ import annotations

import numpy as np
import pytest

LAB6 = "bulk/xrd_powder/xrayutilities_LaB6_d500_si_psd.xye.bz2"


def _simulated(tmp_path, fractions, *, name="mix", expand=1.0, seed=0):
    """A γ/δ-CsPbI3 pattern from the refinement model itself (CLI plumbing, not accuracy)."""
    from perovscope.bulk.xrd_model import build_model, default_parameters
    from perovscope.bulk.xrd_phases import BUILTIN_PHASES
    from perovscope.bulk.xrd_reflections import radiation

    x = np.arange(10.0, 45.0, 0.025)
    phases = [BUILTIN_PHASES["CsPbI3_gamma"], BUILTIN_PHASES["CsPbI3_delta"]]
    model = build_model(x, phases, radiation("Cu"), background_order=2)
    p = default_parameters(model, fwhm=0.12)
    p[model.index("bkg0")] = 300.0
    zmv = np.array([ph.cell_mass * ph.volume for ph in phases])
    for i in range(len(phases)):
        p[model.slices[i].start] = 3e-5 * fractions[i] / zmv[i] * zmv.mean()
        for k in range(1, 4):
            p[model.slices[i].start + k] *= expand
    y = np.random.default_rng(seed).poisson(model.evaluate(p[None])[0]).astype(float)
    path = tmp_path / f"{name}.xy"
    path.write_text("# 2theta counts\n" + "\n".join(f"{a:.4f} {b:.0f}" for a, b in zip(x, y, strict=True)))
    return path


def test_cli_real_lab6_table_json_and_outputs(run_bulk, data_file):
    import xarray as xr

    path = data_file(LAB6)
    status, out, err, folder = run_bulk("xrd", path, "--phase", "LaB6", "--range", "18:148",
                                        "--radius", "337", "--background-order", "10")
    assert status == 0
    assert "LaB6" in out and "wt%" in out and "rwp" in out.splitlines()[0]
    for name in ("xrd.zarr", "xrd.csv", "xrd.png", "xrd.svg"):
        assert (folder / name).exists()
    tree = xr.open_datatree(folder / "xrd.zarr", engine="zarr")
    ds = tree["file_00"].to_dataset()
    assert {"observed", "calculated", "background", "difference", "cell", "weight_fraction"} <= set(ds)
    assert ds["cell"].attrs["units"] and ds["peak_indexed"].values.all()
    status, rows, _, _ = run_bulk("xrd", path, "--phase", "LaB6", "--range", "18:90", "--radius", "337",
                                  "--background-order", "6", "--json", "--no-figure", "--out", "j")
    assert status == 0 and len(rows) == 1
    row = rows[0]
    assert row["a"] == pytest.approx(4.15692, abs=1e-3) and 0 < row["a_err"] < 5e-4
    assert row["wt_pct"] == pytest.approx(100.0) and row["indexed"] == row["peaks"] >= 20
    assert row["rwp"] < 10 and row["gof"] < 1.5


def test_cli_search_match_without_phases(run_bulk, tmp_path):
    path = _simulated(tmp_path, (0.4, 0.6), name="auto")
    status, rows, err, _ = run_bulk("xrd", path, "--json", "--no-figure", "--fix", "displacement")
    assert status == 0, err
    assert {r["phase"] for r in rows} == {"CsPbI3_gamma", "CsPbI3_delta"} and "search–match" in err
    got = {r["phase"]: r["wt_pct"] for r in rows}
    assert got["CsPbI3_gamma"] == pytest.approx(40.0, abs=1.0)


def test_cli_two_phases_and_series(run_bulk, tmp_path):
    a = _simulated(tmp_path, (0.25, 0.75), name="t25")
    b = _simulated(tmp_path, (0.75, 0.25), name="t300", expand=1.004, seed=1)
    status, rows, err, folder = run_bulk("xrd", a, b, "--phase", "CsPbI3_gamma", "--phase", "CsPbI3_delta",
                                         "--series", "--temperature", "25,300", "--json", "--no-figure",
                                         "--fix", "displacement", "--background-order", "3",
                                         "--range", "10:38")
    assert status == 0, err
    got = {(r["file"], r["phase"]): r["wt_pct"] for r in rows}
    assert got[("t25.xy", "CsPbI3_gamma")] == pytest.approx(25, abs=1.5)
    assert got[("t300.xy", "CsPbI3_gamma")] == pytest.approx(75, abs=1.5)
    a_g = {r["file"]: r["a"] for r in rows if r["phase"] == "CsPbI3_gamma"}
    assert a_g["t300.xy"] / a_g["t25.xy"] == pytest.approx(1.004, abs=3e-4)
    assert (folder / "xrd.zarr").exists()


def test_cli_errors_one_line(run_bulk, tmp_path):
    bad = tmp_path / "bad.xye"
    bad.write_bytes(b"\x00\x01garbage")
    status, out, err, _ = run_bulk("xrd", bad, "--phase", "LaB6")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    status, _, err, _ = run_bulk("xrd", bad.with_name("absent.xye"), "--phase", "LaB6")
    assert status == 2 and "no such file" in err
    flat = tmp_path / "flat.xy"
    x = np.arange(20, 40, 0.02)
    flat.write_text("\n".join(f"{v} 0" for v in x))
    status, _, err, _ = run_bulk("xrd", flat, "--phase", "LaB6", "--scale", "log", "--range", "20:40")
    assert status == 2 and "logarithm" in err and len(err.strip().splitlines()) == 1
    status, _, err, _ = run_bulk("xrd", flat, "--phase", "nonsense-phase")
    assert status == 2 and "unknown phase" in err
