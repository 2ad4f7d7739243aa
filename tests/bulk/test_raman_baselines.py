"""Raman/FTIR baselines: AsLS/arPLS equal pybaselines; windowed polynomials recover a known curve."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.baselines import als_baseline, polynomial_baseline, window_mask
from perovscope.errors import InputError

X = np.linspace(400.0, 1400.0, 512)
BASE = 800.0 + 0.6 * (X - 400) - 2.0e-4 * (X - 400) ** 2


def _spectra(n=4, seed=0):
    rng = np.random.default_rng(seed)
    bands = 3000 * np.exp(-0.5 * ((X - 700) / 8) ** 2) + 1500 * np.exp(-0.5 * ((X - 1000) / 12) ** 2)
    return BASE + bands + rng.normal(0.0, 5.0, (n, X.size))


@pytest.mark.parametrize("method", ["asls", "arpls"])
def test_als_matches_pybaselines_for_each_spectrum(method):
    from pybaselines import Baseline

    y = _spectra()
    ours = als_baseline(y, X, lam=1e6, p=0.01, method=method)
    fitter = Baseline(x_data=X)
    for i in range(y.shape[0]):  # the reference library, one spectrum at a time
        ref = fitter.asls(y[i], lam=1e6, p=0.01)[0] if method == "asls" else fitter.arpls(y[i], lam=1e6)[0]
        np.testing.assert_allclose(ours.baseline[i], ref, rtol=0, atol=1e-6)
    assert ours.baseline.shape == y.shape and np.all(ours.iterations >= 2)


def test_polynomial_on_windows_recovers_known_baseline():
    y = _spectra(3)
    windows = [(400, 600), (780, 900), (1100, 1400)]
    b = polynomial_baseline(y, X, order=2, windows=windows)
    # noise σ = 5 over ~300 window points: the quadratic is known to ≈ 1 count
    assert np.max(np.abs(b.baseline - BASE)) < 3.0
    assert b.mask.sum() == window_mask(X, windows).sum() and b.coefficients.shape == (3, 3)
    flipped = polynomial_baseline(y[..., ::-1], X[::-1], order=2, windows=windows)
    np.testing.assert_allclose(flipped.baseline[..., ::-1], b.baseline, atol=1e-8)


def test_baseline_bad_input():
    y = _spectra(1)
    with pytest.raises(InputError, match="order"):
        polynomial_baseline(y, X, order=-1)
    with pytest.raises(InputError, match="at least"):
        polynomial_baseline(y, X, order=3, windows=[(400, 402)])
    with pytest.raises(InputError, match="windows"):
        polynomial_baseline(y, X, windows=[1, 2, 3])
    with pytest.raises(InputError, match="p must"):
        als_baseline(y, X, p=1.5)
    with pytest.raises(InputError, match="lam"):
        als_baseline(y, X, lam=0)
    with pytest.raises(InputError, match="NaN"):
        als_baseline(np.where(X > 900, np.nan, y), X)
    with pytest.raises(InputError, match="sorted"):
        als_baseline(y, np.r_[X[:10][::-1], X[10:]])
