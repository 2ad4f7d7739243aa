"""The probe template of a 4D-STEM dataset, measured from the data and cross-checked with the metadata.

The direct-beam disk of the mean pattern gives the probe's radius and edge width (a soft-disk fit,
:func:`.disk_fit.disk_model_parameters`). The metadata give a second value, ``R = α/λ`` divided by
the detector's pixel size [1]_, which is often wrong: a default convergence angle, a calibration of
another camera length. The data are what the disks look like, so the template is always built from
the measured radius and edge; the metadata value is kept beside it. When the two disagree by more
than :data:`RADIUS_TOLERANCE` a :class:`~perovscope.errors.CalibrationWarning` says so once and the
result records both. A radius given by hand (``probe_radius_px``) overrides both and is recorded.

References
----------
.. [1] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 21 (convergent-beam disks: angular radius = convergence semi-angle).
.. [2] C. Ophus, "Four-dimensional scanning transmission electron microscopy (4D-STEM): from scanning
   nanodiffraction to ptychography and beyond", Microsc. Microanal. 25, 563 (2019).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..errors import CalibrationWarning, InputError
from .calibration import Calibration, calibration_from_coords
from .detector import electron_wavelength_nm
from .disk_fit import disk_model_parameters
from .disks import synthetic_probe
from .virtual import beam_centre

__all__ = ["ProbeEstimate", "measure_probe", "estimate_probe", "RADIUS_TOLERANCE"]

#: Relative disagreement between the measured and the metadata disk radius beyond which the metadata
#: are called wrong. The half-intensity radius of a real disk differs from α/λ by the detector's
#: point-spread and by dynamical scattering near the edge by a few per cent (4.10 px against 4.31 px,
#: 5 %, on multislice patterns of CsPbBr₃ at 1.5 mrad); 10 % leaves room for that and still catches a
#: wrong convergence angle or camera length.
RADIUS_TOLERANCE = 0.10


class ProbeEstimate(NamedTuple):
    """The probe template and where its radius came from.

    ``template`` is the soft-disk image; ``radius_px``/``edge_px`` the radius and edge width used;
    ``source`` is ``"data"`` or ``"user"``; ``measured_px`` the radius fitted to the mean pattern;
    ``metadata_px`` the radius the convergence angle and the detector calibration imply (NaN without
    them); ``note`` says what disagreed (empty when nothing did).
    """

    template: np.ndarray
    radius_px: float
    edge_px: float
    source: str
    measured_px: float
    metadata_px: float
    note: str

    def attrs(self) -> dict:
        """The record kept in a result's attributes."""
        return {"probe_radius_px": self.radius_px, "probe_edge_px": self.edge_px,
                "probe_radius_source": self.source, "probe_radius_measured_px": self.measured_px,
                "probe_radius_metadata_px": self.metadata_px, "probe_note": self.note}


def _mean_pattern(da: xr.DataArray, max_patterns: int = 512) -> np.ndarray:
    """Mean of up to ``max_patterns`` patterns spread evenly over the scan (one cheap partial read)."""
    nav = da.dims[:-2]
    flat = da.stack(_p=nav) if len(nav) > 1 else da.rename({nav[0]: "_p"})
    n = flat.sizes["_p"]
    idx = np.unique(np.linspace(0, n - 1, min(n, max_patterns)).astype(int))
    return np.asarray(flat.isel(_p=idx).mean("_p").values, float)


def _measure(mean: np.ndarray) -> tuple[float, float]:
    """Radius and edge width (px) of the direct-beam disk of a mean pattern."""
    cy, cx = beam_centre(mean)
    # disk edge = steepest fall of the azimuthally averaged profile (a smooth halo never falls faster)
    yy, xx = np.indices(mean.shape)
    rb = np.round(2 * np.hypot(yy - cy, xx - cx)).astype(int)
    cnt = np.bincount(rb.ravel())
    prof = np.bincount(rb.ravel(), mean.ravel()) / np.maximum(cnt, 1)
    filled = cnt > 0                     # 0.5-px bins without a pixel centre: interpolate
    prof = np.interp(np.arange(len(prof)), np.flatnonzero(filled), prof[filled])
    n = min(len(prof), min(mean.shape))
    r_edge = 0.5 * (np.argmin(np.diff(np.convolve(prof[:n], np.ones(3) / 3, mode="same"))[1:-1]) + 1.5)
    h = int(np.ceil(1.6 * r_edge + 3))
    iy, ix = int(round(cy)), int(round(cx))
    crop = np.pad(mean - np.median(mean), h)[iy:iy + 2 * h + 1, ix:ix + 2 * h + 1]
    return disk_model_parameters(crop, radius_guess=r_edge)


def _metadata_radius(da: xr.DataArray, cal: Calibration) -> float:
    alpha, energy = da.attrs.get("convergence_semiangle_mrad"), da.attrs.get("beam_energy_keV")
    if not (alpha and energy and cal.pixel_size_inv_nm):
        return float("nan")
    return float(alpha) * 1e-3 / electron_wavelength_nm(float(energy)) / cal.pixel_size_inv_nm


def measure_probe(da: xr.DataArray, *, calibration: Calibration | None = None,
                  probe_radius_px: float | None = None) -> ProbeEstimate:
    """Measure the probe (direct-beam disk) of a 4D-STEM DataArray and cross-check the metadata.

    Parameters
    ----------
    da : xarray.DataArray ``(..., ky, kx)``
        The patterns (numpy or dask); up to 512 of them, spread over the scan, are averaged.
    calibration : Calibration, optional
        Detector calibration; default from the ``kx``/``ky`` coordinates.
    probe_radius_px : float, optional
        Radius set by hand (px): used as given, the edge width still measured.

    Returns
    -------
    ProbeEstimate

    Warns
    -----
    CalibrationWarning
        When the metadata radius (``convergence_semiangle_mrad``, ``beam_energy_keV`` and the pixel
        size) differs from the measured one by more than :data:`RADIUS_TOLERANCE`.
    """
    cal = calibration or calibration_from_coords(da)
    measured, edge = _measure(_mean_pattern(da))
    meta = _metadata_radius(da, cal)
    edge = min(max(edge, 0.3), 1.5)
    note = ""
    if np.isfinite(meta) and abs(meta - measured) > RADIUS_TOLERANCE * measured:
        note = (f"the direct-beam disk measures {measured:.2f} px but the convergence angle "
                f"({float(da.attrs['convergence_semiangle_mrad']):.3g} mrad) and the pixel size imply "
                f"{meta:.2f} px; "
                "the measured radius is used (check the convergence angle and the camera-length "
                "calibration, or set the radius with probe_radius_px / --probe-radius)")
    if probe_radius_px is not None:
        if not probe_radius_px > 0:
            raise InputError(f"probe_radius_px must be > 0 px, got {probe_radius_px!r}")
        radius, source = float(probe_radius_px), "user"
        note = ""
    else:
        radius, source = float(measured), "data"
        if note:
            warnings.warn(note, CalibrationWarning, stacklevel=3)
    return ProbeEstimate(synthetic_probe(radius, edge_px=edge), radius, float(edge), source,
                         float(measured), float(meta), note)


def estimate_probe(da: xr.DataArray, *, calibration: Calibration | None = None,
                   probe_radius_px: float | None = None) -> np.ndarray:
    """The probe template of :func:`measure_probe` (the measured disk, or the radius given)."""
    return measure_probe(da, calibration=calibration, probe_radius_px=probe_radius_px).template
