"""Run a session: every step in dependency order, cached, resumable, on threads or a dask cluster.

:func:`run_session` checks the whole session before computing anything (see :mod:`.inputs`), then
runs each step whose cache key (:mod:`.cache`) differs from the one stored with its group. A step that
runs frame by frame keeps each finished frame under ``RESULTS/.work/`` so a killed run resumes inside
the step; the frames are computed in batches, on the local machine or, with ``scheduler=`` /
``workers=``, on a dask.distributed cluster (the step functions receive paths, never open files).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from .cache import Fingerprints, cache_key, canonical_json, why_ran
from .context import Step, StepContext
from .inputs import SessionInputs, resolve_inputs
from .memory import COPIES_PER_CHUNK, frames_in_flight, release_memory
from .progress_lines import StepProgress
from .session import Session, load_session
from .store import GroupCache, group_attrs, init_store, work_dir, write_dataset, write_group, write_text

__all__ = ["RunSummary", "run_session", "check_session", "all_steps", "step_options"]


@dataclasses.dataclass
class RunSummary:
    """What a run did: steps run and cached (with why), frames computed and resumed, wall time."""

    out: Path
    ran: list[str] = dataclasses.field(default_factory=list)
    cached: list[str] = dataclasses.field(default_factory=list)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)
    why: dict[str, str] = dataclasses.field(default_factory=dict)
    frames_computed: int = 0
    frames_resumed: int = 0
    seconds: float = 0.0


def all_steps() -> tuple[Step, ...]:
    """Every step of a session, in dependency order."""
    from .builtin_steps import LEADING_STEPS, TRAILING_STEPS
    from .composite_steps import COMPOSITE_STEPS
    from .steps import STEPS

    device = tuple(dataclasses.replace(s, samples=("device",)) for s in STEPS)
    return (*LEADING_STEPS, *device, *COMPOSITE_STEPS, *TRAILING_STEPS)


def step_options(steps: Sequence[Step] | None = None) -> dict[str, dict]:
    """Options of every step with their defaults (the allowed ``[analysis.<step>]`` tables)."""
    return {s.name: dict(s.defaults) for s in (all_steps() if steps is None else steps)}


def check_session(path, *, steps: Sequence[Step] | None = None) -> tuple[Session, SessionInputs]:
    """Parse and check a session description and every input file, computing nothing."""
    session = load_session(path, step_options=step_options(steps))
    return session, resolve_inputs(session)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("perovscope", "numpy", "scipy", "xarray", "dask", "zarr", "scikit-image", "rosettasciio"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _needed_files(step: Step, session: Session, inputs: SessionInputs) -> list[str]:
    files = []
    needs = tuple(inputs.sources) if step.name == "frames" else step.needs
    for need in needs:
        if need in inputs.sources:
            src = inputs.sources[need]
            files.extend(src.files or (src.stack,))
        elif need == "bias_log" and session.bias_log is not None:
            files.append(str(session.bias_log.file))
    return files


def _input_params(step: Step, session: Session) -> dict:
    """Session settings (not ``[analysis]`` options) that a step's result depends on."""
    extra = {}
    for need in step.needs:
        if need in session.modalities:
            spec = dataclasses.asdict(session.modalities[need])
            extra[f"modality.{need}"] = {k: spec[k] for k in ("calibration", "node", "frame_regex")}
    if step.name in ("frames", "bias_log"):
        extra["clock"] = {m: dataclasses.asdict(s) for m, s in session.modalities.items()}
        extra["origin"] = str(session.origin)
        if session.bias_log is not None:
            extra["bias_log"] = dataclasses.asdict(session.bias_log)
            extra["bias_log"]["file"] = session.bias_log.file.name
    if step.name in ("quantities", "grid", "interfaces", "profiles"):
        extra["layers"] = list(session.layers)
    return extra


def _missing_need(step: Step, available: set[str]) -> str | None:
    for need in step.needs:
        if need not in available and need not in step.optional:
            return need
    return None


def _frames_work(out: Path, step: Step, key: str) -> Path:
    return work_dir(out) / "frames" / f"{step.name}-{key[:16]}"


def _load_frame(path: Path) -> xr.Dataset:
    with xr.open_zarr(path, consolidated=False) as ds:
        return ds.load()


def _compute(tasks: list, scheduler) -> list:
    import dask

    return list(dask.compute(*tasks, scheduler=scheduler))


def _frame_task(frame, ctx: StepContext, index: int, prepared: dict) -> xr.Dataset:
    """One frame of a step; on a dask.distributed worker (``ctx.threads == 1``) the step's own dask
    computations run in the worker's thread, never as tasks sent back to the busy cluster."""
    with ctx.compute_scope(ctx.threads):
        return frame(ctx, index, prepared)


