"""Small-angle X-ray scattering: Guinier analysis, Porod's law and its deviations, the invariant.

Every function takes a shared scattering-vector axis ``q`` ``(n,)`` (1/Å or 1/nm — results are in the
same length unit), intensities ``(..., n)`` (one curve or a series: a sintering-temperature series, a
time series, a map) and optional standard deviations ``sigma`` of the same shape. A series goes
through in one vectorised pass: every curve gets its own automatic Guinier range through masks.

* :func:`guinier_fit`: ``ln I = ln I₀ − Rg² q²/3`` fitted by weighted least squares (weights
  ``(I/σ)²``, the inverse variance of ``ln I``) over a fixed range or an automatic one: the longest
  window from the first point whose fitted ``q_max·Rg ≤ qrg_max`` (1.3 by default, the usual limit for
  globular particles). The fits of all candidate windows of all curves come from cumulative sums.

Porod's law and the invariant are in :mod:`perovscope.bulk.saxs_porod`, sphere size distributions in
:mod:`perovscope.bulk.saxs_sizes`, the labelled (xarray) wrappers in :mod:`perovscope.bulk.saxs_xr`.

References
----------
.. [1] A. Guinier and G. Fournet, *Small-Angle Scattering of X-rays*, Wiley (1955).
.. [2] O. Glatter and O. Kratky (eds.), *Small Angle X-ray Scattering*, Academic Press (1982), ch. 2.
.. [3] J. B. Hopkins, R. E. Gillilan and S. Skou, "BioXTAS RAW: improvements to a free open-source
   program for small-angle X-ray scattering data reduction and analysis", J. Appl. Cryst. 50,
   1545–1553 (2017).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, check_axis, check_min_points, check_positive

__all__ = ["GuinierFit", "guinier_fit", "prepare_curves", "q_window", "weighted_line"]


def prepare_curves(q, intensity, sigma=None, *, min_points: int = 3, source: str | None = None):
    """Check and sort ``(q, intensity, sigma)``: ``q`` increasing, unique, finite; shapes agree.

    Returns ``(q (n,), intensity (..., n), sigma (..., n) or None)`` with ``q`` ascending (a
    decreasing axis flips the data too).
    """
    qq = check_axis(q, name="q", min_points=min_points, source=source)
    if qq.min() < 0:
        raise InputError(f"{source + ': ' if source else ''}q has negative values; give |q|")
    y = as_spectra(intensity, qq.size, name="intensity", source=source)
    s = None if sigma is None else np.broadcast_to(as_spectra(sigma, qq.size, name="sigma", source=source),
                                                   y.shape)
    if qq[0] > qq[-1]:
        qq, y = qq[::-1].copy(), y[..., ::-1]
        s = None if s is None else s[..., ::-1]
    return qq, y, s


def q_window(q, lo, hi, what):
    m = np.ones(q.size, dtype=bool)
    if lo is not None:
        m &= q >= lo
    if hi is not None:
        m &= q <= hi
    if not m.any():
        raise InputError(f"{what} range {lo}–{hi} holds no q point (data span {q[0]:g}–{q[-1]:g})")
    return m


def weighted_line(x, y, w):
    """Weighted straight line ``y = a + b x`` over the last axis; ``w = 0`` drops a point.

    Returns ``(a, b, var_a, var_b, cov_ab, chi2, n)`` with the formal (inverse-weight) covariance.
    """
    s = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (w * x).sum(-1) / s
        ym = (w * y).sum(-1) / s
        dx = x - xm[..., None]
        sxx = (w * dx * dx).sum(-1)
        b = (w * dx * (y - ym[..., None])).sum(-1) / sxx
        a = ym - b * xm
        var_b = 1.0 / sxx
        var_a = 1.0 / s + xm * xm / sxx
        cov = -xm / sxx
        res = y - a[..., None] - b[..., None] * x
        chi2 = (w * res * res).sum(-1)
    return a, b, var_a, var_b, cov, chi2, (w > 0).sum(-1)


class GuinierFit(NamedTuple):
    """Result of :func:`guinier_fit`; every field has the leading shape of the curves.

    ``start``/``stop`` are the first and one-past-last indices of the fitted points (into the
    ascending q axis: RAW's "points 0–42" is ``start=0, stop=43``); ``qrg_max = q_max·Rg``.
    ``rg_std``/``i0_std`` are the formal errors from σ (as RAW reports them) or, without σ, from the
    scatter of the residuals; ``reduced_chi2`` is χ²/(n − 2) (≈ 1 for a line within the errors).
    """

    rg: np.ndarray
    rg_std: np.ndarray
    i0: np.ndarray
    i0_std: np.ndarray
    q_min: np.ndarray
    q_max: np.ndarray
    qrg_min: np.ndarray
    qrg_max: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    n_points: np.ndarray
    reduced_chi2: np.ndarray


def _log_weights(y, s):
    good = np.isfinite(y) & (y > 0)
    if s is None:
        return good.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(good & (s > 0), (y / s) ** 2, 0.0)
    return np.where(np.isfinite(w), w, 0.0)


def guinier_fit(intensity, q, *, sigma=None, q_range=None, points=None, qrg_max: float = 1.3,
                min_points: int = 8, source: str | None = None) -> GuinierFit:
    """Radius of gyration and forward intensity from the Guinier law ``I = I₀ exp(−q²Rg²/3)``.

    Parameters
    ----------
    intensity : array_like (..., n)
        Scattering curves (background subtracted), a series along the leading axes.
    q : array_like (n,)
        Scattering vector (either direction); Rg is returned in the inverse unit.
    sigma : array_like (..., n), optional
        Standard deviations of the intensities: the fit of ``ln I`` is weighted by ``(I/σ)²``.
    q_range : (float or None, float or None), optional
        Fixed q window (inclusive).
    points : (int, int), optional
        Fixed window as ``(start, stop)`` indices of the ascending q axis (``stop`` exclusive).
    qrg_max : float
        Automatic range (neither ``q_range`` nor ``points``): the longest window starting at the first
        point (or at ``points[0]`` when only ``points=(start, None)`` is given) whose own fit gives
        ``q_max·Rg ≤ qrg_max``.
    min_points : int
        Fewest points in an automatic window.
    source : str, optional
        File name for error messages.

    Returns
    -------
    GuinierFit
        NaN for a curve where no window satisfies the criteria (rising ``ln I``, too few points).

    Raises
    ------
    InputError
        Bad q axis, non-positive intensity inside a fixed window, fewer points than the model needs.
    """
    qq, y, s = prepare_curves(q, intensity, sigma, source=source)
    n = qq.size
    x = qq * qq
    start = 0
    fixed = None
    if points is not None:
        start = int(points[0] or 0)
        if points[1] is not None:
            stop = int(points[1])
            if not 0 <= start < stop <= n:
                raise InputError(f"{source + ': ' if source else ''}points {points} outside 0–{n} "
                                 f"(the curve has {n} points; give 0 ≤ start < stop ≤ {n})")
            fixed = np.zeros(n, dtype=bool)
            fixed[start:stop] = True
    if q_range is not None:
        fixed = q_window(qq, q_range[0], q_range[1], "Guinier")
    if fixed is not None:
        check_min_points(int(fixed.sum()), 3, what="a Guinier fit with an error estimate", source=source)
        check_positive(y[..., fixed], name="intensity", why="ln I is fitted in the Guinier range",
                       source=source)
        w = np.where(fixed, _log_weights(y, s), 0.0)
        return _guinier_from_mask(qq, x, y, w, s is not None)
    check_min_points(n - start, min_points, what="an automatic Guinier range", source=source)
    check_positive(y[..., start:start + min_points], name="intensity",
                   why="ln I is fitted at the lowest q", source=source)
    w = _log_weights(y, s)
    w[..., :start] = 0.0
    # windows run from `start` up to the first unusable point (I ≤ 0 or σ ≤ 0) of each curve
    usable = np.cumprod(w[..., start:] > 0, axis=-1).astype(bool)
    w[..., start:] *= usable
    # every prefix window [start, j] of every curve from cumulative weighted sums (x scaled to O(1))
    xs = x / x[-1]
    ly = np.log(np.where(w > 0, y, 1.0))
    c = [np.cumsum(w * t, axis=-1) for t in (np.ones_like(ly), xs, ly, xs * xs, xs * ly)]
    sw, sx, sy, sxx, sxy = c
    with np.errstate(invalid="ignore", divide="ignore"):
        det = sw * sxx - sx * sx
        slope = (sw * sxy - sx * sy) / det / x[-1]
        rg_j = np.sqrt(-3.0 * slope)
    count = np.cumsum(w > 0, axis=-1)
    valid = (slope < 0) & (count >= min_points) & (qq * rg_j <= qrg_max) & (w > 0) & (det > 0)
    last = np.where(valid.any(-1), n - 1 - np.argmax(valid[..., ::-1], axis=-1), -1)
    idx = np.arange(n)
    mask = (idx >= start) & (idx <= last[..., None])
    fit = _guinier_from_mask(qq, x, y, np.where(mask, w, 0.0), s is not None)
    none = last < 0
    if np.any(none):
        fit = GuinierFit(*(np.where(none, np.nan, np.asarray(f, dtype=float)) for f in fit))
    return fit


def _guinier_from_mask(q, x, y, w, weighted: bool) -> GuinierFit:
    ly = np.log(np.where(w > 0, y, 1.0))
    a, b, va, vb, cab, chi2, npt = weighted_line(x, ly, w)
    dof = np.maximum(npt - 2, 1)
    red = chi2 / dof
    scale = 1.0 if weighted else red  # no σ: errors from the residual scatter
    with np.errstate(invalid="ignore"):
        rg = np.where(b < 0, np.sqrt(np.abs(3.0 * b)), np.nan)
        i0 = np.exp(a)
        rg_std = 1.5 * np.sqrt(vb * scale) / rg
        i0_std = i0 * np.sqrt(va * scale)
    used = w > 0
    anyused = used.any(-1)
    first = np.where(anyused, np.argmax(used, axis=-1), 0)
    lastp = np.where(anyused, q.size - 1 - np.argmax(used[..., ::-1], axis=-1), 0)
    qmin, qmax = q[first], q[lastp]
    return GuinierFit(rg, rg_std, i0, i0_std, qmin, qmax, qmin * rg, qmax * rg, first, lastp + 1, npt,
                      np.where(npt > 2, red, np.nan))
