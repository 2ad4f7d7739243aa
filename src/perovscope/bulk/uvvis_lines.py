"""Straight-line windows on batches of spectra: local slopes, runs, window fits (Tauc, edges, Urbach).

Every linear extrapolation of optical spectroscopy (a Tauc plot to its intercept, an absorbance edge
to its baseline, ln I of an Urbach tail) is an ordinary or weighted least-squares line over a window
of channels. These helpers compute such lines for every spectrum of a batch ``(..., n)`` at once,
from prefix sums, with windows that differ from spectrum to spectrum; nothing loops over spectra.

References
----------
.. [1] W. H. Press et al., Numerical Recipes, 3rd ed., CUP (2007), §15.2 (fitting data to a straight
   line; variances of slope and intercept).
.. [2] A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by simplified least
   squares procedures", Anal. Chem. 36, 1627 (1964) (local least-squares derivatives).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LineFit", "local_slope", "moving_mean", "run_around", "first_index", "line_fit", "noise_sigma"]


class LineFit(NamedTuple):
    """A least-squares line ``y = slope·x + intercept`` over channels ``lo..hi`` (inclusive), ``(...)``."""

    slope: np.ndarray
    intercept: np.ndarray
    slope_var: np.ndarray
    intercept_var: np.ndarray
    covariance: np.ndarray
    r2: np.ndarray
    n: np.ndarray
    chi2: np.ndarray


def _prefix(v):
    """``P[..., k] = Σ_{j<k} v[..., j]`` with a leading zero (shape ``(..., n + 1)``)."""
    out = np.zeros(v.shape[:-1] + (v.shape[-1] + 1,))
    np.cumsum(v, axis=-1, out=out[..., 1:])
    return out


def _take(prefix, lo, hi):
    """Sums over ``lo..hi`` (inclusive) from a prefix array; ``lo``/``hi`` broadcast as ``(...)`` or more."""
    lead = prefix.shape[:-1]
    extra = np.ndim(lo) - len(lead)
    p = prefix.reshape(lead + (1,) * max(extra, 0) + prefix.shape[-1:])
    shape = np.broadcast_shapes(p.shape[:-1], np.shape(lo), np.shape(hi))
    p = np.broadcast_to(p, shape + prefix.shape[-1:])
    hi_v = np.take_along_axis(p, np.broadcast_to(hi + 1, shape)[..., None], axis=-1)[..., 0]
    lo_v = np.take_along_axis(p, np.broadcast_to(lo, shape)[..., None], axis=-1)[..., 0]
    return hi_v - lo_v


def moving_mean(y, half: int):
    """Mean over ``i − half .. i + half`` (clipped at the ends) along the last axis."""
    y = np.asarray(y, dtype=float)
    n = y.shape[-1]
    idx = np.arange(n)
    lo, hi = np.clip(idx - half, 0, n - 1), np.clip(idx + half, 0, n - 1)
    p = _prefix(y)
    return (p[..., hi + 1] - p[..., lo]) / (hi - lo + 1)


def local_slope(x, y, half: int):
    """Least-squares slope of ``y`` against ``x`` over ``i − half .. i + half`` at each channel.

    ``x`` is the shared axis ``(n,)``; ``y`` is ``(..., n)``. Windows are clipped at the ends.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    t = (x - x.mean()) / max(np.ptp(x), 1e-300)
    idx = np.arange(n)
    lo, hi = np.clip(idx - half, 0, n - 1), np.clip(idx + half, 0, n - 1)
    cnt = hi - lo + 1
    pt, ptt = _prefix(t), _prefix(t * t)
    st, stt = pt[hi + 1] - pt[lo], ptt[hi + 1] - ptt[lo]
    py, pty = _prefix(y), _prefix(t * y)
    sy, sty = py[..., hi + 1] - py[..., lo], pty[..., hi + 1] - pty[..., lo]
    den = cnt * stt - st * st
    return (cnt * sty - st * sy) / np.where(den > 0, den, np.nan) / max(np.ptp(x), 1e-300)


def run_around(ok, centre):
    """First and last index of the run of ``True`` in ``ok (..., n)`` that contains ``centre (...)``.

    Where ``ok`` is False at ``centre`` the run is just ``centre``.
    """
    ok = np.asarray(ok, dtype=bool)
    n = ok.shape[-1]
    idx = np.arange(n)
    c = np.asarray(centre)[..., None]
    bad = ~ok
    lo = np.max(np.where(bad & (idx < c), idx, -1), axis=-1) + 1
    hi = np.min(np.where(bad & (idx > c), idx, n), axis=-1) - 1
    c0 = c[..., 0]
    return np.minimum(lo, c0), np.maximum(hi, c0)


