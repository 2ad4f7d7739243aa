"""TRPL fits: known answers with the measured Horiba IRF and Poisson noise, honest errors, bad input.

Truth decays are generated here independently of the fit model: the measured IRF (background
removed) is interpolated linearly between channel centres, shifted by a known sub-channel delay,
convolved with exact exponentials on a 10× finer grid and re-binned; Poisson noise is then drawn.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from perovscope.bulk.trpl import fit_decays, semilog_lifetime
from perovscope.bulk.trpl_lifetimes import effective_lifetime, mean_lifetimes
from perovscope.errors import InputError

NS_PER_CH = 0.02743484
SHIFT_NS, BG = 0.15, 3.0


def _horiba_counts(path):
    rows = [ln.split() for ln in path.read_text().splitlines()]
    return np.array([float(r[1]) for r in rows if len(r) == 2 and r[0].isdigit()])


@pytest.fixture(scope="module")
def measured_irf(data_dir):
    p = data_dir / "bulk/trpl_tcspc/lifefit_irf.txt"
    if not p.exists():
        pytest.skip("lifefit_irf.txt not present")
    return _horiba_counts(p)[200:2400]  # recorded channels 201.. ; 60 ns window


def _truth(irf, amps, taus, *, over=10):
    """Expected counts (one row per set of amplitudes/lifetimes): fine-grid convolution, re-binned."""
    n = irf.size
    pre = irf[: 775]
    clean = irf - pre.mean()  # the physical response: the dark-count pedestal removed
    fine = (np.arange(n * over) + 0.5) / over
    g = np.interp(fine - 0.5 - SHIFT_NS / NS_PER_CH, np.arange(n), clean, left=0.0, right=0.0)
    g /= g.sum()
    rows = []
    for a, tau in zip(np.atleast_2d(amps), np.atleast_2d(taus), strict=True):
        decay = sum(ai * np.exp(-fine * NS_PER_CH / ti) for ai, ti in zip(a, tau, strict=True))
        rows.append(fftconvolve(g, decay)[: n * over].reshape(n, over).sum(1) / over)
    return np.array(rows)


def _scale(mu, total=1e6):
    return mu * (total / mu.sum(axis=1))[:, None] + BG


def test_single_exponentials_6p2_and_8p1_ns_recovered_with_honest_errors(measured_irf):
    t = np.arange(measured_irf.size) * NS_PER_CH
    mu = _scale(_truth(measured_irf, [[1.0], [1.0]], [[6.2], [8.1]]))
    seeds = 100
    y = np.random.default_rng(7).poisson(np.repeat(mu[:, None, :], seeds, axis=1)).astype(float)
    fit = fit_decays(y, t, irf=measured_irf, components=1)  # (2, 100) decays in one batched call
    assert fit.taus.shape == (2, seeds, 1) and np.all(fit.flag == 0)
    for i, tau in enumerate((6.2, 8.1)):
        est, sd = fit.taus[i, :, 0], fit.taus_std[i, :, 0]
        # ~1e6 counts: sigma ≈ 0.007 (6.2 ns) and 0.009 ns (8.1 ns); each fit within 4 sigma
        assert np.all(np.abs(est - tau) < 4 * sd)
        assert 0.004 < sd.mean() < 0.015
        z = (est - tau) / sd
        # mean pull within 3/sqrt(100); scatter of the estimates matches the reported sigma to
        # within 3 standard errors of a standard deviation from 100 samples (±21 %)
        assert abs(z.mean()) < 0.3
        assert 0.79 < np.std(est) / np.mean(sd) < 1.21
        assert abs(np.mean(fit.shift[i]) - SHIFT_NS) < 0.005  # 0.2 channel
        assert abs(np.mean(fit.background[i]) - BG) < 0.05
        assert np.mean(fit.deviance[i] / fit.dof[i]) < 1.1
        # for one component every mean lifetime is the lifetime itself
        np.testing.assert_allclose(fit.lifetimes.tau_effective[i], est, rtol=1e-9)
        np.testing.assert_allclose(fit.lifetimes.tau_intensity_std[i], sd, rtol=1e-6)


def test_biexponential_mean_and_effective_lifetimes_with_honest_errors(measured_irf):
    # amplitude fractions chosen so that the 1/e time is 4.7 ns (τ = 2 and 8.1 ns)
    alpha = (np.exp(-1) - np.exp(-4.7 / 8.1)) / (np.exp(-4.7 / 2) - np.exp(-4.7 / 8.1))
    truth = mean_lifetimes(np.array([alpha, 1 - alpha]), np.array([2.0, 8.1]))
    assert abs(truth.tau_effective - 4.7) < 1e-9
    t = np.arange(measured_irf.size) * NS_PER_CH
    mu = _scale(_truth(measured_irf, [[alpha, 1 - alpha]], [[2.0, 8.1]]))
    seeds = 100
    y = np.random.default_rng(11).poisson(np.repeat(mu, seeds, axis=0)).astype(float)
    fit = fit_decays(y, t, irf=measured_irf, components=2)
    assert np.all(fit.flag == 0)
    L = fit.lifetimes
    checks = [(fit.taus[:, 0], fit.taus_std[:, 0], 2.0), (fit.taus[:, 1], fit.taus_std[:, 1], 8.1),
              (L.amplitude_fractions[:, 0], L.amplitude_fractions_std[:, 0], alpha),
              (L.intensity_fractions[:, 1], L.intensity_fractions_std[:, 1], truth.intensity_fractions[1]),
              (L.tau_amplitude, L.tau_amplitude_std, truth.tau_amplitude),
              (L.tau_intensity, L.tau_intensity_std, truth.tau_intensity),
              (L.tau_effective, L.tau_effective_std, 4.7)]
    for est, sd, true in checks:
        z = (est - true) / sd
        assert np.all(np.abs(z) < 4.5)
        assert abs(z.mean()) < 0.35
        assert 0.75 < np.std(est) / np.mean(sd) < 1.25
    assert abs(np.mean(L.tau_effective) - 4.7) < 0.01  # sigma of one fit ≈ 0.03 ns


def test_tail_fit_without_irf():
    n, t0 = 1200, 60
    t = np.arange(n) * 0.1
    j = np.arange(n) - t0
    counts = 500.0 * np.where(j >= 0, np.exp(-np.maximum(j, 0) * 0.1 / 12.0), 0.0) + 2.0
    y = np.random.default_rng(3).poisson(np.repeat(counts[None], 20, axis=0)).astype(float)
    fit = fit_decays(y, t, components=1)
    assert np.all(fit.flag == 0)
    assert np.all(np.abs(fit.taus[:, 0] - 12.0) < 4 * fit.taus_std[:, 0])
    assert np.isnan(fit.shift).all() and not fit.mask[:, :t0 + 1].any()


def test_batch_equals_single_fits_and_keeps_leading_shape(measured_irf):
    t = np.arange(measured_irf.size) * NS_PER_CH
    mu = _scale(_truth(measured_irf, [[1.0], [1.0], [1.0]], [[3.0], [6.2], [8.1]]), 2e5)
    y = np.random.default_rng(5).poisson(np.stack([mu, mu[::-1]])).astype(float)  # (2, 3, n)
    batch = fit_decays(y, t, irf=measured_irf, components=1)
    assert batch.taus.shape == (2, 3, 1) and batch.fitted.shape == y.shape
    one = fit_decays(y[1, 2], t, irf=measured_irf, components=1)
    np.testing.assert_allclose(batch.taus[1, 2], one.taus, rtol=1e-6)
    # a decreasing time axis (both arrays flipped) gives the same answer
    rev = fit_decays(y[1, 2, ::-1], t[::-1], irf=measured_irf[::-1], components=1)
    np.testing.assert_allclose(rev.taus, one.taus, rtol=1e-6)
    np.testing.assert_allclose(rev.fitted[::-1], one.fitted, rtol=1e-6)


def test_least_squares_statistic_and_semilog():
    t = np.arange(400) * 0.05
    y = 1000.0 * np.exp(-t / 3.0)
    s = semilog_lifetime(y, t)
    assert abs(s.tau - 3.0) < 1e-9
    fit = fit_decays(np.random.default_rng(0).poisson(y + 1.0).astype(float), t, components=1,
                     statistic="least_squares")
    assert abs(fit.taus[0] - 3.0) < 4 * fit.taus_std[0]


def test_mean_lifetime_definitions():
    a, tau = np.array([0.29, 0.71]), np.array([1.01, 3.89])
    m = mean_lifetimes(a, tau)
    assert abs(m.tau_amplitude - (0.29 * 1.01 + 0.71 * 3.89)) < 1e-12  # 3.055 ns
    assert abs(m.tau_intensity - 3.614) < 1e-3  # = Σaτ²/Σaτ: the source's "mean tau" 3.61 ns
    assert abs(np.sum(a * np.exp(-m.tau_effective / tau)) - np.exp(-1)) < 1e-12
    assert abs(effective_lifetime([[1.0]], [[5.0]])[0] - 5.0) < 1e-12
    np.testing.assert_allclose(m.intensity_fractions, a * tau / np.sum(a * tau))


@pytest.mark.parametrize("case, match", [
    ("unsorted", "not sorted"), ("duplicated", "duplicated"), ("nonuniform", "uniformly"),
    ("few", "at least"), ("negative", "counts >= 0"), ("components", "components"),
    ("irf2d", "one response"), ("irfzero", "no counts"), ("window", "holds no channel"),
    ("tau0", "tau0"),
])
def test_bad_input_raises_input_error(case, match):
    t = np.arange(50) * 0.1
    y = 100.0 * np.exp(-t) + 1
    irf = np.exp(-0.5 * ((t - 0.5) / 0.05) ** 2)
    kw = {}
    if case == "unsorted":
        t = t.copy()
        t[[10, 11]] = t[[11, 10]]
    elif case == "duplicated":
        t = t.copy()
        t[11] = t[10]
    elif case == "nonuniform":
        t = t ** 1.2
    elif case == "few":
        t, y = t[:6], y[:6]
        kw["components"] = 2
    elif case == "negative":
        y = y - 5
    elif case == "components":
        kw["components"] = 4
    elif case == "irf2d":
        kw["irf"] = np.stack([irf, irf])
    elif case == "irfzero":
        kw["irf"] = np.zeros_like(t)
    elif case == "window":
        kw["window"] = (100.0, 200.0)
    elif case == "tau0":
        kw.update(components=2, tau0=[1.0])
    with pytest.raises(InputError, match=match):
        fit_decays(y, t, **kw)


def test_semilog_log_of_nonpositive_counts_raises():
    t = np.arange(20) * 0.1
    y = np.exp(-t) * 10
    y[15] = 0
    with pytest.raises(InputError, match="logarithm"):
        semilog_lifetime(y, t)
