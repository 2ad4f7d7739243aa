"""The compiled one-Gaussian CL kernel: known answers under Poisson noise and agreement with the
generic batched Levenberg–Marquardt path (the previous implementation) on every axis kind."""

import numpy as np
import pytest

from perovscope.spectroscopy import _cl_kernels, cl, cl_fit
from perovscope.spectroscopy.cl import fit_gaussian, wavelength_to_energy
from perovscope.spectroscopy.maps import cl_peak_map

FIELDS = ("centre", "sigma", "amplitude", "intensity", "offset")


def _generic(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(cl_fit, "available", lambda: False)
        return fit_gaussian(*args, **kwargs)


def _spectra(x, centre, sigma, amp, offset, seed):
    rng = np.random.default_rng(seed)
    mean = amp[:, None] * np.exp(-0.5 * ((x - centre[:, None]) / sigma[:, None]) ** 2) + offset
    return rng.poisson(mean).astype(np.float32)


def _assert_same_fit(fast, ref):
    """Both solvers stop at the same minimum: differences far below the statistical error."""
    np.testing.assert_array_equal(fast.flag, ref.flag)
    ok = fast.flag.ravel() == 0

    def get(fit, name):
        return getattr(fit, name).reshape(ok.size, -1)[ok]

    for name in FIELDS:
        assert np.max(np.abs(get(fast, name) - get(ref, name)) / get(ref, name + "_std")) < 1e-3, name
    for name in ("centre_std", "sigma_std", "amplitude_std"):
        np.testing.assert_allclose(get(fast, name), get(ref, name), rtol=1e-4)
    np.testing.assert_allclose(get(fast, "cost"), get(ref, "cost"), rtol=1e-9)


def test_agrees_with_generic_solver_on_fixture(cl_map, monkeypatch):
    da, _ = cl_map
    x = da.wavelength.values
    _assert_same_fit(fit_gaussian(da.values, x), _generic(monkeypatch, da.values, x))


@pytest.mark.parametrize("axis", ["uniform", "descending", "energy", "narrow", "edge"])
def test_agrees_with_generic_solver_on_axis_kinds(axis, monkeypatch):
    rng = np.random.default_rng(3)
    n = 60
    x = np.linspace(620.0, 800.0, 1024)
    centre, sigma = rng.uniform(700, 720, n), rng.uniform(10, 18, n)
    if axis == "narrow":  # only ±12 σ of the 1024 channels enter the sums
        sigma = rng.uniform(1.5, 3.0, n)
    if axis == "edge":  # peak partly beyond the end of the axis
        centre = rng.uniform(785, 795, n)
    y = _spectra(x, centre, sigma, rng.uniform(300, 1200, n), 20.0, seed=4)
    if axis == "descending":
        x, y = x[::-1].copy(), y[:, ::-1].copy()
    if axis == "energy":  # non-uniform, ascending photon-energy axis
        x, y = wavelength_to_energy(x, y)
    fast, ref = fit_gaussian(y, x), _generic(monkeypatch, y, x)
    assert np.all(fast.flag == 0)
    _assert_same_fit(fast, ref)


def test_known_answer_matches_least_squares_precision():
    """3000 Poisson realisations of one spectrum: no bias, scatter = the least-squares sandwich
    prediction (JᵀJ)⁻¹ Jᵀ diag(μ) J (JᵀJ)⁻¹ from the true mean (itself 1.18× / 1.36× the Poisson
    Cramér–Rao bound for centre / σ at this 2 % offset)."""
    n = 3000
    x = np.linspace(620.0, 800.0, 1024)
    a, c, s, b = 1000.0, 710.0, 14.0, 20.0
    y = _spectra(x, np.full(n, c), np.full(n, s), np.full(n, a), b, seed=11)
    f = fit_gaussian(y, x)
    assert np.all(f.flag == 0)
    z = (x - c) / s
    e = np.exp(-0.5 * z * z)
    jac = np.stack([e, a * e * z / s, a * e * z * z / s, np.ones_like(x)], axis=1)
    ai = np.linalg.inv(jac.T @ jac)
    pred = np.sqrt(np.diag(ai @ (jac.T * (a * e + b)) @ jac @ ai))
    # the sample sd of 3000 draws is within 1 ± 5/sqrt(2·3000) = ±6.5 % of the true sd (5 sigma),
    # the mean within 5 sd/sqrt(3000) of the truth (least-squares bias here is O(1/counts), far less)
    for est, true, sd in ((f.amplitude[:, 0], a, pred[0]), (f.centre[:, 0], c, pred[1]),
                          (f.sigma[:, 0], s, pred[2]), (f.offset, b, pred[3])):
        assert abs(est.mean() - true) < 5 * sd / np.sqrt(n)
        assert 0.935 < est.std() / sd < 1.065
    # reported standard errors (sandwich from the residuals) agree with that prediction on average
    assert np.median(f.centre_std) == pytest.approx(pred[1], rel=0.05)
    assert np.median(f.sigma_std) == pytest.approx(pred[2], rel=0.05)


def test_float32_float64_and_given_guess_agree():
    x = np.linspace(620.0, 800.0, 512)
    rng = np.random.default_rng(5)
    y = _spectra(x, rng.uniform(700, 720, 40), rng.uniform(10, 18, 40), np.full(40, 800.0), 20.0, 6)
    f32, f64 = fit_gaussian(y, x), fit_gaussian(y.astype(float), x)
    np.testing.assert_allclose(f32.centre, f64.centre, rtol=0, atol=1e-9)
    # one start value for every pixel (the other starting-value policy) reaches the same minimum
    g = fit_gaussian(y, x, guess=[700.0, 705.0, 12.0, 10.0])
    assert np.all(g.flag == 0)
    np.testing.assert_allclose(g.centre, f64.centre, atol=1e-3 * np.median(f64.centre_std))


def test_iteration_limit_and_masked_pixels_flagged():
    x = np.linspace(620.0, 800.0, 256)
    y = _spectra(x, np.full(4, 710.0), np.full(4, 14.0), np.full(4, 800.0), 20.0, 8)
    y[1] = np.nan
    f = fit_gaussian(y, x, guess=[100.0, 650.0, 40.0, 0.0], max_iter=1)
    assert f.flag[1] == 3 and np.isnan(f.centre[1, 0])
    assert np.all(f.flag[[0, 2, 3]] == 1) and np.all(np.isfinite(f.centre[[0, 2, 3]]))


def test_noise_only_pixels_rarely_give_peaks(monkeypatch):
    """Flat Poisson background: the 5-sigma amplitude test rejects almost every noise bump, as
    on the generic path (which uses the same start values)."""
    x = np.linspace(620.0, 800.0, 530)
    y = np.random.default_rng(9).poisson(20.0, (600, x.size)).astype(np.float32)
    fast, ref = fit_gaussian(y, x), _generic(monkeypatch, y, x)
    rate_fast, rate_ref = np.mean(np.isfinite(fast.centre)), np.mean(np.isfinite(ref.centre))
    # binomial sd of a ~1 % rate on 600 pixels is 0.4 %
    assert rate_fast < 0.03
    assert abs(rate_fast - rate_ref) < 0.015


def test_threaded_map_equals_core(cl_map):
    da, _ = cl_map
    big = da.isel(y=np.arange(16).repeat(5))  # > one block of pixels: blocks run on threads
    ds = cl_peak_map(big)
    np.testing.assert_array_equal(ds["centre"].values, cl.fit_gaussian(big.values, da.wavelength.values
                                                                      ).centre[..., 0])


def test_offset_start_value_is_numpys_5th_percentile():
    """The kernel's selection (bisection on branch-free counts) returns exact order statistics,
    ties and adjacent floats included, so the start values equal the generic path's."""
    cl_fit.compile_kernels()
    rng = np.random.default_rng(12)
    for n in (2, 3, 7, 1024, 1336):
        for y in (rng.poisson(20, n).astype(np.float32), rng.normal(size=n), np.full(n, 7.0),
                  1.0 + np.spacing(1.0) * rng.integers(0, 2, n)):
            for k in {int(0.05 * (n - 1)), int(rng.integers(0, n - 1))}:
                ref = np.sort(y.astype(float))
                assert _cl_kernels._order_stats(y, k, np.empty(n + 1)) == (ref[k], ref[k + 1])
