"""Window statistics of the bias log, charge, dose and units against closed forms and a plain loop."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.operando import (
    bias_per_frame,
    convert_units,
    cumulative_charge,
    cumulative_dose,
    window_statistics,
)


def test_linear_ramp_window_mean_is_mid_window_value():
    # samples every 0.5 s (exact in binary); windows start and end on samples, so the samples in each
    # window are symmetric about its centre and the mean of a line is its value at the centre
    t = np.arange(0.0, 300.0, 0.5)
    v = 2.0 + 0.01 * t
    t0 = np.arange(0.0, 280.0, 30.0)
    t1 = t0 + 8.0
    st = window_statistics(t, {"v": v}, t0, t1)["v"]
    np.testing.assert_allclose(st.mean, 2.0 + 0.01 * 0.5 * (t0 + t1), rtol=1e-13)
    np.testing.assert_array_equal(st.n, 17)        # 8 s / 0.5 s + 1, both ends included
    # std of an arithmetic progression of 17 steps h = 0.005: h * sqrt(m (m + 1) / 12), m = 17
    np.testing.assert_allclose(st.std, 0.005 * np.sqrt(17 * 18 / 12), rtol=1e-10)


def test_std_of_a_known_sample_and_small_windows():
    t = np.arange(10.0)
    x = np.array([1.0, 2.0, 3.0, 4.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0])
    st = window_statistics(t, {"x": x}, [0.0, 4.0, 4.0, 20.0], [3.0, 4.0, 9.0, 30.0])["x"]
    assert st.std[0] == pytest.approx(np.sqrt(5.0 / 3.0), rel=1e-14)   # var of 1..4 with ddof=1
    assert st.mean[0] == pytest.approx(2.5, rel=1e-14)
    assert st.n.tolist() == [4, 1, 6, 0]
    assert np.isnan(st.std[1]) and st.mean[1] == 9.0                 # one sample: no spread
    assert st.std[2] == 0.0                                          # constant: exactly zero
    assert np.isnan(st.mean[3]) and np.isnan(st.std[3])              # no sample


def _loop_oracle(t, x, t0, t1):
    mean, std, n = [], [], []
    for a, b in zip(t0, t1, strict=True):
        w = x[(t >= a) & (t <= b)]
        w = w[np.isfinite(w)]
        n.append(w.size)
        mean.append(w.mean() if w.size else np.nan)
        std.append(w.std(ddof=1) if w.size > 1 else np.nan)
    return np.array(mean), np.array(std), np.array(n)


def test_random_log_matches_a_per_window_loop():
    rng = np.random.default_rng(42)
    t = np.cumsum(rng.uniform(0.01, 1.0, 3000))
    # a large level and a drift with a small spread: the cancellation case the centring guards against
    x = 1e3 + 50.0 * t / t[-1] + rng.normal(0.0, 1e-3, t.size)
    x[rng.choice(t.size, 40, replace=False)] = np.nan
    t0 = np.sort(rng.uniform(t[0] - 5, t[-1], 200))
    t1 = t0 + rng.uniform(0.0, 40.0, t0.size)             # overlapping windows, some past the end
    st = window_statistics(t, {"x": x}, t0, t1)["x"]
    mean, std, n = _loop_oracle(t, x, t0, t1)
    np.testing.assert_array_equal(st.n, n)
    np.testing.assert_allclose(st.mean, mean, rtol=1e-12)
    # the spread is 1e-3 on a level of 1e3: relative error of the centred sums ~ eps * 1e8 ~ 1e-8
    np.testing.assert_allclose(st.std, std, rtol=1e-6)


def test_charge_of_constant_100nA_over_30s_is_3uC():
    t = np.arange(0.0, 31.0)
    q = cumulative_charge(t, np.full(t.size, 100e-9), [10.0, 30.0, 0.0])
    np.testing.assert_allclose(q, [1e-6, 3e-6, 0.0], rtol=1e-14, atol=0)


def test_charge_is_exact_for_piecewise_linear_current():
    t = np.arange(0.0, 11.0)
    i = 1e-8 * t                                      # ramp 0 -> 100 nA at 10 nA/s
    q = cumulative_charge(t, i, [5.5, 10.0, 12.0])
    # ∫0^T a t dt = a T²/2 ; past the last sample the current is held at 100 nA
    np.testing.assert_allclose(q, [0.5e-8 * 5.5**2, 0.5e-8 * 100, 0.5e-8 * 100 + 1e-7 * 2], rtol=1e-13)


def _log(n=301, dt=0.1, unit_v="V", unit_i="A", el=True):
    t = np.arange(n) * dt
    v = 3.0 + 0.01 * t
    i = np.full(n, 1e-7)
    data = {"voltage_V": ("log_time", v * (1e3 if unit_v == "mV" else 1.0), {"units": unit_v}),
            "current_A": ("log_time", i * (1e9 if unit_i == "nA" else 1.0), {"units": unit_i})}
    if el:
        data["el_intensity"] = ("log_time", 100.0 - t, {"units": "a.u."})
    return xr.Dataset(data, coords={"log_time": ("log_time", t, {"units": "s"})})


def test_bias_per_frame_labels_units_and_values():
    log = _log(unit_v="mV", unit_i="nA")                # converted to SI from the attrs
    t0 = np.array([0.0, 10.0, 20.0])
    t1 = t0 + 10.0
    b = bias_per_frame(log, t0, t1)
    assert b.sizes["time"] == 3
    assert b["frame"].values.tolist() == [0, 1, 2] and "frame" in b.indexes
    np.testing.assert_allclose(b["time_s"], [5.0, 15.0, 25.0])
    np.testing.assert_allclose(b["voltage_V"], 3.0 + 0.01 * (t0 + 5.0), rtol=1e-12)
    np.testing.assert_allclose(b["current_A"], 1e-7, rtol=1e-12)
    assert np.all(b["current_A_std"] < 1e-20)
    np.testing.assert_allclose(b["resistance_ohm"], (3.0 + 0.01 * (t0 + 5.0)) / 1e-7, rtol=1e-12)
    np.testing.assert_allclose(b["el_intensity"], 100.0 - (t0 + 5.0), rtol=1e-12)
    assert b["n_samples"].values.tolist() == [101, 101, 101]
    np.testing.assert_allclose(b["charge_C"], 1e-7 * t1, rtol=1e-12)
    units = {k: b[k].attrs["units"] for k in b.data_vars}
    assert units["voltage_V"] == "V" and units["resistance_ohm"] == "ohm" and units["charge_C"] == "C"
    assert units["voltage_V_std"] == "V" and units["n_samples"] == "1"
    assert set(b.data_vars) >= {"voltage_V", "current_A", "resistance_ohm", "el_intensity", "voltage_V_std",
                                "current_A_std", "resistance_ohm_std", "el_intensity_std", "n_samples",
                                "charge_C"}


def test_bias_per_frame_takes_frame_coordinates_and_time_dim_logs():
    log = _log(el=False).rename(log_time="time")        # as perovscope.io.read returns a CSV log
    t0 = xr.DataArray([0.0, 15.0], dims="time", coords={"frame": ("time", [4, 5]),
                                                         "time_s": ("time", [2.0, 17.0])})
    b = bias_per_frame(log, t0, t0 + 5.0)
    assert b["frame"].values.tolist() == [4, 5]
    assert b["time_s"].values.tolist() == [2.0, 17.0]
    assert "el_intensity" not in b


def test_bias_per_frame_errors_name_the_problem():
    log = _log()
    t = log["log_time"].values.copy()
    t[3], t[4] = t[4], t[3]
    with pytest.raises(InputError, match="unsorted at index 4"):
        bias_per_frame(log.assign_coords(log_time=t), [0.0], [1.0])
    t = log["log_time"].values.copy()
    t[7] = t[6]
    with pytest.raises(InputError, match="duplicated at index 7"):
        bias_per_frame(log.assign_coords(log_time=t), [0.0], [1.0])
    with pytest.raises(InputError, match=r"frame 2: no bias-log sample in its window \[40, 45\] s"):
        bias_per_frame(log, [0.0, 10.0, 40.0], [5.0, 15.0, 45.0])
    with pytest.raises(InputError, match="current_A"):
        bias_per_frame(log.drop_vars("current_A"), [0.0], [1.0])
    with pytest.raises(InputError, match="frame 0: window"):
        bias_per_frame(log, [5.0], [1.0])


def test_convert_units():
    np.testing.assert_allclose(convert_units([1500.0], "mV", "V"), [1.5])
    np.testing.assert_allclose(convert_units([100.0], "nA", "A"), [1e-7], rtol=1e-15)
    np.testing.assert_allclose(convert_units([2.0], "µA", "A"), [2e-6], rtol=1e-15)   # micro sign
    np.testing.assert_allclose(convert_units([2.0], "μA", "nA"), [2e3], rtol=1e-15)   # Greek mu
    np.testing.assert_allclose(convert_units([2.0], "uV", "mV"), [2e-3], rtol=1e-15)
    np.testing.assert_allclose(convert_units([3.0], "pA", "A"), [3e-12], rtol=1e-15)
    np.testing.assert_allclose(convert_units([1.2], "kV", "V"), [1200.0], rtol=1e-15)
    np.testing.assert_allclose(convert_units([1.5, 2.0], "min", "s"), [90.0, 120.0])
    np.testing.assert_allclose(convert_units([0.5], "h", "s"), [1800.0])
    np.testing.assert_allclose(convert_units([250.0], "ms", "s"), [0.25])
    da = xr.DataArray([1.0, 2.0], dims="log_time", coords={"log_time": [0, 1]}, attrs={"units": "mA"})
    out = convert_units(da, "mA", "A")
    assert out.attrs["units"] == "A" and out["log_time"].values.tolist() == [0, 1]
    assert da.attrs["units"] == "mA"                                   # input untouched
    with pytest.raises(InputError, match=r"unknown unit 'furlong'.*mA"):
        convert_units([1.0], "furlong", "s")
    with pytest.raises(InputError, match="MA"):                        # case matters: MA is not mA
        convert_units([1.0], "MA", "A")
    with pytest.raises(InputError, match="cannot convert 'V'"):
        convert_units([1.0], "V", "A")


def test_cumulative_dose():
    np.testing.assert_allclose(cumulative_dose([100.0, 100.0, 50.0]), [100.0, 200.0, 250.0])
    np.testing.assert_allclose(cumulative_dose(np.ones((2, 3))), [[1, 2, 3], [1, 2, 3]])
    da = xr.DataArray([500.0, 500.0], dims="time", coords={"frame": ("time", [0, 1])},
                      attrs={"units": "e/Å²", "modality": "4dstem"})
    out = cumulative_dose(da)
    assert out.values.tolist() == [500.0, 1000.0] and out.attrs["modality"] == "4dstem"
    assert out.attrs["units"] == "e/Å²"
