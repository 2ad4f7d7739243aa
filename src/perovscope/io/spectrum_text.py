"""Two-column optical spectra as text: wavelength or photon energy against counts, absorbance, %T, ...

The files come from every spectrometer's "export as text": a header or none, comma, semicolon, tab or
white-space delimited, quoted column names (``"Wavelength nm." "Abs."``), decimal axes running up or
down. The reader finds the first row of numbers, keeps every line before it as the header, and works
out from the header's words what the axis is (``wavelength``/``lambda``/``nm``/``µm``/``Å`` →
wavelength in nm; ``energy``/``eV``/``meV``/``hν`` → photon energy in eV) and what the values are
(``abs``/``absorbance``/``OD`` → absorbance, ``%T``/``transmittance`` → transmittance, ``%R``/
``reflectance`` → reflectance, ``counts``/``cps`` → counts). Without a header the axis kind is judged
from the range of its values (100–5000 → nm, 0.3–12 → eV) and ``attrs["axis_from"]`` says so.

The result is an :class:`xarray.DataArray` over ``wavelength`` (nm) or ``energy`` (eV) in the file's
order, values as read (counts stay counts); ``attrs``: ``signal`` ``"spectrum"``, ``quantity``,
``units``, ``axis_from`` (``"header"``, ``"range"`` or ``"given"``), ``source_file`` and the header
lines in ``original_metadata``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from .. import dims
from ..errors import FormatError, InputError
from ._columns import float_table, is_number, is_numeric_row, require_rows, split_fields
from ._units import dumps_json

__all__ = ["read_spectrum_text", "AXIS_KINDS", "QUANTITIES"]

#: Axis kinds the reader returns, with their dimension and unit.
AXIS_KINDS = {"wavelength": (dims.WAVELENGTH, "nm"), "energy": (dims.ENERGY, "eV")}
#: Value kinds recognised in headers, with the unit given to them.
QUANTITIES = {"counts": "counts", "intensity": "a.u.", "absorbance": "1", "transmittance": "1",
              "reflectance": "1", "absorption_coefficient": "1/cm", "factor": "1"}

_MAX_BYTES = 128 * 2**20
# axis words and units: (regex on a lower-cased header, kind, factor to nm or eV)
_AXIS_WORDS = (
    (r"(?<![a-z])(?:µm|μm|um|micron)s?(?![a-z])", "wavelength", 1e3),
    (r"(?<![a-z])(?:å|angstrom|ang)(?![a-z])", "wavelength", 0.1),
    (r"(?<![a-z])nm(?![a-z])|wavelength|lambda|λ|(?<![a-z])wl(?![a-z])", "wavelength", 1.0),
    (r"(?<![a-z])mev(?![a-z])", "energy", 1e-3),
    (r"(?<![a-z])ev(?![a-z])|energy|h\s*ν|h\s*nu|(?<![a-z])hv(?![a-z])", "energy", 1.0),
)
_WAVENUMBER = re.compile(r"cm\s*(?:-1|\^-1|⁻¹)|1\s*/\s*cm|wavenumber|raman\s*shift")
_QUANTITY_WORDS = (
    (r"absorption\s*coef|(?<![a-z])alpha(?![a-z])|α", "absorption_coefficient"),
    (r"(?<![a-z])abs|absorbance|(?<![a-z])o\.?d\.?(?![a-z])|optical\s*density|extinction", "absorbance"),
    (r"%\s*t(?![a-z])|transmitt?ance|(?<![a-z])trans(?![a-z])", "transmittance"),
    (r"%\s*r(?![a-z])|reflectance|(?<![a-z])refl", "reflectance"),
    (r"count|(?<![a-z])cps(?![a-z])|(?<![a-z])cts(?![a-z])", "counts"),
    (r"factor|calibration|(?<![a-z])cf(?![a-z])|correction|sensitivity", "factor"),
    (r"intensity|signal|emission|(?<![a-z])pl(?![a-z])|a\.u\.", "intensity"),
)


def _delimiter(line: str) -> str | None:
    for delim in ("\t", ";", ","):
        if delim in line:
            toks = split_fields(line, delim)
            if sum(is_number(t, decimal_comma=True) for t in toks) >= 2 or delim != ",":
                return delim
    return None


def _numbers(line: str, delim: str | None) -> list[float] | None:
    toks = split_fields(line, delim, order=(), drop_empty=True)
    if not is_numeric_row(toks, decimal_comma=True):
        return None
    if delim != "," and any("," in t for t in toks):  # decimal comma ("1,25" with ; or tab delimiters)
        toks = [t.replace(",", ".") for t in toks]
    return [float(t) for t in toks]


def _split_names(line: str, ncol: int) -> list[str] | None:
    """Column names of a header line: quoted tokens, or a split on the delimiter/wide spaces."""
    text = line.lstrip("#%;! ").strip()
    quoted = re.findall(r'"([^"]*)"|\'([^\']*)\'', text)
    if len(quoted) == ncol:
        return [a or b for a, b in quoted]
    for pattern in (r"\t", r";", r",", r"\s{2,}", r"\s+"):
        cand = [t.strip(" \"'") for t in re.split(pattern, text) if t.strip(" \"'")]
        if len(cand) == ncol:
            return cand
    return None


def _axis_from_text(text: str) -> tuple[str, float] | None:
    low = text.lower()
    if _WAVENUMBER.search(low):
        return ("wavenumber", 1.0)
    for pattern, kind, factor in _AXIS_WORDS:
        if re.search(pattern, low):
            return kind, factor
    return None


def _quantity_from_text(text: str) -> str | None:
    low = text.lower()
    for pattern, kind in _QUANTITY_WORDS:
        if re.search(pattern, low):
            return kind
    return None


def _axis_from_range(x: np.ndarray) -> str | None:
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo >= 100.0 and hi <= 5000.0:
        return "wavelength"
    if lo >= 0.3 and hi <= 12.0:
        return "energy"
    return None


def read_spectrum_text(path, *, axis: str | None = None, quantity: str | None = None,
                       column: int = 1) -> xr.DataArray:
    """Read a wavelength- or energy-axis spectrum from a text file (see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        The text file (opened read-only).
    axis : {"wavelength", "energy"}, optional
        Kind of the first column (nm or eV), overriding the header and the range test.
    quantity : str, optional
        What the values are (a key of :data:`QUANTITIES`), overriding the header.
    column : int
        Which column holds the values (1 = the second column).

    Returns
    -------
    xarray.DataArray
        ``(wavelength,)`` in nm or ``(energy,)`` in eV, values as read.

    Raises
    ------
    FormatError
        Missing, binary, empty or ragged file, an axis that is neither wavelength nor energy, an axis
        whose kind cannot be told (pass ``axis=``).
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a two-column spectrum")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content (NUL bytes); not a text spectrum")
    if axis is not None and axis not in AXIS_KINDS:
        raise InputError(f"axis={axis!r}: choose 'wavelength' or 'energy'")
    if quantity is not None and quantity not in QUANTITIES:
        raise InputError(f"quantity={quantity!r}: choose one of {', '.join(QUANTITIES)}")
    lines = [ln.strip() for ln in raw.decode("utf-8", errors="replace").splitlines()]
    header, rows, delim = [], [], None
    for i, line in enumerate(lines):
        if not line:
            continue
        if delim is None:
            d = _delimiter(line)
            vals = _numbers(line, d)
            if vals is None:
                header.append(line)
                continue
            delim, start = d, i
        vals = _numbers(line, delim)
        if vals is None:
            if rows and (line.startswith(("#", "[", "*")) or not re.search(r"\d", line)):
                break  # a footer (a JSON block, an end marker) after the table
            raise FormatError(f"{path}: line {i + 1} is not numeric ({line[:40]!r}); truncated or mixed file")
        rows.append(vals)
    if not rows:
        raise FormatError(f"{path}: no rows of at least two numeric columns found")
    table = float_table(rows, source=path, line_offset=start)
    ncol = table.shape[1]
    if not 1 <= column < ncol:
        raise InputError(f"{path}: column={column} but the file has {ncol} columns")
    require_rows(table.shape[0], source=path, min_rows=3, what="axis and values")
    x, y = table[:, 0], table[:, column]
    names = _split_names(header[-1], ncol) if header else None
    x_text = names[0] if names else " ".join(header)
    y_text = names[column] if names else ""
    found = _axis_from_text(x_text) if x_text else None
    if found is None and names and header:
        found = _axis_from_text(" ".join(header[:-1]))
    if axis is not None:
        kind, factor, source = axis, 1.0, "given"
    elif found is not None:
        kind, factor = found
        source = "header"
        if kind == "wavenumber":
            raise FormatError(f"{path}: the axis is in wavenumbers (cm⁻¹); this reader takes wavelength "
                              "(nm) or photon energy (eV) spectra")
    else:
        kind, factor, source = _axis_from_range(x), 1.0, "range"
        if kind is None:
            raise FormatError(f"{path}: cannot tell whether the first column ({x.min():g}–{x.max():g}) is a "
                              "wavelength or an energy; pass axis='wavelength' or 'energy'")
    qty = quantity or (_quantity_from_text(y_text) if y_text else None) or "intensity"
    if qty == "transmittance" or qty == "reflectance":
        percent = "%" in y_text or float(np.nanmax(y)) > 1.5
        if percent:
            y = y / 100.0
    dim, unit = AXIS_KINDS[kind]
    meta = {"header": header, "columns": names}
    coord = xr.Variable(dim, x * factor, attrs={"units": unit, "long_name": names[0] if names else dim})
    return xr.DataArray(y, dims=[dim], coords={dim: coord}, name=qty,
                        attrs={"signal": "spectrum", "quantity": qty, "units": QUANTITIES[qty],
                               "long_name": y_text or qty, "axis_from": source, "source_file": str(path),
                               "format": "spectrum_text", "original_metadata": dumps_json(meta)})
