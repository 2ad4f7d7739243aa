"""Sphere size distributions: a known distribution recovered within its bootstrap errors; the NNLS solver."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.saxs_sizes import nnls_normal, size_distribution, sphere_form_factor
from perovscope.errors import InputError


def simulated(n_curves=4, mean=50.0, sd=5.0, noise=0.02, seed=3):
    """Gaussian number distribution of spheres on a fine grid, rendered independently of the fit grid."""
    q = np.geomspace(0.004, 0.4, 300)
    r = np.linspace(mean - 6 * sd, mean + 6 * sd, 1201)
    n = np.exp(-0.5 * ((r - mean) / sd) ** 2)
    v = 4 / 3 * np.pi * r ** 3
    phi = n * v / (n * v).sum() * 0.01  # total volume fraction 1 %
    x = q[:, None] * r
    clean = ((3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2 * v * phi).sum(-1)
    sig = noise * clean
    y = clean + sig * np.random.default_rng(seed).standard_normal((n_curves, q.size))
    vmean = (phi * r).sum() / phi.sum()
    vwidth = np.sqrt((phi * r * r).sum() / phi.sum() - vmean ** 2)
    return q, y, np.broadcast_to(sig, y.shape), vmean, vwidth


def test_known_distribution_recovered_within_bootstrap_errors():
    q, y, sig, vmean, vwidth = simulated()
    d = size_distribution(y, q, sigma=sig, n_boot=20)
    assert d.volume_fraction.shape == (4, 60) and np.all(d.volume_fraction >= 0)
    # volume-weighted moments: what the data fix best (bootstrap σ ≈ 0.03 Å on 51.5 Å); the
    # regularisation and the 8 % radius grid add a small bias, allowed as 0.5 %
    assert np.all(np.abs(d.volume_mean_radius - vmean) < 4 * d.volume_mean_radius_std + 0.005 * vmean)
    # the width (5.0 Å number-weighted, 4.9 Å by volume) is broadened by the smoothing: within 1.5 Å
    assert np.all(np.abs(d.volume_width - vwidth) < 1.5)
    # number weighting divides by R³: larger errors, but the truth lies within them
    assert np.all(np.abs(d.mean_radius - 50.0) < 4 * d.mean_radius_std + 1.0)
    assert np.all(d.mean_radius_std < 5.0)
    assert d.total_volume_fraction == pytest.approx(0.01, rel=0.03)
    assert np.all(d.reduced_chi2 < 1.3)


def test_size_distribution_without_sigma_estimates_the_noise():
    q, y, sig, vmean, _ = simulated(n_curves=2, seed=5)
    d = size_distribution(y, q, n_boot=0)
    assert np.all(np.abs(d.volume_mean_radius - vmean) < 0.02 * vmean)
    assert np.all(np.isnan(d.volume_mean_radius_std))


def test_nnls_normal_matches_scipy():
    from scipy.optimize import nnls

    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 60, 12))
    b = rng.standard_normal((5, 60))
    gram = np.einsum("ink,inl->ikl", a, a)
    rhs = np.einsum("ink,in->ik", a, b)
    x, _ = nnls_normal(gram, rhs, np.ones(12, dtype=bool))
    ref = np.stack([nnls(a[i], b[i])[0] for i in range(5)])
    assert np.allclose(x, ref, atol=1e-8)
    # an unconstrained column (a background) may go negative
    cons = np.r_[np.ones(11, dtype=bool), False]
    x2, _ = nnls_normal(gram, rhs, cons)
    assert np.all(x2[:, :11] >= 0)


def test_sphere_form_factor_limits():
    assert sphere_form_factor(0.0, 10.0) == 1.0
    x = np.array([1e-3, 9.99e-3, 1.001e-2, 0.5])
    exact = (3 * (np.sin(x) - x * np.cos(x)) / x ** 3) ** 2
    assert np.allclose(sphere_form_factor(x, 1.0), exact, rtol=1e-6)
    first_zero = 4.493409457909064  # tan x = x
    assert sphere_form_factor(first_zero, 1.0) < 1e-20


def test_size_distribution_bad_input():
    q = np.linspace(0.01, 0.3, 50)
    y = sphere_form_factor(q, 30.0)
    with pytest.raises(InputError, match="radii"):
        size_distribution(y, q, radii=[10.0, 5.0, 20.0])
    with pytest.raises(InputError, match="r_min"):
        size_distribution(y, q, r_range=(20.0, 10.0))
    with pytest.raises(InputError, match="at least"):
        size_distribution(y[:4], q[:4])
    with pytest.raises(InputError, match="regularisation"):
        size_distribution(y, q, regularisation=0.0)
