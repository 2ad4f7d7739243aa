"""The inputs of a session: frame files in order, one clock for all modalities, the bias log.

Everything here runs before any heavy compute, so that a mistake in the session description or the
files is reported at once (one line naming the TOML key, its line and the file) and nothing is
written. Files are opened lazily and read-only: only headers, shapes and metadata are touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError, PerovscopeError
from .context import FrameSource
from .session import ModalitySpec, Session

__all__ = ["SessionInputs", "resolve_inputs", "frame_files", "read_bias_log"]


@dataclasses.dataclass(frozen=True)
class SessionInputs:
    """Resolved inputs: per-modality sources, the frame table and the bias log (SI units)."""

    sources: Mapping[str, FrameSource]
    frames: xr.Dataset
    bias_log: xr.Dataset | None
    origin: dt.datetime | None
    files: tuple[Path, ...]


def frame_files(spec: ModalitySpec, session: Session) -> list[Path]:
    """The files of one modality in frame order (a glob or a list; ordered by ``frame_regex`` or name)."""
    key = f"modality.{spec.name}.files"
    paths: list[Path] = []
    for pattern in spec.files:
        full = session.root / pattern
        if glob.has_magic(pattern):
            hits = sorted(Path(p) for p in glob.glob(str(full)))
            if not hits:
                raise InputError(f"{session.where(key)}: no file matches {pattern!r} in {session.root}")
            paths.extend(hits)
        else:
            if not full.exists():
                raise InputError(f"{session.where(key)}: {full}: no such file")
            paths.append(full)
    if spec.frame_regex:
        rx = re.compile(spec.frame_regex)
        index = {}
        for p in paths:
            m = rx.search(p.name)
            if not m:
                raise InputError(f"{session.where(f'modality.{spec.name}.frame_regex')}: {p.name} does "
                                 f"not match {spec.frame_regex!r}")
            index[p] = int(m.group(1))
        order = sorted(paths, key=index.__getitem__)
        numbers = [index[p] for p in order]
        if len(set(numbers)) != len(numbers):
            dup = next(n for n in numbers if numbers.count(n) > 1)
            raise InputError(f"{session.where(f'modality.{spec.name}.frame_regex')}: frame index {dup} "
                             "captured from two files")
        return order
    return paths


def _frame_meta(source: FrameSource, index: int, session: Session) -> xr.DataArray:
    try:
        return source.read(index)
    except PerovscopeError as exc:
        raise InputError(f"{session.where(f'modality.{source.modality}.files')}: {exc}") from None


def _probe_positions(da: xr.DataArray) -> int:
    spatial = [d for d in da.dims if d in ("scan_y", "scan_x", "y", "x")]
    return int(np.prod([da.sizes[d] for d in spatial])) if spatial else 1


def _duration_s(da: xr.DataArray, spec: ModalitySpec) -> float | None:
    if spec.duration_s is not None:
        return spec.duration_s
    dwell = da.attrs.get("dwell_time_s")
    if dwell:
        return float(dwell) * _probe_positions(da)
    for key in ("real_time_s", "live_time_s"):
        if da.attrs.get(key):
            return float(da.attrs[key])
    return None


def _acquired(da: xr.DataArray) -> dt.datetime | None:
    text = da.attrs.get("acquired")
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _modality_clock(spec: ModalitySpec, metas: list[xr.DataArray], files: list[str], session: Session,
                    origin: dt.datetime | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(metas)
    where = session.where(f"modality.{spec.name}.clock")
    durations = [_duration_s(m, spec) for m in metas]
    if spec.clock == "period":
        start = spec.start_s + spec.period_s * np.arange(n)
        dur = np.array([d if d is not None else spec.period_s for d in durations])
        return start + spec.offset_s, start + spec.offset_s + dur
    stamps = [_acquired(m) for m in metas]
    for stamp, f in zip(stamps, files, strict=True):
        if stamp is None:
            raise InputError(f"{where}: {f} has no acquisition time in its metadata; give "
                             "clock = \"period\" with start_s and period_s")
    for d, f in zip(durations, files, strict=True):
        if d is None:
            raise InputError(f"{where}: {f} gives no dwell time or exposure, so its acquisition window "
                             "is unknown; set duration_s")
    ref = origin if origin is not None else stamps[0]
    start = np.array([(s - ref).total_seconds() for s in stamps]) + spec.offset_s
    return start, start + np.asarray(durations, dtype=float)


def _stack_length(src: FrameSource, session: Session) -> int:
    from ..io import find_signal, read

    try:
        obj = read(src.stack)
        da = find_signal(obj, name=src.node) if src.node else find_signal(obj, kinds=(src.modality,))
    except PerovscopeError as exc:
        raise InputError(f"{session.where(f'modality.{src.modality}.files')}: {exc}") from None
    return int(da.sizes.get("time", 1))


def _sources(session: Session) -> dict[str, tuple[FrameSource, list[str]]]:
    out = {}
    for name, spec in session.modalities.items():
        paths = frame_files(spec, session)
        if len(paths) == 1 and not any(glob.has_magic(p) for p in spec.files):
            src = FrameSource(name, stack=str(paths[0]), node=spec.node, calibration=dict(spec.calibration))
            n = _stack_length(src, session)
            out[name] = (src, [str(paths[0])] * n)
        else:
            src = FrameSource(name, files=tuple(str(p) for p in paths), node=spec.node,
                              calibration=dict(spec.calibration))
            out[name] = (src, [str(p) for p in paths])
    return out


def resolve_inputs(session: Session) -> SessionInputs:
    """Check every file of the session and build the frame table (no heavy compute).

    Raises
    ------
    InputError
        Naming the key, its line and the file: no file matching a glob, an unreadable file, frame
        counts that differ between modalities, shapes that change between frames, frames without a
        timestamp and no clock given, and every problem of the bias log (:func:`read_bias_log`).
    """
    resolved = _sources(session)
    counts = {m: len(files) for m, (_, files) in resolved.items()}
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{m}: {n}" for m, n in counts.items())
        first = next(m for m in counts if counts[m] != counts[session.reference])
        raise InputError(f"{session.where(f'modality.{first}.files')}: frame counts differ between "
                         f"modalities ({listing}); every modality needs one frame per time point")
    log_origin = session.bias_log.origin if session.bias_log else None
    origin = session.origin or log_origin
    metas_all = {}
    for m, (src, files) in resolved.items():
        metas = [_frame_meta(src, i, session) for i in range(len(files))]
        shape0 = metas[0].shape
        for meta, f in zip(metas, files, strict=True):
            if meta.shape != shape0:
                raise InputError(f"{session.where(f'modality.{m}.files')}: {f} has shape {meta.shape}, "
                                 f"the first frame {shape0}; shapes must not change between frames")
        metas_all[m] = metas
    if origin is None:
        stamps = [s for metas in metas_all.values() for s in map(_acquired, metas) if s is not None]
        origin = min(stamps) if stamps else None
    n = next(iter(counts.values()))
    frames = xr.Dataset(coords={"frame": ("time", np.arange(n))})
    for m, metas in metas_all.items():
        spec = session.modalities[m]
        t0, t1 = _modality_clock(spec, metas, resolved[m][1], session, origin)
        frames[f"t_start_s_{m}"] = ("time", t0, {"units": "s"})
        frames[f"t_end_s_{m}"] = ("time", t1, {"units": "s"})
        frames[f"file_{m}"] = ("time", np.array([Path(f).name for f in resolved[m][1]]))
        dose = [float(x.attrs.get("dose_e_per_A2", np.nan)) for x in metas]
        frames[f"dose_e_per_A2_{m}"] = ("time", np.array(dose), {"units": "e/A^2"})
    ref = session.reference
    mid = 0.5 * (frames[f"t_start_s_{ref}"].values + frames[f"t_end_s_{ref}"].values)
    frames = frames.assign_coords(time_s=("time", mid, {"units": "s"}))
    frames.attrs["origin"] = origin.isoformat() if origin else ""
    frames.attrs["reference"] = ref
    log = read_bias_log(session, origin) if session.bias_log else None
    files = tuple(sorted({Path(f) for _, fs in resolved.values() for f in fs}))
    if session.bias_log:
        files = (*files, session.bias_log.file)
    return SessionInputs(sources={m: s for m, (s, _) in resolved.items()}, frames=frames, bias_log=log,
                         origin=origin, files=files)


def read_bias_log(session: Session, origin: dt.datetime | None) -> xr.Dataset:
    """The ``[bias_log]`` CSV in SI units over ``log_time`` (s from the session origin).

    Raises
    ------
    InputError
        A missing or unreadable file, a column that is not in the file (the message lists those that
        are), a unit that is not understood, missing (empty or non-numeric) times, times that are not
        strictly increasing (naming the first offending row).
    """
    import pandas as pd

    from ..operando.clock import convert_units

    spec = session.bias_log
    if not spec.file.is_file():
        raise InputError(f"{session.where('bias_log.file')}: {spec.file}: no such file")
    try:
        table = pd.read_csv(spec.file, comment="#", sep=None, engine="python", skipinitialspace=True)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{session.where('bias_log.file')}: {spec.file.name}: not a readable CSV ({exc})"
                         ) from None
    table.columns = [str(c).strip() for c in table.columns]
    for role, column in spec.columns.items():
        if column not in table.columns:
            raise InputError(f"{session.where(f'bias_log.{role}')}: column {column!r} is not in "
                             f"{spec.file.name} (columns: {', '.join(table.columns)})")
    default_units = {"time": "s", "voltage": "V", "current": "A"}
    out = {}
    for role, column in spec.columns.items():
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        if role == "el":
            out[role] = values
            continue
        unit = spec.units.get(role, default_units[role])
        try:
            out[role] = convert_units(values, unit, default_units[role])
        except PerovscopeError as exc:
            raise InputError(f"{session.where(f'bias_log.units.{role}')}: {exc}") from None
    t = out["time"]
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise InputError(f"{session.where('bias_log.time')}: {spec.file.name} row {bad[0] + 1} has no "
                         f"time ({column_name(spec, 'time')} is empty or not a number)")
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0]) + 1
        what = "duplicated" if steps[k - 1] == 0 else "out of order"
        raise InputError(f"{session.where('bias_log.time')}: {spec.file.name} row {k + 1}: time {t[k]:g} s "
                         f"is {what} (times must increase strictly); sort or clean the log")
    shift = spec.offset_s
    if spec.origin is not None and origin is not None:
        shift += (spec.origin - origin).total_seconds()
    ds = xr.Dataset(coords={"log_time": ("log_time", t + shift, {"units": "s"})})
    ds["voltage_V"] = ("log_time", out["voltage"], {"units": "V"})
    ds["current_A"] = ("log_time", out["current"], {"units": "A"})
    if "el" in out:
        ds["el_intensity"] = ("log_time", out["el"], {"units": spec.units.get("el", "a.u.")})
    ds.attrs["file"] = spec.file.name
    return ds


def column_name(spec, role: str) -> str:
    """The CSV column playing ``role`` in the bias log."""
    return spec.columns.get(role, role)
