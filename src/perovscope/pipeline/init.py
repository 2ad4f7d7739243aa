"""``perovscope init DIR``: inspect a folder of instrument files and write a commented session.toml.

Files are grouped by folder and extension; the first file of each group is opened lazily to learn
its kind (4D-STEM, HAADF, EDX, ...), shape and acquisition time. A CSV whose header names a time, a
voltage and a current column is taken as the bias log, and its columns and units are guessed from
the header. Everything guessed is written as a commented, editable suggestion.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from ..errors import InputError, PerovscopeError
from .session import MODALITIES
from .store import write_text

__all__ = ["init_session", "scan_folder"]

_LOG_ROLES = {"time": r"^(t|time)\b|^t[_ (]", "voltage": r"^(u|v|volt)", "current": r"^(i|curr)",
              "el": r"^(el|lum|pd|photo)"}
_UNIT = re.compile(r"[\[(_ ](m?s|min|h|[mµu]?v|kv|[mµunp]?a|counts|a\.u\.)[\])]?$", re.IGNORECASE)


def _kind(path: Path):
    from ..io import iter_signals, read

    try:
        obj = read(path)
    except PerovscopeError:
        return None
    for _, da in iter_signals(obj):
        kind = da.attrs.get("signal")
        if kind in MODALITIES:
            return kind, da
    return None


def _log_columns(path: Path) -> dict | None:
    try:
        header = next(line for line in path.read_text(errors="replace").splitlines()
                      if line.strip() and not line.startswith("#"))
    except (OSError, StopIteration):
        return None
    cols = [c.strip() for c in re.split(r"[,;\t]", header)]
    found = {}
    for role, pattern in _LOG_ROLES.items():
        hits = [c for c in cols if re.search(pattern, c, re.IGNORECASE) and c not in found.values()]
        hit = hits[0] if hits else None
        if hit:
            found[role] = hit
    return found if {"time", "voltage", "current"} <= set(found) else None


def scan_folder(folder) -> tuple[dict, tuple[Path, dict] | None]:
    """Modalities found in ``folder`` (kind -> dict of files glob, count, shape, times) and the bias log."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; pass the folder holding the session's files")
    groups = defaultdict(list)
    log = None
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or ".zarr" in path.parts[-2:]:
            continue
        if path.suffix.lower() in (".csv", ".txt", ".dat") and log is None:
            cols = _log_columns(path)
            if cols:
                log = (path, cols)
                continue
        groups[(path.parent, path.suffix.lower())].append(path)
    found = {}
    for (parent, ext), paths in groups.items():
        got = _kind(paths[0])
        if got is None or got[0] in found:
            continue
        kind, da = got
        rel = parent.relative_to(folder)
        pattern = str(rel / f"*{ext}") if str(rel) != "." else f"*{ext}"
        numbered = all(re.search(r"(\d+)\D*$", p.stem) for p in paths)
        found[kind] = {"files": pattern if len(paths) > 1 else str(paths[0].relative_to(folder)),
                       "count": len(paths), "shape": tuple(da.shape), "dims": da.dims,
                       "acquired": da.attrs.get("acquired"), "numbered": numbered and len(paths) > 1}
    return found, log


def _unit_of(column: str, default: str) -> str:
    m = _UNIT.search(column)
    return m.group(1).replace("µ", "u") if m else default


def _modality_block(kind: str, info: dict) -> list[str]:
    lines = [f"[modality.{kind}]",
             f"# {info['count']} file(s), each {' x '.join(map(str, info['shape']))} "
             f"({', '.join(info['dims'])})",
             f"files = {info['files']!r}".replace("'", '"')]
    if info["numbered"]:
        lines.append("frame_regex = '(\\d+)\\D*$'          # the frame index: the last number in the name")
    if info["acquired"]:
        lines.append(f"clock = \"metadata\"                 # first frame acquired {info['acquired']}")
    else:
        lines += ["# the files carry no acquisition time: give the clock", 'clock = "period"',
                  "start_s = 0.0", "period_s = 30.0                     # EDIT: time between frames"]
    lines += ["# offset_s = 0.0", f"# [modality.{kind}.calibration]      # overrides for wrong metadata",
              "# pixel_size_nm = 1.0", ""]
    return lines


def init_session(folder, *, out=None, overwrite: bool = False) -> Path:
    """Write a commented ``session.toml`` for the instrument files in ``folder``; returns its path.

    Raises
    ------
    InputError
        ``folder`` is not a folder, holds no readable microscopy file, or already has a session.toml
        (pass ``overwrite=True``).
    """
    folder = Path(folder)
    found, log = scan_folder(folder)
    if not found:
        raise InputError(f"{folder}: no 4D-STEM, HAADF, EDX, EELS or CL file found; check the folder")
    target = Path(out) if out else folder / "session.toml"
    if target.exists() and not overwrite:
        raise InputError(f"{target}: exists; pass --overwrite to replace it")
    counts = {k: v["count"] for k, v in found.items()}
    ref = "haadf" if "haadf" in found else next(iter(found))
    lines = ["# perovscope session description, written by `perovscope init` — edit, then",
             "#   perovscope run --check session.toml   (validates, computes nothing)",
             "#   perovscope run session.toml", "# Format: docs/session.md", "",
             "[session]", f"name = {folder.resolve().name!r}".replace("'", '"'), 'output = "results"',
             '# layers = ["glass", "ITO", "HTL", "emitter", "ETL", "LiF", "Al"]   # image rows top->bottom',
             f'reference = "{ref}"', ""]
    if len(set(counts.values())) > 1:
        lines.insert(5, f"# WARNING: frame counts differ between modalities ({counts}); fix before running")
    for kind in MODALITIES:
        if kind in found:
            lines += _modality_block(kind, found[kind])
    if log:
        path, cols = log
        lines += ["[bias_log]", f"file = {str(path.relative_to(folder))!r}".replace("'", '"')]
        lines += [f"{role} = {col!r}".replace("'", '"') for role, col in cols.items()]
        units = {r: _unit_of(cols[r], d) for r, d in (("time", "s"), ("voltage", "V"), ("current", "A"))}
        lines += ["units = { " + ", ".join(f'{k} = "{v}"' for k, v in units.items()) + " }   # CHECK",
                  '# origin = "2026-01-01T00:00:00"     # the log\'s t = 0 (ISO 8601)', ""]
    else:
        lines += ["# [bias_log]                           # no bias log found", "# file = \"bias.csv\"", ""]
    lines += ["# [analysis.edx]", '# elements = ["Cs", "Pb", "Br", "Cl", "Al"]', "# bin = 2", ""]
    write_text(target, "\n".join(lines))
    return target
