"""Thickness of a thin reaction layer from EDX quantity conservation across an interface.

A reaction layer thinner than an EDX pixel (AlCl₃ growing on an Al cathode as Cl⁻ arrives, Nature 2026,
operando PeLED study [4]_) cannot be measured from the width of its signal, and in HAADF it may have no
contrast at all. Its *amount* is still measured exactly: the EDX counts of a pixel are proportional
to the number of atoms under the beam, so summing the net counts of the layer's marker element
(Cl) down a column across the interface gives the areal density of that element, whatever the
pixel size and however the layer is smeared over pixels (pixel-area integration conserves it).

Internal-standard (ζ-factor-like) calibration: the net counts of an element ``P`` in a pixel are
``I_P = N_e s_P t n_P`` (electrons per pixel, sensitivity per atom, local thickness, atom density),
and in the bulk reference material under the layer (Al, atom density ``n_R``) ``I_R = N_e s_R t n_R``.
Dividing by the bulk reference counts *of the same column* cancels dose, solid angle and the local
lamella thickness (FIB curtaining), so

    ∫ n_P dy = Δy Σ_rows I_P / I_R,bulk × n_R × s_R / s_P,
    d = ∫ n_P dy / n_P,layer,

with ``s_R / s_P`` the sensitivity ratio (the atomic Cliff–Lorimer factor ``k_PR`` (at.), measured on
standards or computed) and ``n_P,layer`` the number density of ``P`` in the layer (Cl in AlCl₃:
3 × 11.2 = 33.6 nm⁻³ from ρ = 2.48 g/cm³, M = 133.34 g/mol; Al: 60.3 nm⁻³ from ρ = 2.70 g/cm³ [3]_).
Thin-foil assumption: no absorption or fluorescence correction [1]_ [2]_.

References
----------
.. [1] G. Cliff and G. W. Lorimer, "The quantitative analysis of thin specimens", J. Microsc. 103, 203
   (1975).
.. [2] M. Watanabe and D. B. Williams, "The quantitative analysis of thin specimens: a review of progress
   from the Cliff–Lorimer to the new ζ-factor methods", J. Microsc. 221, 89 (2006).
.. [3] W. M. Haynes (ed.), CRC Handbook of Chemistry and Physics, 97th ed. (2016) — densities of Al and
   AlCl₃.
.. [4] "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
   doi:10.1038/s41586-026-10238-8.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["ReactionLayer", "reaction_layer_thickness", "AL_ATOM_DENSITY_NM3", "ALCL3_CL_DENSITY_NM3"]

#: Al atoms per nm³ in bulk Al (2.70 g/cm³, 26.98 g/mol; CRC Handbook).
AL_ATOM_DENSITY_NM3 = 60.3
#: Cl atoms per nm³ in AlCl₃ (2.48 g/cm³, 133.34 g/mol, 3 Cl per formula unit; CRC Handbook).
ALCL3_CL_DENSITY_NM3 = 33.6


class ReactionLayer(NamedTuple):
    """Result of :func:`reaction_layer_thickness` (leading axes of the input kept).

    Attributes
    ----------
    thickness_nm : ndarray (..., x)
        Layer thickness of every column (NaN where the bulk reference is missing).
    mean_nm, sem_nm : ndarray (...)
        Mean over columns (ratio of the column sums of marker and bulk reference counts, robust at a
        few counts per pixel) and its standard error (delta method over columns).
    areal_density_nm2 : ndarray (..., x)
        Marker atoms per nm² of interface, ``∫ n_P dy``.
    interface_row : ndarray (...)
        Fractional row where the column-averaged reference signal reaches half its bulk level.
    first_row : ndarray (...) of int
        First row of the integration window (it runs to the last row).
    """

    thickness_nm: np.ndarray
    mean_nm: np.ndarray
    sem_nm: np.ndarray
    areal_density_nm2: np.ndarray
    interface_row: np.ndarray
    first_row: np.ndarray


def _half_rise_row(profile: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Last crossing of ``level/2`` going up towards the end of ``profile`` (..., y); fractional row."""
    half = level[..., None] / 2
    below = profile < half
    ny = profile.shape[-1]
    # index of the last row below half (the rise starts after it); -1 if none
    idx = np.where(below.any(axis=-1), ny - 1 - np.argmax(below[..., ::-1], axis=-1), -1)
    i0 = np.clip(idx, 0, ny - 2)
    p0 = np.take_along_axis(profile, i0[..., None], -1)[..., 0]
    p1 = np.take_along_axis(profile, (i0 + 1)[..., None], -1)[..., 0]
    frac = np.clip((half[..., 0] - p0) / np.where(p1 != p0, p1 - p0, 1.0), 0.0, 1.0)
    return np.where(idx >= 0, i0 + frac, 0.0)


