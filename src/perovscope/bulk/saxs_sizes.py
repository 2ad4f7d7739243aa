"""Sphere size distributions from SAXS curves: a regularised non-negative inversion with bootstrap errors.

The curve is modelled as dilute, non-interacting homogeneous spheres on a logarithmic grid of radii,

    I(q) = Δρ² Σ_k φ_k V_k P(q R_k) + B,    P(x) = [3 (sin x − x cos x) / x³]²,

with volume fractions ``φ_k ≥ 0`` (one per radius bin) and a flat background ``B``. The coefficients are
found by non-negative least squares weighted by ``1/σ²`` with a Tikhonov penalty ``λ² ‖D² φ‖²`` on the
second differences over the log-radius grid; ``λ`` is chosen per curve by Morozov's discrepancy
principle — the smoothest solution whose reduced χ² stays within ``1 + 2√(2/n)`` of the data (within
``1 + 2√(2/n)`` of the least-regularised fit when σ is not given). Uncertainties of the distribution
and of its moments come from a parametric bootstrap: the data are re-drawn from their errors
``n_boot`` times and inverted again, all replicas and curves in one batched solve. This plays the role of
McSAS's repeated Monte-Carlo optimisations (many independent solutions of the same data, their spread
being the error bar) with a deterministic solver.

References
----------
.. [1] I. Bressler, B. R. Pauw and A. F. Thünemann, "McSAS: software for the retrieval of model
   parameter distributions from scattering patterns", J. Appl. Cryst. 48, 962–969 (2015).
.. [2] B. R. Pauw, J. S. Pedersen, S. Tardif, M. Takata and B. B. Iversen, "Improvements and
   considerations for size distribution retrieval from small-angle scattering data by Monte Carlo
   methods", J. Appl. Cryst. 46, 365–371 (2013).
.. [3] J. A. Potton, G. J. Daniell and B. D. Rainford, "Particle size distributions from SANS data using
   the maximum entropy method", J. Appl. Cryst. 21, 663–668 (1988).
.. [4] V. A. Morozov, "On the solution of functional equations by the method of regularization",
   Soviet Math. Dokl. 7, 414–417 (1966).
.. [5] Lord Rayleigh, "The incidence of light upon a transparent sphere of dimensions comparable with
   the wave-length", Proc. R. Soc. A 84, 25–46 (1911) (the sphere form factor).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import check_min_points
from .saxs import prepare_curves

__all__ = ["sphere_form_factor", "sphere_intensity", "SizeDistribution", "size_distribution", "nnls_normal"]


def sphere_form_factor(q, radius):
    """Normalised sphere form factor ``P(qR) = [3 (sin x − x cos x)/x³]²`` (``P(0) = 1``).

    ``q`` and ``radius`` broadcast against each other (e.g. ``q[:, None]`` and ``radius[None, :]``).
    """
    x = np.asarray(q, dtype=float) * np.asarray(radius, dtype=float)
    small = np.abs(x) < 1e-2
    xs = np.where(small, 1.0, x)
    amp = 3.0 * (np.sin(xs) - xs * np.cos(xs)) / xs ** 3
    amp = np.where(small, 1.0 - x * x / 10.0 + x ** 4 / 280.0, amp)
    return amp * amp


def sphere_intensity(q, radius, volume_fraction, *, contrast: float = 1.0, background: float = 0.0):
    """``Δρ² Σ_k φ_k V_k P(q R_k) + B`` for spheres of radii ``radius`` (k,) and fractions ``(..., k)``."""
    r = np.asarray(radius, dtype=float)
    v = 4.0 / 3.0 * np.pi * r ** 3
    design = sphere_form_factor(np.asarray(q, dtype=float)[:, None], r[None, :]) * v
    return contrast ** 2 * np.asarray(volume_fraction, dtype=float) @ design.T + background


class SizeDistribution(NamedTuple):
    """Result of :func:`size_distribution` (leading shape ``(...)`` of the curves).

    ``volume_fraction`` ``(..., k)`` is φ_k per radius bin in the units of ``I/Δρ²`` (absolute volume
    fractions when the intensity is absolute and ``contrast`` is Δρ); ``number_fraction`` is the
    normalised number distribution ``∝ φ_k/V_k``. Moments: number-weighted mean and standard deviation of
    R, volume-weighted mean and standard deviation, each with a bootstrap standard deviation
    (``*_std``). The volume-weighted moments are what the data determine best; number weighting
    divides by R³ and amplifies any spurious small-radius intensity.
    """

    radius: np.ndarray
    volume_fraction: np.ndarray
    volume_fraction_std: np.ndarray
    number_fraction: np.ndarray
    mean_radius: np.ndarray
    mean_radius_std: np.ndarray
    width: np.ndarray
    width_std: np.ndarray
    volume_mean_radius: np.ndarray
    volume_mean_radius_std: np.ndarray
    volume_width: np.ndarray
    volume_width_std: np.ndarray
    total_volume_fraction: np.ndarray
    background: np.ndarray
    regularisation: np.ndarray
    reduced_chi2: np.ndarray
    fitted: np.ndarray


def nnls_normal(gram, rhs, nonneg, *, free=None, max_iter: int | None = None):
    """Minimise ``½ cᵀGc − hᵀc`` subject to ``c_j ≥ 0`` where ``nonneg[j]``, for a batch of problems.

    The Lawson–Hanson active-set method on the normal equations, run for all problems at once: each
    iteration solves every unfinished problem on its passive set and either accepts the solution and
    frees the constrained coefficient with the largest descent gradient, or — when the solution leaves
    the feasible set — moves to the boundary along the segment and fixes the coefficients that reached
    zero. Every step lowers the objective, so it converges also on nearly singular ``G``.

    Parameters
    ----------
    gram : array_like (..., k, k)
        Symmetric positive (semi-)definite matrices ``G`` (e.g. ``AᵀWA + λ²LᵀL``).
    rhs : array_like (..., k)
        ``h = AᵀWy``.
    nonneg : array_like (k,) of bool
        Which coefficients are constrained.
    free : array_like (..., k) of bool, optional
        Start passive set, e.g. the solution set of a neighbouring problem (a warm start needs few
        iterations); default: the unconstrained coefficients only.
    max_iter : int, optional
        Iterations (default ``3 k``).

    Returns
    -------
    (x, free) : ndarray (..., k) each
        The solutions and their passive sets.

    References
    ----------
    C. L. Lawson and R. J. Hanson, *Solving Least Squares Problems*, Prentice-Hall (1974), ch. 23;
    R. Bro and S. De Jong, "A fast non-negativity-constrained least squares algorithm",
    J. Chemometrics 11, 393–401 (1997).
    """
    g = np.asarray(gram, dtype=float)
    h = np.asarray(rhs, dtype=float)
    shape = np.broadcast_shapes(g.shape[:-2], h.shape[:-1])
    k = h.shape[-1]
    g = np.broadcast_to(g, shape + (k, k)).reshape(-1, k, k)
    h = np.broadcast_to(h, shape + (k,)).reshape(-1, k)
    cons = np.broadcast_to(np.asarray(nonneg, dtype=bool), (k,))
    npb = h.shape[0]
    eye = np.eye(k)
    ridge = (1e-12 * np.trace(g, axis1=1, axis2=2) / k + 1e-300)[:, None, None] * eye
    passive = (np.zeros((npb, k), dtype=bool) if free is None
               else np.broadcast_to(np.asarray(free, dtype=bool), shape + (k,)).reshape(-1, k).copy())
    passive |= ~cons
    x = np.zeros((npb, k))
    tol = 1e-10 * (np.abs(h).max(1) + 1e-300)
    act = np.arange(npb)
    last = np.full(npb, -1)  # coefficient freed in the previous iteration
    blocked = np.zeros((npb, k), dtype=bool)  # freed but rejected at once (rounding): skip until progress
    rows = np.arange(npb)
    for _ in range(max_iter or 3 * k):
        if act.size == 0:
            break
        ga, ha, pa, xa = g[act], h[act], passive[act], x[act]
        m = pa[:, :, None] & pa[:, None, :]
        a = np.where(m, ga, 0.0) + eye * (~pa)[:, :, None] + ridge[act]
        z = np.linalg.solve(a, np.where(pa, ha, 0.0)[:, :, None])[:, :, 0]
        neg = pa & cons & (z <= 0)
        infeasible = neg.any(1)
        # infeasible: step from x towards z up to the first coefficient that reaches zero
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(neg, xa / (xa - z), np.inf)
        alpha = np.clip(np.min(ratio, axis=1), 0.0, 1.0)
        xi = xa + alpha[:, None] * (z - xa)
        drop = pa & cons & (xi <= 1e-14 * (np.abs(xi).max(1, keepdims=True) + 1e-300))
        xnew = np.where(infeasible[:, None], np.where(drop, 0.0, xi), z)
        pnew = np.where(infeasible[:, None], pa & ~drop, pa)
        la = last[act]
        stuck = infeasible & (alpha <= 0) & (la >= 0)
        stuck &= neg[np.arange(act.size), np.maximum(la, 0)]
        bl = blocked[act] & infeasible[:, None]  # progress (a feasible solve) clears the blocks
        bl[stuck, la[stuck]] = True
        # feasible: free the constrained coefficient with the largest descent gradient
        w = ha - np.einsum("ikl,il->ik", ga, xnew)
        cand = ~pnew & cons & ~bl & (w > tol[act, None])
        best = np.argmax(np.where(cand, w, -np.inf), axis=1)
        add = ~infeasible & cand.any(1)
        pnew[add, best[add]] = True
        x[act], passive[act], blocked[act] = xnew, pnew, bl
        last[act] = np.where(add, best, -1)
        act = act[infeasible | add]
    del rows
    x = np.where(cons & (x < 0), 0.0, x)
    return x.reshape(shape + (k,)), passive.reshape(shape + (k,))


def _moments(phi, r):
    v = 4.0 / 3.0 * np.pi * r ** 3
    num = phi / v
    with np.errstate(invalid="ignore", divide="ignore"):
        ntot = num.sum(-1)
        mean = (num * r).sum(-1) / ntot
        width = np.sqrt(np.maximum((num * r * r).sum(-1) / ntot - mean ** 2, 0.0))
        vtot = phi.sum(-1)
        vmean = (phi * r).sum(-1) / vtot
        vwidth = np.sqrt(np.maximum((phi * r * r).sum(-1) / vtot - vmean ** 2, 0.0))
    return mean, width, vmean, vwidth, num / ntot[..., None]


def size_distribution(intensity, q, *, sigma=None, radii=None, n_radii: int = 60, r_range=None,
                      background: bool = True, contrast: float = 1.0, regularisation=None,
                      n_lambda: int = 13, n_boot: int = 30, seed: int = 0,
                      source: str | None = None) -> SizeDistribution:
    """Volume-weighted sphere size distribution of each curve, with bootstrap uncertainties.

    Parameters
    ----------
    intensity : array_like (..., n)
        Scattering curves (a series along the leading axes).
    q : array_like (n,)
        Scattering vector; radii are in the inverse unit.
    sigma : array_like (..., n), optional
        Standard deviations; without them the errors are taken as relative (σ ∝ |I|, as for counting
        statistics spread over a wide intensity range), their level estimated from the residuals of
        the least-regularised fit, and the bootstrap uses that level.
    radii : array_like (k,), optional
        Radius grid; default ``n_radii`` log-spaced radii over ``r_range`` (default ``π/q_max`` to
        ``π/q_min``: the sizes the q range resolves).
    background : bool
        Fit a flat background (any sign).
    contrast : float
        Scattering-length-density contrast Δρ (in the units that make ``φ`` absolute).
    regularisation : float, optional
        Fix λ (relative to the data's own scale, 1 = a balanced weight); default: the discrepancy
        principle over ``n_lambda`` values from 1e-4 to 1e2.
    n_boot : int
        Bootstrap replicas (0: no uncertainties).
    seed : int
        Random seed of the bootstrap.
    source : str, optional
        File name for error messages.

    Returns
    -------
    SizeDistribution
    """
    qq, y, s = prepare_curves(q, intensity, sigma, min_points=5, source=source)
    if radii is None:
        lo, hi = r_range if r_range is not None else (np.pi / qq[-1], np.pi / max(qq[0], 1e-300))
        if not 0 < lo < hi:
            raise InputError(f"r_range must satisfy 0 < r_min < r_max, got {lo}, {hi}")
        radii = np.geomspace(lo, hi, n_radii)
    r = np.asarray(radii, dtype=float)
    if r.ndim != 1 or r.size < 3 or np.any(r <= 0) or np.any(np.diff(r) <= 0):
        raise InputError("radii must be at least 3 increasing positive values")
    k = r.size
    nb = int(background)
    check_min_points(qq.size, k // 4 + nb + 2, what=f"a size distribution on {k} radii", source=source)
    lead, n = y.shape[:-1], qq.size
    yf = y.reshape(-1, n)
    bad = ~np.isfinite(yf)
    yf = np.where(bad, 0.0, yf)
    v = 4.0 / 3.0 * np.pi * r ** 3
    a = contrast ** 2 * v * sphere_form_factor(qq[:, None], r[None, :])
    scale = np.sqrt((a * a).sum(0))  # columns scaled to unit norm: coefficients c = scale·φ
    cols = [a / scale] + ([np.ones((n, 1)) / np.sqrt(n)] if nb else [])
    design = np.concatenate(cols, axis=1)
    d2 = np.diff(np.eye(k), 2, axis=0) / scale  # second differences of φ on the log-R grid
    pen = np.concatenate([d2, np.zeros((k - 2, nb))], axis=1)
    if s is None:  # relative errors (σ ∝ |I|, floored at 1e-3 of the curve's maximum), level estimated
        sf = np.maximum(np.abs(yf), 1e-3 * np.max(np.abs(yf), axis=-1, keepdims=True)) + 1e-300
    else:
        sf = np.where(np.isfinite(s.reshape(-1, n)) & (s.reshape(-1, n) > 0), s.reshape(-1, n), np.inf)
    sf = np.where(bad, np.inf, sf)
    w = 1.0 / sf ** 2
    gram_d = np.einsum("nk,in,nl->ikl", design, w, design)
    gram_p = pen.T @ pen
    # balanced λ: the data and penalty Gram matrices of equal trace
    lam_ref = np.sqrt(np.trace(gram_d, axis1=1, axis2=2) / max(np.trace(gram_p), 1e-300))
    nonneg = np.r_[np.ones(k, dtype=bool), np.zeros(nb, dtype=bool)]

    def solve(gd, ys, ws, lam, free=None):
        return nnls_normal(gd + (lam * lam)[..., None, None] * gram_p, (ys * ws) @ design, nonneg, free=free)

    def chi2_of(coef, ss):
        res = yf - coef @ design.T
        return np.sum(np.where(np.isfinite(ss), (res / ss) ** 2, 0.0), axis=-1)

    ngood = np.maximum((~bad).sum(-1), 1)
    dof = np.maximum(ngood - k // 4 - nb, 1)
    tol = 1.0 + 2.0 * np.sqrt(2.0 / ngood)
    fixed = regularisation is not None
    if fixed and not float(regularisation) > 0:
        raise InputError(f"regularisation must be > 0, got {regularisation}")
    lo = float(regularisation) if fixed else 1e-4
    grid = np.geomspace(lo, max(1e2, 10 * lo), n_lambda)
    coefs = np.empty((n_lambda,) + yf.shape[:1] + (k + nb,))
    free = None
    for i in range(n_lambda - 1, -1, -1):  # from smooth to sharp, each warm-started
        coefs[i], free = solve(gram_d, yf, w, grid[i] * lam_ref, free)
    chi = chi2_of(coefs, sf) / dof
    if s is None:  # noise level from the least-regularised fit
        level = np.maximum(chi[0], 1e-300)
        sf, w, gram_d = sf * np.sqrt(level)[:, None], w / level[:, None], gram_d / level[:, None, None]
        lam_ref = lam_ref / np.sqrt(level)
        chi = chi / level
    ok = chi <= np.maximum(tol, chi.min(0) * tol)
    pick = np.zeros(yf.shape[0], dtype=int) if fixed else n_lambda - 1 - np.argmax(ok[::-1], axis=0)
    lam = grid[pick] * lam_ref
    coef = np.take_along_axis(coefs, pick[None, :, None], axis=0)[0]
    coef, free = solve(gram_d, yf, w, lam, free)
    red = chi2_of(coef, sf) / dof
    phi = coef[:, :k] / scale
    bg = coef[:, k] / np.sqrt(n) if nb else np.zeros(yf.shape[0])
    mean, width, vmean, vwidth, numf = _moments(phi, r)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n_boot,) + yf.shape) * np.where(np.isfinite(sf), sf, 0.0)
        cb, _ = solve(gram_d[None], yf + noise, w[None], lam[None], free[None])
        phib = cb[..., :k] / scale
        mb, wb, vb, vwb, _ = _moments(phib, r)
        stds = [np.nanstd(t, axis=0, ddof=1) for t in (phib, mb, wb, vb, vwb)]
    else:
        stds = [np.full_like(phi, np.nan)] + [np.full_like(mean, np.nan)] * 4
    fitted = coef @ design.T

    def sh(t, extra=()):
        return np.asarray(t, dtype=float).reshape(lead + extra)

    return SizeDistribution(r, sh(phi, (k,)), sh(stds[0], (k,)), sh(numf, (k,)), sh(mean), sh(stds[1]),
                            sh(width), sh(stds[2]), sh(vmean), sh(stds[3]), sh(vwidth), sh(stds[4]),
                            sh(phi.sum(-1)), sh(bg),
                            sh(lam / lam_ref), sh(red), sh(fitted, (n,)))
