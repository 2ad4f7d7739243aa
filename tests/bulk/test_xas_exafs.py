"""EXAFS: the AUTOBK spline background recovers a known χ(k) under a smooth μ₀, the transform puts
|χ(R)| where the EXAFS equation says, batches over spectra with different E₀, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.xas_exafs import KTOE, autobk, energy_to_k, first_shell_peak, hanning_window, xftf
from perovscope.errors import InputError

E0, STEP = 9000.0, 1.7
#: (N, R Å, σ² Å², φ0, φ1 Å): χ = Σ N S0²/(k R²) e^{-2σ²k²} sin(2kR + φ0 + φ1 k), S0² = 0.9
SHELLS = ((12, 2.55, 0.008, -0.5, -0.8), (6, 3.6, 0.012, -0.7, -0.8))


def energy_grid(e0=E0):
    k = np.arange(np.sqrt(30 / KTOE), 16.0, 0.05)
    return np.concatenate([np.arange(e0 - 200, e0 - 20, 5.0), np.arange(e0 - 20, e0 + 30, 0.5),
                           e0 + KTOE * k**2])


def exafs(k, shells=SHELLS):
    k = np.asarray(k, dtype=float)
    chi = np.zeros_like(k)
    for n, r, s2, ph0, ph1 in shells:
        amp = n * 0.9 / (np.maximum(k, 1e-3) * r**2) * np.exp(-2 * s2 * k**2) * (1 - np.exp(-(k**2)))
        chi += amp * np.sin(2 * k * r + ph0 + ph1 * k)
    return chi


def absorption(e, e0=E0, step=STEP, shells=SHELLS):
    """μ = a sloping pre-edge, an arctan edge and a curved post-edge (the smooth μ₀), plus step·χ(k)."""
    x = e - e0
    mu0 = (0.3 - 2e-4 * x + step * (0.5 + np.arctan(x / 3.0) / np.pi)
           + step * (x > 0) * (-5e-5 * x + 2e-8 * x**2))
    return mu0 + step * exafs(energy_to_k(x), shells) * (x > 0), mu0


def test_background_recovers_known_chi():
    e = energy_grid()
    mu, mu0 = absorption(e)
    bk = autobk(e, mu, e0=E0, edge_step=STEP, rbkg=1.0, kweight=2)
    truth = exafs(bk.k)
    sel = (bk.k >= 3) & (bk.k <= 15)
    err = ((bk.chi - truth) * bk.k**2)[sel]
    rel = np.sqrt(np.mean(err**2)) / np.sqrt(np.mean((truth * bk.k**2)[sel] ** 2))
    assert rel < 0.02  # 0.8 %: the spline has 11 coefficients over 0–16 Å⁻¹, too few to follow the EXAFS
    above = np.isfinite(bk.bkg) & (e > E0 + 50)
    np.testing.assert_allclose(bk.bkg[above], mu0[above], atol=0.01 * STEP)
    assert bk.n_spline == 1 + int(2 * 1.0 * bk.kmax / np.pi)


def test_chi_r_first_shell_at_r_plus_half_the_phase_slope():
    e = energy_grid()
    mu, _ = absorption(e)
    bk = autobk(e, mu, e0=E0, edge_step=STEP)
    ft = xftf(bk.k, bk.chi, kweight=2, kmin=3.0, kmax=15.0)
    r1, h1 = first_shell_peak(ft.r, ft.magnitude)
    # sin(2kR + φ1 k) oscillates as 2k(R + φ1/2): the peak sits at 2.55 − 0.4 = 2.15 Å
    assert r1 == pytest.approx(2.15, abs=0.02)
    ft_true = xftf(bk.k, exafs(bk.k), kweight=2, kmin=3.0, kmax=15.0)
    assert h1 == pytest.approx(first_shell_peak(ft_true.r, ft_true.magnitude)[1], rel=0.03)


def test_transform_of_a_single_sine():
    k = np.arange(0, 20.0, 0.05)
    chi = 0.5 * np.sin(2 * k * 2.0)
    ft = xftf(k, chi, kweight=0, kmin=2.0, kmax=18.0, dk=0.0)
    rpk, height = first_shell_peak(ft.r, ft.magnitude, rmin=1.0)
    assert rpk == pytest.approx(2.0, abs=0.005)
    # |χ̃(R0)| = δk/√π |Σ χ e^{2ikR0}| ≈ (A/2)(kmax − kmin)/√π for a sine of amplitude A
    assert height == pytest.approx(0.25 * 16.0 / np.sqrt(np.pi), rel=0.02)
    w = hanning_window(k, 3.0, 10.0, 1.0)
    assert w[(k >= 3.5) & (k <= 9.5)].min() == 1.0 and w[(k <= 2.5) | (k >= 10.5)].max() == 0.0


def test_batch_with_different_edges_on_a_shared_axis():
    e = energy_grid()
    e0s = np.array([8999.0, 9000.0, 9002.0, 9000.5])
    steps = np.array([1.0, 1.7, 0.6, 2.5])
    shells = [((12, 2.55, 0.008, -0.5, -0.8),), ((12, 2.6, 0.01, -0.5, -0.8),),
              ((4, 1.95, 0.004, 0.0, -0.6),), ((8, 2.4, 0.006, -0.3, -0.8),)]
    mu = np.stack([absorption(e, a, b, s)[0] for a, b, s in zip(e0s, steps, shells, strict=True)])
    bk = autobk(e, mu, e0=e0s, edge_step=steps)
    assert bk.chi.shape == (4, bk.k.size)
    ft = xftf(bk.k, bk.chi, kweight=2, kmin=3.0, kmax=14.0)
    rpk, _ = first_shell_peak(ft.r, ft.magnitude)
    expect = np.array([2.55 - 0.4, 2.6 - 0.4, 1.95 - 0.3, 2.4 - 0.4])
    np.testing.assert_allclose(rpk, expect, atol=0.03)
    for i in range(4):  # each spectrum as if analysed alone
        alone = autobk(e, mu[i], e0=e0s[i], edge_step=steps[i], kmax=bk.kmax)
        np.testing.assert_allclose(alone.chi, bk.chi[i], atol=1e-10)


def test_bad_input():
    e = energy_grid()
    mu, _ = absorption(e)
    with pytest.raises(InputError, match="e0"):
        autobk(e, mu, e0=12000.0, edge_step=STEP)
    with pytest.raises(InputError, match="edge_step"):
        autobk(e, mu, e0=E0, edge_step=-1.0)
    with pytest.raises(InputError, match="too short"):
        autobk(e[e < E0 + 25], mu[e < E0 + 25], e0=E0, edge_step=STEP)
    k = np.r_[np.arange(0, 5, 0.05), np.arange(5, 10, 0.1)]
    with pytest.raises(InputError, match="uniform"):
        xftf(k, np.sin(k))
    with pytest.raises(InputError, match="empty"):
        xftf(np.arange(0, 10, 0.05), np.zeros(200), kmin=9.0, kmax=5.0)
    with pytest.raises(InputError, match="R range"):
        first_shell_peak(np.arange(0, 10, 0.03), np.ones(334), rmin=7.0, rmax=7.02)
