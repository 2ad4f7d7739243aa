"""perovscope.diffraction: 4D-STEM virtual detectors, Bragg disks, lattice fit, strain and phase maps.

The phase library lives in :mod:`perovscope.diffraction.phases`.
"""

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

__all__ = [
    "PHASE_LIBRARY",
    "Phase",
    "ReciprocalLattice",
    "mixed_halide_perovskite",
    "phase_from_lattice",
    "reciprocal_lattice",
    "vegard_cl_fraction",
    "vegard_lattice_parameter_nm",
]
