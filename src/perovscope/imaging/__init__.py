"""HAADF/ADF/TEM imaging: low-dose denoising, drift and cross-modal registration, particles, fringes.

Core functions work on numpy arrays (``(..., y, x)``); the labelled wrappers in
:mod:`perovscope.imaging.labelled` take and return xarray objects with calibrated coordinates.
"""

from .affine import AffineFit, affine_from_points, compose_affine, fit_affine, invert_affine, warp_affine
from .denoise import anscombe, denoise_poisson, inverse_anscombe
from .distortion import correct_scan_lines, scan_line_shifts
from .fringes import FringeMap, FringeSpacing, fringe_amplitude, fringe_spacing, local_fringes
from .labelled import (
    calibration_affine,
    check_same_pixel_size,
    denoise,
    drift_correct,
    find_particles,
    fringe_map,
    map_kind,
    pixel_size,
    register_modalities,
    resample_to,
    stack_frames,
)
from .nucleation import (
    backtrack_nucleation,
    backtrack_nucleation_baseline,
    chord_contrast,
    count_from_nucleation,
    particle_response,
    site_contrast,
)
from .particles import (
    SizeDistribution,
    line_opening_background,
    mean_per_label,
    moment_diameters,
    particle_table,
    segment_particles,
    size_distribution,
)
from .registration import Shifts, align_frames, changing_row_weights, frame_drift, phase_correlation_shifts
from .registration_ml import drift_cramer_rao, refine_drift_poisson
from .tracking import count_per_frame, link_particles, particles_per_frame, track_summary

__all__ = [
    "AffineFit", "affine_from_points", "compose_affine", "fit_affine", "invert_affine", "warp_affine",
    "anscombe", "denoise_poisson", "inverse_anscombe", "correct_scan_lines", "scan_line_shifts",
    "FringeMap", "FringeSpacing", "fringe_amplitude", "fringe_spacing", "local_fringes",
    "calibration_affine", "check_same_pixel_size", "denoise", "drift_correct", "find_particles",
    "fringe_map", "map_kind", "pixel_size", "register_modalities", "resample_to", "stack_frames",
    "SizeDistribution", "mean_per_label", "moment_diameters", "particle_table", "segment_particles",
    "size_distribution", "line_opening_background",
    "Shifts", "align_frames", "changing_row_weights", "frame_drift", "phase_correlation_shifts",
    "drift_cramer_rao", "refine_drift_poisson",
    "count_per_frame", "link_particles", "particles_per_frame", "track_summary",
    "backtrack_nucleation", "backtrack_nucleation_baseline", "chord_contrast", "site_contrast",
    "count_from_nucleation", "particle_response",
]
