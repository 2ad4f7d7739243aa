"""Strain and rotation from fitted lattices, with propagated per-pixel standard uncertainties.

With reciprocal bases ``G`` (local) and ``G0`` (reference), columns g1, g2 in ``(x, y)`` components,
reciprocal vectors transform as ``g = F^{-T} g0``, so the deformation gradient is

    F = G^{-T} G0^T,

and the small-strain components are ``exx = F_xx - 1``, ``eyy = F_yy - 1``,
``exy = (F_xy + F_yx)/2`` and the rigid rotation ``θ = (F_yx - F_xy)/2`` (θ > 0 turns +x towards +y)
[1]_, [2]_. Uncertainties are propagated linearly: ``dF = -(G0 G⁻¹ dG G⁻¹)^T + (dG0 G⁻¹)^T`` maps the
covariance of the fitted basis (from the disk-position errors, :mod:`.lattice`) and of the reference
mean onto a 4×4 covariance of ``(exx, eyy, exy, θ)`` per pixel [3]_.

References
----------
.. [1] M. J. Hÿtch, E. Snoeck and R. Kilaas, "Quantitative measurement of displacement and strain
   fields from HREM micrographs", Ultramicroscopy 74, 131 (1998) — strain from reciprocal vectors.
.. [2] C. Ophus, Microsc. Microanal. 25, 563 (2019) — 4D-STEM strain mapping.
.. [3] JCGM 100:2008 (GUM), *Evaluation of measurement data — Guide to the expression of uncertainty
   in measurement*, §5 (law of propagation of uncertainty).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["Strain", "strain_from_basis", "reference_basis", "auto_reference_mask", "rotate_strain"]

COMPONENTS = ("exx", "eyy", "exy", "theta")


class Strain(NamedTuple):
    """Strain components (dimensionless), rotation θ (degrees) and their covariance.

    ``cov`` is ``(..., 4, 4)`` over ``(exx, eyy, exy, θ[rad])``; the ``*_std`` fields are the
    standard uncertainties (θ in degrees).
    """

    exx: np.ndarray
    eyy: np.ndarray
    exy: np.ndarray
    theta: np.ndarray
    exx_std: np.ndarray
    eyy_std: np.ndarray
    exy_std: np.ndarray
    theta_std: np.ndarray
    cov: np.ndarray


def _linear(F):
    """(F_xx, F_yy, sym F_xy, antisym F_yx) — linear in F (used for Jacobians)."""
    return np.stack([F[..., 0, 0], F[..., 1, 1], 0.5 * (F[..., 0, 1] + F[..., 1, 0]),
                     0.5 * (F[..., 1, 0] - F[..., 0, 1])], -1)


def _components(F):
    return _linear(F) - np.array([1.0, 1.0, 0.0, 0.0])


def _basis_cov(cov_x, cov_y):
    """4×4 covariance of (g1x, g1y, g2x, g2y) from the (o, g1, g2) x/y covariances."""
    c = np.zeros(cov_x.shape[:-2] + (4, 4))
    c[..., 0::2, 0::2] = cov_x[..., 1:, 1:]
    c[..., 1::2, 1::2] = cov_y[..., 1:, 1:]
    return c


def strain_from_basis(basis, reference, *, cov_x=None, cov_y=None, reference_cov=None) -> Strain:
    """Strain, rotation and their uncertainties of local bases relative to a reference basis.

    Parameters
    ----------
    basis : array (..., 2, 2)
        Local bases (columns g1, g2; rows x, y), NaN where no fit.
    reference : array (2, 2)
        Reference basis ``G0``.
    cov_x, cov_y : array (..., 3, 3), optional
        Covariances of ``(o, g1, g2)`` x/y components from :func:`.lattice.fit_lattice`.
    reference_cov : array (4, 4), optional
        Covariance of ``(g1x, g1y, g2x, g2y)`` of the reference (e.g. mean over N pixels).
    """
    G = np.asarray(basis, float)
    G0 = np.asarray(reference, float)
    if G.shape[-2:] != (2, 2) or G0.shape != (2, 2):
        raise InputError("basis must be (..., 2, 2) and reference (2, 2)")
    good = np.isfinite(G).all((-2, -1))
    Gs = np.where(good[..., None, None], G, np.eye(2))
    Gi = np.linalg.inv(Gs)
    F = np.swapaxes(G0 @ Gi, -1, -2)
    comp = _components(F)
    # Jacobians of the four components w.r.t. (g1x, g1y, g2x, g2y) of G and of G0
    E = np.zeros((4, 2, 2))
    E[0, 0, 0] = E[1, 1, 0] = E[2, 0, 1] = E[3, 1, 1] = 1.0
    dF = -np.swapaxes(G0 @ Gi[..., None, :, :] @ E @ Gi[..., None, :, :], -1, -2)   # (..., 4, 2, 2)
    J = np.swapaxes(_linear(dF), -1, -2)                                          # (..., 4c, 4p)
    cov = np.zeros(G.shape[:-2] + (4, 4))
    if cov_x is not None and cov_y is not None:
        cov = J @ _basis_cov(np.asarray(cov_x), np.asarray(cov_y)) @ np.swapaxes(J, -1, -2)
    if reference_cov is not None:
        dF0 = np.swapaxes(E @ Gi[..., None, :, :], -1, -2)
        J0 = np.swapaxes(_linear(dF0), -1, -2)
        cov = cov + J0 @ np.asarray(reference_cov) @ np.swapaxes(J0, -1, -2)
    nan = np.where(good, 1.0, np.nan)
    comp = comp * nan[..., None]
    cov = cov * nan[..., None, None]
    std = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0, None))
    deg = 180.0 / np.pi
    return Strain(comp[..., 0], comp[..., 1], comp[..., 2], comp[..., 3] * deg,
                  std[..., 0], std[..., 1], std[..., 2], std[..., 3] * deg, cov)


def _smooth_scan(G, size=3):
    """NaN-aware box average of ``(..., ny, nx, 2, 2)`` bases over the two scan axes."""
    from scipy.ndimage import uniform_filter

    if G.ndim < 4:
        return G
    good = np.isfinite(G).all((-2, -1))
    v = np.where(good[..., None, None], G, 0.0)
    sz = (1,) * (G.ndim - 4) + (size, size, 1, 1)
    num = uniform_filter(v, size=sz, mode="constant")
    den = uniform_filter(good.astype(float), size=sz[:-2], mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(good[..., None, None] & (den[..., None, None] > 0), num / den[..., None, None],
                        np.nan)


def _basis_at(Gm, e):
    """Basis whose symmetric strain relative to ``Gm`` is ``e = (exx, eyy, exy)`` (no rotation)."""
    F = np.array([[1 + e[0], e[2]], [e[2], 1 + e[1]]])
    return np.linalg.inv(F).T @ Gm


def auto_reference_mask(basis, *, bandwidth: float | None = None, n_iter: int = 20) -> np.ndarray:
    """The least-strained crystalline region: pixels at the dominant lattice (mode), not the median.

    The bases are box-averaged over 3×3 scan positions (noise ÷ 3), then a Gaussian mean-shift in
    strain space, started at the pixel of highest kernel density, climbs to the densest lattice — the
    unstrained bulk,
    which a misfit field decaying from interfaces leaves as the most common lattice even when the
    strained pixels shift the median [1]_. Pixels within one bandwidth of that mode are returned.

    Parameters
    ----------
    basis : array (..., 2, 2)
    bandwidth : float, optional
        Kernel width in strain units; default 1.5 × the median robust scatter of the smoothed lattice,
        at least 1e-4.

    References
    ----------
    .. [1] D. Comaniciu and P. Meer, "Mean shift: a robust approach toward feature space analysis",
       IEEE Trans. Pattern Anal. Mach. Intell. 24, 603 (2002).
    """
    G = np.asarray(basis, float)
    good = np.isfinite(G).all((-2, -1))
    if not good.any():
        raise InputError("auto reference: no pattern has a lattice fit (check disk detection)")
    Gs = _smooth_scan(G)
    ok = np.isfinite(Gs).all((-2, -1))
    vals = Gs[ok]
    Gm = np.median(vals, axis=0)

    def deviation(g0):
        # symmetric strain (exx, eyy, exy) of each pixel relative to g0; rotation is not strain
        F = np.swapaxes(g0 @ np.linalg.inv(vals), -1, -2)
        return np.stack([F[:, 0, 0] - 1, F[:, 1, 1] - 1, 0.5 * (F[:, 0, 1] + F[:, 1, 0])], -1)

    if bandwidth is None:
        d = deviation(Gm)
        mad = np.median(np.abs(d - np.median(d, 0)), 0) * 1.4826
        bandwidth = max(1.5 * float(np.median(mad)), 1e-4)
    # start at the densest pixel (kernel density over ≤ 2000 pixels), then climb by mean shift
    d = deviation(Gm)
    sub = d[np.linspace(0, len(d) - 1, min(len(d), 2000)).astype(int)]
    dens = np.exp(-0.5 * (np.linalg.norm(sub[:, None] - sub[None], axis=-1) / bandwidth) ** 2).sum(1)
    start = sub[np.argmax(dens)]
    Gm = _basis_at(Gm, start)
    for _ in range(n_iter):  # mean-shift iterations (on all pixels at once)
        k = np.exp(-0.5 * (np.linalg.norm(deviation(Gm), axis=-1) / bandwidth) ** 2)
        if k.sum() <= 0:
            break
        Gm = (k[:, None, None] * vals).sum(0) / k.sum()
    mask = np.zeros(G.shape[:-2], bool)
    mask[ok] = np.linalg.norm(deviation(Gm), axis=-1) <= bandwidth
    if not (mask & good).any():
        mask[ok] = np.linalg.norm(deviation(Gm), axis=-1) <= np.quantile(
            np.linalg.norm(deviation(Gm), axis=-1), 0.1)
    return mask & good


def reference_basis(basis, mask, *, cov_x=None, cov_y=None):
    """Mean basis over ``mask`` and the covariance of that mean (4×4 over g1x, g1y, g2x, g2y)."""
    G = np.asarray(basis, float)
    m = np.asarray(mask, bool) & np.isfinite(G).all((-2, -1))
    if m.shape != G.shape[:-2]:
        raise InputError(f"reference mask shape {m.shape} does not match the scan {G.shape[:-2]}")
    n = int(m.sum())
    if n == 0:
        raise InputError("reference mask selects no pattern with a lattice fit; choose another region")
    G0 = G[m].mean(0)
    if cov_x is not None and cov_y is not None:
        cov = _basis_cov(np.asarray(cov_x)[m], np.asarray(cov_y)[m]).sum(0) / n**2
    else:
        v = G[m].reshape(n, 4)[:, [0, 2, 1, 3]]
        cov = np.cov(v.T) / n if n > 1 else np.zeros((4, 4))
    return G0, cov


def rotate_strain(strain: Strain, angle_deg) -> dict[str, np.ndarray]:
    """Strain in an interface frame: tangential ``e_tt``, normal ``e_nn``, shear ``e_tn`` (+ std).

    ``angle_deg`` is the direction of the interface (tangent), degrees from +x towards +y, scalar or
    per pixel; the rotation θ is frame-independent. Uncertainties use the full covariance.
    """
    a = np.deg2rad(np.asarray(angle_deg, float))
    c, s = np.cos(a), np.sin(a)
    # e' = R^T e R with R = [[c, -s], [s, c]]: linear in (exx, eyy, exy)
    T = np.zeros(np.shape(a) + (3, 4))
    T[..., 0, 0], T[..., 0, 1], T[..., 0, 2] = c * c, s * s, 2 * c * s
    T[..., 1, 0], T[..., 1, 1], T[..., 1, 2] = s * s, c * c, -2 * c * s
    T[..., 2, 0], T[..., 2, 1], T[..., 2, 2] = -c * s, c * s, c * c - s * s
    e = np.stack([strain.exx, strain.eyy, strain.exy, np.deg2rad(strain.theta)], -1)
    out = np.einsum("...ij,...j->...i", T, e)
    cov = T @ strain.cov @ np.swapaxes(T, -1, -2)
    std = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0, None))
    return {"e_tt": out[..., 0], "e_nn": out[..., 1], "e_tn": out[..., 2],
            "e_tt_std": std[..., 0], "e_nn_std": std[..., 1], "e_tn_std": std[..., 2]}
