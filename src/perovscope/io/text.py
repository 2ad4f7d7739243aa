"""Plain-text spectra and logs: two-column ``.xy``/``.txt``/``.csv`` files and multi-column CSV logs.

Header lines (anything before the first all-numeric row) are skipped and kept in the original
metadata; the delimiter (comma, semicolon, tab or white space) is detected from the data rows.

* Two columns -> a :class:`xarray.DataArray` of the second column over the first. The dimension is
  taken from the header (``2theta``/``TwoTheta`` -> ``two_theta`` in deg, ``wavelength`` -> nm,
  ``energy``/``eV``/``keV`` -> ``energy`` in eV, ``time`` -> s), else ``two_theta`` for ``.xy``
  files (the usual XRD export) and ``x`` otherwise; ``dim=``/``units=`` override it.
* Three or more named columns (a device log such as ``time_s,current_A,voltage_V,el_intensity``)
  -> an :class:`xarray.Dataset` over the first column, one variable per other column, keeping the
  column names, with units parsed from ``_A``/``(A)``/``[A]`` suffixes.
"""

from __future__ import annotations

import re
from pathlib import Path

import xarray as xr

from .. import dims
from ..errors import FormatError
from ._columns import detect_delimiter, numeric_rows, split_fields
from ._units import canonical_unit, dumps_json

__all__ = ["read_text"]

_UNIT_SUFFIX = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<p>[^)]*)\)|\[(?P<b>[^\]]*)\])\s*$")
_KNOWN_SUFFIX_UNITS = {"s", "ms", "us", "ns", "min", "h", "a", "ma", "ua", "na", "v", "mv", "w", "mw",
                       "ev", "kev", "nm", "um", "deg", "k", "c", "hz", "ohm", "counts", "cps", "pct"}


def _split_unit(name: str) -> tuple[str, str | None]:
    match = _UNIT_SUFFIX.match(name)
    if match:
        return match.group("name"), (match.group("p") or match.group("b") or "").strip() or None
    if "_" in name:
        base, suffix = name.rsplit("_", 1)
        if suffix.lower() in _KNOWN_SUFFIX_UNITS:
            return base, suffix
    return name, None


def _axis_for(name: str, header: str, ext: str) -> tuple[str, str, float]:
    """(dim, units, factor) for the first column."""
    base, unit = _split_unit(name)
    low = (base or "").lower().replace(" ", "").replace("_", "")
    text = (header + " " + name).lower().replace(" ", "")
    if low.startswith("time") or low == "t":
        canon, factor = canonical_unit(unit or "s")
        return dims.TIME, canon, factor
    if "theta" in low or "2θ" in low or "angle" in low or ("twotheta" in text or "2theta" in text):
        return dims.TWO_THETA, "deg", 1.0
    if "wavelength" in low or "lambda" in low:
        canon, factor = canonical_unit(unit or "nm")
        return dims.WAVELENGTH, canon, factor
    if "energy" in low or (unit or "").lower() in ("ev", "kev"):
        canon, factor = canonical_unit(unit or "eV")
        return dims.ENERGY, canon, factor
    if ext == ".xy":
        return dims.TWO_THETA, "deg", 1.0
    return dims.X, unit or "a.u.", 1.0


def read_text(path: Path, *, dim: str | None = None, units: str | None = None,
              delimiter: str | None = None) -> xr.DataArray | xr.Dataset:
    """Read a two-column spectrum or a multi-column CSV log (see the module docstring).

    Parameters
    ----------
    path : pathlib.Path
        The text file.
    dim, units : str, optional
        Dimension name and unit of the first column, overriding what the header implies.
    delimiter : str, optional
        Column delimiter; detected when omitted.
    """
    raw = Path(path).read_bytes()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content (NUL bytes) in a text file; the file is corrupt or "
                          "has the wrong extension")
    text = raw.decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    header, table = numeric_rows(lines, source=path, delimiter=delimiter, nonfinite=True,
                                 what="at least two columns", number_lines=True)
    ncol = table.shape[1]
    names = None
    if header:
        hdelim = delimiter if delimiter is not None else detect_delimiter(header[-1])
        line = header[-1].lstrip("#").strip()
        for cand in (split_fields(line, hdelim, order=()), re.split(r"\s{2,}|\t", line)):
            cand = [t.strip("'\" ") for t in cand]
            if len(cand) == ncol and all(cand):
                names = cand
                break
    meta = {"header": header, "columns": names}
    common = {"source_file": str(path), "format": "text", "original_metadata": dumps_json(meta)}
    xname = names[0] if names else ""
    xdim, xunits, factor = _axis_for(xname, " ".join(header), Path(path).suffix.lower())
    if dim is not None:
        xdim = dim
    if units is not None:
        xunits, factor = units, 1.0
    x = table[:, 0] * factor
    coord = {xdim: xr.Variable(xdim, x, attrs={"units": xunits, "long_name": xname or xdim})}
    if ncol == 2 and not (names and len(header) and xdim == dims.TIME):
        yname = names[1] if names else "intensity"
        yunit = _split_unit(yname)[1] or ("counts" if "count" in yname.lower() else "a.u.")
        kind = {dims.TWO_THETA: "xrd", dims.TIME: "line_profile"}.get(xdim, "spectrum")
        return xr.DataArray(table[:, 1], dims=[xdim], coords=coord, name=kind,
                            attrs={"signal": kind, "units": yunit, "title": yname, **common})
    data_vars = {}
    for k in range(1, ncol):
        name = names[k] if names else f"column_{k}"
        unit = _split_unit(name)[1] or "a.u."
        data_vars[name] = xr.Variable(xdim, table[:, k], attrs={"units": unit, "signal": "log"})
    return xr.Dataset(data_vars, coords=coord, attrs={"signal": "log", **common})
