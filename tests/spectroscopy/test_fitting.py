"""Batched Levenberg–Marquardt and NNLS against closed-form answers and scipy."""

import numpy as np
import pytest
from scipy.optimize import nnls

from perovscope.spectroscopy.fitting import FLAG_MASKED, FLAG_OK, levenberg_marquardt, linear_least_squares

X = np.linspace(-5, 5, 80)


def _exp_model(p):
    return p[:, :1] * np.exp(-p[:, 1:2] * X ** 2 / 10)


def _exp_jac(p):
    m = np.exp(-p[:, 1:2] * X ** 2 / 10)
    return np.stack([m, -p[:, :1] * m * X ** 2 / 10], axis=-1)


def test_lm_recovers_noise_free_parameters_and_flags_bad_pixels():
    truth = np.array([[3.0, 1.0], [10.0, 0.3], [0.5, 2.0], [1.0, 1.0]])
    y = _exp_model(truth)
    y[3, 5] = np.nan  # a bad pixel must not poison the others
    res = levenberg_marquardt(_exp_model, _exp_jac, y, np.ones((4, 2)), lower=[0, 0])
    np.testing.assert_allclose(res.params[:3], truth[:3], rtol=1e-6)
    assert list(res.flag) == [FLAG_OK, FLAG_OK, FLAG_OK, FLAG_MASKED]
    assert np.all(np.isnan(res.params[3]))


def test_lm_standard_errors_match_scatter():
    # 400 noisy repeats: the reported standard error must match the observed scatter (±15 %,
    # the sampling error of a standard deviation from 400 values is ~3.5 %, plus nonlinearity)
    rng = np.random.default_rng(0)
    truth = np.array([5.0, 0.8])
    y = _exp_model(truth[None]) + rng.normal(0, 0.2, (400, X.size))
    res = levenberg_marquardt(_exp_model, _exp_jac, y.reshape(20, 20, -1), [4.0, 1.0])
    assert res.params.shape == (20, 20, 2)
    scatter = res.params.reshape(-1, 2).std(axis=0)
    reported = np.median(res.std.reshape(-1, 2), axis=0)
    np.testing.assert_allclose(reported, scatter, rtol=0.15)


def test_lm_poisson_is_unbiased_at_low_counts():
    # Poisson ML amplitude is unbiased where least squares is biased low by ~1 count/channel;
    # mean of 2000 fits: standard error ~0.3 %, tolerance 1 %
    rng = np.random.default_rng(1)
    truth = np.array([4.0, 0.5])
    y = rng.poisson(_exp_model(np.tile(truth, (2000, 1)))).astype(float)
    res = levenberg_marquardt(_exp_model, _exp_jac, y, [3.0, 0.6], lower=[0, 0], poisson=True)
    assert abs(np.nanmean(res.params[:, 0]) / truth[0] - 1) < 0.01
    assert np.mean(res.flag == FLAG_OK) > 0.99


def test_nnls_matches_scipy():
    rng = np.random.default_rng(2)
    d = np.abs(rng.normal(size=(60, 6)))
    coef = rng.uniform(-1, 3, (300, 6)).clip(0, None)
    y = coef @ d.T + rng.normal(0, 0.5, (300, 60))
    fit = linear_least_squares(y, d)
    ref = np.array([nnls(d, yi)[0] for yi in y])
    np.testing.assert_allclose(fit.coef, ref, atol=1e-8)
    assert np.all(fit.coef >= 0)


def test_unconstrained_columns_and_weights():
    rng = np.random.default_rng(3)
    d = np.stack([np.ones(50), np.linspace(-1, 1, 50)], axis=1)
    coef = np.array([[2.0, -1.5]])
    y = coef @ d.T
    fit = linear_least_squares(y, d, nonneg=[True, False])
    np.testing.assert_allclose(fit.coef, coef, atol=1e-10)
    fitw = linear_least_squares(y + rng.normal(0, 1e-9, y.shape), d, nonneg=False,
                                sigma=np.full(y.shape, 0.1))
    np.testing.assert_allclose(fitw.coef, coef, atol=1e-6)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(linear_least_squares(y, d).coef, coef, atol=1e-3)
