"""The channel-integrated exponential kernel and the batched reconvolution model: closed forms, Jacobians."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.trpl_model import ReconvolutionModel, decay_model, exponential_kernel


@pytest.mark.parametrize("tau", [0.3, 3.0, 50.0, 2000.0])
@pytest.mark.parametrize("shift", [0.0, 0.4, -2.7, 3.5])
def test_kernel_sums_to_tau_and_matches_direct_integration(tau, shift):
    lags = np.arange(-10, int(60 * tau) + 50)
    k = exponential_kernel(lags, np.array([[tau]]), np.array([[shift]]))[0]
    assert np.all(k >= -1e-12)
    if tau < 100:
        assert abs(k.sum() / tau - 1) < 1e-9
    # direct double integral of exp(-(t-u-s)/τ) over a response channel u∈[0,1) and a channel t∈[m, m+1)
    m = np.arange(-3, 12)
    sub = (np.arange(400) + 0.5) / 400
    u, tt = np.meshgrid(sub, sub, indexing="ij")
    x = m[:, None, None] + tt[None] - u[None] - shift
    direct = np.where(x > 0, np.exp(-np.maximum(x, 0) / tau), 0.0).mean(axis=(1, 2))
    np.testing.assert_allclose(exponential_kernel(m, np.array([[tau]]), np.array([[shift]]))[0], direct,
                               atol=5e-3)


def test_kernel_derivatives_match_finite_differences():
    lags = np.arange(-5, 300)
    for tau in (0.3, 3.0, 50.0, 2000.0):
        for s in (0.4, -2.7):
            _, dt, ds = exponential_kernel(lags, np.array([[tau]]), np.array([[s]]), derivatives=True)
            h = 1e-4 * tau
            num_t = (exponential_kernel(lags, np.array([[tau + h]]), np.array([[s]]))
                     - exponential_kernel(lags, np.array([[tau - h]]), np.array([[s]]))) / (2 * h)
            num_s = (exponential_kernel(lags, np.array([[tau]]), np.array([[s + 1e-5]]))
                     - exponential_kernel(lags, np.array([[tau]]), np.array([[s - 1e-5]]))) / 2e-5
            assert np.abs(num_t - dt).max() < 1e-6 * np.abs(dt).max()
            assert np.abs(num_s - ds).max() < 1e-6 * np.abs(ds).max()


def test_model_jacobian_and_direct_convolution():
    n = 300
    irf = np.exp(-0.5 * ((np.arange(n) - 50) / 3.0) ** 2)
    irf /= irf.sum()
    m = ReconvolutionModel(irf, 2, max_negative_shift=10)
    p = np.array([[1000.0, 300.0, 5.0, 40.0, 1.3, 2.0], [500.0, 800.0, 2.0, 20.0, -3.2, 0.5]])
    jac, mu = m.jacobian(p), m.model(p)
    for j in range(p.shape[1]):
        dp = np.zeros_like(p)
        dp[:, j] = 1e-6 * max(1.0, abs(p[0, j]))
        num = (m.model(p + dp) - m.model(p - dp)) / (2 * dp[:, j:j + 1])
        assert np.abs(num - jac[:, :, j]).max() < 1e-6 * np.abs(jac[:, :, j]).max()
    # linear convolution with the same kernel computed directly (no FFT)
    kern = [exponential_kernel(np.arange(-n, n), np.array([[tau]]), np.array([[p[0, 4]]]))[0]
            for tau in p[0, 2:4]]
    direct = sum(a * np.convolve(irf, kk)[n:2 * n] for a, kk in zip(p[0, :2], kern, strict=True)) + p[0, 5]
    np.testing.assert_allclose(mu[0], direct, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(decay_model(irf, p[:, :2], p[:, 2:4], shift=p[:, 4], background=p[:, 5]), mu,
                               rtol=1e-12)
