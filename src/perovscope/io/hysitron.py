"""Bruker/Hysitron TriboScan text exports of indentation and scratch tests (``.txt``).

An export starts with a few header lines — the date of the test, a blank line, ``Number of Points =
N`` — then a tab-separated row of column names with their units in brackets (``Depth (nm)``, ``Load
(µN)``, ``Time (s)``, ``Depth (V)``, ``Load (V)``; scratch exports add ``Lateral Displacement (µm)``
and ``Lateral Force (µN)``) and one row per point. Blank lines between rows separate the segments
of the load function (pre-load, loading, hold, unloading). The unit sign µ may be written in Latin-1
or UTF-8.

:func:`read_hysitron` returns an :class:`xarray.Dataset` over ``point`` with the recognised columns
under standard names — ``depth``, ``load``, ``time``, ``lateral_force``, ``distance`` (lateral
displacement), ``normal_force`` (a scratch's normal load) — the voltage and other columns under
their names in snake case, and a ``segment`` index per point from the blank-line separators. Units
are kept as written (``µN`` is normalised to ``uN``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json
from .nanosuite import snake

__all__ = ["read_hysitron"]

_MAX_BYTES = 256 * 2**20
_COLUMN = re.compile(r"^\s*(.*?)\s*\(([^()]*)\)\s*$")
_ROLES = {"depth": "depth", "normal displacement": "depth", "load": "load", "normal load": "normal_force",
          "normal force": "normal_force", "time": "time", "lateral force": "lateral_force",
          "lateral displacement": "distance", "lateral position": "distance"}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _unit(u: str) -> str:
    return u.strip().replace("µ", "u").replace("μ", "u")


def read_hysitron(path) -> xr.Dataset:
    """Read a Hysitron/TriboScan text export (indentation or scratch) into columns over ``point``.

    Parameters
    ----------
    path : str or pathlib.Path
        The text file (opened read-only).

    Returns
    -------
    xarray.Dataset
        ``depth`` (nm), ``load`` (uN), ``time`` (s), …, ``segment`` over ``point``; ``attrs``:
        ``signal`` ``"nanoindentation"`` (or ``"scratch"`` with a lateral-force column),
        ``source_file``, ``format``, ``test_date``, ``declared_points`` and ``original_metadata``.

    Raises
    ------
    FormatError
        Missing, binary or empty file; no ``Name (unit)`` column header; ragged or non-numeric rows;
        fewer rows than ``Number of Points`` declares (truncated file).
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a Hysitron text export")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content; a Hysitron text export (.txt) is expected, not .hys/.hld")
    lines = _decode(raw).splitlines()
    head = None
    for i, line in enumerate(lines[:200]):
        cells = [c for c in line.split("\t") if c.strip()]
        if len(cells) >= 2 and all(_COLUMN.match(c) for c in cells):
            head = i
            break
    if head is None:
        raise FormatError(f"{path}: no column header of 'Name (unit)' fields (e.g. 'Depth (nm)\\tLoad "
                          "(µN)'); is this a Hysitron/TriboScan text export?")
    header = [ln.strip() for ln in lines[:head] if ln.strip()]
    declared = None
    for line in header:
        m = re.match(r"\s*Number of Points\s*[=:]\s*(\d+)", line, re.I)
        if m:
            declared = int(m.group(1))
    if declared is not None and declared * 4 > size:  # a row needs at least a few bytes
        raise FormatError(f"{path}: the header declares {declared} points, more than a {size}-byte file "
                          "holds")
    names, units = [], []
    for cell in (c for c in lines[head].split("\t") if c.strip()):
        name, unit = _COLUMN.match(cell).groups()
        names.append(name.strip())
        units.append(_unit(unit))
    ncol = len(names)
    rows, segment, seg = [], [], 0
    for k, line in enumerate(lines[head + 1:], start=head + 2):
        if not line.strip():
            if rows and segment[-1] == seg:
                seg += 1
            continue
        toks = line.split()
        if len(toks) != ncol:
            raise FormatError(f"{path}: line {k} has {len(toks)} values, expected {ncol} (truncated or "
                              "malformed)")
        rows.append(toks)
        segment.append(seg)
    if not rows:
        raise FormatError(f"{path}: a column header but no data rows")
    try:
        table = np.array(rows, dtype=float)
    except ValueError as exc:
        raise FormatError(f"{path}: non-numeric value in the data rows ({exc})") from exc
    if declared is not None and table.shape[0] < declared:
        raise FormatError(f"{path}: {table.shape[0]} data rows but the header declares {declared}; the "
                          "file is truncated")
    seg_arr = np.array(segment, dtype=np.int16)
    seg_arr -= seg_arr[0]
    data_vars, taken = {}, set()
    for j, (name, unit) in enumerate(zip(names, units, strict=True)):
        role = _ROLES.get(name.lower())
        volts = unit.lower() in ("v", "mv")
        key = role if role and not volts and role not in taken else snake(f"{name}_{unit}" if volts else name)
        while key in data_vars:
            key += "_"
        taken.add(key)
        data_vars[key] = (("point",), table[:, j], {"units": unit or "1", "long_name": f"{name} ({unit})"})
    data_vars["segment"] = (("point",), seg_arr, {"units": "1",
                                                  "long_name": "segment (blank-line separated)"})
    scratch = "lateral_force" in data_vars
    date = header[0] if header and not header[0].lower().startswith("number of points") else ""
    attrs = {"signal": "scratch" if scratch else "nanoindentation", "format": "hysitron_text",
             "source_file": str(path), "test_date": date,
             "declared_points": -1 if declared is None else declared,
             "original_metadata": dumps_json({"header": header, "columns": [f"{n} ({u})" for n, u in
                                                                            zip(names, units, strict=True)]})}
    return xr.Dataset(data_vars, attrs=attrs)
