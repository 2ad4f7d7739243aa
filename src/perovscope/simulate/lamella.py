"""Projected thickness of the FIB lamella: curtaining stripes and local thickness roughness.

A lamella thinned by a focused ion beam is never of uniform thickness. Where the beam mills through
layers of different sputter yield it leaves *curtains*: thickness stripes running along the milling
direction — here the growth direction (image rows), so the thickness varies along the layers
(image columns) and is nearly constant down each column — plus a weaker, isotropic local roughness
(redeposition, amorphised surface layers). Both scale every incoherent signal of a column:
HAADF counts (``1 - exp(-σ n t Σ c Z^n)``) and EDX counts (∝ ``n t``), and the projected fraction
of a particle (chord / thickness).

The model is a relative thickness ``t(y, x) = t₀ (1 + a_c c(x) + a_r r(y, x))`` where ``c`` and ``r``
are zero-mean, unit-RMS Gaussian-correlated random fields (correlation lengths ``ℓ_c`` along x and
``ℓ_r`` isotropic), fixed in the specimen frame (they move with the specimen under drift) and drawn
from the device seed. Defaults (5 % RMS curtains, 1.5 % RMS roughness) are typical of lamellae
thinned at 30 kV and polished at 2–5 kV [1]_ [2]_.

References
----------
.. [1] L. A. Giannuzzi and F. A. Stevie (eds.), Introduction to Focused Ion Beams, Springer (2005),
   ch. 10 (TEM specimen preparation; curtaining).
.. [2] M. Schaffer, B. Schaffer and Q. Ramasse, "Sample preparation for atomic-resolution STEM at low
   voltages by FIB", Ultramicroscopy 114, 62 (2012) — curtaining and thickness non-uniformity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, gaussian_filter1d, map_coordinates

__all__ = ["Lamella", "build_lamella", "lamella_thickness"]

_TAG_LAMELLA = 11


@dataclass(frozen=True)
class Lamella:
    """Thickness map of the lamella in the specimen frame (sampled on a regular grid)."""

    thickness_nm: float           # nominal thickness t₀
    origin_nm: tuple[float, float]
    step_nm: float
    relative: np.ndarray          # (ny, nx) relative thickness t / t₀ on the grid


def _unit_field(rng, shape, sigma_px, axes):
    f = rng.standard_normal(shape)
    if sigma_px > 0:
        f = (gaussian_filter1d(f, sigma_px, axis=axes[0], mode="wrap") if len(axes) == 1
             else gaussian_filter(f, sigma_px, mode="wrap"))
    sd = f.std()
    return (f - f.mean()) / sd if sd > 0 else np.zeros(shape)


def build_lamella(p: dict, fov_nm: tuple[float, float], *, margin_nm: float = 8.0,
                  step_nm: float = 0.25) -> Lamella:
    """Seeded thickness map covering the field of view plus ``margin_nm`` (for drift) on every side.

    Uses ``lamella_thickness_nm``, ``curtain_amplitude``, ``curtain_correlation_nm``,
    ``thickness_roughness`` and ``thickness_roughness_correlation_nm`` of ``p``; the random fields
    come from their own generator ``(seed, 11)``, so the other random streams of the device do not
    change with these parameters.
    """
    ny = int(np.ceil((fov_nm[0] + 2 * margin_nm) / step_nm)) + 1
    nx = int(np.ceil((fov_nm[1] + 2 * margin_nm) / step_nm)) + 1
    rng = np.random.default_rng([p["seed"], _TAG_LAMELLA])
    curtain = _unit_field(rng, (1, nx), p["curtain_correlation_nm"] / step_nm, axes=(1,))
    rough = _unit_field(rng, (ny, nx), p["thickness_roughness_correlation_nm"] / step_nm, axes=(0, 1))
    rel = 1.0 + p["curtain_amplitude"] * curtain + p["thickness_roughness"] * rough
    return Lamella(float(p["lamella_thickness_nm"]), (-margin_nm, -margin_nm), step_nm,
                   np.clip(rel, 0.05, None))


def lamella_thickness(lamella: Lamella | None, y, x, *, default_nm: float = 50.0) -> np.ndarray:
    """Projected thickness (nm) at specimen points ``(y, x)`` (bilinear; edge values beyond the map).

    ``lamella=None`` gives the uniform ``default_nm`` everywhere.
    """
    y = np.asarray(y, dtype=float)
    if lamella is None:
        return np.full(y.shape, float(default_nm))
    x = np.asarray(x, dtype=float)
    r = (y - lamella.origin_nm[0]) / lamella.step_nm
    c = (x - lamella.origin_nm[1]) / lamella.step_nm
    rel = map_coordinates(lamella.relative, np.stack([r.ravel(), c.ravel()]), order=1, mode="nearest")
    return lamella.thickness_nm * rel.reshape(y.shape)
