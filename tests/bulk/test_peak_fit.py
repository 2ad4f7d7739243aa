"""Known-answer tests of the profiles and the batched multi-peak fit."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk import lineshapes as ls
from perovscope.bulk.peak_fit import Tie, fit_peaks, peak_components
from perovscope.errors import InputError

X = np.linspace(-20.0, 20.0, 801)


@pytest.mark.parametrize("shape,params", [("gaussian", (2.0, 0.3, 3.0)), ("lorentzian", (2.0, -0.4, 2.5)),
                                          ("pseudo_voigt", (1.5, 0.2, 3.0, 0.35)),
                                          ("voigt", (1.5, 0.1, 1.2, 0.8))])
def test_profiles_are_area_normalised_with_exact_derivatives(shape, params):
    xx = np.linspace(-400.0, 400.0, 400001)
    value = ls.profile(shape, xx, *params)
    # a Lorentzian of half width h holds 1 − (2/π)·arctan(L/h) of its area beyond ±L
    hwhm, weight = {"gaussian": (1.0, 0.0), "lorentzian": (params[2] / 2, 1.0),
                    "pseudo_voigt": (params[2] / 2, params[-1]), "voigt": (params[-1], 1.0)}[shape]
    tail = weight * params[0] * (1 - 2 / np.pi * np.arctan(400.0 / hwhm))
    assert np.trapezoid(value, xx) == pytest.approx(params[0] - tail, rel=1e-5)
    val, ders = ls.profile_jac(shape, X, *params)
    np.testing.assert_allclose(val, ls.profile(shape, X, *params))
    for j in range(len(params)):
        h = 1e-6 * max(abs(params[j]), 1.0)
        up = list(params)
        dn = list(params)
        up[j] += h
        dn[j] -= h
        numeric = (ls.profile(shape, X, *up) - ls.profile(shape, X, *dn)) / (2 * h)
        np.testing.assert_allclose(ders[j], numeric, atol=1e-6 * np.max(np.abs(numeric)) + 1e-12)


def test_voigt_fwhm_matches_numerical_half_maximum():
    xx = np.linspace(-30, 30, 600001)
    v = ls.voigt(xx, 1.0, 0.0, 1.3, 0.9)
    above = xx[v >= v.max() / 2]
    assert ls.voigt_fwhm(1.3, 0.9) == pytest.approx(above[-1] - above[0], rel=5e-4)


def _two_gaussians(n_spectra, seed, shares=(0.3, 0.7), total=5e4):
    rng = np.random.default_rng(seed)
    areas = np.array(shares) * total
    truth = ls.gaussian(X, areas[0], -3.0, 4.0) + ls.gaussian(X, areas[1], 2.5, 5.0) + 20 + 0.5 * X
    return rng.poisson(np.broadcast_to(truth, (n_spectra, X.size))).astype(float)


def test_two_gaussian_shares_recovered_within_their_errors_over_a_batch():
    y = _two_gaussians(400, seed=1)
    fit = fit_peaks(y, X, centres=[-4.0, 3.5], shape="gaussian", baseline_order=1)
    assert fit.area.shape == (400, 2) and np.all(fit.flag == 0)
    z = (fit.share[:, 0] - 0.3) / fit.share_std[:, 0]
    # honest errors: pulls are unit normal (400 draws: mean within 0.15, std within 15 %)
    assert abs(np.mean(z)) < 0.15
    assert np.std(z) == pytest.approx(1.0, rel=0.15)
    assert np.mean(fit.centre, axis=0) == pytest.approx([-3.0, 2.5], abs=0.02)
    assert np.mean(fit.fwhm, axis=0) == pytest.approx([4.0, 5.0], rel=0.01)


def test_decreasing_axis_and_automatic_start_centres():
    y = _two_gaussians(3, seed=2, shares=(0.5, 0.5))[:, ::-1]
    fit = fit_peaks(y, X[::-1], centres=[-3.0, 2.5])
    assert fit.centre.mean(axis=0) == pytest.approx([-3.0, 2.5], abs=0.05)
    single = ls.gaussian(X, 1e4, 1.7, 3.0)[::-1] + 5.0
    auto = fit_peaks(single, X[::-1], n_peaks=1)
    assert auto.centre[0] == pytest.approx(1.7, abs=1e-6)


def test_spin_orbit_doublet_ties_hold_exactly_and_propagate_errors():
    rng = np.random.default_rng(3)
    truth = ls.pseudo_voigt(X, 6000, -4.0, 2.0, 0.3) + ls.pseudo_voigt(X, 3000, 4.5, 2.0, 0.3) + 50
    y = rng.poisson(np.broadcast_to(truth, (200, X.size))).astype(float)
    ties = [Tie(1, "centre", to=0, offset=8.5), Tie(1, "area", to=0, ratio=0.5),
            Tie(1, "fwhm", to=0), Tie(1, "eta", to=0)]
    fit = fit_peaks(y, X, centres=[-3.5, 5.0], shape="pseudo_voigt", baseline_order=0, ties=ties)
    np.testing.assert_allclose(fit.centre[:, 1] - fit.centre[:, 0], 8.5, atol=1e-9)
    np.testing.assert_allclose(fit.area[:, 1] / fit.area[:, 0], 0.5, rtol=1e-9)
    np.testing.assert_allclose(fit.area_std[:, 1] / fit.area_std[:, 0], 0.5, rtol=1e-6)
    z = (fit.area[:, 0] - 6000) / fit.area_std[:, 0]
    assert abs(np.mean(z)) < 0.2 and np.std(z) == pytest.approx(1.0, rel=0.2)
    peaks, base = peak_components(fit, X)
    assert peaks.shape == (200, 2, X.size) and base.shape == (200, X.size)


def test_fixed_parameter_and_voigt_fit():
    truth = ls.voigt(X, 1000.0, 0.5, 1.0, 0.7)
    fit = fit_peaks(truth[None], X, centres=[0.0], shape="voigt", baseline_order=-1,
                    ties=[Tie(0, "gamma", offset=0.7)])
    assert fit.params[0, :4] == pytest.approx([1000.0, 0.5, 1.0, 0.7], rel=1e-6)
    assert fit.std[0, 3] == 0.0


@pytest.mark.parametrize("kwargs,match", [
    ({"x": np.r_[X[:10], X[5:]]}, "not sorted"),
    ({"x": np.r_[X[:1], X[:-1]]}, "duplicated"),
    ({"centres": None}, "n_peaks"),
    ({"ties": [Tie(0, "nope", offset=1.0)]}, "no such parameter"),
    ({"ties": [Tie(0, "area", to=1), Tie(1, "area", to=0)]}, "cycle"),
    ({"shape": "triangle"}, "unknown peak shape"),
])
def test_bad_input_names_the_problem(kwargs, match):
    y = _two_gaussians(1, seed=4)
    args = {"x": X, "centres": [-3.0, 2.5]} | kwargs
    x = args.pop("x")
    if x.size != y.shape[-1]:
        y = np.resize(y, (1, x.size))
    with pytest.raises(InputError, match=match):
        fit_peaks(y, x, **args)


def test_too_few_points_for_the_model():
    with pytest.raises(InputError, match="at least"):
        fit_peaks(np.ones(5), np.arange(5.0), centres=[1.0, 3.0])
