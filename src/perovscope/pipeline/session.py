"""The session description (``session.toml``): parsing and checking its structure.

See ``docs/session.md`` for the format. :func:`load_session` parses the TOML with the standard
library's :mod:`tomllib`, refuses unknown keys (with a did-you-mean and the line number), checks
the type of every value and resolves paths relative to the TOML file. What needs the files (frame
counts, shapes, timestamps, the bias log's columns) is checked by :mod:`.inputs`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from .toml_keys import check_keys, key_lines, where

__all__ = ["Session", "ModalitySpec", "BiasLogSpec", "load_session", "MODALITIES"]

#: Modalities a session may hold, in the order they are analysed.
MODALITIES = ("4dstem", "haadf", "eds", "eels", "cl")

_SESSION_KEYS = {"name": str, "output": str, "layers": list, "reference": str, "truth": str, "origin": str,
                 "sample": str}
#: Kinds of session: an operando device cross-section, or particles in a matrix (composite, glass).
SAMPLES = ("device", "composite")
_MODALITY_KEYS = {"files": (str, list), "frame_regex": str, "node": str, "clock": str, "start_s": float,
                  "period_s": float, "offset_s": float, "duration_s": float, "calibration": dict}
_CALIBRATION_KEYS = {"pixel_size_nm": float, "beam_energy_keV": float, "convergence_semiangle_mrad": float,
                     "dose_e_per_A2": float, "dwell_time_s": float}
_BIAS_KEYS = {"file": str, "time": str, "voltage": str, "current": str, "el": str, "units": dict,
              "origin": str, "offset_s": float}
_BIAS_UNIT_KEYS = {"time": str, "voltage": str, "current": str, "el": str}
_CLOCKS = ("metadata", "period")


@dataclasses.dataclass(frozen=True)
class ModalitySpec:
    """One ``[modality.<name>]`` table, with ``files`` still as written (resolved by :mod:`.inputs`)."""

    name: str
    files: tuple[str, ...]
    frame_regex: str | None = None
    node: str | None = None
    clock: str = "metadata"
    start_s: float = 0.0
    period_s: float | None = None
    offset_s: float = 0.0
    duration_s: float | None = None
    calibration: Mapping[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class BiasLogSpec:
    """The ``[bias_log]`` table: file, column names, units and time origin."""

    file: Path
    columns: Mapping[str, str]            # role (time, voltage, current, el) -> column name
    units: Mapping[str, str]
    origin: dt.datetime | None = None
    offset_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class Session:
    """A parsed session description.

    Attributes
    ----------
    source : pathlib.Path
        The TOML file (paths inside are relative to its folder).
    lines : dict
        Line of every key, for error messages (see :func:`.toml_keys.key_lines`).
    """

    source: Path
    name: str
    sample: str
    output: Path
    layers: tuple[str, ...]
    reference: str
    truth: Path | None
    origin: dt.datetime | None
    modalities: Mapping[str, ModalitySpec]
    bias_log: BiasLogSpec | None
    analysis: Mapping[str, Mapping[str, Any]]
    lines: Mapping[str, int]
    text: str

    @property
    def root(self) -> Path:
        """The folder the TOML file is in."""
        return self.source.parent

    def where(self, path: str) -> str:
        """Error-message prefix naming key ``path`` with its line."""
        return where(path, self.lines, self.source.name)


def _typed(value, kind, path: str, lines, source) -> Any:
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(kind, tuple) and isinstance(value, kind):
        return value
    if kind is not float and not isinstance(kind, tuple) and isinstance(value, kind):
        return value
    names = {str: "a string", float: "a number", list: "a list", dict: "a table"}
    want = " or ".join(names[k] for k in (kind if isinstance(kind, tuple) else (kind,)))
    raise InputError(f"{where(path, lines, source)}: must be {want}, not {value!r}")


def _table(doc: Mapping, schema: Mapping, path: str, lines, source) -> dict:
    check_keys(doc, schema, table=path, lines=lines, source=source)
    return {k: _typed(v, schema[k], f"{path}.{k}", lines, source) for k, v in doc.items()}


def _iso(text: str, path: str, lines, source) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where(path, lines, source)}: {text!r} is not an ISO 8601 date-time "
                         "(e.g. 2026-03-11T10:00:00)") from None


def _modality(name: str, doc: Mapping, lines, source) -> ModalitySpec:
    base = f"modality.{name}"
    m = _table(doc, _MODALITY_KEYS, base, lines, source)
    if "files" not in m:
        raise InputError(f"{where(base, lines, source)}: missing key 'files' (a glob or a list of paths)")
    files = (m["files"],) if isinstance(m["files"], str) else tuple(m["files"])
    if not files or not all(isinstance(f, str) for f in files):
        raise InputError(f"{where(base + '.files', lines, source)}: must be a glob or a list of paths")
    clock = m.get("clock", "metadata")
    if clock not in _CLOCKS:
        raise InputError(f"{where(base + '.clock', lines, source)}: {clock!r} is not a clock; use "
                         f"\"metadata\" (times from the files) or \"period\" (with start_s and period_s)")
    if clock == "period" and "period_s" not in m:
        raise InputError(f"{where(base + '.clock', lines, source)}: clock = \"period\" needs period_s")
    for key in ("period_s", "duration_s"):
        if key in m and not m[key] > 0:
            raise InputError(f"{where(f'{base}.{key}', lines, source)}: must be > 0, not {m[key]}")
    cal = _table(m.get("calibration", {}), _CALIBRATION_KEYS, base + ".calibration", lines, source)
    for key, value in cal.items():
        if not value > 0:
            raise InputError(f"{where(f'{base}.calibration.{key}', lines, source)}: must be > 0")
    if "frame_regex" in m:
        import re
        try:
            if re.compile(m["frame_regex"]).groups < 1:
                raise re.error("no capturing group")
        except re.error as exc:
            raise InputError(f"{where(base + '.frame_regex', lines, source)}: not a regex with one "
                             f"capturing group for the frame index ({exc})") from None
    return ModalitySpec(name=name, files=files, frame_regex=m.get("frame_regex"), node=m.get("node"),
                        clock=clock, start_s=m.get("start_s", 0.0), period_s=m.get("period_s"),
                        offset_s=m.get("offset_s", 0.0), duration_s=m.get("duration_s"), calibration=cal)


def _bias_log(doc: Mapping, root: Path, lines, source) -> BiasLogSpec:
    b = _table(doc, _BIAS_KEYS, "bias_log", lines, source)
    for key in ("file", "time", "voltage", "current"):
        if key not in b:
            raise InputError(f"{where('bias_log', lines, source)}: missing key {key!r}")
    units = _table(b.get("units", {}), _BIAS_UNIT_KEYS, "bias_log.units", lines, source)
    columns = {role: b[role] for role in ("time", "voltage", "current", "el") if role in b}
    origin = _iso(b["origin"], "bias_log.origin", lines, source) if "origin" in b else None
    return BiasLogSpec(file=root / b["file"], columns=columns, units=units, origin=origin,
                       offset_s=b.get("offset_s", 0.0))


def load_session(path, *, step_options: Mapping[str, Mapping[str, Any]] | None = None) -> Session:
    """Parse and check ``session.toml``.

    Parameters
    ----------
    path : str or path-like
        The session description.
    step_options : mapping, optional
        Allowed ``[analysis.<step>]`` tables and their options with defaults (the pipeline's steps);
        unknown steps and options are refused with a did-you-mean.

    Raises
    ------
    InputError
        Naming the file, the line and the key: a syntax error, an unknown key, a value of the wrong
        type, a missing key.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source}: no such session description; write one with `perovscope init DIR`")
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a text file (a session description is TOML, e.g. "
                         "session.toml)") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source.name}: not valid TOML ({exc})") from None
    lines, name = key_lines(text), source.name
    check_keys(doc, ("session", "modality", "bias_log", "analysis"), table="", lines=lines, source=name)
    s = _table(doc.get("session", {}), _SESSION_KEYS, "session", lines, name)
    mods = doc.get("modality", {})
    check_keys(mods, MODALITIES, table="modality", lines=lines, source=name)
    if not mods:
        raise InputError(f"{name}: no [modality.<name>] table; add one of {', '.join(MODALITIES)}")
    modalities = {m: _modality(m, mods[m], lines, name) for m in MODALITIES if m in mods}
    reference = s.get("reference", "haadf" if "haadf" in modalities else next(iter(modalities)))
    if reference not in modalities:
        raise InputError(f"{where('session.reference', lines, name)}: {reference!r} is not a modality "
                         f"of this session ({', '.join(modalities)})")
    analysis = {}
    for step, opts in doc.get("analysis", {}).items():
        if step_options is not None:
            check_keys([step], step_options, table="analysis", lines=lines, source=name)
            analysis[step] = _table(opts, {k: object for k in step_options[step]}, f"analysis.{step}",
                                    lines, name)
        else:
            analysis[step] = dict(opts)
    sample = s.get("sample", "device")
    if sample not in SAMPLES:
        raise InputError(f"{where('session.sample', lines, name)}: {sample!r} is not a kind of session; "
                         f"use one of {', '.join(SAMPLES)}")
    layers = tuple(s.get("layers", ()))
    if not all(isinstance(x, str) for x in layers):
        raise InputError(f"{where('session.layers', lines, name)}: must be a list of layer names")
    return Session(
        source=source.resolve(), name=s.get("name", source.parent.name), text=text, sample=sample,
        output=(source.parent / s.get("output", "results")).resolve(), layers=layers, reference=reference,
        truth=(source.parent / s["truth"]).resolve() if "truth" in s else None,
        origin=_iso(s["origin"], "session.origin", lines, name) if "origin" in s else None,
        modalities=modalities, analysis=analysis, lines=lines,
        bias_log=_bias_log(doc["bias_log"], source.parent, lines, name) if "bias_log" in doc else None)
