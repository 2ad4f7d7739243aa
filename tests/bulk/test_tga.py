"""TGA: normalisation, DTG, mass-loss steps, proximate analysis, the TA table reader and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.special import erf

from perovscope.bulk.tga import dtg, find_steps, mass_loss_steps, normalise_mass, proximate_analysis
from perovscope.errors import InputError
from perovscope.io.ta_thermal import read_ta_thermal

STEPS = ((110.0, 5.0, 8.0), (350.0, 40.0, 15.0), (650.0, 20.0, 20.0))  # centre °C, loss %, σ K
RATE = 10.0


def _trace(n_series=1, seed=0, noise=0.005):
    t_min = np.arange(0.0, 87.0, 0.01)  # 30 → 900 °C at 10 K/min, 0.6 s sampling
    temp = 30.0 + RATE * t_min
    rng = np.random.default_rng(seed)
    m = np.empty((n_series, t_min.size))
    for k in range(n_series):
        y = np.full(t_min.size, 100.0)
        for c, loss, w in STEPS:
            y -= loss * (1 + 0.1 * k) * 0.5 * (1 + erf((temp - c) / (np.sqrt(2) * w)))
        m[k] = y + noise * rng.standard_normal(t_min.size)
    return t_min * 60.0, temp, m


def test_steps_of_known_mass_loss_batched():
    t, temp, m = _trace(n_series=3)
    st = mass_loss_steps(t, m, temperature=temp)
    assert st.mass_loss.shape == (3, 3)
    for j, (c, loss, w) in enumerate(STEPS):
        # plateaus are flat to 1e-5 % between the steps: losses to 0.05 % (noise 0.005 %)
        np.testing.assert_allclose(st.mass_loss[:, j], loss * (1 + 0.1 * np.arange(3)), atol=0.05)
        # DTG maximum at the centre (Savitzky–Golay keeps a symmetric peak in place)
        np.testing.assert_allclose(st.inflection_C[:, j], c, atol=0.3)
        # tangent at the inflection of an erf step meets the plateaus at c ∓ √(π/2)·σ
        np.testing.assert_allclose(st.onset_C[:, j], c - np.sqrt(np.pi / 2) * w, atol=0.5)
        np.testing.assert_allclose(st.endset_C[:, j], c + np.sqrt(np.pi / 2) * w, atol=0.5)
    np.testing.assert_allclose(st.mass_end[:, -1], 100 - 65 * (1 + 0.1 * np.arange(3)), atol=0.05)


def test_dtg_peak_height_closed_form():
    t, temp, m = _trace(noise=0.0)
    d = dtg(t, m, temperature=temp)
    # −dm/dT of an erf step of loss Δ and width σ peaks at Δ/(σ√(2π)) %/K
    for c, loss, w in STEPS:
        sel = np.abs(temp - c) < 3 * w
        assert d.per_kelvin[0, sel].max() == pytest.approx(loss / (w * np.sqrt(2 * np.pi)), rel=0.01)
    np.testing.assert_allclose(d.per_minute, d.per_kelvin * RATE, rtol=1e-6)


def test_given_windows_and_find_steps():
    t, temp, m = _trace()
    wins = find_steps(t, m)
    assert len(wins) == 3
    st = mass_loss_steps(t, m, windows=[(0.0, 1000.0)])  # 30–197 °C
    assert st.mass_loss[0, 0] == pytest.approx(5.0, abs=0.05)
    assert np.isnan(st.onset_C[0, 0])  # no temperature given


def test_normalisations():
    m = np.array([[5.0, 5.1, 4.0, 3.0, -0.1]])
    np.testing.assert_allclose(normalise_mass(m, method="initial")[0, 0], 100.0)
    assert normalise_mass(m, method="max")[0, 1] == pytest.approx(100.0)
    mm = normalise_mass(m, method="minmax")
    assert mm[0, 1] == pytest.approx(100.0) and mm[0, -1] == 0.0
    with pytest.raises(InputError, match="normalisation"):
        normalise_mass(m, method="area")


def test_bad_input():
    t, temp, m = _trace()
    with pytest.raises(InputError, match="duplicated"):
        dtg(np.r_[t[:5], t[4:]], np.r_[m[0, :5], m[0, 4:]])
    with pytest.raises(InputError, match="increase"):
        dtg(t[::-1], m[0])
    with pytest.raises(InputError, match="outside"):
        proximate_analysis(t, m, moisture_end_s=-5.0, volatile_end_s=100.0)
    with pytest.raises(InputError, match="before"):
        proximate_analysis(t, m, moisture_end_s=500.0, volatile_end_s=100.0)
    with pytest.raises(InputError, match="at least 10"):
        dtg(t[:5], m[0, :5])


def test_proximate_analysis_real_file(data_file):
    # source: moisture (mass lost by the end of the drying hold, 38 min) 6.22 % after its normalisation,
    # 5.93 % from the raw weight column; volatile matter 83.6 %, fixed carbon 16.4 % (dry basis)
    ds = read_ta_thermal(data_file("bulk/thermal_dsc_tga/tga_MIS_1.txt"))
    assert {"temperature", "mass", "mass_percent", "heat_flow"} <= set(ds.data_vars)
    segs = json.loads(ds.attrs["segments"])
    assert segs[0]["description"] == "Isothermal 30.0 min" and segs[1]["rate_K_per_min"] == 10.0
    t, w = ds.time.values, ds.mass_percent.values
    dry_end, devol_end = segs[0]["end_s"], segs[2]["end_s"]
    assert dry_end / 60 == pytest.approx(38.3, abs=0.05)
    raw = proximate_analysis(t, w, moisture_end_s=dry_end, volatile_end_s=devol_end, method="none")
    assert round(float(raw.moisture), 2) == 5.93
    # the source's normalisation is min–max: heaviest point 100 %, final residue 0 %
    src = proximate_analysis(t, w, moisture_end_s=dry_end, volatile_end_s=devol_end, method="minmax")
    assert round(float(src.moisture), 2) == 6.22
    assert round(float(src.volatile_dry), 1) == 83.6
    assert round(float(src.fixed_carbon_dry), 1) == 16.4
    assert float(src.ash_dry) == 0.0
    # same at exactly 38 min
    at38 = proximate_analysis(t, w, moisture_end_s=38 * 60.0, volatile_end_s=devol_end, method="minmax")
    assert round(float(at38.moisture), 2) == 6.22


def test_cli_real_file(run_bulk, data_file):
    path = data_file("bulk/thermal_dsc_tga/tga_MIS_1.txt")
    status, rows, err, outdir = run_bulk("tga", path, "--json")
    assert status == 0
    steps = [r for r in rows if r["kind"].startswith("step")]
    # moisture, devolatilisation (with its tail to 900 °C) and burn-off: together the whole loss
    assert len(steps) == 3 and sum(r["mass_loss"] for r in steps) == pytest.approx(100.3 + 0.5, abs=2.5)
    prox = {r["normalisation"]: r for r in rows if r["kind"] == "proximate"}
    assert prox["none"]["moisture"] == pytest.approx(5.93, abs=0.005)
    assert prox["minmax"]["moisture"] == pytest.approx(6.22, abs=0.005)
    assert prox["minmax"]["volatile_dry"] == pytest.approx(83.6, abs=0.05)
    assert prox["minmax"]["fixed_carbon_dry"] == pytest.approx(16.4, abs=0.05)
    assert (outdir / "tga.png").is_file() and (outdir / "tga.zarr").is_dir()
    status, out, err, _ = run_bulk("tga", path, "--step", "200:500", "--no-figure", "--moisture-end", "38",
                                   "--volatile-end", "147")
    assert status == 0 and "step 1" in out and "proximate" in out


def test_cli_bad_file(run_bulk, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Time\tTemperature\tHeat Flow\nmin\t°C\tmW\n0.1\t30\t1.0\n")
    status, out, err, _ = run_bulk("tga", bad)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_labelled_wrapper():
    import xarray as xr

    from perovscope.bulk.tga import mass_loss_steps_dataset

    t, temp, m = _trace(n_series=2)
    da = xr.DataArray(m, dims=("sample", "time"), attrs={"units": "%"},
                      coords={"sample": [1, 2], "time": t, "temperature": ("time", temp)})
    ds = mass_loss_steps_dataset(da)
    assert ds["mass_loss"].dims == ("sample", "step") and ds["onset_C"].attrs["units"] == "degC"
    np.testing.assert_allclose(ds["mass_loss"].values[:, 1], [40.0, 44.0], atol=0.05)
