"""Sub-pixel refinement of Bragg disks: Poisson maximum-likelihood disk fits, batched over all disks.

Each disk is modelled as ``λ = A·T(r − s) + quadratic background`` with ``T`` a soft-edged disk
(radius and edge width fitted to the probe, :func:`disk_model_parameters`) over a circular footprint
whose weights taper over the last pixel, centred on the start position so the footprint is
symmetric about the disk. The edge ``0.5·erfc(u)`` is evaluated as ``0.5·(1 − tanh(c₁u + c₃u³))``
(within 3×10⁻⁴ of erfc, a tenth of its cost). Fisher scoring (iteratively reweighted least squares,
weights ``1/λ``) runs on every disk at once; the background columns are shared by all disks, so their
Fisher blocks are single matrix products. The Fisher matrix of the start is inverted once and reused
for the second step (a chord iteration). Its inverse gives each position's covariance, the
Cramér–Rao bound of the model [1]_, [2]_.

References
----------
.. [1] S. M. Kay, *Fundamentals of Statistical Signal Processing: Estimation Theory*, Prentice Hall
   (1993), ch. 3 and 7.
.. [2] K. I. Mortensen et al., Nat. Methods 7, 377 (2010) — Poisson ML spot fitting at the
   Cramér–Rao bound.
.. [3] B. H. Savitzky et al., Microsc. Microanal. 27, 712 (2021) — the "poly" 3×3 parabola.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from ..errors import InputError

__all__ = ["disk_model_parameters", "refine_disks"]


def disk_model_parameters(probe, *, radius_guess: float | None = None) -> tuple[float, float]:
    """Radius and edge width (px) of the soft-disk model ``0.5·erfc((r - R)/(√2 σ))`` of a probe image.

    Least-squares fit of ``a·T(r; R, σ) + b`` to the probe image (centre from its centroid) by a
    vectorised grid search over ``(R, σ)`` (R within ±1 px of the half-maximum radius or of
    ``radius_guess``) with ``a``, ``b`` solved in closed form.
    """
    t = np.asarray(probe, dtype=float)
    t = t / t.max()
    yy, xx = np.mgrid[:t.shape[0], :t.shape[1]]
    w = np.clip(t, 0, None)
    r = np.hypot(yy - (w * yy).sum() / w.sum(), xx - (w * xx).sum() / w.sum()).ravel()
    r0 = float(np.sqrt((t > 0.5).sum() / np.pi)) if radius_guess is None else float(radius_guess)
    radii = r0 + np.linspace(-1.0, 1.0, 41)
    edges = np.linspace(0.1, 2.0, 39)
    model = 0.5 * erfc((r[None, None, :] - radii[:, None, None]) / (np.sqrt(2) * edges[None, :, None]))
    y = t.ravel()
    mm, my, m2 = model.mean(-1), y.mean(), (model**2).mean(-1)
    cov = (model * y).mean(-1) - mm * my
    var = m2 - mm**2
    sse = ((y - my) ** 2).mean() - cov**2 / np.maximum(var, 1e-12)
    i, j = np.unravel_index(np.argmin(sse), sse.shape)
    return float(radii[i]), float(edges[j])


def _parabola_peak(nb):
    """Vertex offsets (dy, dx), clipped to ±1, of a quadratic through 3×3 neighbourhoods ``(D, 3, 3)``."""
    gy = (nb[:, 2, 1] - nb[:, 0, 1]) / 2
    gx = (nb[:, 1, 2] - nb[:, 1, 0]) / 2
    hyy = nb[:, 2, 1] - 2 * nb[:, 1, 1] + nb[:, 0, 1]
    hxx = nb[:, 1, 2] - 2 * nb[:, 1, 1] + nb[:, 1, 0]
    hxy = (nb[:, 2, 2] - nb[:, 2, 0] - nb[:, 0, 2] + nb[:, 0, 0]) / 4
    det = hyy * hxx - hxy**2
    ok = det > 0
    safe = np.where(ok, det, 1.0)
    dy = np.where(ok, -(hxx * gy - hxy * gx) / safe, 0.0)
    dx = np.where(ok, -(hyy * gx - hxy * gy) / safe, 0.0)
    return np.clip(dy, -1, 1), np.clip(dx, -1, 1)


#: The model is sampled at pixel centres (averaging 3×3 sub-pixel samples changed neither the
#: pixel-locking error nor the precision by more than 2 %).

#: Footprint radius of the disk fit beyond the disk radius (px); the window tapers over its last px.
#: The background slopes (odd functions, like the position derivative) need room outside the disk:
#: 2.5 / 3.5 / 4.5 px give 1.15 / 1.09 / 1.06× the Cramér–Rao bound on the benchmark fixture, the
#: larger at ~5–15 / 20–25 % more time per pattern (pixels outside the disk edge cost only background).
_FOOT = 3.5

#: Fisher-scoring iterations from the parabola start.
_N_ITER = 2


#: ``erf(x) ≈ tanh(c1·x + c3·x³)`` (max. error 3×10⁻⁴): the disk edge at a fraction of erfc's cost,
#: with its derivative from the same tanh.
_C1, _C3 = 1.1293251, 0.1003017


def _edge_profile(u):
    """``0.5·erfc(u)`` by the tanh approximation, and ``-d/du`` of it."""
    u2 = u * u
    th = u2 * np.float32(_C3)
    th += np.float32(_C1)
    th *= u
    np.tanh(th, out=th)
    d = u2
    d *= np.float32(3 * _C3)
    d += np.float32(_C1)
    d *= 0.5 - 0.5 * th * th
    th *= -0.5
    th += np.float32(0.5)
    return th, d


def _fit_disks(p, usable, b, y0, x0, radius, edge, n_iter=_N_ITER, background="quadratic"):
    """Poisson maximum-likelihood fit of ``λ = A·T(r - s) + background`` around each start, batched.

    ``T`` is the soft-edged disk of :func:`disk_model_parameters`, the background a plane (or
    quadratic) over a circular footprint of radius ``R + 2.5`` px. Fisher scoring (iteratively
    reweighted least squares with weights ``1/λ``) runs on all disks at once; the background columns
    are the same for every disk (footprint offsets from the integer start), so all their Fisher blocks
    are single matrix products over the stacked disks. The Fisher matrix at the start is inverted once
    and used for every step (chord method) and as the position covariance (the model's Cramér–Rao
    bound). ``n_iter=2``: on the benchmark fixture 1 / 2 / 3 / 5 steps give 0.0777 / 0.0766 / 0.0769 /
    0.0770 px RMS (with the narrower R + 2.5 px footprint more steps raised the error, 0.081 → 0.084
    px, through the poorly determined background slopes). Returns ``(D, 6)``: y, x, intensity, snr,
    sigma_y, sigma_x.
    """
    f32 = np.float32
    ny, nx = p.shape[-2:]
    h = int(np.ceil(radius + _FOOT))
    oy, ox = np.mgrid[-h:h + 1, -h:h + 1]
    dist = np.hypot(oy, ox)
    foot = dist < radius + _FOOT
    # the disk terms vanish (T < 1e-5 of A) beyond R + 3√2·edge from the disk centre, which lies
    # within ~1 px of the integer start: pixels farther out inform only the background, so the
    # footprint is ordered inner (disk model evaluated) first, outer (background only) last
    order = np.argsort(dist[foot] >= radius + 3 * np.sqrt(2) * edge + 1.0, kind="stable")
    oy, ox = oy[foot][order], ox[foot][order]                            # (m,) footprint offsets
    m_in = int(np.sum(dist[foot] < radius + 3 * np.sqrt(2) * edge + 1.0))
    cy, cx = np.round(y0), np.round(x0)
    iy = cy.astype(np.intp)[:, None] + oy
    ix = cx.astype(np.intp)[:, None] + ox
    inside = (iy >= 0) & (iy < ny) & (ix >= 0) & (ix < nx)
    pix = np.clip(iy, 0, ny - 1) * nx + np.clip(ix, 0, nx - 1)         # (D, m) detector pixel
    win32 = np.take(p.reshape(-1), pix + (b * (ny * nx))[:, None]).astype(f32, copy=False)
    use32 = (inside & np.take(usable.reshape(-1), pix)).astype(f32)
    fy32, fx32 = (y0 - cy).astype(f32)[:, None], (x0 - cx).astype(f32)[:, None]
    oy32, ox32 = oy.astype(f32), ox.astype(f32)
    dy, dx = oy32 - fy32, ox32 - fx32
    r0 = np.sqrt(dy * dy + dx * dx)
    # a window tapering to 0 over the last pixel, centred on the sub-pixel start: the footprint is
    # then symmetric about the disk, so the background terms cannot pull the position
    use32 *= np.clip(f32(radius + _FOOT) - r0, f32(0.0), f32(1.0))
    core = use32 * (r0 < radius - 1)
    ring = use32 * (r0 > radius + 1)
    B = (win32 * ring).sum(1, dtype=float) / np.maximum(ring.sum(1, dtype=float), 1)
    A = (win32 * core).sum(1, dtype=float) / np.maximum(core.sum(1, dtype=float), 1) - B
    yn, xn = oy / h, ox / h
    cols = [np.ones_like(yn), yn, xn] + ([yn * yn, xn * xn, yn * xn] if background == "quadratic" else [])
    B0 = np.stack(cols, -1)                                              # (m, nb), shared
    nb = B0.shape[1]
    B0B0 = (B0[:, :, None] * B0[:, None, :]).reshape(len(B0), nb * nb)
    theta = np.concatenate([np.zeros((len(A), 2)), np.maximum(A, 1e-3)[:, None], B[:, None],
                            np.zeros((len(A), nb - 1))], 1)
    npar = theta.shape[1]
    s2e = np.sqrt(2.0) * edge
    eye = np.eye(npar)
    B0f = B0.astype(f32)
    gscale = f32(1.0 / s2e)

    def scoring(theta, with_fisher=True):
        # per-pixel model terms in float32 (positions are offsets < 10 px: 1e-6 px resolution);
        # the Fisher matrix and the solve stay in float64
        t32 = theta.astype(f32)
        a = t32[:, 2, None]
        if theta[:, :2].any():
            dy_ = oy32[:m_in] - (fy32 + t32[:, 0, None])
            dx_ = ox32[:m_in] - (fx32 + t32[:, 1, None])
            r = np.sqrt(dy_ * dy_ + dx_ * dx_)
        else:                                                            # first iteration: reuse
            dy_, dx_, r = dy[:, :m_in], dx[:, :m_in], r0[:, :m_in]
        u = r - f32(radius)
        u *= gscale
        T, dT = _edge_profile(u)
        dT *= a * gscale                                                 # A·(-∂T/∂r)
        dT /= np.maximum(r, f32(1e-6), out=u)
        C = np.empty((len(theta), 3, m_in), f32)                         # ∂λ/∂(sy, sx, A): (D, 3, m_in)
        np.multiply(dT, dy_, out=C[:, 0])
        np.multiply(dT, dx_, out=C[:, 1])
        C[:, 2] = T
        lam = t32[:, 3:] @ B0f.T                                         # background, whole footprint
        T *= a
        lam[:, :m_in] += T
        np.maximum(lam, f32(0.5), out=lam)
        w = use32 / lam
        wC = C * w[:, None, :m_in]
        res = win32 - lam
        grad = np.concatenate([np.matmul(wC, res[:, :m_in, None])[..., 0].astype(float),
                               (w * res).astype(float) @ B0], 1)
        if not with_fisher:
            return None, grad
        fisher = np.empty((len(theta), npar, npar))
        fisher[:, :3, :3] = np.matmul(wC, C.transpose(0, 2, 1))
        fisher[:, :3, 3:] = (wC.reshape(-1, m_in).astype(float) @ B0[:m_in]).reshape(-1, 3, nb)
        fisher[:, 3:, :3] = fisher[:, :3, 3:].transpose(0, 2, 1)
        fisher[:, 3:, 3:] = (w.astype(float) @ B0B0).reshape(-1, nb, nb)
        return fisher, grad

    # Fisher scoring with the Fisher matrix of the start kept for the later iterations (a chord
    # method: from the parabola start the position moves by < 0.1 px, where the Fisher matrix changes
    # by a few per cent, so the steps still converge to the same ML estimate); its inverse is also the
    # covariance estimate
    fisher, grad = scoring(theta)
    ok = np.linalg.det(fisher) > 0
    fisher[~ok] = eye
    cov = np.linalg.inv(fisher)
    for it in range(n_iter):  # all disks at once
        if it:
            grad = scoring(theta, with_fisher=False)[1]
        step = np.matmul(cov, grad[..., None])[..., 0]
        step[~ok] = 0.0
        step[:, :2] = np.clip(step[:, :2], -0.5, 0.5)
        theta = theta + step
        theta[:, 2] = np.maximum(theta[:, 2], 1e-3)
    sig = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2), 0, None))
    bad = ~ok | (np.abs(theta[:, :2]) > 2.0).any(-1)
    out = np.stack([y0 + theta[:, 0], x0 + theta[:, 1], theta[:, 2] * np.pi * radius**2,
                    theta[:, 2] / sig[:, 2], sig[:, 0], sig[:, 1]], -1)
    out[bad] = np.nan
    return out


def refine_disks(p, usable, corr, b, py, px, radius, edge, method):
    """Sub-pixel position, intensity, SNR and position σ of the disks at integer peaks (b, py, px)."""
    ny, nx = p.shape[-2:]
    # 3×3 neighbourhoods in one gather (peaks lie ≥ 1 px inside the detector)
    base = (b * ny + np.clip(py, 1, ny - 2)) * nx + np.clip(px, 1, nx - 2)
    off = (np.arange(-1, 2)[:, None] * nx + np.arange(-1, 2)[None, :]).ravel()
    nb = np.take(corr.reshape(-1), base[:, None] + off).reshape(-1, 3, 3).astype(float)
    dy, dx = _parabola_peak(nb)
    if method == "fit":
        return _fit_disks(p, usable, b, py + dy, px + dx, radius, edge)
    if method not in ("poly", "none"):
        raise InputError(f"refine must be 'fit', 'poly' or 'none', got {method!r}")
    if method == "none":
        dy, dx = np.zeros_like(dy), np.zeros_like(dx)
    out = _fit_disks(p, usable, b, py + dy, px + dx, radius, edge, n_iter=0)
    out[:, 0], out[:, 1] = py + dy, px + dx
    return out
