"""Rank correlation, lags and the moving-block bootstrap against scipy and known AR(1) pairs."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from perovscope.errors import InputError
from perovscope.operando import block_bootstrap_ci, correlation_table, lagged_correlation, spearman


def test_spearman_matches_scipy_with_ties_and_batches():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (6, 30)).astype(float)          # many ties
    y = x + rng.integers(0, 4, (6, 30))
    got = spearman(x, y)
    want = [stats.spearmanr(a, b).statistic for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert spearman([1, 2, 3, 4], [10, 20, 25, 100]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.raises(InputError, match="finite"):
        spearman([1.0, np.nan, 2.0], [1.0, 2.0, 3.0])


def test_lag_recovery_of_a_series_shifted_by_two_frames():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=40)) + rng.normal(size=40)
    y = np.r_[rng.normal(size=2), x[:-2]] + rng.normal(0.0, 0.05, 40)    # y[t] = x[t − 2]: y follows x
    lag = lagged_correlation(x, y, max_lag=4)
    assert lag.lags.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3, 4]
    assert lag.best_lag == 2 and lag.best_r > 0.99
    assert lag.n.tolist() == [36, 37, 38, 39, 40, 39, 38, 37, 36]
    assert lagged_correlation(y, x, max_lag=4).best_lag == -2
    # at lag 0 the coefficients are the ordinary ones
    assert lag.pearson[4] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
    assert lag.spearman[4] == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    # at lag 2: scipy on the overlapping pairs x[t], y[t + 2]
    assert lag.spearman[6] == pytest.approx(stats.spearmanr(x[:-2], y[2:]).statistic, rel=1e-12)
    ramp = np.arange(10.0)                                 # monotone: |ρ| = 1 at every lag
    assert lagged_correlation(ramp, ramp ** 2, max_lag=3).best_lag == 0
    xn = x.copy()
    xn[5] = np.nan                                         # NaN pairs are dropped at each lag
    assert lagged_correlation(xn, y, max_lag=1).n.tolist() == [38, 39, 38]


def _ar1(rng, n, phi, size):
    """Stationary unit-variance AR(1) series, (size, n)."""
    e = rng.normal(0.0, np.sqrt(1 - phi**2), (size, n))
    x = np.empty_like(e)
    x[:, 0] = rng.normal(size=size)
    for t in range(1, n):                                  # recursion over time in the test only
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


def test_block_bootstrap_covers_true_rho_of_ar1_pairs():
    # x, z independent AR(1) (φ = 0.5, n = 60); y = a x + √(1 − a²) z is jointly Gaussian with x with
    # Pearson a at every t, so the population Spearman is (6/π) asin(a/2) = 0.582 (Kendall & Gibbons)
    n, phi, a, reps = 60, 0.5, 0.6, 200
    rng = np.random.default_rng(1)
    x, z = _ar1(rng, n, phi, reps), _ar1(rng, n, phi, reps)
    y = a * x + np.sqrt(1 - a**2) * z
    rho_true = 6 / np.pi * np.arcsin(a / 2)
    cis = [block_bootstrap_ci(x[i], y[i], n_boot=1000, seed=i) for i in range(reps)]
    assert cis[0].block == 4                               # round(60^(1/3))
    cover = np.mean([c.low <= rho_true <= c.high for c in cis])
    # binomial sd of the rate over 200 series at 0.95: 0.015 → ±0.046 at 3σ; the percentile interval
    # of the moving-block bootstrap under-covers by ~1–3 % at n = 60 (Hall, Horowitz & Jing 1995;
    # 0.91–0.945 measured for n = 40–100), so the lower bound allows 0.02 more
    assert 0.88 <= cover <= 0.995
    widths = np.array([c.high - c.low for c in cis])
    assert np.all(widths > 0) and np.median(widths) < 0.6


def test_block_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    x = rng.normal(size=25)
    y = x + rng.normal(size=25)
    a = block_bootstrap_ci(x, y, seed=7)
    b = block_bootstrap_ci(x, y, seed=7)
    c = block_bootstrap_ci(x, y, seed=8)
    assert a == b and (a.low, a.high) != (c.low, c.high)
    assert a.rho == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-12)
    assert a.low < a.rho < a.high and a.block == 3 and a.n_boot == 2000
    with pytest.raises(InputError, match="block"):
        block_bootstrap_ci(x, y, block=30)
    with pytest.raises(InputError, match="level"):
        block_bootstrap_ci(x, y, level=95)
    nan = block_bootstrap_ci([1.0, 2.0], [1.0, 2.0])
    assert np.isnan(nan.rho) and np.isnan(nan.low)


def _timeline(n=12):
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(4)
    alcl3 = 0.3 * t + rng.normal(0, 0.05, n)
    data = {
        "resistance_ohm": ("time", 3e7 + 1e6 * alcl3, {"units": "ohm"}),
        "el_intensity": ("time", 100.0 - 5 * t + rng.normal(0, 0.5, n), {"units": "a.u."}),
        "alcl3_thickness_nm": ("time", alcl3, {"units": "nm"}),
        "alcl3_thickness_nm_std": ("time", np.full(n, 0.05), {"units": "nm"}),
        "current_A": ("time", np.full(n, 1e-7), {"units": "A"}),            # constant: skipped
        "cluster_count": ("time", np.full(n, np.nan), {"units": "1"}),      # NaN only: skipped
        "n_samples": ("time", np.arange(n) + 10, {"units": "1"}),           # bookkeeping: skipped
        "voltage_V": ("time", 3.0 + 0.1 * alcl3, {"units": "V"}),           # the log itself: skipped
        "charge_C": ("time", 1e-7 * 30.0 * (t + 1), {"units": "C"}),        # a clock: skipped
        "pb_particle_count": ("time", np.r_[np.zeros(4), np.arange(1, n - 3)], {"units": "1"}),
    }
    return xr.Dataset(data, coords={"frame": ("time", np.arange(n)), "time_s": ("time", 30.0 * t)})


def test_correlation_table_skips_constant_std_and_self():
    tl = _timeline()
    tl["pb_particle_count"][2] = np.nan
    tab = correlation_table(tl, n_boot=300)
    pairs = list(zip(tab["quantity"].values.tolist(), tab["against"].values.tolist(), strict=True))
    assert sorted(pairs) == sorted((q, a) for q in ("alcl3_thickness_nm", "pb_particle_count")
                                   for a in ("resistance_ohm", "el_intensity"))
    row = {p: k for k, p in enumerate(pairs)}
    k = row[("alcl3_thickness_nm", "resistance_ohm")]
    assert tab["rho"][k] == 1.0 and tab["n"][k] == 12          # R is a monotone function of AlCl3
    assert tab["lag_frames"][k] == 0 and tab["lag_rho"][k] == 1.0
    k = row[("pb_particle_count", "el_intensity")]
    assert tab["n"][k] == 11 and tab["rho"][k] < -0.8           # one NaN frame left out
    assert np.all(tab["rho_low"] <= tab["rho"]) and np.all(tab["rho"] <= tab["rho_high"])
    assert tab["quantity"].dtype.kind == "U" and tab["lag_frames"].dtype == np.int64
    assert all("units" in tab[v].attrs for v in tab.data_vars)
    # explicit quantities: the against column itself and _std columns are never correlated
    tab = correlation_table(tl, quantities=["resistance_ohm", "alcl3_thickness_nm_std", "el_intensity"],
                            against=("resistance_ohm",), n_boot=100)
    assert tab["quantity"].values.tolist() == ["el_intensity"]
    tab = correlation_table(tl, quantities=["voltage_V"], against=("resistance_ohm",), n_boot=100)
    assert tab["quantity"].values.tolist() == ["voltage_V"]    # named: included
    empty = correlation_table(tl, quantities=["current_A"], n_boot=100)
    assert empty.sizes["row"] == 0 and empty["rho"].dtype == float
    with pytest.raises(InputError, match="not in the timeline"):
        correlation_table(tl, quantities=["nope"])
