"""TCSPC decays exported as text: Horiba (DAS6/EzTime/FluoroHub) ASCII exports and plain CSV tables.

A Horiba export starts with ``key: value`` lines (``Item name``, ``Real time``, ``Live time``,
``Time calibration: 2.743484E-02ns/ch``, ``Comment``), then a column header (``Chan  Data``) and one
row per channel. The channel numbers become times ``t = channel × calibration`` in ns. A plain table
has a time column whose unit is named in its header (``time (ns)``, ``t [ps]``, ``Time_us``, ...)
and one or more count columns (a decay, an IRF, ...). The result is a :class:`xarray.DataArray` of
counts over ``delay`` (ns) — ``(curve, delay)`` when there are several count columns — with the
header in ``attrs``. Counts are kept as read (never rescaled).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._columns import is_number, numeric_rows, split_fields
from ._units import dumps_json

__all__ = ["read_tcspc_text", "TIME_FACTORS_NS"]

#: Multiply a time in this unit by the factor to get ns.
TIME_FACTORS_NS = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9}
_MAX_BYTES = 256 * 2**20
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CAL = re.compile(rf"({_NUM})\s*(fs|ps|ns|us|µs|μs|ms|s)\s*/\s*(?:ch|chan|channel)\b", re.I)
_UNIT = re.compile(r"(?:^|[\s(\[_/-])(fs|ps|ns|us|µs|μs|ms|s)(?:$|[\s)\]_])", re.I)
_CHANNEL_NAMES = ("chan", "channel", "ch", "bin", "channels")
_DELIMITERS = ("\t", ",", ";")


def _unit_of(name: str) -> str | None:
    m = _UNIT.search(name.strip())
    return m.group(1).lower().replace("μ", "u").replace("µ", "u") if m else None


def read_tcspc_text(path, *, time_unit: str | None = None) -> xr.DataArray:
    """Read a Horiba TCSPC ASCII export or a time/counts CSV into counts over ``delay`` (ns).

    Parameters
    ----------
    path : str or pathlib.Path
        The text file (opened read-only).
    time_unit : str, optional
        Unit of the time column when the header does not name one (``"ns"``, ``"ps"``, ...); without
        it such a column is taken as ns and ``attrs["time_unit_assumed"]`` is set.

    Returns
    -------
    xarray.DataArray
        ``(delay,)`` or ``(curve, delay)`` counts; ``delay`` in ns (increasing), ``attrs``: ``signal``
        ``"trpl"``, ``ns_per_channel``, ``source_file``, the header keys and ``original_metadata``.

    Raises
    ------
    FormatError
        Missing, binary, empty or truncated file, no time calibration for channel numbers, ragged rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a TCSPC text export")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content in a text file; is this a .ptu/.phu/.sdt file?")
    lines = [ln.strip() for ln in raw.decode("utf-8", errors="replace").splitlines()]
    header, table = numeric_rows([ln for ln in lines if ln], source=path, order=_DELIMITERS, comment="#",
                                 min_rows=3, what="channel/time and counts", same_delimiter=False)
    ncol = table.shape[1]
    meta = {}
    for line in header:
        key, sep, value = line.lstrip("#").partition(":")
        if sep and key.strip():
            meta[key.strip()] = value.strip()
    names = None
    if header:
        cand = [tok.strip("'\" ") for tok in split_fields(header[-1].lstrip("#"), order=_DELIMITERS)]
        if len(cand) == ncol and all(cand) and ":" not in header[-1]:
            names = cand
    names = names or ["time"] + [f"counts_{i}" for i in range(1, ncol)]
    cal = next((m for m in (_CAL.search(ln) for ln in header) if m), None)
    first = names[0].lower()
    attrs = {"signal": "trpl", "units": "counts", "source_file": str(path), "format": "tcspc_text"}
    is_channel = first.split()[0].strip("#") in _CHANNEL_NAMES
    is_channel = is_channel or (cal is not None and _unit_of(first) is None)
    if is_channel:
        if cal is None:
            raise FormatError(f"{path}: the first column holds channel numbers but no 'Time calibration: "
                              "<value> ns/ch' line was found; give the calibration or a time column")
        ns_per_channel = float(cal.group(1)) * TIME_FACTORS_NS[cal.group(2).lower().replace("μ", "u")
                                                                .replace("µ", "u")]
        delay = table[:, 0] * ns_per_channel
        attrs["format"] = "horiba_tcspc_text" if "Time calibration" in " ".join(header) else "tcspc_text"
    else:
        unit = _unit_of(names[0]) or (time_unit.lower() if time_unit else None)
        if unit is None:
            unit = "ns"
            attrs["time_unit_assumed"] = 1
        if unit not in TIME_FACTORS_NS:
            raise FormatError(f"{path}: unknown time unit {unit!r} in column {names[0]!r}")
        delay = table[:, 0] * TIME_FACTORS_NS[unit]
        ns_per_channel = float(np.median(np.diff(delay))) if delay.size > 1 else float("nan")
    counts = table[:, 1:].T
    if delay[0] > delay[-1]:
        delay, counts = delay[::-1], counts[:, ::-1]
    attrs["ns_per_channel"] = abs(ns_per_channel)
    for key, name in (("Real time", "real_time_s"), ("Live time", "live_time_s")):
        if key in meta and is_number(meta[key]):
            attrs[name] = float(meta[key])
    if "Item name" in meta:
        attrs["item_name"] = meta["Item name"]
    attrs["original_metadata"] = dumps_json({"header": header, "columns": names})
    coords = {"delay": ("delay", delay, {"units": "ns"})}
    if counts.shape[0] == 1:
        attrs["column"] = str(names[1])
        return xr.DataArray(counts[0], dims=("delay",), coords=coords, attrs=attrs, name="counts")
    coords["curve"] = ("curve", [str(n) for n in names[1:]])
    return xr.DataArray(counts, dims=("curve", "delay"), coords=coords, attrs=attrs, name="counts")
