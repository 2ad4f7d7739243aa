"""SAXS Guinier, Porod and invariant: closed-form sphere curves, noisy series, RAW's reported values."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.saxs import guinier_fit
from perovscope.bulk.saxs_porod import invariant, porod_fit, porod_plot
from perovscope.errors import InputError

RAW = "bulk/saxs/raw_glucose_isomerase.dat"


def sphere(q, radius):
    """Exact normalised sphere form factor (written here, independently of the library's)."""
    x = np.asarray(q)[..., None] * np.asarray(radius)
    return (3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2


def polydisperse(q, mean=50.0, sd=6.0):
    """Gaussian number distribution of spheres (Δρ = 1): I(q), total surface S and volume V."""
    r = np.linspace(mean - 5 * sd, mean + 5 * sd, 801)
    n = np.exp(-0.5 * ((r - mean) / sd) ** 2)
    n /= n.sum()
    v = 4 / 3 * np.pi * r ** 3
    return (sphere(q, r) * v ** 2 * n).sum(-1), (n * 4 * np.pi * r ** 2).sum(), (n * v).sum()


def test_guinier_sphere_noise_free_matches_second_order_bias():
    # ln P = −q²R²/5 − βq⁴ + …, β = R⁴/350: the line fitted over q² ∈ [0, X] (uniform in q²) has slope
    # −Rg²/3 − βX and intercept βX²/6, i.e. Rg +2.0 % and I₀ +0.38 % at q_m·Rg = 1.3
    radius = 50.0
    q = np.sqrt(np.linspace(1e-8, 0.004, 4000))
    truth = np.sqrt(3 / 5) * radius
    for limit in (1.3, 0.8):
        fit = guinier_fit(sphere(q, radius)[..., 0], q, qrg_max=limit)
        xm2 = (limit / truth) ** 2
        predicted = np.sqrt(truth ** 2 + 3 * radius ** 4 / 350 * xm2)
        assert fit.qrg_max <= limit + 1e-9
        assert fit.rg == pytest.approx(predicted, rel=2e-3)
        assert fit.i0 == pytest.approx(np.exp(radius ** 4 / 350 * xm2 ** 2 / 6), rel=2e-4)


def test_guinier_noisy_series_per_curve_ranges_and_errors():
    rng = np.random.default_rng(1)
    radius = np.linspace(40, 60, 300)  # a coarsening series: each curve its own radius and range
    q = np.linspace(0.003, 0.3, 600)
    clean = sphere(q, radius).T
    sig = 0.01 * clean + 1e-7
    y = clean + sig * rng.standard_normal(clean.shape)
    fit = guinier_fit(y, q, sigma=sig, qrg_max=1.0)
    truth = np.sqrt(3 / 5) * radius
    assert fit.rg.shape == (300,) and np.unique(fit.stop).size > 20
    assert np.all(fit.qrg_max <= 1.0 + 1e-9)
    # the q⁴ term biases Rg by ≈ +1.2 % at q·Rg ≤ 1; the scatter is what the reported errors say
    z = (fit.rg - truth * 1.012) / fit.rg_std
    assert abs(np.mean(fit.rg / truth - 1) - 0.012) < 0.004
    assert 0.7 < np.std(z) < 1.4
    one = guinier_fit(y[7], q, sigma=sig[7], qrg_max=1.0)  # the batch equals the curve alone
    assert one.rg == pytest.approx(fit.rg[7], rel=1e-12) and one.stop == fit.stop[7]


def test_guinier_reproduces_raw_fixed_and_automatic_ranges(data_file):
    from perovscope.io.saxs_dat import read_saxs_dat

    ds = read_saxs_dat(data_file(RAW))
    q, i, s = ds.q.values, ds.intensity.values, ds.sigma.values
    fixed = guinier_fit(i, q, sigma=s, points=(0, 43))  # RAW's "points 0–42", weighted by (I/σ)²
    # the same weighted line as RAW: agreement to the 5 digits RAW states
    assert fixed.rg == pytest.approx(33.299, abs=5e-4) and fixed.i0 == pytest.approx(0.060993, abs=5e-7)
    auto = guinier_fit(i, q, sigma=s)
    # the longest window from the first point with q·Rg ≤ 1.3 is RAW's stored one (points 0–49) ...
    assert auto.stop == 50 and auto.rg == pytest.approx(33.6078, rel=1e-4)
    assert auto.rg_std == pytest.approx(0.2301, rel=1e-3) and auto.i0 == pytest.approx(0.061225, rel=1e-4)
    # ... and RAW's AutoRG (33.89 Å) chose a different window: within 2 standard errors
    assert abs(auto.rg - 33.89) < 2 * auto.rg_std


def test_porod_sharp_interface_is_q4_with_the_surface_constant():
    q = np.linspace(0.01, 0.6, 1500)
    y, surface, _ = polydisperse(q)
    sig = 0.005 * y
    fit = porod_fit(y, q, sigma=sig, q_range=(0.2, None), model="sharp")
    assert fit.porod_constant == pytest.approx(2 * np.pi * surface, rel=3e-3)  # K = 2πΔρ²S
    assert fit.exponent == pytest.approx(4.0, abs=0.01)
    q4i, dev = porod_plot(y, q, porod_constant=fit.porod_constant, background=fit.background)
    hi = q > 0.3
    assert np.allclose(q4i, y * q ** 4) and np.max(np.abs(dev[hi])) < 0.03  # residual sphere wiggles


def test_porod_ruland_recovers_the_interface_width():
    # a Gaussian-smoothed (sigmoidal) density profile of width σ multiplies I by exp(−σ²q²) exactly
    q = np.linspace(0.01, 0.6, 1500)
    y, surface, _ = polydisperse(q)
    widths = np.array([3.0, 6.0, 10.0])
    graded = y * np.exp(-(widths[:, None] * q) ** 2) + 5.0
    rng = np.random.default_rng(2)
    sig = 0.01 * graded
    data = graded + sig * rng.standard_normal(graded.shape)
    fit = porod_fit(data, q, sigma=sig, q_range=(0.15, None))
    assert fit.interface_width == pytest.approx(widths, rel=0.01)
    assert fit.porod_constant == pytest.approx(2 * np.pi * surface, rel=0.02)
    # (the fit's χ² is above 1: the sphere's residual oscillations are not Porod's law; the widths hold)
    assert np.all(fit.deviation < 0) and np.all(fit.sigma2_std > 0)
    # a positive deviation (K rising with q) gives σ² < 0 and no width
    up = 2 * np.pi * surface * q ** -4.0 * np.exp(+(2.0 * q) ** 2)
    fit = porod_fit(up, q, q_range=(0.15, None), background=False)
    assert fit.sigma2 == pytest.approx(-4.0, rel=1e-3) and np.isnan(fit.interface_width)
    assert fit.deviation > 0


def test_invariant_of_spheres_and_specific_surface():
    q = np.linspace(0.002, 0.8, 4000)
    y, surface, volume = polydisperse(q)
    g = guinier_fit(y, q, qrg_max=1.0)
    k = 2 * np.pi * surface
    inv = invariant(y, q, rg=g.rg, i0=g.i0, porod_constant=k)
    assert inv.total == pytest.approx(2 * np.pi ** 2 * volume, rel=2e-3)  # Q* = 2π²Δρ²φ (dilute)
    assert inv.surface_to_invariant == pytest.approx(surface / volume, rel=3e-3)  # πK/Q* = S/V
    assert inv.low_q > 0 and inv.high_q == pytest.approx(k / q[-1])


def test_bad_input_raises():
    q = np.linspace(0.01, 0.3, 100)
    y = sphere(q, 40.0)[..., 0]
    with pytest.raises(InputError, match="not sorted"):
        guinier_fit(y, np.r_[q[:50], q[50:][::-1]])
    with pytest.raises(InputError, match="duplicated"):
        guinier_fit(y, np.r_[q[:50], q[49], q[51:]])
    bad = y.copy()
    bad[3] = -1.0
    with pytest.raises(InputError, match="non-positive"):
        guinier_fit(bad, q, points=(0, 20))
    with pytest.raises(InputError, match="non-positive"):
        guinier_fit(bad, q)
    with pytest.raises(InputError, match="at least"):
        guinier_fit(y[:5], q[:5])
    with pytest.raises(InputError, match="at least"):
        porod_fit(y, q, q_range=(0.295, None))
    with pytest.raises(InputError, match="no q point"):
        porod_fit(y, q, q_range=(1.0, 2.0))
    with pytest.raises(InputError):
        guinier_fit(y, q, points=(0, 500))
