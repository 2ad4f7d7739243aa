"""Keysight/Agilent (MTS) NanoSuite Excel exports of nanoindentation tests (``.xls``, read with xlrd).

An export holds one sheet per test (``Test 001``, ``Test 002``, …) and a few summary sheets. A test
sheet has a header row of channel names (``Segment``, ``Displacement Into Surface``, ``Load On
Sample``, ``Time On Sample``, ``Harmonic Contact Stiffness``, …), a row of units (``nm``, ``mN``,
``s``, ``N/m``) and one row per data point; the ``Segment`` column names each segment where it starts
(``Load Segment Type``, ``Hold Segment Type``, ``Unload From Peak Segment Type``, ``Thermal Drift Hold
Segment``). Missing values are written as 1.797e308. The summary sheets (``Results``, ``Required
Inputs``, ``Inputs Editable Post Test``) hold one row per test: the instrument's results (e.g. ``E
Average Over Defined Range``), the sample's Poisson's ratio, the stage position and the calculation
depth range.

:func:`read_nanosuite` returns an :class:`xarray.Dataset` over ``(test, point)`` (curves NaN-padded to
the longest) with the recognised channels under standard names — ``depth`` (nm), ``load`` (mN),
``time`` (s), ``contact_stiffness`` (the CSM harmonic contact stiffness, N/m), ``lateral_force``,
``normal_force``, ``distance`` for scratch tests — the other channels under their names in snake
case, an integer ``segment`` index per point with ``segment_label`` per segment, and the summary
sheets' columns over ``test`` (the Results sheet's prefixed ``reported_``). Every variable carries
``units`` and its original name as ``long_name``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_nanosuite", "snake"]

_MISSING = 1e300
_MAX_BYTES = 512 * 2**20
#: Channel name (lower case) -> standard variable name.
_ROLES = {
    "displacement into surface": "depth", "load on sample": "load", "time on sample": "time",
    "harmonic contact stiffness": "contact_stiffness", "lateral force": "lateral_force",
    "normal load": "normal_force", "normal force": "normal_force", "scratch distance": "distance",
    "lateral displacement": "distance", "x test position": "x_position", "y test position": "y_position",
    "poissons ratio": "poisson_ratio", "poisson's ratio": "poisson_ratio",
}
_SUMMARY = ("results", "required inputs", "inputs editable post test")


def snake(name: str) -> str:
    """``"E Average Over Defined Range"`` -> ``"e_average_over_defined_range"``."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(name).strip()).strip("_").lower()
    return s or "column"


def _number(v, t):
    return float(v) if t == 2 and abs(float(v)) < _MISSING else np.nan


def _column(sheet, j, start):
    vals, types = sheet.col_values(j, start), sheet.col_types(j, start)
    return np.array([_number(v, t) for v, t in zip(vals, types, strict=True)], dtype=float)


def _header_row(sheet):
    """Index of the row of channel names: the first with ≥ 2 text cells, one naming load or depth."""
    for i in range(min(sheet.nrows, 10)):
        cells = zip(sheet.row_values(i), sheet.row_types(i), strict=True)
        text = [str(v).lower() for v, t in cells if t == 1]
        if len(text) >= 2 and any(k in c for c in text for k in ("load", "displacement", "force", "test")):
            return i
    return None


