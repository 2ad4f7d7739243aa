"""Detector calibration as data: optical axis, reciprocal pixel size, rotation, elliptical distortion.

A :class:`Calibration` is a small frozen dataclass that maps detector pixel positions ``(row, col)`` to
reciprocal-space vectors ``(qx, qy)`` in the scan frame; nothing is stored as hidden state — pass it to
:func:`perovscope.diffraction.analysis.strain_map` (or call :meth:`Calibration.to_reciprocal`).

References
----------
.. [1] A. Fitzgibbon, M. Pilu and R. B. Fisher, "Direct least square fitting of ellipses", IEEE Trans.
   Pattern Anal. Mach. Intell. 21, 476 (1999).
.. [2] C. Ophus, Microsc. Microanal. 25, 563 (2019) — elliptical distortion and rotation calibration
   of 4D-STEM detectors.
.. [3] E. J. Kirkland, *Advanced Computing in Electron Microscopy*, 3rd ed., Springer (2020).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import CalibrationError, InputError
from .detector import electron_wavelength_nm

__all__ = ["Calibration", "fit_ellipse", "pixel_size_from_convergence", "pixel_size_from_lattice",
           "calibration_from_coords"]


@dataclass(frozen=True)
class Calibration:
    """Detector → reciprocal-space mapping.

    Parameters
    ----------
    pixel_size_inv_nm : float or None
        Reciprocal-space size of one detector pixel (1/nm); None leaves vectors in pixels.
    centre : (float, float)
        ``(row, col)`` of the optical axis on the detector (distortion centre).
    rotation_deg : float
        Rotation from detector to scan axes (from +x towards +y).
    ellipse_ratio : float
        Minor/major axis ratio of a circle's image (1 = no distortion).
    ellipse_angle_deg : float
        Direction of the major axis on the detector, degrees from +x towards +y.
    """

    pixel_size_inv_nm: float | None = None
    centre: tuple[float, float] = (0.0, 0.0)
    rotation_deg: float = 0.0
    ellipse_ratio: float = 1.0
    ellipse_angle_deg: float = 0.0

    def __post_init__(self):
        if self.pixel_size_inv_nm is not None and not self.pixel_size_inv_nm > 0:
            raise InputError(f"pixel_size_inv_nm must be > 0, got {self.pixel_size_inv_nm!r}")
        if not 0 < self.ellipse_ratio <= 1:
            raise InputError(f"ellipse_ratio must be in (0, 1], got {self.ellipse_ratio!r}")

    @property
    def units(self) -> str:
        return "px" if self.pixel_size_inv_nm is None else "1/nm"

    @property
    def matrix(self) -> np.ndarray:
        """2×2 matrix acting on ``(dx, dy)`` pixel offsets: rotation · ellipse correction · scale."""
        a = np.deg2rad(self.ellipse_angle_deg)
        ra = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        stretch = ra @ np.diag([1.0, 1.0 / self.ellipse_ratio]) @ ra.T
        t = np.deg2rad(self.rotation_deg)
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        s = 1.0 if self.pixel_size_inv_nm is None else self.pixel_size_inv_nm
        return s * rot @ stretch

    def to_reciprocal(self, row, col, sigma_row=None, sigma_col=None):
        """``(qx, qy[, sigma])`` of detector positions; sigma is the isotropic mean std propagated."""
        m = self.matrix
        dx = np.asarray(col, float) - self.centre[1]
        dy = np.asarray(row, float) - self.centre[0]
        qx = m[0, 0] * dx + m[0, 1] * dy
        qy = m[1, 0] * dx + m[1, 1] * dy
        if sigma_row is None:
            return qx, qy
        var = 0.5 * (np.asarray(sigma_row, float) ** 2 + np.asarray(sigma_col, float) ** 2)
        scale = np.sqrt(abs(np.linalg.det(m)))   # isotropic-equivalent length scale
        return qx, qy, np.sqrt(var) * scale

    def with_(self, **changes) -> Calibration:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_attrs(self) -> dict:
        """Plain attributes for storing with results."""
        return {"pixel_size_inv_nm": self.pixel_size_inv_nm, "centre_px": list(self.centre),
                "rotation_deg": self.rotation_deg, "ellipse_ratio": self.ellipse_ratio,
                "ellipse_angle_deg": self.ellipse_angle_deg}


def fit_ellipse(row, col):
    """Least-squares ellipse through points on a distorted circle [1]_.

    Returns ``(centre (row, col), major semi-axis, minor semi-axis, angle_deg)`` where the angle is
    the major axis direction from +x towards +y. Use ``ellipse_ratio = minor/major``.
    """
    y = np.asarray(row, float).ravel()
    x = np.asarray(col, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 5:
        raise CalibrationError("fit_ellipse: need at least 5 points on the ring")
    x0, y0 = x.mean(), y.mean()
    sc = max(np.std(x), np.std(y))
    u, v = (x - x0) / sc, (y - y0) / sc
    D = np.stack([u * u, u * v, v * v, u, v, np.ones_like(u)], 1)
    _, _, vt = np.linalg.svd(D, full_matrices=False)
    A, B, C, Dd, E, F = vt[-1]
    M = np.array([[A, B / 2], [B / 2, C]])
    cu = np.linalg.solve(2 * M, [-Dd, -E])
    k = cu @ M @ cu - F
    evals, evecs = np.linalg.eigh(M / k)
    if np.any(evals <= 0):
        raise CalibrationError("fit_ellipse: points do not lie on an ellipse")
    axes = 1.0 / np.sqrt(evals) * sc          # ascending evals → major first
    major_vec = evecs[:, 0]
    angle = np.degrees(np.arctan2(major_vec[1], major_vec[0]))
    angle = (angle + 90) % 180 - 90
    centre = (float(y0 + cu[1] * sc), float(x0 + cu[0] * sc))
    return centre, float(axes[0]), float(axes[1]), float(angle)


def pixel_size_from_convergence(disk_radius_px: float, *, convergence_semiangle_mrad: float,
                                beam_energy_keV: float) -> float:
    """Reciprocal pixel size (1/nm) from the disk radius in pixels: ``α / λ / R_px`` [3]_."""
    if not disk_radius_px > 0 or not convergence_semiangle_mrad > 0:
        raise CalibrationError("pixel_size_from_convergence: radius and convergence angle must be > 0")
    return convergence_semiangle_mrad * 1e-3 / electron_wavelength_nm(beam_energy_keV) / disk_radius_px


def pixel_size_from_lattice(basis_px, phase, zone_axis) -> float:
    """Reciprocal pixel size (1/nm) matching a fitted basis (pixels) to a known phase's zone axis.

    The two shortest independent reflections of the zone (:func:`.phases.reciprocal_lattice`) are
    compared with the lengths of the fitted ``g1``, ``g2`` (sorted); their mean ratio is returned.
    """
    from .phase_map import reduced_lattice_lengths
    from .phases import reciprocal_lattice

    G = np.asarray(basis_px, float)
    lp = np.sort(np.hypot(G[0], G[1]))
    rl = reciprocal_lattice(phase, zone_axis, 50.0)
    ln = np.sort(reduced_lattice_lengths(np.stack([rl.gx, rl.gy], -1))[:2])
    return float(np.mean(ln / lp))


def calibration_from_coords(da, *, centre=None, rotation_deg: float = 0.0) -> Calibration:
    """A :class:`Calibration` from a labelled array's ``kx`` coordinate (1/nm or px)."""
    kx = da.coords.get("kx") if hasattr(da, "coords") else None
    size = None
    if kx is not None and kx.attrs.get("units") in ("1/nm", "nm^-1", "1 / nm") and kx.size > 1:
        size = float(abs(kx.values[1] - kx.values[0]))
    ny, nx = da.shape[-2:]
    centre = ((ny - 1) / 2.0, (nx - 1) / 2.0) if centre is None else tuple(float(c) for c in centre)
    return Calibration(pixel_size_inv_nm=size, centre=centre, rotation_deg=rotation_deg)
