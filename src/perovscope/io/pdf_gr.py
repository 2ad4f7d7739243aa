"""Pair distribution functions and structure factors as text: PDFgetX2/PDFgetX3/PDFgui ``.gr``, ``.sq``,
``.fq`` and ``.iq`` files, and plain two- to four-column tables.

A PDFgetX2 file carries its whole processing setup (``key=value`` pairs such as ``qmax=40.000000``,
``numberdensity=0.109910``, ``lambda=0.126514``) before ``##### start data``; PDFgetX3 writes an
ini-like ``[DEFAULT]`` block (``qmax = 25.0``, ``composition = …``); then come an optional
``#L r G(r) d_r d_Gr`` column line and the rows. The column names decide what each column is: r (or Q),
the function, ``dr`` and ``dG``. Uncertainty columns are kept only when they are uncertainties (finite,
non-negative, not all zero): PDFgetX2's third column under the name ``d_r`` actually holds the
``−4πρ₀r`` baseline (negative and proportional to r) — it is recognised, dropped, and its slope gives the
number density it was computed with (``attrs["number_density_from_baseline"]``).

The result is an :class:`xarray.Dataset`: ``G`` over ``r`` (Å, Å⁻²) for a ``.gr``; ``S`` (or ``F``,
Å⁻¹, or ``I``) over ``Q`` (Å⁻¹) for the reciprocal-space files; ``dG``/``dS``/``dF`` when present.
``attrs`` hold ``qmax``, ``qmin``, ``number_density``, ``wavelength`` and the like where the header
states them, the format, the file name and the header text (``original_metadata``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._columns import numeric_rows
from ._units import dumps_json

__all__ = ["read_pdf_gr", "read_pdf_text"]

_MAX_BYTES = 128 * 2**20
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
#: header key (regex, matched at a word start) -> attrs name
_KEYS = {
    "qmax": r"qmax", "qmin": r"qmin", "rmin": r"rmin", "rmax": r"rmax", "rstep": r"(?:rgrid|rstep)",
    "number_density": r"(?:numberdensity|number_density|rho0)", "wavelength": r"(?:lambda|wavelength)",
    "qmaxinst": r"qmaxinst", "temperature": r"temperature",
}
_KINDS = {".gr": "G", ".sq": "S", ".fq": "F", ".iq": "I"}


def _header_values(text: str) -> dict:
    out = {}
    for name, key in _KEYS.items():
        m = re.search(rf"(?<![A-Za-z_]){key}\s*[=:]\s*({_NUM})", text, re.I)
        if m:
            out[name] = float(m.group(1))
    return out


def read_pdf_text(path, *, kind: str | None = None) -> xr.Dataset:
    """Read a ``.gr``/``.sq``/``.fq``/``.iq`` file (or a table of r or Q and a function).

    Parameters
    ----------
    path : str or pathlib.Path
        The file (opened read-only).
    kind : {"G", "S", "F", "I"}, optional
        What the second column is; default from the extension, then the column names (``G``).

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    FormatError
        Missing, binary, empty, ragged or truncated file.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise FormatError(f"{path}: {size} bytes is too large for a PDF text file")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content; expected a text .gr/.sq/.fq file")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    marker = next((i for i, ln in enumerate(lines) if re.match(r"#+\s*start data", ln.strip(), re.I)), None)
    begin = 0 if marker is None else marker + 1
    header, table = numeric_rows(lines[begin:], source=path, order=(",",), drop_empty=True, nonfinite=True,
                                 same_delimiter=False, comment="#", min_rows=4, what="r or Q and G, S or F")
    header_lines = lines[:begin] + header
    ncol = table.shape[1]
    if ncol > 4:
        raise FormatError(f"{path}: {ncol} columns; expected x, the function and up to two uncertainties")
    text = "\n".join(header_lines)
    names = None
    label = next((ln for ln in reversed(header_lines) if re.match(r"#\s*L\b", ln.strip())), None)
    if label is not None:
        cand = label.strip()[2:].split()
        names = cand if len(cand) == ncol else None
    kind = kind or _KINDS.get(path.suffix.lower())
    if kind is None and names:
        second = names[1].lower()
        kind = "S" if second.startswith("s") else "F" if second.startswith("f") else "G"
    kind = (kind or "G").upper()
    if kind not in ("G", "S", "F", "I"):
        raise FormatError(f"{path}: unknown kind {kind!r}")
    fmt = ("pdfgetx2" if "Get_XPDF" in text or "pdfgetx2" in text.lower() else
           "pdfgetx3" if "pdfgetx3" in text.lower() else "pdfgui" if "pdfgui" in text.lower() else "pdf_text")
    attrs = {"signal": "pdf", "format": fmt, "kind": kind, "source_file": str(path), **_header_values(text)}
    attrs["original_metadata"] = dumps_json({"header": header_lines, "columns": names})
    x = table[:, 0]
    xdim = "r" if kind == "G" else "Q"
    units = {"G": "1/Å^2", "S": "1", "F": "1/Å", "I": "a.u."}[kind]
    data = {kind: (xdim, table[:, 1], {"units": units})}
    err_cols = list(range(2, ncol))
    if ncol == 4:
        dx = table[:, 2]
        if np.all(np.isfinite(dx)) and np.any(dx < 0):
            slope = float(np.sum(dx * x) / np.sum(x * x))
            fitq = np.max(np.abs(dx - slope * x)) <= 1e-3 * np.max(np.abs(dx)) if slope < 0 else False
            if fitq and kind == "G":
                attrs["number_density_from_baseline"] = -slope / (4 * np.pi)
            attrs["dropped_column"] = (names[2] if names else "3") + " (not an uncertainty)"
        err_cols = [3]
    if err_cols:
        de = table[:, err_cols[-1]]
        if np.all(np.isfinite(de)) and np.all(de >= 0) and np.any(de > 0):
            data[f"d{kind}"] = (xdim, de, {"units": units})
    return xr.Dataset(data, coords={xdim: (xdim, x, {"units": "Å" if kind == "G" else "1/Å"})}, attrs=attrs)


def read_pdf_gr(path) -> xr.Dataset:
    """Read a ``.gr`` file: ``G`` (and ``dG``) over ``r`` (see :func:`read_pdf_text`)."""
    return read_pdf_text(path, kind="G")
