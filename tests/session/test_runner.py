"""The step runner: caching, provenance, per-frame resume, the clock and the bias-log window means.

These tests run the pipeline's own machinery with two small steps (a per-frame HAADF statistic and a
whole-session sum of it) on a tiny simulated session written as instrument files, so every assertion
is about the runner, not about an analysis.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from perovscope.pipeline import Step, check_session, run_session
from perovscope.pipeline.builtin_steps import LEADING_STEPS, TRAILING_STEPS

CALLS = {"frame": 0, "total": 0}


def _haadf_mean(ctx, i, prepared):
    CALLS["frame"] += 1
    if os.environ.get("PEROVSCOPE_TEST_FAIL_FRAME") == str(i):
        raise RuntimeError("simulated crash")
    da = ctx.read("haadf", i).astype(float)
    scale = ctx.params["scale"]
    return xr.Dataset({"mean_counts": ((), float(da.mean()) * scale, {"units": "counts"}),
                       "row_profile": (("y",), da.mean("x").values * scale, {"units": "counts"})})


def _total(ctx):
    CALLS["total"] += 1
    m = ctx.upstream["haadf_mean"]["mean_counts"]
    return xr.Dataset({"sum_counts": ((), float(m.sum()) + ctx.params["offset"], {"units": "counts"})})


def _quantities(ctx):
    m = ctx.upstream["haadf_mean"]["mean_counts"]
    grow = np.arange(m.size, dtype=float)          # a layer growing 1 nm per frame, known to 0.1 nm
    return xr.Dataset({"haadf_mean_counts": ("time", m.values, {"units": "counts"}),
                       "haadf_mean_counts_std": ("time", np.sqrt(m.values), {"units": "counts"}),
                       "alcl3_thickness_nm": ("time", grow, {"units": "nm"}),
                       "alcl3_thickness_nm_std": ("time", np.full(m.size, 0.1), {"units": "nm"})})


STEPS = (*LEADING_STEPS,
         Step("haadf_mean", needs=("haadf",), defaults={"scale": 1.0}, frame=_haadf_mean),
         Step("total", needs=("haadf_mean",), defaults={"offset": 0.0}, run=_total),
         Step("quantities", needs=("haadf_mean",), defaults={}, run=_quantities),
         *TRAILING_STEPS)


def _run(toml, **kw):
    return run_session(toml, steps=STEPS, **kw)


@pytest.fixture
def toy_session(tiny_session):
    """The tiny session without its [analysis.*] tables (these steps take other options)."""
    text = tiny_session.read_text()
    tiny_session.write_text(text[:text.index("[analysis.")])
    return tiny_session


def test_frame_windows_are_centred_on_the_simulated_times(toy_session):
    session, inputs = check_session(toy_session, steps=STEPS)
    truth = xr.open_datatree(session.truth, engine="zarr", consolidated=False)
    t_true = truth["time"].values if "time" in truth.coords else np.arange(3) * 30.0
    for m in ("4dstem", "haadf", "eds"):
        mid = 0.5 * (inputs.frames[f"t_start_s_{m}"] + inputs.frames[f"t_end_s_{m}"]).values
        np.testing.assert_allclose(mid, t_true, atol=1e-3)           # 1 ms: the metadata's precision
        assert np.all(inputs.frames[f"t_end_s_{m}"] > inputs.frames[f"t_start_s_{m}"])


def test_bias_per_frame_equals_window_means_of_the_csv(toy_session):
    summary = _run(toy_session)
    bias = xr.open_zarr(summary.out / "results.zarr" / "bias", consolidated=False).load()
    frames = xr.open_zarr(summary.out / "results.zarr" / "frames", consolidated=False).load()
    log = pd.read_csv(toy_session.parent / "bias_log.csv", comment="#")
    t, v, i, el = (log[c].to_numpy(float) for c in ("t_s", "U_mV", "I_nA", "EL_counts"))
    for k in range(3):
        a, b = frames["t_start_s_haadf"].values[k], frames["t_end_s_haadf"].values[k]
        sel = (t >= a) & (t <= b)
        assert sel.sum() >= 1 and int(bias["n_samples"][k]) == sel.sum()
        assert bias["voltage_V"].values[k] == pytest.approx(v[sel].mean() * 1e-3, rel=1e-12)
        assert bias["current_A"].values[k] == pytest.approx(i[sel].mean() * 1e-9, rel=1e-12)
        r = (v[sel] * 1e-3) / (i[sel] * 1e-9)
        assert bias["resistance_ohm"].values[k] == pytest.approx(r.mean(), rel=1e-12)
        assert bias["el_intensity"].values[k] == pytest.approx(el[sel].mean(), rel=1e-12)


def test_rerun_computes_nothing_and_says_so(toy_session):
    first = _run(toy_session)
    assert set(first.ran) == {s.name for s in STEPS} and first.frames_computed == 3
    before = dict(CALLS)
    again = _run(toy_session)
    assert again.ran == [] and again.frames_computed == 0 and CALLS == before
    prov = json.loads((again.out / "provenance.json").read_text())
    assert all(rec["why"] == "cached" and not rec["ran"] for rec in prov["steps"].values())
    assert (again.out / "session.toml").read_text() == toy_session.read_text()


def test_changed_parameter_reruns_only_the_step_and_its_dependants(toy_session):
    _run(toy_session)
    text = toy_session.read_text() + "\n[analysis.haadf_mean]\nscale = 2.0\n"
    toy_session.write_text(text)
    summary = _run(toy_session)
    assert summary.ran == ["haadf_mean", "total", "quantities", "timeline", "events", "correlations"]
    assert summary.cached == ["frames", "bias_log", "bias"]
    prov = json.loads((summary.out / "provenance.json").read_text())
    assert prov["steps"]["haadf_mean"]["why"] == "parameters changed: scale"
    assert prov["steps"]["total"]["why"] == "upstream changed: haadf_mean"
    assert prov["steps"]["bias"]["why"] == "cached"
    forced = _run(toy_session, force=["total"])
    assert forced.ran == ["total"]
    assert json.loads((forced.out / "provenance.json").read_text())["steps"]["total"]["why"] == "forced"


def test_crash_inside_a_per_frame_step_resumes_from_finished_frames(toy_session, tmp_path, monkeypatch,
                                                                   same_store):
    import shutil

    clean = tmp_path / "clean"
    shutil.copytree(toy_session.parent, clean)
    straight = _run(clean / "session.toml")
    monkeypatch.setenv("PEROVSCOPE_TEST_FAIL_FRAME", "2")
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(toy_session)
    assert not (toy_session.parent / "results" / "results.zarr" / "haadf_mean").exists()
    assert not (toy_session.parent / "results" / "provenance.json").exists()
    monkeypatch.delenv("PEROVSCOPE_TEST_FAIL_FRAME")
    resumed = _run(toy_session)
    assert resumed.frames_resumed == 2 and resumed.frames_computed == 1
    assert "bias" in resumed.cached                                  # finished steps are kept
    same_store(straight.out, resumed.out)


def test_tables_are_written_with_units(toy_session):
    summary = _run(toy_session)
    text = (summary.out / "tables" / "bias.csv").read_text()
    assert text.startswith("# units:") and "voltage_V=V" in text.splitlines()[0]
    table = pd.read_csv(summary.out / "tables" / "bias.csv", comment="#")
    assert len(table) == 3 and {"frame", "time_s", "resistance_ohm"} <= set(table.columns)


def test_timeline_joins_bias_and_quantities_with_cumulative_dose(toy_session):
    summary = _run(toy_session)
    root = summary.out / "results.zarr"
    tl = xr.open_zarr(root / "timeline", consolidated=False).load()
    bias = xr.open_zarr(root / "bias", consolidated=False).load()
    frames = xr.open_zarr(root / "frames", consolidated=False).load()
    np.testing.assert_array_equal(tl["frame"].values, [0, 1, 2])
    np.testing.assert_array_equal(tl["resistance_ohm"].values, bias["resistance_ohm"].values)
    np.testing.assert_array_equal(tl["time_s"].values, frames["time_s"].values)
    for m in ("4dstem", "haadf", "eds"):
        per_frame = frames[f"dose_e_per_A2_{m}"].values
        assert np.all(per_frame > 0)
        np.testing.assert_allclose(tl[f"dose_e_per_A2_{m}"].values, np.cumsum(per_frame), rtol=1e-12)
    assert tl["haadf_mean_counts"].attrs["units"] == "counts"
    ev = xr.open_zarr(root / "events", consolidated=False).load()
    k = list(ev["name"].values).index("alcl3_onset")
    assert int(ev["frame"].values[k]) == 1        # 1 nm > 0 nm + 3 x 0.14 nm; frame 0 is the baseline
    corr = xr.open_zarr(root / "correlations", consolidated=False).load()
    assert set(corr["against"].values) <= {"resistance_ohm", "el_intensity"}
    assert np.all(np.abs(corr["rho"].values) <= 1)
    assert (summary.out / "tables" / "timeline.csv").is_file()


def test_calibration_override_sets_pixel_size_and_metadata(toy_session):
    text = toy_session.read_text()
    head, sep, tail = text.partition('[modality.eds]')
    override = "[modality.haadf.calibration]\npixel_size_nm = 2.5\nbeam_energy_keV = 200.0\n\n"
    toy_session.write_text(head + override + sep + tail)
    _, inputs = check_session(toy_session, steps=STEPS)
    da = inputs.sources["haadf"].read(0)
    np.testing.assert_allclose(np.diff(da["x"].values), 2.5)
    assert da.attrs["beam_energy_keV"] == 200.0 and da["x"].attrs["units"] == "nm"