def first_index(mask, *, default: int | None = None):
    """Index of the first ``True`` along the last axis (``default``, else ``n``, where there is none)."""
    mask = np.asarray(mask, dtype=bool)
    n = mask.shape[-1]
    first = np.argmax(mask, axis=-1)
    return np.where(mask.any(axis=-1), first, n if default is None else default)


def line_fit(x, y, lo, hi, *, weights=None) -> LineFit:
    """(Weighted) least-squares line over channels ``lo..hi`` of every spectrum.

    Parameters
    ----------
    x : array_like (n,)
        Shared axis.
    y : array_like (..., n)
        Data.
    lo, hi : array_like of int (...) or (..., m)
        First and last channel of each window; a trailing axis fits ``m`` windows per spectrum.
    weights : array_like (..., n), optional
        ``1/σ²`` of each channel. Without weights the variances come from the residual scatter;
        with weights they are the absolute ``(AᵀWA)⁻¹`` and ``chi2`` is the weighted residual sum.

    Returns
    -------
    LineFit
        Fields broadcast to the shape of ``lo``/``hi``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    lo = np.asarray(lo, dtype=int)
    hi = np.asarray(hi, dtype=int)
    mid, scale = 0.5 * (x[0] + x[-1]), max(0.5 * abs(x[-1] - x[0]), 1e-300)
    t = (x - mid) / scale
    w = np.ones_like(y) if weights is None else np.broadcast_to(np.asarray(weights, float), y.shape)
    s = {k: _take(_prefix(v), lo, hi) for k, v in
         (("w", w), ("wt", w * t), ("wtt", w * t * t), ("wy", w * y), ("wty", w * t * y), ("wyy", w * y * y))}
    npts = (hi - lo + 1).astype(float)
    den = s["w"] * s["wtt"] - s["wt"] ** 2
    ok = (den > 1e-300) & (npts >= 2)
    den = np.where(ok, den, np.nan)
    b = (s["w"] * s["wty"] - s["wt"] * s["wy"]) / den  # slope in t
    a = (s["wtt"] * s["wy"] - s["wt"] * s["wty"]) / den  # intercept at t = 0
    chi2 = (s["wyy"] - 2 * a * s["wy"] - 2 * b * s["wty"] + a * a * s["w"] + 2 * a * b * s["wt"]
            + b * b * s["wtt"])
    chi2 = np.maximum(chi2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = s["wy"] / s["w"]
    sst = np.maximum(s["wyy"] - s["w"] * ybar * ybar, 1e-300)
    r2 = 1.0 - chi2 / sst
    factor = 1.0 if weights is not None else chi2 / np.maximum(npts - 2, 1)
    var_b, var_a, cov_ab = s["w"] / den * factor, s["wtt"] / den * factor, -s["wt"] / den * factor
    # back to x: y = (b/scale)·x + (a − b·mid/scale)
    slope = b / scale
    intercept = a - b * mid / scale
    slope_var = var_b / scale**2
    icpt_var = var_a + (mid / scale) ** 2 * var_b - 2 * (mid / scale) * cov_ab
    cov = cov_ab / scale - mid / scale**2 * var_b
    return LineFit(slope, intercept, slope_var, icpt_var, cov, r2, npts, chi2)


def noise_sigma(y, *, half: int | None = None):
    """Noise standard deviation of each channel from the scatter of second differences.

    For white noise ``d = y[i−1] − 2y[i] + y[i+1]`` has variance ``6σ²``; its median absolute value
    (1.4826·MAD) over the whole spectrum (``half=None``) or over ``±half`` channels (a local noise
    level for Poisson-like data) is robust against the curvature of peaks and edges.
    """
    y = np.asarray(y, dtype=float)
    d = np.abs(y[..., :-2] - 2 * y[..., 1:-1] + y[..., 2:])
    d = np.concatenate([d[..., :1], d, d[..., -1:]], axis=-1)
    if half is None:
        med = np.median(d, axis=-1, keepdims=True)
        return np.broadcast_to(1.4826 * med / np.sqrt(6.0), y.shape)
    from scipy.ndimage import median_filter

    size = [1] * (y.ndim - 1) + [2 * half + 1]
    return 1.4826 * median_filter(d, size=size, mode="nearest") / np.sqrt(6.0)
