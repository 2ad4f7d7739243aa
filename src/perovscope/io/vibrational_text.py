"""Raman and FTIR spectra exported as text: JASCO JWS text, and two-column wavenumber tables.

A JASCO export starts with ``KEY<tab>value`` lines (``TITLE``, ``DATA TYPE  RAMAN SPECTRUM``,
``XUNITS  1/CM``, ``YUNITS``, ``FIRSTX``, ``LASTX``, ``NPOINTS``, ...) closed by ``XYDATA``, then one
``x<tab>y`` row per point, and often a footer (``##### Extended Information`` with ``Laser wavelength
490.20 nm``, ``Exposure  300 sec``, ``Accumulation  3``, ...). Other instruments (Renishaw WiRE,
Horiba LabSpec, Thermo OMNIC CSV, Bruker OPUS text export) write a header of ``#``/``key: value`` lines
or none, then columns of numbers. The reader takes the first block of numeric rows as the data,
every line before it as the header and every line after it as the footer, and reads keys by meaning,
never by line number. The number of points declared in a header (``NPOINTS``) is checked against
the rows found.

The result is an :class:`xarray.DataArray` over ``wavenumber`` (cm⁻¹, in the file's order), values
as read; ``attrs``: ``signal`` (``"raman"`` or ``"ftir"``, from the header or ``kind``),
``quantity``, ``units``, ``laser_wavelength_nm`` where given, ``source_file`` and the header and
footer in ``original_metadata``. Several y columns give ``(spectrum, wavenumber)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import xarray as xr

from ..errors import FormatError, InputError
from ._columns import float_table, is_numeric_row, require_rows, split_fields
from ._units import dumps_json

__all__ = ["read_vibrational_text", "WAVENUMBER_DIM"]

#: Dimension name of a wavenumber axis (Raman shift or IR wavenumber), in cm⁻¹.
WAVENUMBER_DIM = "wavenumber"

_MAX_BYTES = 128 * 2**20
_KEY = re.compile(r"^\s*#?\s*([A-Za-z][A-Za-z0-9 /_().\-]*?)\s*(?:[:=\t]|\s{2,})\s*(.*)$")
_WAVENUMBER = re.compile(r"1\s*/\s*cm|cm\s*\^?-1|cm-1|cm⁻¹|wavenumber|raman\s*shift", re.I)
_WAVELENGTH = re.compile(r"(?<![a-z])nm(?![a-z])|wavelength|(?<![a-z])µm|(?<![a-z])um(?![a-z])", re.I)
_QUANTITIES = (
    (re.compile(r"absorbance|(?<![a-z])abs(?![a-z])|(?<![a-z])a\.?u\.? abs", re.I), "absorbance", "1"),
    (re.compile(r"%\s*t(?![a-z])|transmitt?ance", re.I), "transmittance", "1"),
    (re.compile(r"%\s*r(?![a-z])|reflectance", re.I), "reflectance", "1"),
    (re.compile(r"count|cps|(?<![a-z])cts(?![a-z])", re.I), "counts", "counts"),
    (re.compile(r"intensity|(?<![a-z])int\.?(?![a-z])|signal", re.I), "intensity", "a.u."),
)


def _split(line: str) -> list[str]:
    return split_fields(line, order=("\t", ",", ";"), drop_empty=True)


def _numeric(line: str) -> list[float] | None:
    toks = _split(line)
    return [float(t) for t in toks] if is_numeric_row(toks) else None


def _keys(lines) -> dict:
    meta = {}
    for line in lines:
        m = _KEY.match(line)
        if m and m.group(1).strip():
            meta.setdefault(m.group(1).strip(), m.group(2).strip())
    return meta


def _find(meta: dict, *names: str):
    low = {k.lower(): v for k, v in meta.items()}
    for name in names:
        if name in low and low[name] != "":
            return low[name]
    return None


def _first_float(text):
    m = re.search(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", str(text or ""))
    return float(m.group(0)) if m else None


def read_vibrational_text(path, *, kind: str | None = None) -> xr.DataArray:
    """Read a Raman/FTIR text export (JASCO or a wavenumber table) into values over ``wavenumber``.

    Parameters
    ----------
    path : str or pathlib.Path
        The text file (opened read-only).
    kind : {"raman", "ftir"}, optional
        The technique, when the header does not say (JASCO ``DATA TYPE``); default ``"raman"``.

    Returns
    -------
    xarray.DataArray
        ``(wavenumber,)`` or ``(spectrum, wavenumber)``; ``wavenumber`` in cm⁻¹ as in the file.

    Raises
    ------
    FormatError
        Missing, binary or empty file, no numeric rows, ragged rows, a point count that disagrees
        with the header, an axis declared as a wavelength, too few points.
    """
    path = Path(path)
    if kind not in (None, "raman", "ftir"):
        raise InputError(f"kind must be 'raman' or 'ftir', got {kind!r}")
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size > _MAX_BYTES:
        raise FormatError(f"{path}: {path.stat().st_size} bytes is too large for a spectrum text export")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw[:4096]:
        raise FormatError(f"{path}: binary content; for Bruker OPUS files use perovscope.io.opus.read_opus")
    lines = [ln.strip() for ln in raw.decode("utf-8", errors="replace").splitlines()]
    start = next((i for i, ln in enumerate(lines) if _numeric(ln) is not None), None)
    if start is None:
        raise FormatError(f"{path}: no rows of numbers (wavenumber and intensity) found")
    stop = start
    rows = []
    while stop < len(lines):
        vals = _numeric(lines[stop])
        if vals is None:
            if lines[stop] == "" or lines[stop].startswith("#"):
                if stop + 1 < len(lines) and _numeric(lines[stop + 1]) is not None and lines[stop] == "":
                    stop += 1
                    continue
            break
        rows.append(vals)
        stop += 1
    header, footer = [ln for ln in lines[:start] if ln], [ln for ln in lines[stop:] if ln]
    table = float_table(rows, source=path)
    ncol = table.shape[1]
    meta = _keys(header)
    extra = _keys(footer)
    declared = _first_float(_find(meta, "npoints", "data points", "points", "number of points"))
    if declared is None:
        declared = _first_float(_find(extra, "data points"))
    if declared is not None and int(declared) != table.shape[0]:
        raise FormatError(
            f"{path}: the header declares {int(declared)} points but {table.shape[0]} rows "
            "were found (truncated file?)"
        )
    require_rows(table.shape[0], source=path, min_rows=5, what="wavenumber and intensity")
    xunits = _find(meta, "xunits", "x units", "horizontal axis") or _find(extra, "horizontal axis") or ""
    names = _split(header[-1].lstrip("#")) if header else []
    axis_text = " ".join([xunits] + (names[:1] if len(names) == ncol else []))
    if _WAVELENGTH.search(axis_text) and not _WAVENUMBER.search(axis_text):
        raise FormatError(
            f"{path}: the x axis is a wavelength ({axis_text.strip()!r}); convert to wavenumbers (cm⁻¹) first"
        )
    dtype = (_find(meta, "data type") or "").lower()
    signal = kind or ("ftir" if ("infrared" in dtype or " ir" in f" {dtype}" or "ftir" in dtype) else "raman")
    ytext = " ".join(
        [_find(meta, "yunits", "y units", "vertical axis") or "", _find(extra, "vertical axis") or ""]
        + (names[1:] if len(names) == ncol else [])
    )
    quantity, units = next(
        ((q, u) for rx, q, u in _QUANTITIES if rx.search(ytext)),
        ("counts" if signal == "raman" else "intensity", "counts" if signal == "raman" else "a.u."),
    )
    attrs = {
        "signal": signal,
        "quantity": quantity,
        "units": units,
        "source_file": str(path),
        "format": "jasco_text" if (_find(meta, "origin") or "").upper() == "JASCO" else "wavenumber_text",
    }
    laser = _first_float(_find(extra, "laser wavelength") or _find(meta, "laser wavelength", "laser"))
    if laser:
        attrs["laser_wavelength_nm"] = laser
    for key, name in (("exposure", "exposure_s"), ("accumulation", "accumulations")):
        value = _first_float(_find(extra, key) or _find(meta, key))
        if value is not None:
            attrs[name] = value
    attrs["original_metadata"] = dumps_json({"header": header, "footer": footer})
    x = table[:, 0]
    coords = {WAVENUMBER_DIM: (WAVENUMBER_DIM, x, {"units": "1/cm"})}
    if ncol == 2:
        return xr.DataArray(table[:, 1], dims=(WAVENUMBER_DIM,), coords=coords, attrs=attrs, name=quantity)
    labels = names[1:] if len(names) == ncol else [f"y{i}" for i in range(1, ncol)]
    coords["spectrum"] = ("spectrum", [str(s) for s in labels])
    return xr.DataArray(
        table[:, 1:].T, dims=("spectrum", WAVENUMBER_DIM), coords=coords, attrs=attrs, name=quantity
    )