def reaction_layer_thickness(product_counts, reference_counts, *, pixel_size_nm: float,
                             reference_density_nm3: float = AL_ATOM_DENSITY_NM3,
                             layer_density_nm3: float = ALCL3_CL_DENSITY_NM3,
                             sensitivity_ratio: float = 1.0, margin_px: int = 3, bulk_px: int = 2
                             ) -> ReactionLayer:
    """Thickness of a thin layer on a bulk reference from the conserved amount of its marker element.

    Parameters
    ----------
    product_counts : array_like (..., y, x)
        Background-subtracted net counts of the layer's marker line (e.g. Cl Kα) per pixel, e.g.
        ``fit_edx(...).net_counts`` of an EDX spectrum image. Rows (``y``) run along the growth
        direction with the bulk reference material at the **end** (last rows).
    reference_counts : array_like (..., y, x)
        Net counts of the reference element's line (e.g. Al Kα), same grid.
    pixel_size_nm : float
        Pixel size along ``y`` (nm).
    reference_density_nm3 : float
        Atom density of the reference element in the bulk under the layer (Al: 60.3 nm⁻³).
    layer_density_nm3 : float
        Number density of the marker element in the layer (Cl in AlCl₃: 33.6 nm⁻³).
    sensitivity_ratio : float
        ``s_R / s_P``: reference counts per reference atom over marker counts per marker atom, at equal
        dose and thickness (from standards, or ``(A_R / k_R) / (A_P / k_P)`` from Cliff–Lorimer
        k-factors relative to a common line and atomic weights A).
    margin_px : int
        Rows before the reference's half-rise included in the window (covers the layer and the
        interdiffusion tails; must stop short of any other source of the marker, e.g. an emitter).
    bulk_px : int
        Rows after the half-rise (+1 row guard) averaged as each column's bulk reference level.

    Returns
    -------
    ReactionLayer

    Raises
    ------
    InputError
        Shapes differ, fewer than ``margin_px + bulk_px + 3`` rows, or non-positive densities/sizes.

    References
    ----------
    Cliff & Lorimer (1975); Watanabe & Williams (2006).

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.r_[np.zeros(6), np.full(6, 1000.0)][:, None] * np.ones((1, 4))
    >>> cl = np.zeros_like(ref); cl[6] = 0.1 * 1000 * 33.6 / 60.3   # 0.1 px of AlCl3 in row 6
    >>> res = reaction_layer_thickness(cl, ref, pixel_size_nm=5.0)
    >>> round(float(res.mean_nm), 3)
    0.5
    """
    p = np.asarray(product_counts, dtype=float)
    r = np.asarray(reference_counts, dtype=float)
    if p.shape != r.shape or p.ndim < 2:
        raise InputError(f"product_counts {p.shape} and reference_counts {r.shape} must be (..., y, x) "
                         "maps of the same shape")
    for name, v in (("pixel_size_nm", pixel_size_nm), ("reference_density_nm3", reference_density_nm3),
                    ("layer_density_nm3", layer_density_nm3), ("sensitivity_ratio", sensitivity_ratio)):
        if not np.isfinite(v) or v <= 0:
            raise InputError(f"{name}={v!r}: must be > 0")
    ny = p.shape[-2]
    if ny < margin_px + bulk_px + 3:
        raise InputError(f"product_counts has {ny} rows: need at least margin_px + bulk_px + 3")
    profile = np.nanmean(r, axis=-1)                                   # (..., y)
    level = np.median(profile[..., -bulk_px:], axis=-1)
    row_half = _half_rise_row(profile, level)
    rows = np.arange(ny)
    first = np.clip(np.floor(row_half).astype(int) - margin_px, 0, ny - 1)
    bulk_start = np.minimum(np.ceil(row_half).astype(int) + 1, ny - bulk_px)
    in_window = rows >= first[..., None]                               # (..., y)
    in_bulk = (rows >= bulk_start[..., None]) & (rows < bulk_start[..., None] + bulk_px)
    r_bulk = (np.where(in_bulk[..., None], r, 0.0).sum(axis=-2)
              / in_bulk.sum(axis=-1)[..., None])                       # (..., x)
    summed = np.where(in_window[..., None], p, 0.0).sum(axis=-2)       # (..., x)
    scale = pixel_size_nm * reference_density_nm3 * sensitivity_ratio / layer_density_nm3
    with np.errstate(invalid="ignore", divide="ignore"):
        areal = np.where(r_bulk > 0, summed / r_bulk, np.nan) * scale * layer_density_nm3
        # mean over columns as a ratio of column sums (a mean of per-column ratios is biased and
        # unstable at a few counts per pixel); its standard error by the delta method
        ok = np.isfinite(summed) & np.isfinite(r_bulk)
        n = ok.sum(axis=-1)
        ps, rs = np.where(ok, summed, 0.0), np.where(ok, r_bulk, 0.0)
        mp, mr = ps.sum(axis=-1) / n, rs.sum(axis=-1) / n
        ratio = mp / mr
        resid = np.where(ok, ps - ratio[..., None] * rs, 0.0)
        var_ratio = (resid ** 2).sum(axis=-1) / np.maximum(n - 1, 1) / n / mr ** 2
        mean = np.where(mr > 0, ratio * scale, np.nan)
        sem = np.sqrt(var_ratio) * scale
    thick = areal / layer_density_nm3
    return ReactionLayer(thick, mean, sem, areal, row_half, first)
