"""TA Instruments thermal-analysis text exports (DSC, TGA, SDT): Universal Analysis and TRIOS/TSV tables.

Two layouts are recognised, both read by the meaning of their column headers:

* **Universal Analysis text export**: ``key<TAB>value`` header lines (``Instrument``, ``Sample``,
  ``Size  9.00000  mg``, ``Exotherm  Up``, ``Nsig  3``, ``Sig1  Time (min)``, ``Sig2  Temperature (°C)``,
  ...) up to ``StartOfData``, then one row per sample point. Rows with a negative time are the
  export's placeholder rows and are dropped.
* **Tab-separated table** (TRIOS / TA "export data"): a row of column names, a row of units, then data;
  a program step starts with ``[step]`` and a description line (``Ramp 10.00 °C/min to 900.00 °C``,
  ``Isothermal 30.0 min``) followed by the names and units again. Empty cells are NaN.

Columns map to variables by their names and units: time → coordinate ``time`` (s), temperature →
``temperature`` (°C), heat flow → ``heat_flow`` (mW, or ``heat_flow_normalised`` in W/g), weight in
mg → ``mass``, weight in % → ``mass_percent``, derivative weight → ``deriv_weight``; other signals keep
a cleaned name. ``segment`` numbers the program steps (0 before the first ``[step]``); ``attrs`` hold
``sample_mass_mg``, ``exotherm`` (``"up"``/``"down"``), ``instrument``, ``sample``, ``segments`` (JSON:
index, description, start/end time, rate) and the whole header as ``original_metadata``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._columns import is_numeric_row
from ._units import dumps_json

__all__ = ["read_ta_thermal", "parse_ta_text"]

_TIME_FACTOR = {"min": 60.0, "s": 1.0, "sec": 1.0, "h": 3600.0, "ms": 1e-3}


def _fix_degree(text: str) -> str:
    # Universal Analysis writes the degree sign in code page 437 (0xF8), which decodes as 'ø'
    return text.replace("øC", "°C").replace("�C", "°C").replace("Â°", "°")


def _role(name: str, unit: str) -> str:
    n, u = name.strip().lower(), unit.strip().lower().replace("°", "").replace("deg", "")
    if n.startswith("time"):
        return "time"
    if n.startswith(("deriv", "derivative")) and "weight" in n:
        return "deriv_weight"
    if "temperature" in n or n in ("temp", "t"):
        return "temperature" if "deriv" not in n else "deriv_temperature"
    if "heat flow" in n or n.startswith("heatflow"):
        if "rev" in n:
            return "reversing_heat_flow" if n.startswith("rev") else "nonreversing_heat_flow"
        return "heat_flow_normalised" if ("/g" in u or "normalized" in n) else "heat_flow"
    if n.startswith(("weight", "mass")):
        return "mass_percent" if "%" in u else "mass"
    return re.sub(r"[^a-z0-9]+", "_", n).strip("_") or "signal"


def _split_name_unit(label: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", label.strip())
    return (m.group(1), m.group(2)) if m else (label.strip(), "")


def _universal(lines: list[str], source: str):
    meta: dict = {}
    sigs: dict[int, str] = {}
    start = None
    for i, ln in enumerate(lines):
        s = ln.rstrip("\r\n")
        if s.strip() == "StartOfData":
            start = i + 1
            break
        parts = s.split("\t")
        key = parts[0].strip()
        m = re.match(r"^Sig(\d+)$", key)
        if m and len(parts) > 1:
            sigs[int(m.group(1))] = parts[1].strip()
        elif key:
            meta[key] = [p.strip() for p in parts[1:]] if len(parts) > 2 else (parts[1].strip()
                                                                                  if len(parts) > 1 else "")
    if start is None:
        raise FormatError(f"{source}: Universal Analysis export without 'StartOfData'")
    nsig = int(float(meta.get("Nsig", len(sigs)) or len(sigs)))
    if nsig < 2 or len(sigs) < nsig:
        raise FormatError(f"{source}: header declares {nsig} signals but names {len(sigs)}")
    labels = [_split_name_unit(sigs[k]) for k in sorted(sigs)[:nsig]]
    rows = []
    for ln in lines[start:]:
        parts = ln.split()
        if not parts:
            continue
        if len(parts) < nsig:
            raise FormatError(f"{source}: a data row has {len(parts)} values, {nsig} signals declared "
                              "(truncated file?)")
        try:
            rows.append([float(p) for p in parts[:nsig]])
        except ValueError:
            raise FormatError(f"{source}: non-numeric data row {ln.strip()[:60]!r}") from None
    if not rows:
        raise FormatError(f"{source}: no data rows after StartOfData")
    data = np.array(rows)
    tcol = next((k for k, (n, _) in enumerate(labels) if _role(n, "") == "time"), None)
    if tcol is not None:
        data = data[data[:, tcol] >= 0]  # placeholder rows carry time -1
    attrs = {}
    size = meta.get("Size")
    if isinstance(size, list) and size:
        try:
            mass = float(size[0])
            unit = size[1].lower() if len(size) > 1 else "mg"
            attrs["sample_mass_mg"] = mass * {"mg": 1.0, "g": 1e3, "ug": 1e-3, "µg": 1e-3}.get(unit, 1.0)
        except ValueError:
            pass
    elif isinstance(size, str) and size:
        try:
            attrs["sample_mass_mg"] = float(size.split()[0])
        except ValueError:
            pass
    exo = meta.get("Exotherm")
    if isinstance(exo, str) and exo:
        attrs["exotherm"] = exo.strip().lower()
    for key, name in (("Instrument", "instrument"), ("Sample", "sample"), ("Module", "module")):
        if isinstance(meta.get(key), str) and meta[key]:
            attrs[name] = meta[key]
    segment = np.zeros(data.shape[0], dtype=np.int32)
    return labels, data, segment, [], meta, attrs


def _table(lines: list[str], source: str):
    labels = None
    blocks: list = []
    seg, descr, pending = 0, [], None
    rows: list[list[float]] = []
    segs: list[int] = []
    i = 0
    while i < len(lines):
        s = lines[i].rstrip("\r\n")
        if s.strip() == "[step]":
            seg += 1
            pending = lines[i + 1].strip() if i + 1 < len(lines) else ""
            descr.append(pending)
            i += 2
            continue
        parts = s.split("\t")
        if not s.strip():
            i += 1
            continue
        if not is_numeric_row(parts, min_fields=1, nonfinite=True):
            if i + 1 >= len(lines):
                break
            names = parts
            units = lines[i + 1].rstrip("\r\n").split("\t")
            new = [(n.strip(), (units[k].strip() if k < len(units) else "")) for k, n in enumerate(names)]
            if labels is None:
                labels = new
            elif [n for n, _ in new] != [n for n, _ in labels]:
                raise FormatError(f"{source}: step {seg} has columns {[n for n, _ in new]}, the file began "
                                  f"with {[n for n, _ in labels]}")
            i += 2
            continue
        if labels is None:
            raise FormatError(f"{source}: data before any column header")
        vals = [float(p) if p.strip() else np.nan for p in parts[:len(labels)]]
        vals += [np.nan] * (len(labels) - len(vals))
        rows.append(vals)
        segs.append(seg)
        i += 1
    if labels is None or not rows:
        raise FormatError(f"{source}: no column header or no data rows")
    blocks = descr
    return labels, np.array(rows), np.array(segs, dtype=np.int32), blocks, {}, {}


def _rate(description: str) -> float | None:
    m = re.search(r"([-+]?\d+(?:\.\d+)?)\s*°?\s*[CK]\s*/\s*min", description)
    return float(m.group(1)) if m else None


def parse_ta_text(text: str, *, source: str = "<text>"):
    """Parse the text of a TA export; returns ``(variables, time_s, attrs)`` (see :func:`read_ta_thermal`)."""
    text = _fix_degree(text)
    lines = text.splitlines()
    if not lines or not text.strip():
        raise FormatError(f"{source}: the file is empty")
    if any(ln.strip() == "StartOfData" for ln in lines[:400]):
        labels, data, segment, descr, meta, attrs = _universal(lines, source)
        fmt = "ta-universal-analysis"
    else:
        labels, data, segment, descr, meta, attrs = _table(lines, source)
        fmt = "ta-table"
    roles = [_role(n, u) for n, u in labels]
    if "time" not in roles:
        raise FormatError(f"{source}: no time column among {[n for n, _ in labels]}")
    k = roles.index("time")
    tunit = labels[k][1].strip().lower() or "min"
    time = data[:, k] * _TIME_FACTOR.get(tunit, 60.0)
    keep = np.isfinite(time)
    time, data, segment = time[keep], data[keep], segment[keep]
    variables = {}
    for j, ((name, unit), role) in enumerate(zip(labels, roles, strict=False)):
        if j == k or role in variables:
            continue
        values = data[:, j]
        u = unit.replace("°", "deg").replace("degC", "degC") if unit else ""
        if role == "temperature":
            if unit.strip().upper() in ("K", "°K"):
                values = values - 273.15
            u = "degC"
        variables[role] = (values, u or "1", name)
    if descr:
        segs = []
        for idx, d in enumerate(descr, start=1):
            sel = segment == idx
            entry = {"index": idx, "description": d, "rate_K_per_min": _rate(d),
                     "isothermal": d.lower().startswith("isothermal")}
            if sel.any():
                entry.update(start_s=float(time[sel][0]), end_s=float(time[sel][-1]))
            segs.append(entry)
        attrs["segments"] = json.dumps(segs)
    rates = [_rate(d) for d in descr if _rate(d) is not None]
    if rates:
        attrs["heating_rate_K_per_min"] = rates[0]
    attrs.update(format=fmt, original_metadata=dumps_json(meta))
    return variables, time, segment, attrs


def read_ta_thermal(path) -> xr.Dataset:
    """Read a TA Instruments DSC/TGA text export.

    Parameters
    ----------
    path : path-like
        The export; opened read-only.

    Returns
    -------
    xarray.Dataset
        Over ``time`` (s), with ``temperature`` (degC), ``heat_flow`` (mW), ``mass`` (mg),
        ``mass_percent`` (%) ... as present, ``segment`` and the attributes listed in the module notes.

    Raises
    ------
    FormatError
        Missing, empty, truncated or unrecognised file, or no time column.
    """
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such file")
    raw = p.read_bytes()
    if b"\x00" in raw[:4096]:
        raise FormatError(f"{p}: a binary file (a TA .001 run file?); export it as text from the "
                          "instrument software first")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    variables, time, segment, attrs = parse_ta_text(text, source=str(p))
    data_vars = {role: ("time", v, {"units": u, "long_name": name})
                 for role, (v, u, name) in variables.items()}
    data_vars["segment"] = ("time", segment, {"units": "1", "long_name": "program step"})
    attrs.update(source=str(p), signal="thermal")
    return xr.Dataset(data_vars, coords={"time": ("time", time, {"units": "s"})}, attrs=attrs)