def _run_frames(step: Step, ctx: StepContext, *, out: Path, key: str, scheduler, batch: int,
                progress: StepProgress, summary: RunSummary) -> xr.Dataset:
    import dask

    prepared = step.prepare(ctx) if step.prepare else {}
    folder = _frames_work(out, step, key)
    folder.mkdir(parents=True, exist_ok=True)
    done = {int(p.name.split(".")[0]): p for p in folder.glob("*.frame") if (p / ".zgroup").is_file()}
    pending = [i for i in range(ctx.n_frames) if i not in done]
    summary.frames_resumed += ctx.n_frames - len(pending)
    progress.update(ctx.n_frames - len(pending))
    for start in range(0, len(pending), batch):
        chunk = pending[start:start + batch]
        tasks = [dask.delayed(_frame_task, pure=False)(step.frame, ctx, i, prepared) for i in chunk]
        for i, ds in zip(chunk, _compute(tasks, scheduler), strict=True):
            target = write_dataset(folder / f"{i:05d}.frame", ds, tmp_dir=folder)
            done[i] = target
            summary.frames_computed += 1
            progress.update()
    frames = [_load_frame(done[i]) for i in range(ctx.n_frames)]
    stacked = xr.concat(frames, dim="time", combine_attrs="override")
    return step.finish(ctx, stacked) if step.finish else stacked


def _with_time(ds: xr.Dataset, frames: xr.Dataset) -> xr.Dataset:
    if "time" in ds.dims and ds.sizes["time"] == frames.sizes["time"]:
        ds = ds.assign_coords(frame=("time", frames["frame"].values),
                              time_s=("time", frames["time_s"].values, {"units": "s"}))
    return ds


def _scheduler(scheduler: str | None, workers: int | None):
    """A context (client or None) and the dask scheduler to pass to ``dask.compute``."""
    import os

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not address and not workers:
        return None, "sync"
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError("--scheduler/--workers need dask.distributed: pip install "
                         "'perovscope[distributed]'") from exc
    if address:
        client = Client(address, set_as_default=False)
        return client, client.get
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    return client, client.get


def _parse_budget(budget) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, int) and not isinstance(budget, bool):
        value = budget
    else:
        import dask.utils

        try:
            value = int(dask.utils.parse_bytes(str(budget)))
        except (ValueError, TypeError):
            raise InputError(f"--memory-budget {budget!r}: not a size (e.g. 2GB, 512MiB)") from None
    if value <= 0:
        raise InputError(f"--memory-budget {budget!r}: must be a positive size (e.g. 2GB, 512MiB)")
    return value


def _load_previous(out: Path) -> dict:
    try:
        return json.loads((out / "provenance.json").read_text())
    except (OSError, ValueError):
        return {}


def run_session(path, *, force: Sequence[str] = (), scheduler: str | None = None,
                workers: int | None = None, memory_budget=None, quiet: bool = True,
                only: Iterable[str] | None = None, steps: Sequence[Step] | None = None) -> RunSummary:
    """Run (or resume) the session described by ``path`` into its results folder.

    Parameters
    ----------
    path : str or path-like
        The ``session.toml`` (see ``docs/session.md``).
    force : sequence of str
        Steps to run again even if cached (``"all"`` for every step).
    scheduler : str, optional
        Address of a dask.distributed scheduler (default: ``$DASK_SCHEDULER_ADDRESS``, else local).
    workers : int, optional
        Start a local dask.distributed cluster with this many single-threaded worker processes.
    memory_budget : int or str, optional
        Memory budget (bytes or ``"2GB"``) of the data in flight: sets the chunk size the 4D-STEM steps
        stream each frame in and the number of frames in flight (see :mod:`.memory`).
    quiet : bool
        No progress output.
    only : iterable of str, optional
        Run only these steps (their upstream results must be in the store already).
    steps : sequence of Step, optional
        The steps to run instead of :func:`all_steps` (custom pipelines, tests).

    Returns
    -------
    RunSummary

    Raises
    ------
    InputError
        Any problem of the description or the inputs, before anything is computed or written.
    """
    import dask

    t_run = time.perf_counter()
    steps = all_steps() if steps is None else tuple(steps)
    session, inputs = check_session(path, steps=steps)
    names = {s.name for s in steps}
    bad = [f for f in force if f != "all" and f not in names]
    if bad:
        raise InputError(f"--force {bad[0]}: no such step; steps: {', '.join(sorted(names))}")
    budget = _parse_budget(memory_budget)
    out = session.output
    out.mkdir(parents=True, exist_ok=True)
    from .. import __version__

    init_store(out, attrs={"session": session.name, "perovscope_version": __version__})
    previous = _load_previous(out)
    fps = Fingerprints(work_dir(out) / "fingerprints.json")
    summary = RunSummary(out=out)
    records, keys = {}, {}
    groups = GroupCache(out)
    available = set(inputs.sources) | ({"bias_log"} if inputs.bias_log is not None else set())
    client, sched = _scheduler(scheduler, workers)
    if client is None:      # one frame at a time, its chunks on dask's local threads
        batch, threads = 1, None
    else:                   # a frame per single-threaded worker process
        batch = frames_in_flight(budget, workers=len(client.scheduler_info()["workers"]))
        threads = 1
    share = None if budget is None else budget // batch
    cfg = {"array.chunk-size": f"{max(share // COPIES_PER_CHUNK, 1 << 20)}B"} if budget else {}
    try:
        with dask.config.set(cfg):
            for step in steps:
                if (only is not None and step.name not in only) or session.sample not in step.samples:
                    continue
                missing = _missing_need(step, available)
                if missing:
                    summary.skipped[step.name] = f"no {missing}"
                    continue
                params = {**step.defaults, **session.analysis.get(step.name, {})}
                params_key = {**params, **_input_params(step, session)}
                upstream = {n: keys[n] for n in step.needs if n in keys}
                files = fps.many(_needed_files(step, session, inputs), root=session.root)
                key = cache_key(step=step.name, params=params_key, version=__version__,
                                upstream=upstream, inputs=files)
                forced = "all" in force or step.name in force
                stored = group_attrs(out, step.name) or {}
                record = {"cache_key": key, "parameters": json.loads(canonical_json(params_key)),
                          "upstream": upstream, "inputs": files, "version": __version__}
                if not forced and stored.get("cache_key") == key:
                    summary.cached.append(step.name)
                    record.update(ran=False, why="cached")
                    StepProgress(step.name, 1, quiet=quiet).close("cached")
                else:
                    record["why"] = why_ran(previous.get("steps", {}).get(step.name), params=params_key,
                                            version=__version__, upstream=upstream, inputs=files,
                                            forced=forced)
                    _execute(step, session, inputs, out=out, key=key, params=params, record=record,
                             sched=sched, batch=batch, quiet=quiet, summary=summary, groups=groups,
                             memory={"memory_budget": share, "threads": threads})
                    if share is not None:           # a budget: hand the step's peak back before the next
                        release_memory()
                    summary.ran.append(step.name)
                summary.why[step.name] = record["why"]
                records[step.name] = record
                keys[step.name] = key
                available.add(step.name)
    finally:
        fps.save()
        if client is not None:
            client.close()
    _finish(out, session, inputs, records, previous, summary, t_run, groups)
    return summary


