"""XAFS Data Interchange (XDI 1.0) files: X-ray absorption spectra as text with a structured header.

An XDI file starts with a version line ``# XDI/1.0`` (optionally followed by application versions,
``# XDI/1.0 GSE/1.0``), then header fields ``# Namespace.tag: value`` (``Element.symbol: Cu``,
``Element.edge: K``, ``Mono.d_spacing: 3.13553``, ``Scan.edge_energy: 8980.0``), among them the column
definitions ``# Column.N: name [units]`` (``Column.1: energy eV``). A line of at least two slashes
(``# ///``) ends the fields; free-form comment lines follow until a line of dashes (``#----``); the
last comment line before the data may repeat the column names. Data rows are whitespace separated.

:func:`read_xdi` returns an :class:`xarray.Dataset` over ``energy`` (eV) with every column as a
variable and ``mu``, the absorption coefficient: the file's ``mutrans``/``mufluor``/``murefer``
column if there is one, else ``ln(I0/It)`` (transmission) or ``If/I0`` (fluorescence) from the
intensity columns. An energy column in keV is converted to eV; a monochromator angle column in
degrees is converted with ``Mono.d_spacing`` (``E = hc / (2 d sin θ)``).

References
----------
.. [1] M. Newville, B. Ravel et al., "XDI: XAFS Data Interchange format, version 1.0", IUCr
   Commission on XAFS / xraylarch (2013–2016), https://github.com/XraySpectroscopy/XAS-Data-Interchange
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._columns import float_table
from ._units import dumps_json

__all__ = ["read_xdi", "HC_EV_ANGSTROM"]

#: h·c in eV·Å (CODATA 2018).
HC_EV_ANGSTROM = 12398.419843320026
_MAX_BYTES = 256 * 2**20
_VERSION = re.compile(r"^#\s*XDI/(\d+\.\d+)(.*)$", re.I)
_FIELD = re.compile(r"^#\s*([A-Za-z_][\w-]*)\.([\w-]+)\s*:\s*(.*?)\s*$")
_END_FIELDS = re.compile(r"^#\s*/{2,}\s*$")
_END_HEADER = re.compile(r"^#\s*-{3,}\s*$")
_MU_COLUMNS = ("mutrans", "mufluor", "murefer", "mu", "xmu", "normtrans", "normfluor")


def _get(fields, key, default=None):
    """A header field by its case-insensitive ``Namespace.tag`` name."""
    key = key.lower()
    return next((v for k, v in fields.items() if k.lower() == key), default)


def _energy(values, unit, fields, path):
    unit = (unit or "eV").strip().lower()
    if unit == "ev":
        return values
    if unit == "kev":
        return values * 1e3
    if unit in ("deg", "degree", "degrees"):
        d = _get(fields, "Mono.d_spacing")
        try:
            d = float(str(d).split()[0])
        except (TypeError, ValueError, IndexError) as exc:
            raise FormatError(f"{path}: the energy column is a monochromator angle but Mono.d_spacing is "
                              "missing; add it (Å) or convert the column to eV") from exc
        return HC_EV_ANGSTROM / (2.0 * d * np.sin(np.deg2rad(values)))
    raise FormatError(f"{path}: energy column in unknown units {unit!r} (expected eV, keV or degrees)")


def read_xdi(path) -> xr.Dataset:
    """Read an XDI 1.0 file into columns over ``energy`` (eV) and the absorption ``mu``.

    Parameters
    ----------
    path : str or pathlib.Path
        The XDI text file (opened read-only).

    Returns
    -------
    xarray.Dataset
        One variable per column and ``mu`` over ``energy``; ``attrs``: ``signal`` ``"xas"``,
        ``element``, ``edge``, ``edge_energy_eV`` (NaN when not given), ``mu_source``,
        ``xdi_version``, ``fields`` and ``comments`` (JSON), ``source_file``.

    Raises
    ------
    FormatError
        Missing, binary or empty file; no ``# XDI/`` version line; no energy column; ragged or
        non-numeric rows; neither a μ column nor the intensities to compute it.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for an XDI file")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content; an XDI file is text")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if not lines or not _VERSION.match(lines[0].strip()):
        raise FormatError(f"{path}: the first line is not an XDI version line ('# XDI/1.0'); not an XDI file")
    version = _VERSION.match(lines[0].strip())
    fields, comments, columns = {}, [], {}
    in_fields, start, last_comment = True, None, ""
    for i, line in enumerate(lines[1:], start=1):
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            start = i
            break
        if _END_HEADER.match(s):
            in_fields = False
            continue
        if _END_FIELDS.match(s):
            in_fields = False
            continue
        m = _FIELD.match(s) if in_fields else None
        if m:
            fields[f"{m.group(1)}.{m.group(2)}"] = m.group(3)
            if m.group(1).lower() == "column" and m.group(2).isdigit():  # Column.N: name [units]
                parts = m.group(3).split()
                columns[int(m.group(2))] = (parts[0] if parts else f"col{m.group(2)}",
                                            parts[1] if len(parts) > 1 else "")
        else:
            last_comment = s.lstrip("#").strip()
            comments.append(last_comment)
    if start is None:
        raise FormatError(f"{path}: an XDI header but no data rows")
    rows = [ln.split() for ln in lines[start:] if ln.strip() and not ln.lstrip().startswith("#")]
    table = float_table(rows, source=path, min_rows=2, what="energy and signals", cells="values")
    ncol = table.shape[1]
    names = [columns.get(j + 1, (None, ""))[0] for j in range(ncol)]
    units = [columns.get(j + 1, (None, ""))[1] for j in range(ncol)]
    labels = last_comment.split()
    if any(n is None for n in names) and len(labels) == ncol:  # the column-label line names the rest
        names = [n or lab for n, lab in zip(names, labels, strict=True)]
    names = [n or f"col{j + 1}" for j, n in enumerate(names)]
    lower = [n.lower() for n in names]
    e_idx = next((j for j, n in enumerate(lower) if n in ("energy", "e", "angle", "theta")), None)
    if e_idx is None:
        raise FormatError(f"{path}: no energy column (Column.N: energy eV); columns are {names}")
    e_unit = units[e_idx] or ("degrees" if lower[e_idx] in ("angle", "theta") else "eV")
    energy = _energy(table[:, e_idx], e_unit, fields, path)
    data_vars, mu, source = {}, None, None
    for j, n in enumerate(names):
        if j == e_idx:
            continue
        key = re.sub(r"\W+", "_", n).strip("_") or f"col{j + 1}"
        data_vars[key] = (("energy",), table[:, j], {"units": units[j] or "1", "long_name": n})
        if mu is None and n.lower() in _MU_COLUMNS:
            mu, source = table[:, j], f"column {n}"
    col = {n.lower(): table[:, j] for j, n in enumerate(names)}
    if mu is None:
        i0 = col.get("i0")
        it = col.get("itrans", col.get("it", col.get("i1")))
        ifl = col.get("ifluor", col.get("if"))
        if i0 is not None and it is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = np.log(i0 / it)
            source = "ln(i0/itrans)"
        elif i0 is not None and ifl is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                mu = ifl / i0
            source = "ifluor/i0"
        else:
            raise FormatError(f"{path}: no mu column (mutrans, mufluor) and no i0 with itrans or ifluor to "
                              f"compute it; columns are {names}")
    if not np.any(np.isfinite(mu)):
        raise FormatError(f"{path}: mu is not finite anywhere (zero or negative intensities?)")
    data_vars["mu"] = (("energy",), mu, {"units": "1", "long_name": f"absorption μ ({source})"})
    edge_energy = np.nan
    edge_field = str(_get(fields, "Scan.edge_energy", "")).split()
    if edge_field:
        try:
            edge_energy = float(edge_field[0]) * (1e3 if edge_field[1:2] == ["keV"] else 1.0)
        except ValueError:
            edge_energy = np.nan
    attrs = {"signal": "xas", "format": "xdi", "source_file": str(path), "xdi_version": version.group(1),
             "applications": version.group(2).strip(), "element": _get(fields, "Element.symbol", ""),
             "edge": _get(fields, "Element.edge", ""), "edge_energy_eV": edge_energy, "mu_source": source,
             "sample_name": _get(fields, "Sample.name", ""), "fields": dumps_json(fields),
             "comments": dumps_json(comments), "original_metadata": dumps_json({"fields": fields,
                                                                               "comments": comments})}
    coords = {"energy": ("energy", energy, {"units": "eV"})}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
