"""Compiled kernel for the one-Gaussian + offset CL/PL fit of every pixel (least squares).

Model ``f(x) = a exp(-z²/2) + b`` with ``z = (x - c)/s``. Per pixel, every Levenberg–Marquardt
iteration is **one pass** over the channels that accumulates the cost, the gradient ``Jᵀr`` and the
4×4 normal matrix ``JᵀJ`` from thirteen moment sums (``Σe zᵏ``, ``Σe² zᵏ``, ``Σr e zᵏ``, ``Σr``,
``Σr²``): the analytic Jacobian columns are ``e``, ``(a/s) e z``, ``(a/s) e z²`` and ``1``, so
``JᵀJ`` never has to be formed channel by channel. The damped system is solved by a closed-form
4×4 Cholesky factorisation; each pixel stops on its own when converged. Only channels within
``ZCUT`` standard deviations of the centre are visited; the offset-only tail is added from the
totals of ``y`` and ``y²``. On a uniform axis the Gaussian is generated without ``exp`` per channel
by the exact two-term recurrence ``e_{j+1} = e_j q_j``, ``q_{j+1} = q_j exp(-h²)`` (``h = Δx/s``,
four interleaved chains); on any other axis by a polynomial scaling-and-squaring ``exp`` that
vectorises. Compiled with numba on first use (cached on disk), so importing this module is cheap.

Start values (unless given) follow the policy of the generic path: offset = 5th percentile, centre
= peak of the 5-channel running mean, height = that peak above the offset, σ = area / (height √(2π)).
The percentile is exact, found without sorting (see ``_order_stats``). A narrower start, e.g. from
the half-maximum crossings, locks onto noise bumps in non-emitting pixels far more often.

The iteration, its stopping rules and the heteroscedasticity-consistent (sandwich) standard errors
are those of :func:`perovscope.spectroscopy.fitting.levenberg_marquardt`, so flags and errors mean
the same.

References
----------
.. [1] D. W. Marquardt, "An algorithm for least-squares estimation of nonlinear parameters",
   J. SIAM 11, 431 (1963).
.. [2] W. H. Press et al., Numerical Recipes, 3rd ed., CUP (2007), §15.5 (LM), §2.9 (Cholesky).
.. [3] H. White, "A heteroskedasticity-consistent covariance matrix estimator", Econometrica 48,
   817 (1980).
"""

from __future__ import annotations

import math

import numpy as np

from ._cl_kernels import _cho_solve, _cholesky, _guess, _normal
from ._jit import available, compile_kernels, kernel
from .fitting import FLAG_FAILED, FLAG_MASKED, FLAG_MAX_ITER, FLAG_OK

__all__ = ["available", "fit_one_gaussian"]

#: Channels farther than this many σ from the centre carry exp(-72) ≈ 5e-32 of the peak: skipped.
ZCUT = 12.0
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_FLAG_OK, _FLAG_MAX_ITER, _FLAG_FAILED, _FLAG_MASKED = FLAG_OK, FLAG_MAX_ITER, FLAG_FAILED, FLAG_MASKED

_FAST = {"reassoc", "contract", "nsz"}  # vectorised sums; no assumptions about NaN/inf


@kernel()
def _window(x0, dx, uniform, x, c, s):
    """Channel range [j0, j1) with |x - c| <= ZCUT s (the full axis for an unordered axis)."""
    n = x.size
    if uniform:
        ja, jb = (c - ZCUT * s - x0) / dx, (c + ZCUT * s - x0) / dx
        lo, hi = min(ja, jb), max(ja, jb)
        j0 = 0 if lo <= 0.0 else min(n, int(math.ceil(lo)))
        j1 = 0 if hi < 0.0 else min(n, int(math.floor(hi)) + 1)
        return j0, max(j0, j1)
    if x[n - 1] > x[0]:
        j0 = np.searchsorted(x, c - ZCUT * s)
        j1 = np.searchsorted(x, c + ZCUT * s, side="right")
        return j0, max(j0, j1)
    return 0, n


