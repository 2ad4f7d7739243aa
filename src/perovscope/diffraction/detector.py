"""Detector geometry for 4D-STEM: virtual-detector masks, bad-pixel maps and their repair.

Masks are float weight images on the ``(ky, kx)`` detector grid; any number of them are stacked into one
``(n_masks, ky, kx)`` array so that every virtual image is produced in a single matrix product
(:func:`perovscope.diffraction.virtual.virtual_images`).

References
----------
.. [1] C. Ophus, "Four-dimensional scanning transmission electron microscopy (4D-STEM): from scanning
   nanodiffraction to ptychography and beyond", Microsc. Microanal. 25, 563 (2019) — virtual bright
   field / annular dark field detectors, centre of mass.
.. [2] E. J. Kirkland, *Advanced Computing in Electron Microscopy*, 3rd ed., Springer (2020), eq. 2.5 —
   relativistic electron wavelength.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = [
    "disk_mask",
    "annulus_mask",
    "stack_masks",
    "electron_wavelength_nm",
    "BadPixels",
    "find_bad_pixels",
    "repair_bad_pixels",
]


def _grid(shape, centre):
    ny, nx = shape
    cy, cx = ((ny - 1) / 2.0, (nx - 1) / 2.0) if centre is None else centre
    yy, xx = np.meshgrid(np.arange(ny) - cy, np.arange(nx) - cx, indexing="ij")
    return yy, xx


def _check_shape(shape):
    if len(shape) != 2 or min(shape) < 1:
        raise InputError(f"detector shape must be (ky, kx) with positive sizes, got {shape!r}")


def disk_mask(shape, radius: float, *, centre=None, supersample: int = 4) -> np.ndarray:
    """Bright-field disk mask with anti-aliased edges (weight = fraction of the pixel inside).

    Parameters
    ----------
    shape : (int, int)
        Detector shape ``(ky, kx)``.
    radius : float
        Radius in pixels.
    centre : (float, float), optional
        ``(row, col)`` of the disk centre; default the detector centre.
    supersample : int
        Sub-samples per pixel side used for the edge weights.
    """
    _check_shape(shape)
    if not radius > 0:
        raise InputError(f"disk radius must be > 0 px, got {radius!r}")
    return _radial_mask(shape, 0.0, float(radius), centre, supersample)


def annulus_mask(shape, inner: float, outer: float, *, centre=None, supersample: int = 4) -> np.ndarray:
    """Annular (ADF) mask between ``inner`` and ``outer`` radii in pixels, anti-aliased."""
    _check_shape(shape)
    if not 0 <= inner < outer:
        raise InputError(f"annulus radii must satisfy 0 <= inner < outer, got inner={inner}, outer={outer}")
    return _radial_mask(shape, float(inner), float(outer), centre, supersample)


def _radial_mask(shape, r0, r1, centre, s):
    yy, xx = _grid(shape, centre)
    off = (np.arange(s) + 0.5) / s - 0.5
    r = np.hypot(yy[..., None, None] + off[:, None], xx[..., None, None] + off[None, :])
    return ((r >= r0) & (r < r1)).mean(axis=(-2, -1))


def stack_masks(*masks, shape=None) -> np.ndarray:
    """Stack 2-D masks (or boolean arrays) into one float ``(n_masks, ky, kx)`` array."""
    if not masks:
        raise InputError("stack_masks: give at least one mask")
    out = np.stack([np.asarray(m, dtype=float) for m in masks])
    if out.ndim != 3 or (shape is not None and out.shape[1:] != tuple(shape)):
        raise InputError(f"masks must all be 2-D of the detector shape {shape}, got {out.shape[1:]}")
    return out


def electron_wavelength_nm(beam_energy_keV: float) -> float:
    """Relativistic electron wavelength in nm for an accelerating voltage in kV [2]_."""
    if not beam_energy_keV > 0:
        raise InputError(f"beam_energy_keV must be > 0, got {beam_energy_keV!r}")
    v = beam_energy_keV * 1e3
    return float(1.226426 / np.sqrt(v * (1.0 + 0.9784756e-6 * v)))


class BadPixels(NamedTuple):
    """Bad detector pixels: boolean mask ``(ky, kx)`` and how many of each kind were found."""

    mask: np.ndarray
    n_dead: int
    n_hot: int
    n_saturated: int


def find_bad_pixels(mean_pattern, *, max_pattern=None, saturation=None, hot_factor: float = 8.0,
                    dead_factor: float = 0.02, min_level: float = 0.5) -> BadPixels:
    """Flag dead, hot and saturated pixels from the mean (and optionally maximum) pattern.

    A pixel is *dead* if its mean is below ``dead_factor`` × the median of its 5×5 neighbourhood
    while that median exceeds ``min_level`` counts; *hot* if above ``hot_factor`` × the local median
    (plus 3 Poisson σ); *saturated* if ``max_pattern`` reaches ``saturation`` anywhere.

    Parameters
    ----------
    mean_pattern : array_like (ky, kx)
        Mean over scan positions.
    max_pattern : array_like (ky, kx), optional
        Maximum over scan positions (for saturation).
    saturation : float, optional
        Counter ceiling (e.g. 4095 for 12-bit); None: no saturation check.
    """
    from scipy.ndimage import median_filter

    m = np.asarray(mean_pattern, dtype=float)
    if m.ndim != 2:
        raise InputError(f"mean_pattern must be 2-D (ky, kx), got shape {m.shape}")
    local = median_filter(m, size=5, mode="nearest")
    dead = (m < dead_factor * local) & (local > min_level)
    hot = m > hot_factor * local + 3.0 * np.sqrt(local) + 1.0
    sat = np.zeros_like(dead)
    if saturation is not None and max_pattern is not None:
        sat = np.asarray(max_pattern) >= saturation
    mask = dead | hot | sat
    return BadPixels(mask, int(dead.sum()), int((hot & ~dead).sum()), int(sat.sum()))


def repair_bad_pixels(patterns, bad_mask) -> np.ndarray:
    """Replace bad pixels by the mean of their good 8-neighbours, pattern by pattern (vectorised).

    Parameters
    ----------
    patterns : array (..., ky, kx)
    bad_mask : bool array (ky, kx)

    Returns
    -------
    numpy.ndarray
        Float copy with bad pixels filled (0 where a pixel has no good neighbour).
    """
    p = np.array(patterns, dtype=np.float32 if np.asarray(patterns).itemsize <= 4 else np.float64)
    bad = np.asarray(bad_mask, dtype=bool)
    if not bad.any():
        return p
    ny, nx = bad.shape
    by, bx = np.nonzero(bad)
    d = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])
    ny_ = np.clip(by[:, None] + d[:, 0], 0, ny - 1)
    nx_ = np.clip(bx[:, None] + d[:, 1], 0, nx - 1)
    good = ~bad[ny_, nx_] & ~((by[:, None] + d[:, 0] < 0) | (by[:, None] + d[:, 0] >= ny)
                             | (bx[:, None] + d[:, 1] < 0) | (bx[:, None] + d[:, 1] >= nx))
    vals = p[..., ny_, nx_]                      # (..., n_bad, 8)
    n = good.sum(-1)
    fill = (vals * good).sum(-1) / np.maximum(n, 1)
    p[..., by, bx] = np.where(n > 0, fill, 0.0)
    return p