def _test_sheet(path, sheet):
    head = _header_row(sheet)
    if head is None:
        return None
    names = [str(v).strip() for v in sheet.row_values(head)]
    if not any(n.lower() in ("load on sample", "displacement into surface", "lateral force") for n in names):
        return None
    units_row = head + 1 if head + 1 < sheet.nrows else None
    units = ([str(v).strip() for v in sheet.row_values(units_row)] if units_row is not None
             else [""] * len(names))
    if units_row is not None and any(t == 2 for t in sheet.row_types(units_row)):
        units, start = [""] * len(names), head + 1
    else:
        start = head + 2
    channels, labels, seg_index = {}, [], None
    for j, name in enumerate(names):
        if not name:
            continue
        if name.lower() == "segment":
            texts = sheet.col_values(j, start)
            starts = [k for k, v in enumerate(texts) if str(v).strip()]
            labels = [str(texts[k]).strip() for k in starts]
            seg_index = (np.zeros(len(texts), dtype=np.int16), starts)
            continue
        channels[name] = (_column(sheet, j, start), units[j] if j < len(units) else "")
    if not channels:
        return None
    n = max(v.size for v, _ in channels.values())
    rows = np.zeros(n, dtype=bool)
    for v, _ in channels.values():
        rows[: v.size] |= np.isfinite(v)
    last = int(np.flatnonzero(rows)[-1]) + 1 if rows.any() else 0
    if last == 0:
        raise FormatError(f"{path}: sheet {sheet.name!r} has channel names but no numbers")
    segment = np.full(last, -1, dtype=np.int16)
    if seg_index is not None:
        _, starts = seg_index
        if labels and labels[-1].upper() == "END":
            labels, starts = labels[:-1], starts[:-1]
        for k, s0 in enumerate(starts):  # a loop over the handful of segments
            segment[s0:last] = k
    return {"channels": {k: (v[:last], u) for k, (v, u) in channels.items()}, "segment": segment,
            "labels": labels, "n": last}


def _summary(sheet):
    """``{column name: (values per test row, units)}`` and the test numbers of a summary sheet."""
    head = _header_row(sheet)
    if head is None or sheet.nrows < head + 2:
        return None, None
    names = [str(v).strip() for v in sheet.row_values(head)]
    has_units = not any(t == 2 for t in sheet.row_types(head + 1))
    start = head + 2 if has_units else head + 1
    units = [str(v).strip() for v in sheet.row_values(head + 1)] if has_units else [""] * len(names)
    first = [str(v).strip() for v in sheet.col_values(0, start)]
    test_no = []
    for v in first:
        try:
            test_no.append(int(float(v)))
        except ValueError:
            test_no.append(None)  # Mean / Std. Dev. / % COV rows
    keep = [i for i, t in enumerate(test_no) if t is not None]
    cols = {}
    for j, name in enumerate(names[1:], start=1):
        if not name:
            continue
        vals, types = sheet.col_values(j, start), sheet.col_types(j, start)
        if not any(types[i] == 2 for i in keep):
            continue
        cols[name] = (np.array([_number(vals[i], types[i]) for i in keep]),
                      units[j] if j < len(units) else "")
    return cols, [test_no[i] for i in keep]


def read_nanosuite(path) -> xr.Dataset:
    """Read a Keysight/Agilent NanoSuite ``.xls`` export into curves over ``(test, point)``.

    Parameters
    ----------
    path : str or pathlib.Path
        The workbook (opened read-only).

    Returns
    -------
    xarray.Dataset
        See the module docstring; ``attrs``: ``signal`` ``"nanoindentation"``, ``source_file``,
        ``format``, ``sheets`` and ``original_metadata`` (JSON of the sheet and channel names).

    Raises
    ------
    FormatError
        Missing file, not an ``.xls`` workbook (``.xlsx`` is not read: save as ``.xls``), no test
        sheet with load or depth channels, declared sheet sizes beyond what the file can hold.
    """
    import struct

    import xlrd
    from xlrd.compdoc import CompDocError

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a NanoSuite export")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic[:2] == b"PK":
        raise FormatError(f"{path}: an .xlsx workbook; save it from Excel or NanoSuite as .xls "
                          "(Excel 97–2003)")
    if magic != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FormatError(f"{path}: not an Excel .xls workbook (no OLE2 signature)")
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except (xlrd.XLRDError, CompDocError, struct.error, AssertionError, ValueError, IndexError, KeyError,
            UnicodeDecodeError, OSError) as exc:
        raise FormatError(f"{path}: cannot read the workbook ({type(exc).__name__}: {str(exc)[:160]}); "
                          "the file is truncated or corrupt") from exc
    tests, summaries = {}, {}
    try:
        for name in book.sheet_names():
            try:
                sheet = book.sheet_by_name(name)
            except (xlrd.XLRDError, CompDocError, struct.error, AssertionError, ValueError, IndexError,
                    KeyError, UnicodeDecodeError) as exc:
                raise FormatError(f"{path}: sheet {name!r} is unreadable ({type(exc).__name__}); the file is "
                                  "truncated or corrupt") from exc
            if sheet.nrows * sheet.ncols > size:  # a cell record takes more than one byte
                raise FormatError(f"{path}: sheet {name!r} declares {sheet.nrows} × {sheet.ncols} cells, "
                                  f"more than a {size}-byte file can hold; it is corrupt")
            if name.strip().lower() in _SUMMARY:
                summaries[name.strip().lower()] = _summary(sheet)
            elif sheet.nrows >= 3:
                parsed = _test_sheet(path, sheet)
                if parsed is not None:
                    tests[name] = parsed
    finally:
        book.release_resources()
    if not tests:
        raise FormatError(f"{path}: no test sheet with 'Load On Sample' or 'Displacement Into Surface' "
                          "channels; is this a NanoSuite export?")
    return _assemble(path, tests, summaries)