def _execute(step: Step, session: Session, inputs: SessionInputs, *, out: Path, key: str, params: Mapping,
             record: dict, sched, batch: int, quiet: bool, summary: RunSummary, groups: GroupCache,
             memory: Mapping | None = None) -> None:
    t0 = time.perf_counter()
    start = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    upstream = {n: groups.read(n) for n in step.needs if group_attrs(out, n) is not None}
    ctx = StepContext(params=dict(params), upstream=upstream, sources=inputs.sources, frames=inputs.frames,
                      layers=session.layers, bias_log=inputs.bias_log, **dict(memory or {}))
    progress = StepProgress(step.name, ctx.n_frames if step.frame else 1, quiet=quiet)
    resumed = summary.frames_resumed
    if step.frame is not None:
        ds = _run_frames(step, ctx, out=out, key=key, scheduler=sched, batch=batch, progress=progress,
                         summary=summary)
    else:
        ds = step.run(ctx)
        progress.update()
    ds = _with_time(ds, inputs.frames)
    ds.attrs.update(step=step.name, cache_key=key, parameters=canonical_json(dict(params)))
    write_group(out, step.name, ds)
    shutil.rmtree(_frames_work(out, step, key), ignore_errors=True)
    seconds = time.perf_counter() - t0
    progress.close(f"{seconds:.1f} s ({record['why']})")
    record.update(ran=True, start=start, end=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  seconds=round(seconds, 3), frames_resumed=summary.frames_resumed - resumed)


def _finish(out: Path, session: Session, inputs: SessionInputs, records: dict, previous: dict,
            summary: RunSummary, t_run: float, groups: GroupCache) -> None:
    from .tables import write_tables

    write_tables(out, read=groups.read)
    warnings = []
    for name in records:
        attrs = group_attrs(out, name) or {}
        for item in json.loads(attrs.get("calibration_defaults", "[]") or "[]"):
            warnings.append(f"{name}: {item.get('name')} = {item.get('value')} ({item.get('reason')})")
        warnings.extend(f"{name}: {w}" for w in json.loads(attrs.get("warnings", "[]") or "[]"))
    prov = {"session": session.name, "sample": session.sample, "source": str(session.source),
            "perovscope_version": records and next(iter(records.values()))["version"],
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "versions": _versions(),
            "inputs": {str(k): v for r in records.values() for k, v in r["inputs"].items()},
            "steps": records, "skipped": summary.skipped, "warnings": warnings,
            "truth": str(session.truth) if session.truth else None,
            "frames": int(inputs.frames.sizes["time"]), "modalities": list(inputs.sources),
            "seconds": round(time.perf_counter() - t_run, 3)}
    write_text(out / "provenance.json", json.dumps(prov, indent=2, default=_json_default))
    write_text(out / "session.toml", session.text)
    summary.seconds = time.perf_counter() - t_run


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
