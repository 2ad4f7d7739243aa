"""SAXS curves as text: BioXTAS RAW ``.dat`` files and generic q / I / σ column files.

A RAW ``.dat`` has a ``### DATA:`` block (an optional ``# <n>`` point count, a ``# Q I(Q) Error``
column line, then the rows) and a ``### HEADER:`` block whose ``#``-prefixed lines hold a JSON object
(calibration, history, the analyses RAW ran: ``guinier``, ``GNOM``, ``BIFT``, ...); older RAW files put
the header first. Any other text file with two to four numeric columns (q, I, σ, and e.g. a resolution
column) and comment/header lines is read the same way (ATSAS ``.dat``, SASView ``.txt``, beamline
exports). The q unit is taken from the header by meaning — ``1/nm``, ``nm^-1``, ``q (nm-1)``, ``[1/A]``,
``Å⁻¹``, ``1/angstrom`` or a JSON ``"unit"``/``"q_unit"`` key — and q is converted to 1/Å; without a
unit 1/Å is assumed and ``attrs["q_unit_assumed"] = 1`` is set (pass ``q_unit`` to override).

The result is an :class:`xarray.Dataset` over ``q`` (1/Å, as in the file's row order) with
``intensity`` and, where the file has it, ``sigma``; ``attrs`` hold the format, the file name, the
declared point count and the original header (JSON text).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import xarray as xr

from ..errors import FormatError
from ._columns import float_table, is_numeric_row, require_rows, split_fields
from ._units import dumps_json

__all__ = ["read_saxs_dat", "Q_FACTORS_PER_A"]

#: Multiply q in this unit by the factor to get 1/Å.
Q_FACTORS_PER_A = {"1/a": 1.0, "1/nm": 0.1, "1/m": 1e-10, "1/cm": 1e-8}
_MAX_BYTES = 128 * 2**20
_NM = re.compile(r"(1\s*/\s*nm|nm\s*\^?\s*[-−]\s*1|nm⁻¹|inverse\s+nanomet)", re.I)
_ANG = re.compile(r"(1\s*/\s*(?:a|å|ang|angstrom)s?\b|(?:\ba|å|ang|angstrom)s?\s*\^?\s*[-−]\s*1|å⁻¹|a⁻¹"
                  r"|inverse\s+angstrom)", re.I)
_INTENSITY_UNIT = re.compile(r"(1\s*/\s*cm|cm\s*\^?\s*[-−]\s*1|cm⁻¹)", re.I)


def _numeric(tokens: list[str]) -> bool:
    return is_numeric_row(tokens, nonfinite=True)


def _split(line: str) -> list[str]:
    return split_fields(line, drop_empty=True)


def _q_unit(texts: list[str], header: dict) -> str | None:
    for key in ("q_unit", "unit", "units", "Q_unit"):
        val = header.get(key)
        if isinstance(val, str) and val.strip():
            u = _q_unit([val], {})
            if u:
                return u
    for text in texts:
        if _NM.search(text):
            return "1/nm"
        if _ANG.search(text):
            return "1/a"
    return None


def _json_header(lines: list[str]) -> dict:
    body = "\n".join(ln.lstrip("#") for ln in lines)
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return {}
    try:
        out = json.loads(body[start:end + 1])
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def read_saxs_dat(path, *, q_unit: str | None = None) -> xr.Dataset:
    """Read a RAW ``.dat`` or a generic q/I/σ text file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (opened read-only).
    q_unit : {"1/A", "1/nm"}, optional
        Unit of the q column when the header does not say (it overrides nothing the header states).

    Returns
    -------
    xarray.Dataset
        ``intensity`` (and ``sigma``) over ``q`` in 1/Å; ``attrs``: ``signal`` ``"saxs"``, ``format``
        (``"bioxtas_raw_dat"`` or ``"saxs_text"``), ``source_file``, ``q_unit_original``,
        ``declared_points`` (if stated), ``original_metadata`` (the JSON header or the header lines).

    Raises
    ------
    FormatError
        Missing, binary, empty or truncated file, fewer rows than declared, ragged columns.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a SAXS text file")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content; expected a text file of q, I, σ columns")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    # the data block: the longest run of numeric rows with one column count (comments may interleave)
    runs, current = [], None
    for i, line in enumerate(lines):
        s = line.strip()
        toks = _split(s) if s and not s.startswith("#") else []
        if _numeric(toks):
            if current is not None and current[2] == len(toks):
                current[1] = i
                current[3] += 1
            else:
                current = [i, i, len(toks), 1]
                runs.append(current)
        elif s and not s.startswith("#") and current is not None:
            current = None  # a text line ends a block
    if not runs:
        raise FormatError(f"{path}: no rows of numbers (q, I, σ) found")
    first, last, ncol, nrows = max(runs, key=lambda r: r[3])
    if ncol > 4:
        raise FormatError(f"{path}: {ncol} numeric columns; expected q, I and optionally σ (and one more)")
    require_rows(nrows, source=path, min_rows=3, what="q, I, σ")
    rows = [_split(ln.strip()) for ln in lines[first:last + 1]]
    table = float_table([r for r in rows if r and not r[0].startswith("#")], source=path)
    before = [ln.strip() for ln in lines[:first] if ln.strip()]
    after = [ln.strip() for ln in lines[last + 1:] if ln.strip()]
    is_raw = any(ln.startswith("### DATA") for ln in before) or any(ln.startswith("### HEADER") for ln in
                                                                    before + after)
    hdr_lines = []
    for block in (before, after):
        if any(ln.startswith("### HEADER") for ln in block):
            k = next(i for i, ln in enumerate(block) if ln.startswith("### HEADER"))
            stop = next((j for j in range(k + 1, len(block)) if block[j].startswith("### ")), len(block))
            hdr_lines = block[k + 1:stop]
    header = _json_header(hdr_lines) if hdr_lines else _json_header(before)
    declared = None
    if is_raw:
        k = max((i for i, ln in enumerate(before) if ln.startswith("### DATA")), default=-1)
        for ln in before[k + 1:]:
            m = re.fullmatch(r"#\s*(\d+)\s*", ln)
            if m:
                declared = int(m.group(1))
                break
    if declared is not None and declared != table.shape[0]:
        raise FormatError(f"{path}: the header declares {declared} points but {table.shape[0]} rows were "
                          "read (truncated or edited file)")
    column_line = next((ln for ln in reversed(before) if ln.startswith("#") or not _numeric(_split(ln))),
                       "")
    unit = _q_unit([column_line] + before[-5:] + after[:5], header)
    attrs = {"signal": "saxs", "format": "bioxtas_raw_dat" if is_raw else "saxs_text",
             "source_file": str(path)}
    if unit is None:
        unit = (q_unit or "1/A").strip().lower().replace("å", "a")
        if q_unit is None:
            attrs["q_unit_assumed"] = 1
    if unit not in Q_FACTORS_PER_A:
        raise FormatError(f"{path}: unknown q unit {unit!r}; use 1/A or 1/nm")
    attrs["q_unit_original"] = {"1/a": "1/Å"}.get(unit, unit)
    if declared is not None:
        attrs["declared_points"] = declared
    if hdr_lines or header:
        attrs["original_metadata"] = dumps_json(header) if header else "\n".join(hdr_lines)
    else:
        attrs["original_metadata"] = dumps_json({"header": before})
    i_unit = "1/cm" if _INTENSITY_UNIT.search(column_line) else "a.u."
    q = table[:, 0] * Q_FACTORS_PER_A[unit]
    data = {"intensity": ("q", table[:, 1], {"units": i_unit, "long_name": "I(q)"})}
    if ncol >= 3:
        data["sigma"] = ("q", table[:, 2], {"units": i_unit, "long_name": "σ of I(q)"})
    return xr.Dataset(data, coords={"q": ("q", q, {"units": "1/Å"})}, attrs=attrs)
