"""Lattice fit: basis vectors from the Bragg-vector map, indexing, batched weighted least squares.

Disk positions ``q`` (in ``(x, y)`` components, after calibration) of every pattern are modelled as

    q_j = o + h_j g1 + k_j g2

with origin ``o`` and basis ``G = [g1 g2]`` per pattern. The x and y components share the design row
``[1, h, k]``, so each pattern needs one 3×3 weighted normal matrix; all patterns are solved at once
(``numpy.linalg.solve`` on a stack). Weights are ``1/σ²`` of the disk positions, the covariance of the
parameters is ``s² N⁻¹`` with ``s² = χ²/(2n - 6)`` (so it stays calibrated even if the σ are off by a
common factor) [1]_.

References
----------
.. [1] C. L. Lawson and R. J. Hanson, *Solving Least Squares Problems*, SIAM (1995), ch. 1 and 7
   (weighted least squares and the covariance of the solution).
.. [2] B. H. Savitzky et al., Microsc. Microanal. 27, 712 (2021) — Bragg-vector map and lattice
   vectors for strain mapping.
.. [3] C. Ophus, Microsc. Microanal. 25, 563 (2019).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..codes import Code, names
from ..errors import FitError, InputError

__all__ = ["REASONS", "LatticeFit", "bragg_vector_map", "auto_basis", "fit_lattice", "relative_disks"]

#: Reason codes of a pattern without a lattice fit (0 = fitted; :class:`perovscope.codes.Code`).
REASONS = names((Code.OK, Code.VACUUM, Code.AMORPHOUS, Code.TOO_FEW_DISKS, Code.NOT_INDEXED, Code.FIT_FAILED))


class LatticeFit(NamedTuple):
    """Per-pattern lattice: origin ``(..., 2)`` and basis ``(..., 2, 2)`` (columns g1, g2; rows x, y).

    ``cov_x`` and ``cov_y`` are the ``(..., 3, 3)`` covariances of ``(o, g1, g2)`` x- and
    y-components (independent); ``residual`` the RMS disk residual; ``n_disks`` the disks used;
    ``reason`` a :data:`REASONS` code (NaN results where it is not 0).
    """

    origin: np.ndarray
    basis: np.ndarray
    cov_x: np.ndarray
    cov_y: np.ndarray
    residual: np.ndarray
    n_disks: np.ndarray
    reason: np.ndarray


def relative_disks(qx, qy, intensity):
    """Index of the central beam (the brightest disk) per pattern and disk vectors relative to it."""
    inten = np.where(np.isfinite(intensity), intensity, -np.inf)
    i0 = np.argmax(inten, axis=-1)[..., None]
    ox = np.take_along_axis(qx, i0, -1)
    oy = np.take_along_axis(qy, i0, -1)
    return i0[..., 0], qx - ox, qy - oy


def bragg_vector_map(qx, qy, intensity, *, bin_size: float = 0.5, extent: float | None = None):
    """Histogram of disk vectors relative to each pattern's central beam (the Bragg-vector map).

    Returns ``(counts, edges)`` with ``counts[iy, ix]`` over bins of ``bin_size`` centred on 0.
    """
    _, rx, ry = relative_disks(qx, qy, intensity)
    ok = np.isfinite(rx) & np.isfinite(ry)
    rx, ry = rx[ok], ry[ok]
    extent = float(np.max(np.abs(np.concatenate([rx, ry, [1.0]])))) + bin_size if extent is None else extent
    n = int(np.ceil(extent / bin_size))
    edges = (np.arange(-n, n + 2) - 0.5) * bin_size
    counts, _, _ = np.histogram2d(ry, rx, bins=(edges, edges))
    return counts, edges


def _map_peaks(vx, vy, pattern, cell, n_pat, min_fraction):
    """Peaks of the Bragg-vector map: vectors clustered on a grid of ``cell``, neighbours within two
    cells merged by greedy peak picking; a peak's weight is the number of patterns that show it.
    Returns ``(peaks (p, 2), weights (p,), label per vector (-1: none))``."""
    key = np.round(np.stack([vx, vy], -1) / cell).astype(np.int64)
    uniq, inv, cnt = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    peaks, weights = [], []
    label = np.full(len(vx), -1)
    taken = np.zeros(len(uniq), bool)
    for i in np.argsort(-cnt):  # loop over candidate peaks (a few dozen), not pixels
        if taken[i] or cnt[i] < max(2, min_fraction * n_pat * 0.2):
            continue
        near = np.abs(uniq - uniq[i]).max(-1) <= 2
        taken |= near
        sel = near[inv] & (label < 0)
        n_sel = len(np.unique(pattern[sel]))
        if n_sel >= min_fraction * n_pat:
            label[sel] = len(peaks)
            peaks.append([vx[sel].mean(), vy[sel].mean()])
            weights.append(n_sel)
    return np.array(peaks).reshape(-1, 2), np.array(weights, float), label


def auto_basis(qx, qy, intensity, *, min_length: float, min_fraction: float = 0.05) -> np.ndarray:
    """Basis ``G`` (2×2, columns g1, g2) of the dominant lattice in the Bragg-vector map.

    The most frequent peak of the map (the lattice seen in the most patterns) and the most frequent
    non-collinear peak among the patterns showing it select the patterns of the dominant lattice; the
    peaks seen in at least half of those patterns are candidates (so the reflections of other phases,
    e.g. of a contact layer on a large detector, do not enter); g1 is
    the shortest (the most +x-pointing among equally short ones), g2 the shortest
    non-collinear one turning from g1 towards +y; both are then refined by least squares over all
    indexed peaks.

    Raises
    ------
    FitError
        When fewer than two non-collinear lattice peaks are found.
    """
    _, rx, ry = relative_disks(qx, qy, intensity)
    ok = np.isfinite(rx) & np.isfinite(ry) & (np.hypot(rx, ry) >= min_length)
    vx, vy = rx[ok], ry[ok]
    if len(vx) < 2:
        raise FitError("auto_basis: fewer than two Bragg disks in the whole dataset; pass the basis")
    # cells of a quarter of the disk diameter, peaks merged within ±1 disk radius: reflections of
    # different phases stay apart while one reflection's spread over a strained map (≲ 2 % of |g|)
    # falls within one peak
    cell = 0.25 * min_length
    pattern = np.nonzero(ok.reshape(-1, ok.shape[-1]))[0]
    axes = []
    # the dominant lattice's patterns: those showing its most frequent reflection, then also its most
    # frequent non-collinear one (one reflection alone may be shared with another phase)
    for _ in range(2):
        peaks, weights, label = _map_peaks(vx, vy, pattern, cell, len(np.unique(pattern)), min_fraction)
        length = np.hypot(peaks[:, 0], peaks[:, 1])
        new = [i for i in np.argsort(-weights) if all(
            abs(peaks[i, 0] * a[1] - peaks[i, 1] * a[0]) > 0.3 * length[i] * np.hypot(*a) for a in axes)]
        if not new:
            break
        axes.append(peaks[new[0]])
        mine = np.isin(pattern, pattern[label == new[0]])
        vx, vy, pattern = vx[mine], vy[mine], pattern[mine]
    peaks, weights, _ = _map_peaks(vx, vy, pattern, cell, len(np.unique(pattern)), min_fraction)
    # its reflections appear in most of those patterns, another phase's (a probe straddling both) in
    # the rest
    strong = weights >= 0.5 * weights.max(initial=0)
    peaks, weights = peaks[strong], weights[strong]
    if len(peaks) < 2:
        raise FitError("auto_basis: the Bragg-vector map has fewer than two lattice peaks; pass basis=")
    length = np.hypot(peaks[:, 0], peaks[:, 1])
    short = length <= length.min() * 1.05
    i1 = np.flatnonzero(short)[np.argmax(peaks[short, 0] / length[short])]
    g1 = peaks[i1]
    cross = (g1[0] * peaks[:, 1] - g1[1] * peaks[:, 0]) / (length[i1] * length)
    cand = np.flatnonzero(cross > 0.3)
    if len(cand) == 0:
        raise FitError("auto_basis: no second, non-collinear lattice peak in the Bragg-vector map")
    lc = length[cand]
    cand = cand[lc <= lc.min() * 1.05]
    g2 = peaks[cand[np.argmax(cross[cand])]]
    G = np.stack([g1, g2], axis=1)
    for _ in range(2):  # refine on every peak that indexes
        hk = np.linalg.solve(G, peaks.T).T
        hk_r = np.round(hk)
        good = (np.abs(hk - hk_r).max(-1) < 0.2) & (np.abs(hk_r).sum(-1) > 0)
        A, w = hk_r[good], weights[good]
        G = np.linalg.lstsq(A * np.sqrt(w)[:, None], peaks[good] * np.sqrt(w)[:, None], rcond=None)[0].T
    return G


def _solve(qx, qy, w, hk):
    """Weighted LSQ of q = o + h g1 + k g2 for all patterns; returns params (…,3) x/y and N⁻¹."""
    A = np.concatenate([np.ones(hk.shape[:-1] + (1,)), hk], -1)           # (..., n, 3)
    N = np.einsum("...n,...ni,...nj->...ij", w, A, A)
    ok = np.linalg.det(N) > 1e-9 * np.maximum(np.einsum("...ii->...", N), 1e-300) ** 3
    Ns = np.where(ok[..., None, None], N, np.eye(3))
    Ni = np.linalg.inv(Ns)
    bx = np.einsum("...n,...ni,...n->...i", w, A, np.nan_to_num(qx))
    by = np.einsum("...n,...ni,...n->...i", w, A, np.nan_to_num(qy))
    return (Ni @ bx[..., None])[..., 0], (Ni @ by[..., None])[..., 0], Ni, ok, A


def fit_lattice(qx, qy, sigma, intensity, basis, *, min_disks: int = 5, tolerance: float = 0.25,
                outlier_sigma: float = 4.0, max_reduced_chi2: float = 100.0,
                min_indexed_fraction: float = 0.5, max_deformation: float = 0.1) -> LatticeFit:
    """Index the disks of every pattern on ``basis`` and fit origin + basis per pattern (batched).

    Parameters
    ----------
    qx, qy : array (..., n)
        Disk positions (calibrated detector frame; NaN = no disk).
    sigma : array (..., n) or None
        Position standard uncertainty of each disk (same units); None = equal weights.
    intensity : array (..., n)
        Disk intensities (the brightest disk is taken as the central beam to start indexing).
    basis : array (2, 2) or (..., 2, 2)
        Starting basis (columns g1, g2), e.g. from :func:`auto_basis`, or one per pattern.
    min_disks : int
        Minimum indexed disks (central beam included) for a fit; fewer gives reason
        ``too_few_disks`` (or ``not_indexed`` when disks exist but do not fit the lattice).
    tolerance : float
        Largest distance of an indexed disk from its lattice site, in units of ``min |g|``.
    outlier_sigma : float
        Disks whose normalised residual exceeds this are dropped before the final fit.
    max_reduced_chi2 : float
        Fits whose ``χ²/dof`` exceeds this (disks far off the lattice compared with their σ, e.g.
        another phase forced onto this lattice) are rejected as ``not_indexed``. The ML disk σ are
        near the Cramér–Rao bound, so a probe straddling a lattice gradient or a particle edge gives
        χ²/dof of 25–100 while its disks still index coherently; the fit's covariance is scaled by
        ``s² = χ²/dof``, so such pixels carry a correspondingly larger uncertainty. Other phases are
        caught by ``min_indexed_fraction`` and ``max_deformation``.
    min_indexed_fraction : float
        Minimum fraction of a pattern's disks that must index (else ``not_indexed``).
    max_deformation : float
        Largest ``‖G_fit G⁻¹ - I‖`` (max element) accepted relative to ``basis``; beyond it the disks
        belong to another lattice (``not_indexed``).
    """
    qx, qy = np.asarray(qx, float), np.asarray(qy, float)
    G = np.asarray(basis, float)
    if G.shape[-2:] != (2, 2) or np.any(np.abs(np.linalg.det(G)) < 1e-12):
        raise InputError("basis must be a non-singular 2×2 matrix (columns g1, g2), or one per pattern")
    sig = np.ones_like(qx) if sigma is None else np.asarray(sigma, float)
    valid = np.isfinite(qx) & np.isfinite(qy) & np.isfinite(sig) & (sig > 0)
    w0 = np.where(valid, 1.0 / np.where(valid, sig, 1.0) ** 2, 0.0)
    i0, rx, ry = relative_disks(np.where(valid, qx, np.nan), np.where(valid, qy, np.nan),
                                np.where(valid, intensity, np.nan))
    lead = qx.shape[:-1]
    Gp = np.broadcast_to(G, lead + (2, 2))
    tol = tolerance * np.min(np.hypot(Gp[..., 0, :], Gp[..., 1, :]), -1)[..., None]
    ox = np.take_along_axis(qx, i0[..., None], -1)[..., 0]
    oy = np.take_along_axis(qy, i0[..., None], -1)[..., 0]
    w = w0
    rpx = rpy = np.zeros_like(qx)
    s2 = np.full(lead, np.inf)
    for it in range(3):  # index → fit → re-index with the pattern's own basis → drop outliers
        Gi = np.linalg.inv(Gp)
        dx, dy = qx - ox[..., None], qy - oy[..., None]
        hk = np.stack([Gi[..., 0, 0, None] * dx + Gi[..., 0, 1, None] * dy,
                       Gi[..., 1, 0, None] * dx + Gi[..., 1, 1, None] * dy], -1)
        hk = np.round(np.nan_to_num(hk, nan=1e6))
        px_ = ox[..., None] + Gp[..., 0, 0, None] * hk[..., 0] + Gp[..., 0, 1, None] * hk[..., 1]
        py_ = oy[..., None] + Gp[..., 1, 0, None] * hk[..., 0] + Gp[..., 1, 1, None] * hk[..., 1]
        near = valid & (np.hypot(qx - px_, qy - py_) < tol)
        if it == 2:
            near &= np.hypot(qx - rpx, qy - rpy) / sig <= outlier_sigma * np.sqrt(s2)[..., None]
        w = np.where(near, w0, 0.0)
        px, py, Ni, ok, A = _solve(qx, qy, w, hk)
        n_used = near.sum(-1)
        ok &= n_used >= min_disks
        ox, oy = np.where(ok, px[..., 0], ox), np.where(ok, py[..., 0], oy)
        newG = np.stack([np.stack([px[..., 1], px[..., 2]], -1), np.stack([py[..., 1], py[..., 2]], -1)], -2)
        Gp = np.where(ok[..., None, None], newG, Gp)
        rpx = np.einsum("...ni,...i->...n", A, px)
        rpy = np.einsum("...ni,...i->...n", A, py)
        chi2 = (w * np.nan_to_num((qx - rpx) ** 2 + (qy - rpy) ** 2)).sum(-1)
        dof = np.maximum(2 * n_used - 6, 1)
        s2 = np.where(n_used > 3, chi2 / dof, np.inf)
    resid = np.sqrt(np.where(near, (qx - rpx) ** 2 + (qy - rpy) ** 2, 0).sum(-1) / np.maximum(n_used, 1))
    n_valid = valid.sum(-1)
    ok &= (s2 <= max_reduced_chi2) & (n_used >= min_indexed_fraction * n_valid)
    G_start = np.broadcast_to(G, lead + (2, 2))
    with np.errstate(invalid="ignore"):
        dev = np.abs(Gp @ np.linalg.inv(G_start) - np.eye(2)).max((-2, -1))
    ok &= dev <= max_deformation
    reason = np.where(ok, REASONS["ok"], np.where(n_valid >= min_disks, REASONS["not_indexed"],
                                                  REASONS["too_few_disks"])).astype(np.uint8)
    nanm = np.where(ok, 1.0, np.nan)
    cov_x = np.where(ok, s2, np.nan)[..., None, None] * Ni
    cov_y = cov_x.copy()
    origin = np.stack([ox, oy], -1) * nanm[..., None]
    return LatticeFit(origin, Gp * nanm[..., None, None], cov_x, cov_y, resid * nanm, n_used * ok,
                      reason)
