"""Powder-diffraction text files: ``.xye`` / ``.xy`` / ``.dat`` (2θ, counts[, σ]), optionally compressed.

Plain columns of numbers — 2θ in degrees, intensity and, in ``.xye``, its standard deviation — as
written by GSAS-II, FullProf, TOPAS, xrayutilities and most diffractometer exports. Lines before
and between the data that are not numeric rows (``#``/``!``/``'`` comments, a title, column names)
are kept as the header; a wavelength written there (``wavelength = 1.5406``, ``lambda 1.54056``,
``Cu``-anode names are not guessed) is read into ``attrs["xray_wavelength_A"]``. bzip2, gzip and xz
compression is recognised from the file's magic bytes, whatever its suffix; the decompressed size is
bounded before parsing.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from .. import dims
from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_xye", "open_text_maybe_compressed"]

_MAX_BYTES = 512 * 2**20
_WAVE = re.compile(r"(?:wave\s*length|lambda|λ)\s*[:=]?\s*\(?\s*([0-9]*\.[0-9]+|[0-9]+)", re.IGNORECASE)


def open_text_maybe_compressed(path: Path) -> str:
    """The text of ``path``, decompressed when its first bytes are a bzip2, gzip or xz header."""
    import bz2
    import gzip
    import lzma

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    opener = {b"BZh": bz2.open, b"\x1f\x8b": gzip.open, b"\xfd7zXZ": lzma.open}
    func = next((f for m, f in opener.items() if magic.startswith(m)), None)
    try:
        if func is None:
            if path.stat().st_size > _MAX_BYTES:
                raise FormatError(f"{path}: larger than {_MAX_BYTES >> 20} MiB; not a diffraction pattern")
            raw = path.read_bytes()
        else:
            with func(path, "rb") as fh:
                raw = fh.read(_MAX_BYTES + 1)
            if len(raw) > _MAX_BYTES:
                raise FormatError(f"{path}: decompresses to more than {_MAX_BYTES >> 20} MiB")
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise FormatError(f"{path}: cannot decompress ({exc}); the file is truncated or corrupt") from exc
    if b"\x00" in raw:
        raise FormatError(f"{path}: binary content (NUL bytes); not a text diffraction pattern")
    return raw.decode("utf-8", errors="replace")


def _numbers(line: str):
    toks = line.replace(",", " ").replace(";", " ").split()
    try:
        return [float(t) for t in toks]
    except ValueError:
        return None


def read_xye(path, *, column_names=("two_theta", "counts", "sigma")) -> xr.DataArray:
    """Read a 2θ/intensity[/σ] text pattern into a DataArray over ``two_theta`` (deg).

    Returns
    -------
    xarray.DataArray
        Intensities (``attrs["units"] = "counts"``), coordinate ``two_theta`` in file order and,
        for three or more columns, a ``sigma`` coordinate along it; the header lines are kept in
        ``attrs["original_metadata"]``.

    Raises
    ------
    FormatError
        Missing, binary, truncated or non-numeric file, ragged rows, fewer than two columns or rows.
    """
    path = Path(path)
    text = open_text_maybe_compressed(path)
    header, rows, widths = [], [], set()
    for k, line in enumerate(text.splitlines()):
        s = line.strip()
        if not s:
            continue
        nums = None if s[0] in "#!'\";%" else _numbers(s)
        if nums is None or len(nums) < 2:
            starts_numeric = _numbers(s.split()[0]) is not None if s[0] not in "#!'\";%" else False
            if rows and (nums is not None or starts_numeric):
                raise FormatError(f"{path}: line {k + 1} ({s[:40]!r}) is not a row of 2θ and intensity; "
                                  "the file is corrupt")
            header.append(s)
            continue
        rows.append(nums[:4])
        widths.add(min(len(nums), 4))
    if len(rows) < 2:
        raise FormatError(f"{path}: fewer than two numeric rows of 2θ and intensity; not an xy/xye pattern")
    ncol = min(widths)
    if len(widths) > 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != max(widths))
        raise FormatError(f"{path}: data rows have {sorted(widths)} columns (row {bad + 1} differs); "
                          "the file is truncated or mixes formats")
    table = np.array([r[:ncol] for r in rows], dtype=float)
    if not np.all(np.isfinite(table[:, 0])):
        raise FormatError(f"{path}: non-finite 2θ values")
    attrs = {"signal": "xrd", "units": "counts", "source_file": str(path), "format": "xye",
             "title": next((h.lstrip("#!' ") for h in header if h.lstrip("#!' ")), path.name),
             "original_metadata": dumps_json({"header": header, "columns": list(column_names[:ncol])})}
    for h in header:
        m = _WAVE.search(h)
        if m:
            value = float(m.group(1))
            if 0.05 < value < 5.0:
                attrs["xray_wavelength_A"] = value
                break
    axis = xr.Variable(dims.TWO_THETA, table[:, 0], attrs={"units": "deg", "long_name": "2θ"})
    coords = {dims.TWO_THETA: axis}
    if ncol >= 3:
        coords["sigma"] = xr.Variable(dims.TWO_THETA, table[:, 2], attrs={"units": "counts",
                                                                          "long_name": "standard deviation"})
    return xr.DataArray(table[:, 1], dims=[dims.TWO_THETA], coords=coords, name="xrd", attrs=attrs)
