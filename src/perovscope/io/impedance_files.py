"""Impedance spectra from the common text exports: CSV, EC-Lab ``.mpt``, Gamry ``.DTA``, ZPlot ``.z``.

Every reader returns a complex :class:`xarray.DataArray` ``Z' + jZ''`` (Ω) over ``frequency`` (Hz, in
file order), with the header in ``attrs["original_metadata"]`` (JSON) and, where the file records
them, ``attrs["temperature_C"]`` and ``attrs["area_cm2"]``. Columns are found by their header names,
not their positions; a column of −Z'' (EC-Lab ``-Im(Z)/Ohm``, headers like ``-Z''``) is negated, and
``|Z|``/phase columns are used when no real/imaginary pair is present.

* **EC-Lab** (BioLogic): ``EC-Lab ASCII FILE``, then ``Nb header lines : N``; line N holds the tab-
  separated column names (``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ...). Decimal commas are accepted.
* **Gamry** ``.DTA``: tab-separated ``KEY  TYPE  VALUE  label`` header lines (``AREA QUANT 1 (cm^2)``),
  then ``ZCURVE TABLE``, a names line (``Pt Time Freq Zreal Zimag ...``), a units line and rows that
  start with a tab; an aborted run ends with ``EXPERIMENTABORTED``.
* **ZPlot/ZView** ``.z``: ``ZPLOT2 ASCII`` header up to ``End Comments`` with ``Data Points: n`` and
  the column names (``Freq(Hz)  Ampl  Bias  Time(Sec)  Z'(a)  Z''(b) ...``); rows tab- or
  comma-separated.
* **CSV/text**: a header row of names (optional); without one, three columns are f, Z', Z''.

A file that is empty, truncated (fewer rows than it declares), or lacks a frequency or impedance
column raises :class:`~perovscope.errors.FormatError` naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._columns import is_numeric_row
from ._units import dumps_json

__all__ = ["read_impedance", "parse_impedance_text"]

def _float(tok: str) -> float:
    return float(tok.strip().replace(",", "."))


def _norm(name: str) -> str:
    return re.sub(r"[\s_]", "", name.strip().lower().replace("’", "'").replace("″", "''"))


def _column_roles(names: list[str]) -> dict:
    """Map header names to roles: freq, re, im (sign), mod, phase."""
    roles: dict = {}
    for i, raw in enumerate(names):
        n = _norm(raw)
        base = re.split(r"[/(\[]", n, maxsplit=1)[0] if not n.startswith(("re(", "im(", "-im(", "|z|")) else n
        if "freq" not in roles and (n.startswith("freq") or base in ("f", "frequency", "f(hz)")):
            roles["freq"] = i
        elif "re" not in roles and (n.startswith(("re(z)", "zreal", "z'(a)", "zre", "real")) or base in
                                    ("z'", "zr", "z1")):
            roles["re"] = i
        elif "im" not in roles and (n.startswith(("-im(z)", "-zimag", "-z''", "-zim", "-imag")) or base in
                                    ("-z''", "-z\"")):
            roles["im"] = (i, -1.0)
        elif "im" not in roles and (n.startswith(("im(z)", "zimag", "z''(b)", "zim", "imag")) or base in
                                    ("z''", "z\"", "zi", "z2")):
            roles["im"] = (i, 1.0)
        elif "mod" not in roles and (n.startswith(("|z|", "zmod", "mod", "abs")) or base == "z"):
            roles["mod"] = i
        elif "phase" not in roles and (n.startswith(("phase(z)", "zphz", "phase", "phz")) or base == "theta"):
            roles["phase"] = i
    return roles


def _table(rows: list[list[str]], names: list[str] | None, source: str, *, default=(0, 1, 2)):
    """(frequency, Z) from split rows and optional header names."""
    if not rows:
        raise FormatError(f"{source}: no data rows found")
    width = min(len(r) for r in rows)
    try:
        data = np.array([[_float(t) if t.strip() else np.nan for t in r[:width]] for r in rows])
    except ValueError as exc:
        raise FormatError(f"{source}: a data row is not numeric ({exc})") from None
    if names:
        roles = _column_roles(names)
        if "freq" not in roles:
            raise FormatError(f"{source}: no frequency column among {names}")
        fcol = roles["freq"]
        if "re" in roles and "im" in roles:
            (icol, sign), rcol = roles["im"], roles["re"]
            if max(fcol, rcol, icol) >= width:
                raise FormatError(f"{source}: rows have {width} columns, the header names {len(names)}")
            z = data[:, rcol] + 1j * sign * data[:, icol]
        elif "mod" in roles and "phase" in roles:
            ph = np.radians(data[:, roles["phase"]])
            z = data[:, roles["mod"]] * np.exp(1j * ph)
        else:
            raise FormatError(f"{source}: no Z'/Z'' (or |Z|/phase) columns among {names}")
    else:
        fcol, rcol, icol = default
        if width <= max(default):
            raise FormatError(f"{source}: expected at least {max(default) + 1} columns (f, Z', Z''), "
                              f"got {width}")
        z = data[:, rcol] + 1j * data[:, icol]
    f = data[:, fcol]
    good = np.isfinite(f) & np.isfinite(z)
    if good.sum() < 1:
        raise FormatError(f"{source}: no finite (f, Z) rows")
    return f[good], z[good]


def _split(line: str) -> list[str]:
    if "\t" in line:
        return line.rstrip("\r\n").strip("\t").split("\t") if line.startswith("\t") else \
            line.rstrip("\r\n").split("\t")
    if "," in line and ";" not in line:
        parts = [p.strip() for p in line.split(",")]
        return parts
    if ";" in line:
        return [p.strip() for p in line.split(";")]
    return line.split()


def _biologic(lines, source):
    meta = {}
    m = re.search(r"Nb header lines\s*:\s*(\d+)", lines[1] if len(lines) > 1 else "")
    if not m:
        raise FormatError(f"{source}: EC-Lab file without 'Nb header lines' on line 2")
    nh = int(m.group(1))
    if nh > len(lines):
        raise FormatError(f"{source}: declares {nh} header lines but has only {len(lines)} lines (truncated)")
    for line in lines[2:nh - 1]:
        if ":" in line:
            k, _, v = line.partition(":")
            meta[k.strip()] = v.strip()
    names = lines[nh - 1].rstrip("\r\n").rstrip("\t").split("\t")
    rows = [ln.rstrip("\r\n").rstrip("\t").split("\t") for ln in lines[nh:] if ln.strip()]
    f, z = _table(rows, names, source)
    extra = {}
    tcol = next((i for i, n in enumerate(names) if _norm(n).startswith(("temperature", "temp/"))), None)
    if tcol is not None:
        extra["temperature_C"] = float(np.nanmean([_float(r[tcol]) for r in rows if len(r) > tcol]))
    area = meta.get("Electrode surface area")
    if area:
        am = re.match(r"([\d.,eE+-]+)\s*cm", area)
        if am:
            extra["area_cm2"] = _float(am.group(1))
    return f, z, meta, extra, "biologic-mpt"


def _gamry(lines, source):
    meta, extra = {}, {}
    start = next((i for i, ln in enumerate(lines) if ln.startswith("ZCURVE")), None)
    if start is None:
        raise FormatError(f"{source}: Gamry file without a ZCURVE table (not an impedance run?)")
    for ln in lines[:start]:
        parts = ln.rstrip("\r\n").split("\t")
        if len(parts) >= 3 and parts[0] and not ln.startswith("\t"):
            meta[parts[0]] = parts[2]
    if "AREA" in meta:
        try:
            extra["area_cm2"] = _float(meta["AREA"])
        except ValueError:
            pass
    if start + 2 >= len(lines):
        raise FormatError(f"{source}: ZCURVE table has no column header (truncated)")
    names = lines[start + 1].rstrip("\r\n").strip("\t").split("\t")
    rows = []
    for ln in lines[start + 3:]:
        if not ln.startswith("\t"):
            break
        rows.append(ln.rstrip("\r\n").strip("\t").split("\t"))
    f, z = _table(rows, names, source)
    return f, z, meta, extra, "gamry-dta"


def _zplot(lines, source):
    meta, names, end, declared = {}, None, None, None
    for i, ln in enumerate(lines):
        s = ln.strip()
        if s.startswith("Freq(Hz)"):
            names = [t for t in re.split(r"\t|,\s*", s) if t]
        elif s.startswith("End Comments"):
            end = i
            break
        elif ":" in s:
            k, _, v = s.partition(":")
            meta[k.strip()] = v.strip()
    if end is None:
        end = next((i for i, ln in enumerate(lines) if ln.strip().startswith("Freq(Hz)")), None)
        if end is None:
            raise FormatError(f"{source}: ZPlot file without 'End Comments' or a Freq(Hz) header line")
    if "Data Points" in meta:
        try:
            declared = int(float(meta["Data Points"]))
        except ValueError:
            declared = None
    rows = [[t for t in re.split(r"\t|,\s*", ln.strip()) if t] for ln in lines[end + 1:] if ln.strip()]
    if declared is not None and len(rows) < declared:
        raise FormatError(f"{source}: declares {declared} data points but holds {len(rows)} (truncated)")
    f, z = _table(rows, names, source, default=(0, 4, 5))
    extra = {}
    if "Surface Area" in meta:
        try:
            extra["area_cm2"] = _float(meta["Surface Area"])
        except ValueError:
            pass
    return f, z, meta, extra, "zplot-z"


def _csv(lines, source):
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    first_num = next((i for i, ln in enumerate(body)
                      if is_numeric_row(_split(ln), min_fields=1, decimal_comma=True)), None)
    if first_num is None:
        raise FormatError(f"{source}: no numeric rows found")
    names = _split(body[first_num - 1]) if first_num > 0 else None
    rows = [_split(ln) for ln in body[first_num:]]
    f, z = _table(rows, names, source)
    return f, z, {"header": body[:first_num]}, {}, "csv"


def parse_impedance_text(text: str, *, source: str = "<text>", suffix: str = ""):
    """Parse the text of an impedance export; returns ``(frequency, Z, metadata, extra, format)``."""
    lines = text.splitlines(keepends=True)
    if not lines or not text.strip():
        raise FormatError(f"{source}: the file is empty")
    head = lines[0].strip()
    if head.startswith("EC-Lab ASCII FILE") or suffix == ".mpt":
        return _biologic(lines, source)
    if head.startswith("EXPLAIN") or suffix == ".dta":
        return _gamry(lines, source)
    if head.startswith("ZPLOT") or suffix == ".z":
        return _zplot(lines, source)
    return _csv(lines, source)


def read_impedance(path) -> xr.DataArray:
    """Read an impedance spectrum (CSV, EC-Lab ``.mpt``, Gamry ``.DTA``, ZPlot ``.z``).

    Parameters
    ----------
    path : path-like
        The file; opened read-only.

    Returns
    -------
    xarray.DataArray
        Complex impedance (Ω) over ``frequency`` (Hz), ``attrs``: ``units``, ``format``, ``source``,
        ``original_metadata`` and, when present in the file, ``temperature_C`` and ``area_cm2``.

    Raises
    ------
    FormatError
        Missing, empty, truncated or unrecognised file.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such file")
    raw = p.read_bytes()
    if b"\x00" in raw[:4096]:
        raise FormatError(f"{p}: a binary file (EC-Lab .mpr?); export it as text (.mpt) first")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    f, z, meta, extra, fmt = parse_impedance_text(text, source=str(p), suffix=p.suffix.lower())
    if np.any(f <= 0):
        raise FormatError(f"{p}: {int(np.sum(f <= 0))} non-positive frequencies")
    attrs = {"units": "Ohm", "long_name": "impedance Z' + jZ''", "signal": "impedance", "format": fmt,
             "source": str(p), "original_metadata": dumps_json(meta), **extra}
    return xr.DataArray(z, dims=("frequency",),
                        coords={"frequency": ("frequency", f, {"units": "Hz"})}, attrs=attrs)
