"""XAS edge: E₀ from the derivative, pre/post-edge normalisation and flattening — known answers, a batch
on a shared axis, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from perovscope.bulk.xas import find_e0, normalize, polynomial_fit
from perovscope.errors import InputError


def synthetic_edge(e, e0, step, *, width=1.5, pre=(0.4, -3e-4), post=(-4e-4, 2e-7)):
    """μ(E): a pre-edge line, an erf step of ``step`` at ``e0`` (its inflection) and a post-edge
    quadratic in (E − E₀) switched on by the same step."""
    x = e - e0
    s = 0.5 * (1 + erf(x / (np.sqrt(2) * width)))
    line = pre[0] + pre[1] * x
    curve = step * (post[0] * x + post[1] * x**2)
    return line + s * (step + curve)


E = np.concatenate([np.arange(7900.0, 8080.0, 2.0), np.arange(8080.0, 8140.0, 0.25),
                    np.arange(8140, 8800, 3.0)])


def test_normalisation_known_edge():
    mu = synthetic_edge(E, 8100.0, 1.3)
    nr = normalize(E, mu)
    assert nr.e0 == pytest.approx(8100.0, abs=0.02)  # the erf's inflection, refined below the 0.25 eV grid
    assert nr.edge_step == pytest.approx(1.3, rel=1e-4)
    far_below, far_above = E < 8060, E > 8260
    np.testing.assert_allclose(nr.norm[far_below], 0.0, atol=1e-4)
    np.testing.assert_allclose(nr.flat[far_above], 1.0, atol=1e-4)  # flattening removes the curvature
    assert nr.pre_range.tolist() == pytest.approx([7950.0, 8070.0], abs=0.05)
    assert nr.post_range[1] == E[-1]


def test_e0_with_an_arctan_edge_and_reversed_axis():
    e0 = 11918.7
    e = np.arange(11700.0, 12500.0, 0.7)
    mu = 0.1 + 1e-4 * (e - e0) + 2.0 * (0.5 + np.arctan((e - e0) / 2.0) / np.pi)
    assert find_e0(e, mu) == pytest.approx(e0, abs=0.05)
    assert find_e0(e[::-1], mu[::-1]) == pytest.approx(e0, abs=0.05)
    nr = normalize(e[::-1], mu[::-1], post_order=1)
    assert np.all(np.diff(nr.energy) > 0)
    # an arctan approaches its plateau as Γ/(πx): a line through +150…+580 eV, extrapolated to E0,
    # falls short by ≈ 2 % for Γ = 2 eV (the erf edge above is recovered to 1e-4)
    assert nr.edge_step == pytest.approx(2.0, rel=0.03) and nr.edge_step < 2.0


def test_series_on_a_shared_axis_is_batched():
    rng = np.random.default_rng(4)
    e0s = np.array([[8099.0, 8100.0, 8101.5], [8102.0, 8098.5, 8100.25]])
    steps = np.array([[0.5, 1.0, 2.0], [1.5, 0.8, 3.0]])
    mu = synthetic_edge(E, e0s[..., None], steps[..., None]) + rng.normal(0, 2e-4, (2, 3, E.size))
    nr = normalize(E, mu)
    assert nr.e0.shape == (2, 3) and nr.norm.shape == (2, 3, E.size)
    np.testing.assert_allclose(nr.e0, e0s, atol=0.15)  # noise 2e-4 on 0.25 eV steps
    np.testing.assert_allclose(nr.edge_step, steps, rtol=2e-3)
    np.testing.assert_allclose(nr.pre_range[..., 0], e0s - 150.0, atol=0.15)
    fixed = normalize(E, mu, e0=8100.0)
    assert np.all(fixed.e0 == 8100.0)


def test_bad_input():
    mu = synthetic_edge(E, 8100.0, 1.0)
    with pytest.raises(InputError, match="duplicated"):
        normalize(np.r_[E[:5], E[4:]], np.r_[mu[:5], mu[4:]])
    shuffled = E.copy()
    shuffled[[10, 20]] = shuffled[[20, 10]]
    with pytest.raises(InputError, match="not sorted"):
        find_e0(shuffled, mu)
    with pytest.raises(InputError, match="wavelength"):
        normalize(E, mu, units="nm")
    with pytest.raises(InputError, match="pre_range"):
        normalize(E, mu, pre_range=(-500.0, -400.0))
    with pytest.raises(InputError, match="no absorption edge"):
        normalize(E, -mu)
    with pytest.raises(InputError, match="NaN"):
        normalize(E, np.where(E > 8500, np.nan, mu))
    with pytest.raises(InputError, match="points"):
        find_e0(E[:5], mu[:5])


def test_polynomial_fit_masks():
    x = np.linspace(-1, 1, 50)
    y = np.stack([1 + 2 * x, 3 - x + 0.5 * x**2])
    mask = np.stack([x < 0, x > -0.5])
    coef, n = polynomial_fit(x, y, mask, 2)
    np.testing.assert_allclose(coef, [[1, 2, 0], [3, -1, 0.5]], atol=1e-10)
    assert n.tolist() == [25, 37]
