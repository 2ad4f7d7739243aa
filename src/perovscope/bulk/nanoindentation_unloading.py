"""The power-law fit of nanoindentation unloading curves, batched over every indent of a stack.

Oliver & Pharr describe the upper part of the unloading curve by ``P = α (h − h_f)^m``; its slope at
the peak is the contact stiffness ``S``. :func:`fit_unloading` locates each curve's peak and
unloading window, validates the rows (order, duplicates, enough points) and fits all indents at once
with :func:`perovscope.spectroscopy.fitting.levenberg_marquardt`. Curves of different lengths are
NaN-padded rows of one ``(..., n)`` stack; masks select the points.

That fitter hands the model only the parameter rows of the indents still iterating, so each row
carries its indent's number as a fourth parameter with a zero derivative (its Levenberg–Marquardt
step is exactly zero): the model reads the right row of the stacked depths for whichever indents
remain.

References
----------
.. [1] W. C. Oliver and G. M. Pharr, J. Mater. Res. 7, 1564 (1992), §II–III.
.. [2] W. C. Oliver and G. M. Pharr, J. Mater. Res. 19, 3 (2004), §3.
.. [3] ISO 14577-1:2015, Metallic materials — Instrumented indentation test for hardness and
   materials parameters, Annex A (fit of the unloading curve between 20 % and 98 % of F_max).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import FLAG_MASKED, levenberg_marquardt

__all__ = ["UnloadingFit", "fit_unloading"]

_MN_PER_N_M = 1e-6  # 1 N/m = 1e-6 mN/nm
_M_MIN, _M_MAX = 1.0, 3.0
_M_GRID = np.linspace(1.05, 2.55, 16)


class UnloadingFit(NamedTuple):
    """Power-law fits ``P = α (h - h_f)^m`` of unloading curves; every field has the leading shape.

    Attributes
    ----------
    h_f, h_f_std : ndarray
        Final (residual) depth, nm.
    m, m_std : ndarray
        Power-law exponent (1 flat punch, 1.5 paraboloid, 2 cone).
    alpha : ndarray
        Prefactor, mN/nm^m.
    stiffness, stiffness_std : ndarray
        Contact stiffness ``S = dP/dh`` at the peak, N/m.
    h_max, p_max : ndarray
        Depth (nm) and load (mN) at the peak.
    n_points : ndarray of int
        Points in the fit window.
    rms : ndarray
        RMS residual of the fit, mN.
    flag : ndarray of int8
        :mod:`perovscope.spectroscopy.fitting` flags (0 converged, 1 iteration limit, 2 failed,
        3 masked: too few or unusable points with ``bad="mask"``).
    window : ndarray of bool (..., n)
        The points used.
    """

    h_f: np.ndarray
    h_f_std: np.ndarray
    m: np.ndarray
    m_std: np.ndarray
    alpha: np.ndarray
    stiffness: np.ndarray
    stiffness_std: np.ndarray
    h_max: np.ndarray
    p_max: np.ndarray
    n_points: np.ndarray
    rms: np.ndarray
    flag: np.ndarray
    window: np.ndarray


def _fit_window(h, p, mask, fit_range):
    """Peak per row, the contiguous run of points after it with ``lo·Pmax ≤ P ≤ hi·Pmax`` (the fit
    window) and all points after the peak in that load range."""
    lo, hi = fit_range
    valid = np.isfinite(h) & np.isfinite(p) & mask
    pv = np.where(valid, p, -np.inf)
    ipk = np.argmax(pv, axis=-1)
    pmax = np.take_along_axis(pv, ipk[:, None], axis=-1)[:, 0]
    hmax = np.take_along_axis(h, ipk[:, None], axis=-1)[:, 0]
    j = np.arange(h.shape[-1])
    after = j[None, :] >= ipk[:, None]
    below = after & valid & (p < lo * pmax[:, None])
    first_below = np.where(below.any(axis=-1), np.argmax(below, axis=-1), h.shape[-1])
    in_range = after & valid & (p >= lo * pmax[:, None]) & (p <= hi * pmax[:, None])
    window = in_range & (j[None, :] < first_below[:, None])
    return window, in_range, hmax, pmax


def _order_problems(h, p, window):
    """Rows whose window holds exact duplicates, or whose load rises in more than 10 % of the steps."""
    pair = window[:, 1:] & window[:, :-1]
    dh, dp = np.diff(h, axis=-1), np.diff(p, axis=-1)
    dup = np.any(pair & (dh == 0) & (dp == 0), axis=-1)
    steps = np.maximum(pair.sum(axis=-1), 1)
    rising = np.sum(pair & (dp > 0), axis=-1) / steps > 0.1
    return dup, rising


def _start_values(x, y, w):
    """Best ``(x_f, a, m)`` over a grid of m: for the right m, ``y^(1/m)`` is linear in ``x``, so the m
    whose ``y^(1/m)`` correlates best with ``x`` is taken, with the line's slope and intercept."""
    n = np.maximum(w.sum(axis=-1), 1)
    sx = np.sum(w * x, axis=-1) / n
    dx = np.where(w, x - sx[:, None], 0.0)
    sxx = np.sum(dx * dx, axis=-1)
    ly = np.log(np.where(w & (y > 0), y, 1.0))
    best_r2 = np.full(x.shape[0], -np.inf)
    best = np.zeros((x.shape[0], 3))
    for m in _M_GRID:  # a loop over the grid of exponents, not over indents
        z = np.where(w, np.exp(ly / m), 0.0)
        sz = np.sum(z, axis=-1) / n
        dz = np.where(w, z - sz[:, None], 0.0)
        sxz = np.sum(dx * dz, axis=-1)
        szz = np.sum(dz * dz, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(sxz > 0, sxz * sxz / (sxx * szz), -np.inf)
            slope = sxz / sxx
        take = np.isfinite(r2) & (r2 > best_r2)
        best_r2 = np.where(take, r2, best_r2)
        cand = np.stack([sx - sz / np.where(take, slope, 1.0), np.where(take, slope, 1.0) ** m,
                         np.full_like(sx, m)], axis=-1)
        best[take] = cand[take]
    best[:, 0] = np.clip(best[:, 0], -0.9, 0.99)
    return best, np.isfinite(best_r2)


def fit_unloading(depth, load, *, fit_range=(0.5, 0.98), mask=None, bad: str = "raise",
                  max_iter: int = 200) -> UnloadingFit:
    """Fit ``P = α (h - h_f)^m`` to the unloading part of every indentation curve at once.

    The peak of each curve is its largest load; the fit window is the run of points after the peak
    whose load lies between ``fit_range[0]`` and ``fit_range[1]`` times the peak load (stopping at
    the first point below the lower bound, so a drift hold or a reload is never included). The fit
    is made on ``P/P_max`` against ``h/h_max`` so that one set of bounds suits every indent, with
    start values from a grid over ``m`` (for fixed ``m`` the model is linear in ``P^(1/m)``), then
    refined by :func:`perovscope.spectroscopy.fitting.levenberg_marquardt` over all indents in one
    batched call. The stiffness is ``S = α m (h_max - h_f)^(m-1)``, its error propagated from the
    fit covariance.

    Parameters
    ----------
    depth, load : array_like (..., n)
        Indentation curves in acquisition order: depth (nm) and load (mN); NaN pads short curves.
    fit_range : (float, float)
        Fractions of the peak load bounding the fit (Oliver & Pharr: the upper 25–50 %; the upper
        bound below 1 leaves out the creep at the turning point).
    mask : array_like (..., n) of bool, optional
        Points that may be used (e.g. the instrument's unloading segment).
    bad : {"raise", "mask"}
        What to do with an indent whose window has too few points (< 4), exact duplicate points or
        a load that rises (rows out of acquisition order): raise :class:`InputError` (default) or
        return NaN for it with flag 3 (maps with a few failed indents).
    max_iter : int
        Levenberg–Marquardt iteration limit.

    Returns
    -------
    UnloadingFit

    References
    ----------
    Oliver & Pharr (1992) §II–III; Oliver & Pharr (2004) §3.
    """
    h = np.asarray(depth, dtype=float)
    p = np.asarray(load, dtype=float)
    if h.shape != p.shape or h.ndim == 0:
        raise InputError(f"depth and load must have the same shape (..., n), got {h.shape} and {p.shape}")
    lo, hi = (float(v) for v in fit_range)
    if not 0 <= lo < hi <= 1:
        raise InputError(f"fit_range = {fit_range!r} must be two fractions of the peak load, 0 ≤ lo < hi ≤ 1")
    if bad not in ("raise", "mask"):
        raise InputError(f"bad = {bad!r}: use 'raise' or 'mask'")
    lead, n = h.shape[:-1], h.shape[-1]
    hf, pf = h.reshape(-1, n), p.reshape(-1, n)
    mk = np.ones_like(hf, dtype=bool) if mask is None else np.broadcast_to(
        np.asarray(mask, dtype=bool), h.shape).reshape(-1, n)
    window, window_any, hmax, pmax = _fit_window(hf, pf, mk, (lo, hi))
    npts = window.sum(axis=-1)
    dup, rising = _order_problems(hf, pf, window)
    usable = np.isfinite(pmax) & (pmax > 0) & np.isfinite(hmax) & (hmax > 0)
    few = npts < 4
    in_range = np.sum(window_any, axis=-1)
    scattered = few & (in_range >= 4)
    problem = few | dup | rising | ~usable
    if bad == "raise" and problem.any():
        i = int(np.flatnonzero(problem)[0])
        where = f"indent {tuple(int(v) for v in np.unravel_index(i, lead)) if len(lead) > 1 else i}"
        if not usable[i]:
            why = "has no positive peak load and depth"
        elif dup[i]:
            why = "has duplicated points in the unloading window; drop repeated rows"
        elif rising[i]:
            why = "has a load that rises along the unloading window; give the rows in acquisition order"
        elif scattered[i]:
            why = (f"has {int(npts[i])} points of a steady unloading after the peak but {int(in_range[i])} "
                   f"between {lo:g} and {hi:g} of the peak load: the load drops and rises again, so the rows "
                   "are not in acquisition order; sort them by time")
        else:
            why = (f"has {int(npts[i])} unloading points between {lo:g} and {hi:g} of the peak load; at "
                   "least 4 are needed: widen fit_range or record more points while unloading")
        raise InputError(f"{where} {why} ({int(problem.sum())} of {problem.size} indents affected)")
    window &= ~problem[:, None]
    safe_h = np.where(usable, hmax, 1.0)
    safe_p = np.where(usable, pmax, 1.0)
    # the fit sees only the window: its points moved to the front of each row, the rest cut off
    keep = max(int(npts.max()), 1)
    order = np.argsort(~window, axis=-1, kind="stable")[:, :keep]
    wc = np.take_along_axis(window, order, axis=-1)
    x = np.where(wc, np.take_along_axis(hf, order, axis=-1) / safe_h[:, None], 1.0)
    pc = np.take_along_axis(pf, order, axis=-1)
    y = np.where(wc, pc / safe_p[:, None], 0.0)
    q0, started = _start_values(x, y, wc)
    wc &= started[:, None]
    window &= started[:, None]
    nrow = x.shape[0]
    q0 = np.concatenate([q0, np.arange(nrow, dtype=float)[:, None]], axis=1)

    def rows(q):
        return np.rint(q[:, 3]).astype(np.intp)  # the indent each parameter row belongs to

    def model(q):
        d = np.clip(x[rows(q)] - q[:, :1], 1e-12, None)
        return q[:, 1:2] * np.exp(q[:, 2:3] * np.log(d))

    def jacobian(q):
        d = np.clip(x[rows(q)] - q[:, :1], 1e-12, None)
        ld = np.log(d)
        dm = np.exp(q[:, 2:3] * ld)
        a, m = q[:, 1:2], q[:, 2:3]
        jac = np.zeros(d.shape + (4,))
        jac[..., 0] = -a * m * dm / d
        jac[..., 1] = dm
        jac[..., 2] = a * dm * ld
        return jac

    fit = levenberg_marquardt(model, jacobian, y, q0, lower=[-1.0, 1e-8, _M_MIN, -np.inf],
                              upper=[0.999, 1e8, _M_MAX, np.inf], mask=wc, max_iter=max_iter)
    xf, a, m = fit.params[:, 0], fit.params[:, 1], fit.params[:, 2]
    flag = np.where(wc.any(axis=-1), fit.flag, FLAG_MASKED).astype(np.int8)
    u = np.clip(1.0 - xf, 1e-12, None)
    s_norm = a * m * u ** (m - 1.0)
    grad = np.stack([-a * m * (m - 1.0) * u ** (m - 2.0), m * u ** (m - 1.0),
                     a * u ** (m - 1.0) * (1.0 + m * np.log(u))], axis=-1)
    var_s = np.einsum("ij,ijk,ik->i", grad, fit.cov[:, :3, :3], grad)
    scale = safe_p / safe_h / _MN_PER_N_M  # normalised slope -> N/m
    clean = np.where(np.isfinite(fit.params), fit.params, q0)
    resid = np.where(wc, pc - safe_p[:, None] * model(clean), 0.0)
    rms = np.sqrt(np.sum(resid**2, axis=-1) / np.maximum(npts, 1))
    ok = flag < 2
    out = dict(
        h_f=xf * safe_h, h_f_std=fit.std[:, 0] * safe_h, m=m, m_std=fit.std[:, 2],
        alpha=safe_p * a / safe_h**m, stiffness=s_norm * scale,
        stiffness_std=np.sqrt(np.where(var_s >= 0, var_s, np.nan)) * scale,
        h_max=np.where(usable, hmax, np.nan), p_max=np.where(usable, pmax, np.nan),
        rms=np.where(ok, rms, np.nan))
    out = {k: np.where(ok, v, np.nan).reshape(lead) if k not in ("h_max", "p_max") else v.reshape(lead)
           for k, v in out.items()}
    return UnloadingFit(**out, n_points=npts.reshape(lead), flag=flag.reshape(lead),
                        window=window.reshape(h.shape))
