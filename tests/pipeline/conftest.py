"""Simulated device sessions run through the science steps (shared per test session)."""

from __future__ import annotations

import pytest
import xarray as xr

from perovscope.pipeline.context import StepContext
from perovscope.pipeline.steps import STEPS


def run_step(step, ctx: StepContext, results: dict, params: dict | None = None) -> xr.Dataset:
    """Run one step inline as the runner does: defaults + params, upstream results, frames stacked."""
    c = ctx.with_(params={**dict(step.defaults), **(params or {})},
                  upstream={n: results[n] for n in step.needs if n in results})
    if step.run is not None:
        return step.run(c)
    prepared = step.prepare(c) if step.prepare else {}
    frames = [step.frame(c, i, prepared) for i in range(c.n_frames)]
    ds = xr.concat(frames, dim="time", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="override")
    ds = ds.assign_coords(frame=("time", ctx.frames["frame"].values),
                          time_s=("time", ctx.frames["time_s"].values))
    return step.finish(c, ds) if step.finish else ds


def run_all(tree, params: dict | None = None) -> dict:
    """Every step of ``STEPS`` on a simulated tree; returns {step name: Dataset}."""
    ctx = StepContext.from_tree(tree)
    results: dict = {}
    for step in STEPS:
        results[step.name] = run_step(step, ctx, results, (params or {}).get(step.name))
    return results


#: The simulated session of these tests: the default device (8 frames of 30 s; HAADF 192² at 0.8 nm,
#: EDX 32² x 2048 at 4.8 nm, 4D-STEM 48² at 3.2 nm with a 96² detector), ~25 s to simulate and ~35 s
#: through every step on 2 cores. It is the smallest session at which every bar means something:
#: a 64² detector loses the emitter's higher-order disks (per-pixel strain 1.5e-3 instead of
#: 2.5e-4 rms, measured); a 24² scan (6.4 nm probes) point-samples the 0.6 nm interfaces (4D-STEM
#: registration 0.15-0.66 px); a coarser EDX grid puts the emitter's Cl into the AlCl3 window (the
#: integration starts 3 rows, 14 nm, above the Al); coarser HAADF pixels hide a critical Pb nucleus
#: (r* = 1.5 nm, ~3.5 noise sd at 0.8 nm / 100 e/A^2); fewer frames leave fewer nucleation events.
DEVICE = dict()


def _session(seed):
    from perovscope.simulate import simulate_device

    tree = simulate_device(seed=seed, **DEVICE)
    return tree, run_all(tree)


#: Seeds: the steps' choices (reference region, registration refinement, band definition, lattice
#: threshold) were tuned on seed 0 only; the tests run seed 3 (validation seeds 1-5, see
#: docs/pipeline-steps.md).
TEST_SEED = 3


@pytest.fixture(scope="session")
def device_session():
    """Validation session (seed 3, not used for tuning) through every step: (tree, results)."""
    return _session(TEST_SEED)
