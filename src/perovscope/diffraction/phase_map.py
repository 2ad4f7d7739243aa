"""Phase identification per pattern: reduced 2-D lattice → best library phase/zone, confidence, Vegard x.

Each pattern's own lattice (origin + basis fitted to its disks, :func:`pattern_basis`) is reduced to
its Lagrange–Gauss form (``|a| ≤ |b|``, angle 60–90°) and compared with the reduced zone-axis lattices
of every library phase (:func:`candidate_lattices`). The misfit is a χ² over the two lengths (relative
tolerance) and the angle; cubic perovskites form one family whose lattice parameter is free between
CsPbCl₃ and CsPbBr₃ (± tolerance), which yields the pseudo-cubic lattice parameter and, by Vegard's law,
the Cl fraction. The confidence is the posterior weight of the best phase, ``exp(-χ²/2)`` normalised
over phases.

References
----------
.. [1] J. M. Zuo and J. C. H. Spence, *Advanced Transmission Electron Microscopy*, Springer (2017),
   ch. 6 (indexing zone-axis nanodiffraction patterns).
.. [2] P. Q. Nguyen and D. Stehlé, "Low-dimensional lattice basis reduction revisited", ACM Trans.
   Algorithms 5, 46 (2009) — Lagrange–Gauss reduction.
.. [3] L. Vegard, Z. Phys. 5, 17 (1921).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from ..errors import CalibrationError
from .lattice import fit_lattice, relative_disks
from .phases import (
    CSPBBR3_A_NM,
    CSPBCL3_A_NM,
    PHASE_LIBRARY,
    Phase,
    reciprocal_lattice,
    vegard_cl_fraction,
)

__all__ = ["reduce_basis", "reduced_lattice_lengths", "Candidates", "candidate_lattices", "pattern_basis",
           "PhaseMatch", "match_phases", "PEROVSKITE_FAMILY"]

#: Label of the cubic mixed-halide perovskite family (free lattice parameter).
PEROVSKITE_FAMILY = "CsPb(Br,Cl)3"


def reduce_basis(g1, g2, n_iter: int = 12):
    """Lagrange–Gauss reduction of 2-D bases ``(..., 2)``: returns ``(a, b)`` with ``|a| ≤ |b|``,
    ``|a·b| ≤ |a|²/2`` and a non-negative dot product (angle 60–90°) [2]_. Vectorised."""
    a, b = np.array(g1, float), np.array(g2, float)
    for _ in range(n_iter):  # converges in a few steps for any input
        swap = (b * b).sum(-1) < (a * a).sum(-1)
        a, b = np.where(swap[..., None], b, a), np.where(swap[..., None], a, b)
        m = np.round((a * b).sum(-1) / np.maximum((a * a).sum(-1), 1e-300))
        b = b - np.nan_to_num(m)[..., None] * a
    b = np.where(((a * b).sum(-1) < 0)[..., None], -b, b)
    return a, b


def _features(a, b):
    la, lb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cosg = np.clip((a * b).sum(-1) / (la * lb), -1, 1)
    return la, lb, np.degrees(np.arccos(cosg))


def reduced_lattice_lengths(vectors) -> np.ndarray:
    """``(|a|, |b|, γ°)`` of the reduced 2-D lattice spanned by a set of lattice vectors ``(n, 2)``."""
    v = np.asarray(vectors, float)
    n = np.linalg.norm(v, axis=-1)
    order = np.argsort(n)
    a = v[order[0]]
    cross = np.abs(a[0] * v[:, 1] - a[1] * v[:, 0]) / (n * n[order[0]] + 1e-300)
    cand = np.flatnonzero(cross > 1e-3)
    b = v[cand[np.argmin(n[cand])]]
    a, b = reduce_basis(a, b)
    return np.array(_features(a, b))


class Candidates(NamedTuple):
    """Reduced zone-axis lattices of the candidate phases (one row per phase × zone axis)."""

    phase: list          # phase name per row
    zone: np.ndarray     # (n, 3)
    a: np.ndarray        # (n,) |a| 1/nm
    b: np.ndarray        # (n,) |b| 1/nm
    gamma: np.ndarray    # (n,) degrees
    scale_min: np.ndarray
    scale_max: np.ndarray
    a_ref_nm: np.ndarray  # pseudo-cubic lattice parameter at scale 1 (NaN if not a perovskite)


def _zone_axes(max_index: int):
    out = []
    for uvw in itertools.product(range(-max_index, max_index + 1), repeat=3):
        u = np.array(uvw)
        if not u.any() or np.gcd.reduce(np.abs(u)) != 1:
            continue
        first = u[np.flatnonzero(u)[0]]
        if first < 0:
            continue
        out.append(u)
    return out


def candidate_lattices(phases=None, *, max_index: int = 1, g_max: float = 6.0,
                       tolerance: float = 0.01) -> Candidates:
    """Reduced 2-D lattices of ``phases`` (default: the whole library) down every zone ``[uvw]`` with
    ``|u|, |v|, |w| ≤ max_index``.

    Cubic perovskites are merged into :data:`PEROVSKITE_FAMILY` with a free scale covering
    CsPbCl₃ … CsPbBr₃ (± ``tolerance``).
    """
    phases = list(PHASE_LIBRARY.values()) if phases is None else [
        PHASE_LIBRARY[p] if isinstance(p, str) else p for p in phases]
    rows = []
    for ph in phases:
        assert isinstance(ph, Phase)
        family = ph.crystal_system == "cubic" and ph.pseudocubic_a_nm is not None
        name = PEROVSKITE_FAMILY if family else ph.name
        for zone in _zone_axes(max_index):
            try:
                rl = reciprocal_lattice(ph, zone, g_max)
            except Exception:  # noqa: BLE001 - a zone with no reflections is simply not a candidate
                continue
            v = np.stack([rl.gx, rl.gy], -1)
            if len(v) < 4:
                continue
            la, lb, ga = reduced_lattice_lengths(v)
            if family:
                # reciprocal lengths scale as s = a_phase / a for a in [a(CsPbCl3), a(CsPbBr3)] ± tol
                smin = ph.a / (CSPBBR3_A_NM * (1 + tolerance))
                smax = ph.a * (1 + tolerance) / CSPBCL3_A_NM
                rows.append((name, zone, la, lb, ga, smin, smax, ph.a))
            else:
                rows.append((name, zone, la, lb, ga, 1.0, 1.0, np.nan))
    # a zone of a non-cubic perovskite polymorph whose reduced lattice coincides with a cubic-family
    # lattice (no superlattice reflections in that zone) cannot be told apart: keep the cubic one
    fam = [r for r in rows if r[0] == PEROVSKITE_FAMILY]
    pseudo = {ph.name for ph in phases if ph.pseudocubic_a_nm is not None}

    def degenerate(r):
        for f in fam:
            s_ = r[2] / f[2]
            if (abs(r[4] - f[4]) < 0.5 and abs(r[3] / r[2] - f[3] / f[2]) < 5e-3
                    and f[5] * (1 - tolerance) <= s_ <= f[6] * (1 + tolerance)):
                return True
        return False

    rows = [r for r in rows if not (r[0] in pseudo and r[0] != PEROVSKITE_FAMILY and degenerate(r))]
    seen, uniq = set(), []
    for r in rows:
        key = (r[0], round(r[2], 4), round(r[3], 4), round(r[4], 2))
        if key not in seen:
            seen.add(key)
            uniq.append(r)
    cols = list(zip(*uniq, strict=True))
    return Candidates(list(cols[0]), np.array(cols[1]), *(np.array(c, float) for c in cols[2:]))


def pattern_basis(qx, qy, sigma, intensity, *, min_length: float, min_disks: int = 5):
    """Each pattern's own lattice (not the dataset's): shortest disk vector g1, shortest
    non-collinear g2, refined by the batched least-squares fit; returns a :class:`.lattice.LatticeFit`."""
    _, rx, ry = relative_disks(qx, qy, intensity)
    n = np.hypot(rx, ry)
    n = np.where(np.isfinite(n) & (n >= min_length), n, np.inf)
    i1 = np.argmin(n, -1)[..., None]
    g1 = np.stack([np.take_along_axis(rx, i1, -1)[..., 0], np.take_along_axis(ry, i1, -1)[..., 0]], -1)
    l1 = np.take_along_axis(n, i1, -1)
    cross = (g1[..., 0, None] * ry - g1[..., 1, None] * rx) / (l1 * n)
    n2 = np.where(np.abs(cross) > 0.25, n, np.inf)
    i2 = np.argmin(n2, -1)[..., None]
    g2 = np.stack([np.take_along_axis(rx, i2, -1)[..., 0], np.take_along_axis(ry, i2, -1)[..., 0]], -1)
    have = np.isfinite(l1[..., 0]) & np.isfinite(np.take_along_axis(n2, i2, -1)[..., 0])
    G = np.stack([g1, g2], -1)
    G = np.where(have[..., None, None], G, np.array([[1.0, 0.0], [0.0, 1.0]]) * 1e6)
    return fit_lattice(qx, qy, sigma, intensity, G, min_disks=min_disks)


class PhaseMatch(NamedTuple):
    """Per-pattern phase label (index into ``names``; -1 = none), confidence and lattice parameter."""

    label: np.ndarray
    names: list
    confidence: np.ndarray
    chi2: np.ndarray
    lattice_parameter_nm: np.ndarray
    cl_fraction: np.ndarray
    zone: np.ndarray


def match_phases(basis, candidates: Candidates, *, length_tol: float = 0.015,
                 angle_tol_deg: float = 1.5, strain_tol: float = 0.015, max_chi2: float = 25.0) -> PhaseMatch:
    """Match fitted bases ``(..., 2, 2)`` in 1/nm to candidate lattices.

    Parameters
    ----------
    basis : array (..., 2, 2)
        Per-pattern bases (columns g1, g2) in 1/nm (NaN = none).
    length_tol, angle_tol_deg : float
        One-σ tolerances of the reduced lengths (relative) and the angle.
    strain_tol : float
        Extra one-σ slack (relative lengths; ×57° for the angle) for the scalable perovskite family,
        whose lattice is expected to be elastically strained near interfaces (misfit ~1 %).
    max_chi2 : float
        Patterns whose best χ² exceeds this are unlabelled (-1).
    """
    G = np.asarray(basis, float)
    if np.nanmax(np.abs(G)) > 100:
        raise CalibrationError("match_phases needs bases in 1/nm: give the detector pixel size "
                               "(Calibration.pixel_size_inv_nm)")
    a, b = reduce_basis(G[..., :, 0], G[..., :, 1])
    la, lb, ga = _features(a, b)
    c = candidates
    # free scale s (lengths ∝ s) within [scale_min, scale_max]: least-squares then clip
    s = np.clip(0.5 * (la[..., None] / c.a + lb[..., None] / c.b), c.scale_min, c.scale_max)
    free = c.scale_max > c.scale_min
    lt = np.where(free, np.hypot(length_tol, strain_tol), length_tol)
    at = np.where(free, np.hypot(angle_tol_deg, np.degrees(strain_tol)), angle_tol_deg)
    chi2 = (((la[..., None] / (s * c.a) - 1) / lt) ** 2 + ((lb[..., None] / (s * c.b) - 1) / lt) ** 2
            + ((ga[..., None] - c.gamma) / at) ** 2)
    chi2 = np.where(np.isfinite(chi2), chi2, np.inf)
    names = sorted(set(c.phase))
    idx = np.array([names.index(p) for p in c.phase])
    per_phase = np.stack([np.min(np.where(idx == k, chi2, np.inf), -1) for k in range(len(names))], -1)
    best = np.argmin(per_phase, -1)
    best_chi2 = np.take_along_axis(per_phase, best[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore"):
        like = np.exp(-0.5 * (per_phase - best_chi2[..., None]))
    conf = 1.0 / np.maximum(np.nansum(like, -1), 1.0)
    row = np.argmin(chi2, -1)
    ok = best_chi2 <= max_chi2
    a_nm = np.where(ok, np.take_along_axis(s, row[..., None], -1)[..., 0] ** -1 * c.a_ref_nm[row], np.nan)
    a_nm = np.where(np.isfinite(c.a_ref_nm[row]), a_nm, np.nan)
    return PhaseMatch(np.where(ok, best, -1), names, np.where(ok, conf, 0.0), best_chi2, a_nm,
                      vegard_cl_fraction(a_nm), np.where(ok[..., None], c.zone[row], 0))