@kernel()
def _shape(x0, dx, uniform, x, c, s, j0, j1, zbuf, ebuf):
    """z and exp(-z²/2) on channels [j0, j1) into the scratch arrays."""
    inv = 1.0 / s
    m = j1 - j0
    zb, eb = zbuf[j0:j1], ebuf[j0:j1]  # views indexed from 0: the loops vectorise
    if uniform:  # four interleaved recurrences (stride 4) keep the multiplier pipelines busy
        h = dx * inv
        z0 = (x0 + j0 * dx - c) * inv
        for j in range(m):
            zb[j] = z0 + j * h
        za, zb1, zc, zd = z0, z0 + h, z0 + 2.0 * h, z0 + 3.0 * h
        ea, eb1 = math.exp(-0.5 * za * za), math.exp(-0.5 * zb1 * zb1)
        ec, ed = math.exp(-0.5 * zc * zc), math.exp(-0.5 * zd * zd)
        h8 = 8.0 * h * h
        qa, qb = math.exp(-4.0 * za * h - h8), math.exp(-4.0 * zb1 * h - h8)
        qc, qd = math.exp(-4.0 * zc * h - h8), math.exp(-4.0 * zd * h - h8)
        rr = math.exp(-16.0 * h * h)
        j = 0
        while j + 3 < m:
            eb[j], eb[j + 1], eb[j + 2], eb[j + 3] = ea, eb1, ec, ed
            ea, eb1, ec, ed = ea * qa, eb1 * qb, ec * qc, ed * qd
            qa, qb, qc, qd = qa * rr, qb * rr, qc * rr, qd * rr
            j += 4
        if j < m:
            eb[j] = ea
        if j + 1 < m:
            eb[j + 1] = eb1
        if j + 2 < m:
            eb[j + 2] = ec
    else:
        _gauss_any_axis(x[j0:j1], c, inv, zb, eb)


@kernel(fastmath={"contract"})
def _gauss_any_axis(xs, c, inv, zb, eb):
    """exp(-z²/2) on any axis without a libm call per channel (so that the loop vectorises):
    exp(t) = P₁₁(t/256)²⁵⁶ with the degree-11 Taylor polynomial P₁₁ (truncation < 1e-15 for
    t ∈ [-72, 0]; 8 squarings give a relative error ≈ 256 ε ≈ 3e-14). ``t`` is floored at -72
    (= -ZCUT²/2): beyond the fit window the Gaussian is < 5e-32 of its height."""
    for j in range(xs.size):
        z = (xs[j] - c) * inv
        zb[j] = z
        u = max(-0.5 * z * z, -72.0) * (1.0 / 256.0)
        e = 1.0 + u * (1.0 + u * (1.0 / 2.0 + u * (1.0 / 6.0 + u * (1.0 / 24.0 + u * (
            1.0 / 120.0 + u * (1.0 / 720.0 + u * (1.0 / 5040.0 + u * (1.0 / 40320.0 + u * (
                1.0 / 362880.0 + u * (1.0 / 3628800.0 + u * (1.0 / 39916800.0)))))))))))
        for _ in range(8):
            e = e * e
        eb[j] = e


@kernel(fastmath=_FAST)
def _sums(yall, zbuf, ebuf, j0, j1, a, b, out):
    """Moment sums of one pass: Σe zᵏ (3), Σe² zᵏ (5), Σr e zᵏ (3), Σr, Σr², Σy, Σy² (inside)."""
    e0 = e1 = e2 = q0 = q1 = q2 = q3 = q4 = g0 = g1 = g2 = gr = cc = sy = sy2 = 0.0
    y, zb, eb = yall[j0:j1], zbuf[j0:j1], ebuf[j0:j1]
    for j in range(j1 - j0):
        z, e, yj = zb[j], eb[j], np.float64(y[j])
        r = yj - a * e - b
        ez = e * z
        ez2 = ez * z
        ee = e * e
        eez = ee * z
        eez2 = eez * z
        e0 += e
        e1 += ez
        e2 += ez2
        q0 += ee
        q1 += eez
        q2 += eez2
        q3 += eez2 * z
        q4 += eez2 * z * z
        g0 += r * e
        g1 += r * ez
        g2 += r * ez2
        gr += r
        cc += r * r
        sy += yj
        sy2 += yj * yj
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = e0, e1, e2, q0, q1, q2, q3, q4
    out[8], out[9], out[10], out[11], out[12], out[13], out[14] = g0, g1, g2, gr, cc, sy, sy2


