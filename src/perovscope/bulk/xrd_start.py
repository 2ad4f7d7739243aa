"""Start values for the whole-pattern refinement of a batch of powder patterns.

Least squares from a poor start locks onto the wrong peaks, so the refinement starts from a grid
search done for every pattern at once: the pattern of each phase alone is computed on a grid of
isotropic cell scalings and peak widths (the same grid for every pattern of a series, so it is
computed once), and each pattern takes the grid point whose pattern correlates best with its
background-subtracted counts. Scales and the Chebyshev background then follow from one batched
weighted linear least-squares solve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .xrd_model import PatternModel
from .xrd_phases import lattice_free_names

__all__ = ["rough_background", "grid_start", "linear_start"]

_WIDTHS = (0.5, 1.0, 2.0, 4.0)


def rough_background(y, x, *, window_deg: float = 3.0) -> np.ndarray:
    """A smooth lower envelope of ``y`` ``(N, n)``: moving minimum then moving mean over ``window_deg``."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    step = float(np.median(np.diff(x)))
    size = max(3, int(round(window_deg / step)) | 1)
    low = minimum_filter1d(y, size=size, axis=-1, mode="nearest")
    return uniform_filter1d(low, size=size, axis=-1, mode="nearest")


def _profile_slice(model: PatternModel, i: int):
    sl = model.slices[i]
    k = len(lattice_free_names(model.phases[i]))
    return sl.start + 1, sl.start + 1 + k, sl.start + 1 + k


def grid_start(model: PatternModel, y, p0, *, strain: float = 0.01, fwhm: float | None = None,
               n_strain: int = 41, refine_lattice: bool = True) -> np.ndarray:
    """Full start parameters ``(N, P)``: per pattern, the best cell scaling and width of each phase.

    Parameters
    ----------
    model : PatternModel
    y : ndarray (N, n)
        Counts.
    p0 : ndarray (P,)
        Default parameters (cells of the phases, widths for ``fwhm``).
    strain : float
        Half-range of the isotropic cell scaling searched (0.01 = ±1 %); 0 disables the search.
    fwhm : float, optional
        Known FWHM (deg); otherwise widths of 0.5–4 × the default are tried.
    """
    y = np.atleast_2d(y)
    nrow = y.shape[0]
    coarse = replace(model, n_fwhm=4.0)  # a correlation needs only the peak cores
    net = y - rough_background(y, model.x)
    net = net - net.mean(axis=1, keepdims=True)
    out = np.repeat(p0[None], nrow, axis=0)
    strains = np.linspace(-strain, strain, n_strain) if (strain > 0 and refine_lattice) else np.zeros(1)
    widths = np.array((1.0,) if fwhm is not None else _WIDTHS)
    for i in range(len(model.phases)):
        lat0, lat1, prof = _profile_slice(model, i)
        lengths = np.array([n in ("a", "b", "c") for n in lattice_free_names(model.phases[i])])

        def grid(f, e, i=i, lat0=lat0, lat1=lat1, prof=prof, lengths=lengths):
            q = np.repeat(p0[None], len(e), axis=0)
            q[:, model.slices[i].start] = 1.0
            q[:, lat0:lat1] = np.where(lengths, p0[lat0:lat1] * (1.0 + e[:, None]), p0[lat0:lat1])
            q[:, prof:prof + 5] = p0[prof:prof + 5] * np.stack([f * f, f * f, f * f, f, f], axis=1)
            return q

        def best_of(q, i=i):
            pats = coarse.evaluate(q, phases=[i])
            pats = pats - pats.mean(axis=1, keepdims=True)
            norm = np.linalg.norm(pats, axis=1)
            score = (net @ pats.T) / np.where(norm > 0, norm, np.inf)
            return np.argmax(score, axis=1)

        # widths first (at the tabulated cell), then the cell scaling for the widths chosen
        f_best = widths[best_of(grid(widths, np.zeros(widths.size)))]
        for f in np.unique(f_best):
            rows = f_best == f
            q = grid(np.full(strains.size, f), strains)
            pick = q[best_of(q)[rows]] if strains.size > 1 else np.repeat(q, rows.sum(), axis=0)
            out[rows, lat0:lat1] = pick[:, lat0:lat1]
            out[rows, prof:prof + 5] = pick[:, prof:prof + 5]
    return out


def linear_start(model: PatternModel, y, p, *, sigma=None, mask=None) -> np.ndarray:
    """``p`` ``(N, P)`` with scales and background from a batched weighted linear least squares."""
    y = np.atleast_2d(y)
    nrow, n = y.shape
    nph = len(model.phases)
    unit = np.empty((nrow, nph, n))
    for i, sl in enumerate(model.slices):
        q = p.copy()
        q[:, sl.start] = 1.0
        unit[:, i] = model.evaluate(q, phases=[i])
    design = np.concatenate([unit, np.broadcast_to(model.basis().T, (nrow, model.n_bkg, n))], axis=1)
    w = np.ones_like(y) if sigma is None else 1.0 / np.where(sigma > 0, sigma, np.inf) ** 2
    if mask is not None:
        w = w * mask
    col = np.sqrt(np.einsum("ikn,in,ikn->ik", design, w, design))
    col = np.where(col > 0, col, 1.0)
    dn = design / col[:, :, None]
    gram = np.einsum("ikn,in,iln->ikl", dn, w, dn) + 1e-10 * np.eye(dn.shape[1])
    rhs = np.einsum("ikn,in,in->ik", dn, w, np.where(np.isfinite(y), y, 0.0))
    coef = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0] / col
    out = p.copy()
    scales = coef[:, :nph]
    positive = np.where(scales > 0, scales, np.nan)
    floor = 1e-3 * np.nanmax(np.where(np.isfinite(positive), positive, 0.0), axis=1, keepdims=True)
    scales = np.where(scales > 0, scales, np.maximum(floor, 1e-30))
    for i, sl in enumerate(model.slices):
        out[:, sl.start] = scales[:, i]
    out[:, 2:2 + model.n_bkg] = coef[:, nph:]
    return out
