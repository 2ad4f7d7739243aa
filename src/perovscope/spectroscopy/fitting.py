"""Batched fitting over every pixel at once: Levenberg–Marquardt and non-negative linear least squares.

All functions take data shaped ``(..., n_channels)`` and fit one model per leading index
simultaneously: Jacobians are ``(N, n, p)``, the damped normal equations ``(N, p, p)`` are solved with
one call to :func:`numpy.linalg.solve` per iteration. Pixels whose fit fails (non-finite values,
singular systems, masked input) get NaN parameters and a non-zero flag; nothing raises mid-map.

References
----------
.. [1] K. Levenberg, Q. Appl. Math. 2, 164 (1944); D. W. Marquardt, J. SIAM 11, 431 (1963).
.. [2] W. H. Press et al., Numerical Recipes, 3rd ed., CUP (2007), §15.5 (LM) and §15.6 (errors).
.. [3] T. A. Laurence and B. A. Chromy, "Efficient maximum likelihood estimator fitting of
   histograms", Nat. Methods 7, 338 (2010) — Poisson deviance as the fit statistic.
.. [4] C. L. Lawson and R. J. Hanson, Solving Least Squares Problems, Prentice-Hall (1974), ch. 23
   (active-set NNLS).
.. [5] H. White, "A heteroskedasticity-consistent covariance matrix estimator", Econometrica 48,
   817 (1980).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..codes import Code

__all__ = ["LMResult", "LinearFit", "levenberg_marquardt", "linear_least_squares",
           "FLAG_OK", "FLAG_MAX_ITER", "FLAG_FAILED", "FLAG_MASKED"]

#: Fit flags (per pixel): converged, iteration limit reached, numerical failure, masked input
#: (:class:`perovscope.codes.Code`).
FLAG_OK, FLAG_MAX_ITER, FLAG_FAILED, FLAG_MASKED = (int(c) for c in (Code.OK, Code.MAX_ITER, Code.FIT_FAILED,
                                                                       Code.MASKED))


class LMResult(NamedTuple):
    """Result of :func:`levenberg_marquardt`; every field has the leading shape of the data.

    Attributes
    ----------
    params, std : ndarray (..., p)
        Best-fit parameters and their standard errors (NaN where the fit failed).
    cov : ndarray (..., p, p)
        Parameter covariance matrix (scaled like ``std``).
    cost : ndarray (...)
        Final chi-square (least squares) or Poisson deviance.
    n_iter : ndarray (...)
        Iterations used.
    flag : ndarray (...) of int8
        ``FLAG_OK``, ``FLAG_MAX_ITER``, ``FLAG_FAILED`` or ``FLAG_MASKED``.
    """

    params: np.ndarray
    std: np.ndarray
    cov: np.ndarray
    cost: np.ndarray
    n_iter: np.ndarray
    flag: np.ndarray


class LinearFit(NamedTuple):
    """Result of :func:`linear_least_squares`: ``coef``/``std`` ``(..., k)``, ``cost`` ``(...)``."""

    coef: np.ndarray
    std: np.ndarray
    cost: np.ndarray


def _cost(y, mu, w, poisson):
    if poisson:
        mu = np.maximum(mu, 1e-12)
        term = np.where(y > 0, y * np.log(np.maximum(y, 1e-300) / mu), 0.0)
        return 2.0 * np.sum(w * (mu - y + term), axis=-1)
    r = y - mu
    return np.sum(w * r * r, axis=-1)


def levenberg_marquardt(model: Callable, jacobian: Callable, y, p0, *, lower=None, upper=None,
                        sigma=None, poisson: bool = False, mask=None, max_iter: int = 50,
                        tol: float = 1e-8, lam0: float = 1e-3) -> LMResult:
    """Fit ``model(p) ≈ y`` for every pixel at once with the Levenberg–Marquardt algorithm.

    Parameters
    ----------
    model : callable
        ``model(p) -> (N, n)`` for parameters ``p`` of shape ``(N, p)`` (the abscissa is bound
        inside the closure).
    jacobian : callable
        ``jacobian(p) -> (N, n, p)``: derivatives of the model with respect to the parameters.
    y : array_like (..., n)
        Data; leading axes are pixels.
    p0 : array_like (..., p)
        Start values (broadcast against the leading shape of ``y``).
    lower, upper : array_like (p,), optional
        Bounds; trial steps are projected into them.
    sigma : array_like (..., n), optional
        Standard deviation of each channel (least squares only); ``None`` means equal weights and
        heteroscedasticity-consistent (sandwich) standard errors from the residuals.
    poisson : bool
        Maximise the Poisson likelihood (minimise the deviance) instead of least squares: the
        Fisher-scoring form of LM with weights ``1/model``, re-computed every iteration.
    mask : array_like (..., n) of bool, optional
        Channels to use (``True``); e.g. a fit window with bad channels removed.
    max_iter : int
        Iteration limit; pixels still moving get ``FLAG_MAX_ITER`` (their parameters are kept).
    tol : float
        Relative decrease of the cost below which a pixel has converged.

    Returns
    -------
    LMResult

    References
    ----------
    Levenberg (1944); Marquardt (1963); Press et al. (2007) §15.5–15.6; Laurence & Chromy (2010).
    """
    y = np.asarray(y, dtype=float)
    lead, n = y.shape[:-1], y.shape[-1]
    yf = y.reshape(-1, n)
    npx = yf.shape[0]
    p = np.array(np.broadcast_to(np.asarray(p0, dtype=float), lead + np.shape(p0)[-1:]))
    p = p.reshape(npx, -1).copy()
    npar = p.shape[1]
    lo = np.full(npar, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    hi = np.full(npar, np.inf) if upper is None else np.asarray(upper, dtype=float)
    w_ch = np.ones_like(yf) if mask is None else np.broadcast_to(mask, y.shape).reshape(npx, n)
    w_ch = w_ch.astype(float)
    if sigma is not None and not poisson:
        s = np.broadcast_to(np.asarray(sigma, dtype=float), y.shape).reshape(npx, n)
        w_ch = w_ch / np.where(s > 0, s * s, np.inf)
    good = np.all(np.isfinite(p), axis=1) & np.all(np.isfinite(np.where(w_ch > 0, yf, 0.0)), axis=1)
    yf = np.where(np.isfinite(yf), yf, 0.0)
    p = np.clip(np.where(np.isfinite(p), p, 0.0), lo, hi)

    def weights(mu, w):
        return w / np.maximum(mu, 1e-3) if poisson else w

    mu = model(p)
    cost = _cost(yf, mu, w_ch, poisson)
    lam = np.full(npx, lam0)
    active = good & np.isfinite(cost)
    n_iter = np.zeros(npx, dtype=np.int32)
    converged = np.zeros(npx, dtype=bool)
    eye = np.eye(npar)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sel = slice(None) if idx.size == npx else idx  # views while every pixel is active
        pa, ya, mua, wsel = p[sel], yf[sel], mu[sel], w_ch[sel]
        jac = jacobian(pa)
        wa = weights(mua, wsel)
        jw = jac * wa[:, :, None]
        jwt = jw.transpose(0, 2, 1)
        a = jwt @ jac  # batched J^T W J (matmul is much faster than einsum for small p)
        g = (jwt @ (ya - mua)[:, :, None])[:, :, 0]
        diag = np.einsum("ipp->ip", a)
        damped = a + lam[idx, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
        ok = np.all(np.isfinite(damped), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
        step = np.zeros_like(pa)
        if ok.all():
            try:
                step = np.linalg.solve(damped, g[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = _solve_robust(damped, g)
        elif ok.any():
            try:
                step[ok] = np.linalg.solve(damped[ok], g[ok][:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step[ok] = _solve_robust(damped[ok], g[ok])
        trial = np.clip(pa + step, lo, hi)
        mu_t = model(trial)
        cost_t = _cost(ya, mu_t, wsel, poisson)
        better = ok & np.isfinite(cost_t) & (cost_t <= cost[idx])
        rel = (cost[idx] - cost_t) / np.maximum(np.abs(cost[idx]), 1e-300)
        small_step = np.all(np.abs(trial - pa) <= 1e-10 * (np.abs(pa) + 1e-10), axis=1)
        p[idx[better]] = trial[better]
        mu[idx[better]] = mu_t[better]
        cost[idx[better]] = cost_t[better]
        lam[idx] = np.where(better, lam[idx] * 0.3, lam[idx] * 10.0)
        n_iter[idx] += 1
        done = (better & (rel < tol)) | small_step | (lam[idx] > 1e12)
        converged[idx[done]] = True
        active[idx[done]] = False
    # standard errors from the (undamped) curvature at the solution
    jac = jacobian(p)
    jw = jac * weights(mu, w_ch)[:, :, None]
    a = jw.transpose(0, 2, 1) @ jac
    cov = _inverse_robust(a)
    if sigma is None and not poisson:
        # noise level unknown and possibly channel-dependent (Poisson counts fitted by least
        # squares): heteroscedasticity-consistent "sandwich" covariance (White 1980) with the
        # n/(n-p) small-sample factor
        nch = np.sum(w_ch > 0, axis=1)
        r2 = w_ch * (yf - mu) ** 2
        meat = (jac * r2[:, :, None]).transpose(0, 2, 1) @ jac
        cov = cov @ meat @ cov * (nch / np.maximum(nch - npar, 1))[:, None, None]
    var = np.einsum("ipp->ip", cov)
    std = np.sqrt(np.where(var >= 0, var, np.nan))
    flag = np.where(converged, FLAG_OK, FLAG_MAX_ITER).astype(np.int8)
    failed = ~np.all(np.isfinite(p), axis=1) | ~np.isfinite(cost)
    flag[failed] = FLAG_FAILED
    flag[~good] = FLAG_MASKED
    bad = flag >= FLAG_FAILED
    p[bad] = np.nan
    std[bad] = np.nan
    cost[bad] = np.nan
    cov[bad] = np.nan
    return LMResult(p.reshape(lead + (npar,)), std.reshape(lead + (npar,)),
                    cov.reshape(lead + (npar, npar)), cost.reshape(lead),
                    n_iter.reshape(lead), flag.reshape(lead))


def _solve_robust(a, b):
    """Batched solve through the pseudo-inverse: finite steps even for singular systems."""
    return (np.linalg.pinv(a) @ b[:, :, None])[:, :, 0]


def _inverse_robust(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def linear_least_squares(y, design, *, nonneg=True, sigma=None, max_iter: int | None = None
                         ) -> LinearFit:
    """Fit ``y ≈ design @ coef`` for every pixel at once, optionally with ``coef >= 0``.

    Parameters
    ----------
    y : array_like (..., n)
        Spectra.
    design : array_like (n, k)
        Model components (columns), shared by all pixels.
    nonneg : bool or array_like (k,) of bool
        Which coefficients are constrained to be non-negative (all by default). Solved with a
        batched Lawson–Hanson active-set iteration: columns with negative coefficients leave the
        active set, inactive columns whose gradient is positive re-enter, until no pixel changes.
    sigma : array_like (..., n), optional
        Per-channel standard deviations (e.g. ``sqrt(max(counts, 1))`` for Poisson weighting);
        otherwise ordinary least squares with a design shared by every pixel (fastest path).
    max_iter : int, optional
        Active-set iterations (default ``3 k``).

    Returns
    -------
    LinearFit
        ``coef`` and ``std`` ``(..., k)``; ``cost`` = (weighted) residual sum of squares.

    References
    ----------
    Lawson & Hanson (1974), ch. 23.
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(design, dtype=float)
    lead, n = y.shape[:-1], y.shape[-1]
    k = d.shape[1]
    yf = y.reshape(-1, n)
    finite = np.all(np.isfinite(yf), axis=1)
    yf = np.where(np.isfinite(yf), yf, 0.0)
    cons = np.broadcast_to(np.asarray(nonneg, dtype=bool), (k,))
    if sigma is None:
        w = None
        gram = np.broadcast_to(d.T @ d, (yf.shape[0], k, k))
        rhs = yf @ d
    else:
        s = np.broadcast_to(np.asarray(sigma, dtype=float), y.shape).reshape(-1, n)
        w = 1.0 / np.where(s > 0, s * s, np.inf)
        gram = np.einsum("nk,in,nl->ikl", d, w, d)
        rhs = (yf * w) @ d
    npx = yf.shape[0]
    act = np.ones((npx, k), dtype=bool)
    eye = np.eye(k)
    ridge = 1e-12 * np.trace(gram, axis1=1, axis2=2)[:, None, None] / k + 1e-300

    def solve(active):
        m = active[:, :, None] & active[:, None, :]
        g = np.where(m, gram, 0.0) + eye * (~active)[:, :, None] + ridge * eye
        return np.linalg.solve(g, np.where(active, rhs, 0.0)[:, :, None])[:, :, 0]

    coef = solve(act)
    for _ in range(max_iter or 3 * k):
        neg = (coef < 0) & cons & act
        if neg.any():
            act = act & ~neg
        else:
            grad = rhs - np.einsum("ikl,il->ik", gram, coef)
            enter = (~act) & (grad > 1e-10 * (np.abs(rhs) + 1e-300))
            if not enter.any():
                break
            # let only the most promising column enter per pixel (Lawson–Hanson)
            best = np.argmax(np.where(enter, grad, -np.inf), axis=1)
            rows = np.flatnonzero(enter.any(axis=1))
            act[rows, best[rows]] = True
        coef = solve(act)
        coef = np.where(act, coef, 0.0)
    coef = np.where(cons & (coef < 0), 0.0, coef)
    pred = coef @ d.T
    res = yf - pred
    cost = np.sum(res * res * (1.0 if w is None else w), axis=1)
    m = act[:, :, None] & act[:, None, :]
    cov = _inverse_robust(np.where(m, gram, 0.0) + eye * (~act)[:, :, None] + ridge * eye)
    var = np.einsum("ikk->ik", cov) * act
    if w is None:
        var = var * (cost / max(n - k, 1))[:, None]
    std = np.sqrt(np.maximum(var, 0.0))
    coef[~finite] = np.nan
    std[~finite] = np.nan
    cost[~finite] = np.nan
    return LinearFit(coef.reshape(lead + (k,)), std.reshape(lead + (k,)), cost.reshape(lead))