@kernel(fastmath=_FAST)
def _meat_sums(yall, zbuf, ebuf, j0, j1, a, b, out):
    """r²-weighted Σe zᵏ and Σe² zᵏ inside the window (the sandwich estimator's 'meat')."""
    e0 = e1 = e2 = q0 = q1 = q2 = q3 = q4 = 0.0
    y, zb, eb = yall[j0:j1], zbuf[j0:j1], ebuf[j0:j1]
    for j in range(j1 - j0):
        z, e = zb[j], eb[j]
        r = np.float64(y[j]) - a * e - b
        w = r * r
        we = w * e
        wee = we * e
        e0 += we
        e1 += we * z
        e2 += we * z * z
        q0 += wee
        q1 += wee * z
        q2 += wee * z * z
        q3 += wee * z * z * z
        q4 += wee * z * z * z * z
    out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7] = e0, e1, e2, q0, q1, q2, q3, q4


@kernel()
def _evaluate(x0, dx, uniform, x, y, p, sy_all, sy2_all, zb, eb, S):
    """Cost, gradient (S[8:12]) and moments at p; returns (cost, j0, j1)."""
    a, c, s, b = p[0], p[1], p[2], p[3]
    n = y.size
    j0, j1 = _window(x0, dx, uniform, x, c, s)
    _shape(x0, dx, uniform, x, c, s, j0, j1, zb, eb)
    _sums(y, zb, eb, j0, j1, a, b, S)
    n_out = n - (j1 - j0)
    if n_out > 0:  # offset-only channels: r = y - b
        sy_out, sy2_out = sy_all - S[13], sy2_all - S[14]
        S[11] += sy_out - n_out * b
        S[12] += sy2_out - 2.0 * b * sy_out + n_out * b * b
    u = a / s
    S[9] *= u
    S[10] *= u
    return S[12], j0, j1


@kernel()
def _fit_block(x, dxg, uniform, Y, P0, use_p0, skip, lo, hi, max_iter, tol, lam0,
               P, COV, COST, NIT, FLAG):
    npx, n = Y.shape
    x0, dx = x[0], (x[n - 1] - x[0]) / max(n - 1, 1)
    dmin, span = np.min(dxg), np.max(x) - np.min(x)
    zb, eb, sm, buf = np.empty(n), np.empty(n), np.empty(n), np.empty(n + 1)
    S, St, M = np.empty(15), np.empty(15), np.empty(8)
    A, D, LW, W = np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4)), np.zeros((4, 4))
    p, trial, step, g, tmp = np.empty(4), np.empty(4), np.empty(4), np.empty(4), np.empty(4)
    eye = np.eye(4)
    for i in range(npx):
        COST[i] = np.nan
        NIT[i] = 0
        P[i, :] = np.nan
        COV[i, :, :] = np.nan
        if skip[i]:
            FLAG[i] = _FLAG_MASKED
            continue
        y = Y[i]
        if use_p0:
            p[:] = P0[i]
        else:
            _guess(x, y, dxg, dmin, span, sm, buf, p)
        finite = True
        for k in range(4):
            if not np.isfinite(p[k]):
                finite = False
            p[k] = min(max(p[k], lo[k]), hi[k])
        if not finite:
            FLAG[i] = _FLAG_MASKED
            continue
        sy_all = sy2_all = 0.0
        for j in range(n):
            sy_all += y[j]
            sy2_all += np.float64(y[j]) * y[j]
        cost, j0, j1 = _evaluate(x0, dx, uniform, x, y, p, sy_all, sy2_all, zb, eb, S)
        lam = lam0
        j0t, j1t = j0, j1
        converged = False
        it = 0
        while it < max_iter and np.isfinite(cost):
            _normal(S, p[0] / p[2], n, A)
            g[0], g[1], g[2], g[3] = S[8], S[9], S[10], S[11]
            for r in range(4):
                for k in range(4):
                    D[r, k] = A[r, k] + lam * (A[r, r] * eye[r, k] + 1e-12 * eye[r, k])
            ok = _cholesky(D, LW)
            if ok:
                _cho_solve(LW, g, step)
                for k in range(4):
                    if not np.isfinite(step[k]):
                        ok = False
            small = True
            if ok:
                for k in range(4):
                    trial[k] = min(max(p[k] + step[k], lo[k]), hi[k])
                    if abs(trial[k] - p[k]) > 1e-10 * (abs(p[k]) + 1e-10):
                        small = False
                cost_t, j0t, j1t = _evaluate(x0, dx, uniform, x, y, trial, sy_all, sy2_all, zb, eb, St)
                better = np.isfinite(cost_t) and cost_t <= cost
            else:
                small, better, cost_t = False, False, np.nan
            rel = (cost - cost_t) / max(abs(cost), 1e-300) if better else 1.0
            if better:
                p[:] = trial
                S[:] = St
                cost, j0, j1 = cost_t, j0t, j1t
                lam *= 0.3
            else:
                lam *= 10.0
            it += 1
            if (better and rel < tol) or small or lam > 1e12:
                converged = True
                break
        NIT[i] = it
        if not np.isfinite(cost):
            FLAG[i] = _FLAG_FAILED
            continue
        FLAG[i] = _FLAG_OK if converged else _FLAG_MAX_ITER
        P[i, :] = p
        COST[i] = cost
        # sandwich covariance (White 1980) at the solution, small-sample factor n/(n-4)
        _shape(x0, dx, uniform, x, p[1], p[2], j0, j1, zb, eb)
        _meat_sums(y, zb, eb, j0, j1, p[0], p[3], M)
        u = p[0] / p[2]
        _normal(S, u, n, A)
        if not _cholesky(A, LW):
            continue
        for k in range(4):  # inverse of A, column by column
            tmp[:] = 0.0
            tmp[k] = 1.0
            _cho_solve(LW, tmp, step)
            D[:, k] = step
        _normal(M, u, n, W)
        W[3, 3] = cost  # Σr² over all channels
        scale = n / max(n - 4, 1)
        COV[i, :, :] = (D @ W @ D) * scale