def _test_number(name):
    m = re.search(r"(\d+)\s*$", name)
    return int(m.group(1)) if m else None


def _assemble(path, tests, summaries):
    names = sorted(tests, key=lambda s: (_test_number(s) is None, _test_number(s) or 0, s))
    npt = max(tests[n]["n"] for n in names)
    channel_units = {}
    for n in names:
        for ch, (_, u) in tests[n]["channels"].items():
            channel_units.setdefault(ch, u)
    data_vars = {}
    numbers = [_test_number(n) for n in names]
    for sheet_name, (cols, test_no) in summaries.items():  # per-test inputs and results first
        if not cols:
            continue
        index = {t: k for k, t in enumerate(test_no)}
        for col, (vals, unit) in cols.items():
            key = "reported_" + snake(col) if sheet_name == "results" else _ROLES.get(col.lower(), snake(col))
            if key in data_vars:
                continue
            per_test = np.array([vals[index[t]] if t in index else np.nan for t in numbers])
            data_vars[key] = (("test",), per_test, {"units": unit or "1", "long_name": col,
                                                     "sheet": sheet_name})
    for ch, unit in channel_units.items():
        arr = np.full((len(names), npt), np.nan)
        for i, n in enumerate(names):  # one copy per test sheet (the reading itself is per sheet)
            if ch in tests[n]["channels"]:
                v = tests[n]["channels"][ch][0]
                arr[i, : v.size] = v
        key = _ROLES.get(ch.lower(), snake(ch))
        if key in data_vars:
            key = snake(ch) + "_channel"
        data_vars[key] = (("test", "point"), arr, {"units": unit or "1", "long_name": ch})
    seg = np.full((len(names), npt), -1, dtype=np.int16)
    nseg = max((len(tests[n]["labels"]) for n in names), default=0)
    labels = np.full((len(names), max(nseg, 1)), "", dtype="<U48")
    for i, n in enumerate(names):
        seg[i, : tests[n]["n"]] = tests[n]["segment"]
        labels[i, : len(tests[n]["labels"])] = tests[n]["labels"]
    data_vars["segment"] = (("test", "point"), seg, {"units": "1", "long_name": "segment index (-1: none)"})
    data_vars["segment_label"] = (("test", "segment_id"), labels, {"units": "1", "long_name": "segment type"})
    meta = {"sheets": list(tests) + [s for s in summaries],
            "channels": {ch: u for ch, u in channel_units.items()}}
    attrs = {"signal": "nanoindentation", "format": "nanosuite_xls", "source_file": str(path),
             "original_metadata": dumps_json(meta)}
    coords = {"test": ("test", np.array(names, dtype=str)),
              "test_number": ("test", np.array([t if t is not None else -1 for t in numbers]))}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
