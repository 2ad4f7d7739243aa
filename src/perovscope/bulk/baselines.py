"""Baselines of vibrational spectra (Raman, FTIR): polynomials on chosen windows, asymmetric least squares.

* :func:`polynomial_baseline` — a polynomial fitted by least squares to the points inside windows
  that hold no bands (the usual "regions of interest" of Raman work), evaluated everywhere.
* :func:`als_baseline` — Whittaker smoothing with asymmetric weights: the baseline ``z`` minimises
  ``Σ wᵢ(yᵢ − zᵢ)² + λ Σ(Δ²zᵢ)²``, the weights re-estimated from the residual each iteration —
  ``p`` above the baseline and ``1 − p`` below (AsLS, Eilers & Boelens 2005), or the logistic
  weights of arPLS (Baek et al. 2015). λ is in channel units, as in pybaselines, whose ``asls`` and
  ``arpls`` give the same baselines for one spectrum (tested).

Both work on a batch ``(..., n)`` at once: the polynomial through one shared pseudo-inverse, the
Whittaker systems of all spectra stacked into one block-diagonal banded matrix (the penalty bands
of neighbouring spectra do not touch) and solved by a single banded Cholesky factorisation per
iteration. Spectra that have converged keep their weights (and so their baseline).

References
----------
.. [1] P. H. C. Eilers, "A perfect smoother", Anal. Chem. 75, 3631 (2003).
.. [2] P. H. C. Eilers and H. F. M. Boelens, "Baseline correction with asymmetric least squares
   smoothing", Leiden University Medical Centre report (2005).
.. [3] S.-J. Baek, A. Park, Y.-J. Ahn and J. Choo, "Baseline correction using asymmetrically
   reweighted penalized least squares smoothing", Analyst 140, 250 (2015).
.. [4] C. Le Losq, "Rampy: a Python library for processing spectroscopic (IR, Raman, XAS...) data",
   Zenodo (2018), doi:10.5281/zenodo.1168729 (polynomial baselines on regions of interest).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, check_axis, check_min_points

__all__ = ["Baseline", "polynomial_baseline", "als_baseline", "window_mask"]


class Baseline(NamedTuple):
    """A baseline ``(..., n)`` with what produced it.

    ``mask (n,)`` marks the channels that were fitted (the windows) — all ``True`` for ALS;
    ``coefficients (..., order+1)`` are the polynomial's in the scaled abscissa
    ``t = (x − x_mid)/x_half`` (empty for ALS); ``iterations (...)`` the ALS iterations used.
    """

    baseline: np.ndarray
    mask: np.ndarray
    coefficients: np.ndarray
    iterations: np.ndarray


def window_mask(x, windows) -> np.ndarray:
    """Boolean ``(n,)``: channels of ``x`` inside any ``(lo, hi)`` window (either order, inclusive)."""
    x = np.asarray(x, dtype=float)
    win = np.asarray(windows, dtype=float)
    if win.ndim != 2 or win.shape[1] != 2 or win.shape[0] == 0:
        raise InputError(f"windows must be (lo, hi) pairs, got {np.asarray(windows).tolist()!r}")
    lo, hi = np.minimum(win[:, 0], win[:, 1]), np.maximum(win[:, 0], win[:, 1])
    return np.any((x[:, None] >= lo) & (x[:, None] <= hi), axis=1)


def polynomial_baseline(spectra, x, *, order: int = 2, windows=None) -> Baseline:
    """Least-squares polynomial through the channels inside ``windows``, for every spectrum at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        One spectrum or a batch sharing ``x``.
    x : array_like (n,)
        Strictly monotonic abscissa (either direction).
    order : int
        Polynomial degree (0 = constant).
    windows : sequence of (lo, hi), optional
        Band-free regions in ``x`` units; default: the first and last 5 % of the channels.

    Returns
    -------
    Baseline
    """
    xa = check_axis(x, name="x", min_points=2)
    y = as_spectra(spectra, xa.size)
    if int(order) != order or order < 0:
        raise InputError(f"order must be a non-negative integer, got {order!r}")
    order = int(order)
    if windows is None:
        edge = max(order + 1, int(round(0.05 * xa.size)))
        mask = np.zeros(xa.size, dtype=bool)
        mask[:edge] = mask[-edge:] = True
    else:
        mask = window_mask(xa, windows)
    check_min_points(
        int(mask.sum()), order + 1, what=f"a baseline polynomial of order {order} on the windows"
    )
    mid, half = 0.5 * (xa.min() + xa.max()), 0.5 * (xa.max() - xa.min())
    t = (xa - mid) / half
    design = t[:, None] ** np.arange(order + 1)
    pinv = np.linalg.pinv(design[mask])  # (order+1, m)
    coef = y[..., mask] @ pinv.T
    return Baseline(coef @ design.T, mask, coef, np.zeros(y.shape[:-1], dtype=int))


def _penalty_bands(n: int, lam: float) -> np.ndarray:
    """Upper banded storage ``(3, n)`` of ``λ DᵀD`` for the second-difference matrix ``D``."""
    d = np.zeros((n - 2, n))
    idx = np.arange(n - 2)
    d[idx, idx], d[idx, idx + 1], d[idx, idx + 2] = 1.0, -2.0, 1.0
    dtd = d.T @ d if n <= 64 else None
    bands = np.zeros((3, n))
    if dtd is not None:
        bands[2] = np.diag(dtd)
        bands[1, 1:] = np.diag(dtd, 1)
        bands[0, 2:] = np.diag(dtd, 2)
    else:
        main = np.full(n, 6.0)
        main[[0, -1]], main[[1, -2]] = 1.0, 5.0
        off1 = np.full(n - 1, -4.0)
        off1[[0, -1]] = -2.0
        bands[2], bands[1, 1:], bands[0, 2:] = main, off1, 1.0
    return lam * bands


def _whittaker(y, w, bands):
    """Solve ``(W + λDᵀD) z = W y`` for every row of ``y (m, n)`` in one banded factorisation."""
    from scipy.linalg import solveh_banded

    m, n = y.shape
    ab = np.tile(bands, (1, m))
    ab[2] += w.ravel()
    z = solveh_banded(ab, (w * y).ravel(), overwrite_ab=True, overwrite_b=True, check_finite=False)
    return z.reshape(m, n)


def _arpls_weights(y, z):
    from scipy.special import expit

    d = y - z
    neg = d < 0
    count = neg.sum(axis=1)
    ok = count >= 2
    safe = np.maximum(count, 2)
    mean = np.sum(np.where(neg, d, 0.0), axis=1) / np.maximum(count, 1)
    var = np.sum(np.where(neg, (d - mean[:, None]) ** 2, 0.0), axis=1) / (safe - 1)
    std = np.sqrt(np.maximum(var, 1e-300))
    w = expit(-(2.0 / std[:, None]) * (d - (2.0 * std[:, None] - mean[:, None])))
    return w, ok


def als_baseline(
    spectra,
    x=None,
    *,
    lam: float = 1e5,
    p: float = 0.01,
    method: str = "asls",
    max_iter: int = 50,
    tol: float = 1e-3,
) -> Baseline:
    """Asymmetric-least-squares (AsLS) or arPLS baseline of every spectrum of a batch at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        One spectrum or a batch; ``n ≥ 3``.
    x : array_like (n,), optional
        Abscissa, only checked (monotonic, finite) and used for the orientation; λ is per channel.
    lam : float
        Smoothness λ > 0 (larger: stiffer baseline; 1e4–1e8 is typical).
    p : float
        AsLS asymmetry 0 < p < 1: weight of points above the baseline (ignored by arPLS).
    method : {"asls", "arpls"}
        Weighting scheme.
    max_iter : int
        Most re-weighting iterations.
    tol : float
        Stop a spectrum when ``‖w_new − w‖/‖w‖ < tol``.

    Returns
    -------
    Baseline
    """
    y = np.asarray(spectra, dtype=float)
    if y.ndim == 0:
        raise InputError("spectra must be at least 1-D")
    n = y.shape[-1]
    if x is not None:
        xa = check_axis(x, name="x", min_points=3)
        y = as_spectra(y, xa.size)
    check_min_points(n, 3, what="an ALS baseline")
    if not np.all(np.isfinite(y)):
        raise InputError("spectra hold NaN/inf values; interpolate or drop them before an ALS baseline")
    if not lam > 0:
        raise InputError(f"lam must be > 0, got {lam!r}")
    if method not in ("asls", "arpls"):
        raise InputError(f"method must be 'asls' or 'arpls', got {method!r}")
    if method == "asls" and not 0 < p < 1:
        raise InputError(f"p must be between 0 and 1, got {p!r}")
    lead = y.shape[:-1]
    flat = y.reshape(-1, n)
    m = flat.shape[0]
    bands = _penalty_bands(n, float(lam))
    w = np.ones((m, n))
    z = np.zeros((m, n))
    iters = np.zeros(m, dtype=int)
    active = np.arange(m)
    for it in range(max_iter + 1):  # a loop over iterations; every spectrum is solved together
        zs = _whittaker(flat[active], w[active], bands)
        z[active] = zs
        iters[active] = it + 1
        if method == "asls":
            new = np.where(flat[active] > zs, p, 1.0 - p)
            ok = np.ones(active.size, dtype=bool)
        else:
            new, ok = _arpls_weights(flat[active], zs)
        diff = np.linalg.norm(new - w[active], axis=1) / np.linalg.norm(w[active], axis=1)
        done = (diff < tol) | ~ok
        w[active[~done]] = new[~done]
        active = active[~done]
        if active.size == 0:
            break
    return Baseline(
        z.reshape(lead + (n,)), np.ones(n, dtype=bool), np.zeros(lead + (0,)), iters.reshape(lead)
    )
