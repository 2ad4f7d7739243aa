"""perovscope.diffraction: 4D-STEM virtual detectors, Bragg disks, lattice fit, strain and phase maps.

Labelled entry points (xarray in, xarray out, lazy over dask chunks of scan positions):
:func:`strain_map`, :func:`bragg_disks_map`, :func:`virtual_image_map`, :func:`center_of_mass_map`.
Array cores live in the submodules (:mod:`.disks`, :mod:`.lattice`, :mod:`.strain`, :mod:`.virtual`,
:mod:`.calibration`, :mod:`.phase_map`); the phase library in :mod:`.phases`, CIF import in
:mod:`.cif`. See docs/diffraction.md.
"""

from .analysis import bragg_disks_map, estimate_probe, strain_map
from .calibration import Calibration
from .cif import phase_from_cif
from .disks import BraggDisks, find_bragg_disks, synthetic_probe
from .lattice import REASONS, LatticeFit, auto_basis, fit_lattice
from .phases import (
    PHASE_LIBRARY,
    Phase,
    ReciprocalLattice,
    mixed_halide_perovskite,
    phase_from_lattice,
    reciprocal_lattice,
    vegard_cl_fraction,
    vegard_lattice_parameter_nm,
)
from .strain import Strain, rotate_strain, strain_from_basis
from .virtual import center_of_mass, center_of_mass_map, virtual_image_map, virtual_images

__all__ = [
    "PHASE_LIBRARY",
    "REASONS",
    "BraggDisks",
    "Calibration",
    "LatticeFit",
    "Phase",
    "ReciprocalLattice",
    "Strain",
    "auto_basis",
    "bragg_disks_map",
    "center_of_mass",
    "center_of_mass_map",
    "estimate_probe",
    "find_bragg_disks",
    "fit_lattice",
    "mixed_halide_perovskite",
    "phase_from_cif",
    "phase_from_lattice",
    "reciprocal_lattice",
    "rotate_strain",
    "strain_from_basis",
    "strain_map",
    "synthetic_probe",
    "vegard_cl_fraction",
    "vegard_lattice_parameter_nm",
    "virtual_image_map",
    "virtual_images",
]
