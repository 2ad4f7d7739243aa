"""The science steps of ``perovscope run``, in dependency order (see docs/pipeline-steps.md).

Each step is a :class:`perovscope.pipeline.context.Step` of plain functions that call the areas
(diffraction, spectroscopy, imaging, interfaces) and return one Dataset in the layout of
docs/results-store.md. Per-frame steps return one frame (no ``time`` dimension); the runner stacks
them along ``time``.
"""

from __future__ import annotations

from ..context import Step
from . import diffraction, grid, imaging, interfaces, quantities, registration, spectroscopy

__all__ = ["STEPS", "STEP_NAMES"]

STEPS: tuple[Step, ...] = (
    Step("strain", needs=("4dstem",), defaults=diffraction.DEFAULTS, prepare=diffraction.prepare,
         frame=diffraction.frame,
         description="strain, rotation, phase, crystallinity, Vegard Cl fraction (one session reference)"),
    Step("edx", needs=("eds",), defaults=spectroscopy.DEFAULTS, frame=spectroscopy.frame,
         description="EDX quantification (at.%, Cl/(Cl+Br)) and AlCl3 thickness at the cathode"),
    Step("drift", needs=("haadf",), defaults=imaging.DRIFT_DEFAULTS, run=imaging.run_drift,
         description="HAADF drift and the aligned stack (the session grid)"),
    Step("particles", needs=("drift",), defaults=imaging.PARTICLE_DEFAULTS, run=imaging.run_particles,
         description="particles in the aligned HAADF series, tracked, classified Pb / cluster"),
    Step("nucleation", needs=("particles",), defaults={}, run=imaging.run_nucleation,
         description="nucleation site, frame and time of every particle track"),
    Step("registration", needs=("haadf", "drift", "eds", "4dstem"), optional=("eds", "4dstem"),
         defaults=registration.DEFAULTS, frame=registration.frame, finish=registration.finish,
         description="affine of every modality onto the grid per frame, with its quality"),
    Step("grid", needs=("drift", "registration", "strain", "edx"), optional=("strain", "edx"),
         defaults=grid.DEFAULTS, frame=grid.frame,
         description="maps resampled onto the grid; layer labels and interface lines"),
    Step("interfaces", needs=("grid",), defaults=interfaces.INTERFACE_DEFAULTS,
         frame=interfaces.interfaces_frame, description="interface positions and interdiffusion widths"),
    Step("profiles", needs=("grid",), defaults=interfaces.PROFILE_DEFAULTS, frame=interfaces.profiles_frame,
         description="profiles of every grid quantity across every interface"),
    Step("quantities",
         needs=("grid", "registration", "interfaces", "strain", "edx", "particles", "nucleation"),
         optional=("strain", "edx", "particles", "nucleation"), defaults=quantities.DEFAULTS,
         frame=quantities.frame, description="per-frame interface-resolved timeline columns"),
)

STEP_NAMES = tuple(s.name for s in STEPS)