def fit_one_gaussian(y, x, *, p0=None, skip, lower, upper, max_iter: int = 60, tol: float = 1e-8,
                     lam0: float = 1e-3):
    """Fit ``a exp(-(x-c)²/2s²) + b`` to every row of ``y`` (N, n); see the module notes.

    Parameters
    ----------
    y : ndarray (N, n), float32 or float64
        Spectra (finite where ``skip`` is False).
    x : ndarray (n,)
        Axis values.
    p0 : ndarray (N, 4), optional
        Start values ``[a, c, s, b]``; default from the running mean of each spectrum.
    skip : ndarray (N,) of bool
        Pixels not to fit (flagged masked).
    lower, upper : sequence of 4 floats
        Bounds on ``[a, c, s, b]``.

    Returns
    -------
    params (N, 4), cov (N, 4, 4), cost (N,), n_iter (N,), flag (N,) of int8
    """
    compile_kernels()
    y = np.ascontiguousarray(y if y.dtype in (np.float32, np.float64) else y.astype(float))
    x = np.ascontiguousarray(x, dtype=float)
    npx, n = y.shape
    step = (x[-1] - x[0]) / max(n - 1, 1)
    uniform = bool(n > 1 and step != 0 and np.max(np.abs(x - (x[0] + step * np.arange(n))))
                   <= 1e-9 * abs(step))
    use_p0 = p0 is not None
    p0 = np.ascontiguousarray(p0, dtype=float) if use_p0 else np.zeros((1, 4))
    out_p, out_cov = np.empty((npx, 4)), np.empty((npx, 4, 4))
    cost, n_iter, flag = np.empty(npx), np.empty(npx, dtype=np.int32), np.empty(npx, dtype=np.int8)
    dxg = np.abs(np.gradient(x)) if n > 1 else np.ones(n)
    _fit_block(x, dxg, uniform, y, p0, use_p0, np.ascontiguousarray(skip, dtype=np.bool_),
               np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), int(max_iter),
               float(tol), float(lam0), out_p, out_cov, cost, n_iter, flag)
    return out_p, out_cov, cost, n_iter, flag
