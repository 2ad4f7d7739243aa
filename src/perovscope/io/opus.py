"""Bruker OPUS binary files (FTIR, FT-Raman), read through ``brukeropus``.

An OPUS file is a directory of typed blocks: parameter blocks (instrument, optics, acquisition,
Fourier transform, sample) and data blocks, each paired with a data-status block that declares its
number of points, first and last x value and x unit (``dxu``: ``WN`` cm⁻¹, ``MI`` µm, ``LGW``
ln(cm⁻¹), ``PNT`` points). Spectral blocks are the single-channel sample (``sm``) and reference
(``rf``) spectra and the ratioed ones: absorbance ``a``, transmittance ``t``, reflectance ``r``,
Kubelka–Munk ``km``, Raman ``ra``, ATR ``atr``...; interferograms (``igsm``, ``igrf``) and phases have
no wavenumber axis.

:func:`opus_blocks` lists every data block; :func:`read_opus` returns one spectral block as an
:class:`xarray.DataArray` over ``wavenumber`` (cm⁻¹, converted from µm or ln(cm⁻¹) where needed, in
the file's order) with the file's parameters in ``attrs``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json
from .vibrational_text import WAVENUMBER_DIM

__all__ = ["read_opus", "opus_blocks", "SPECTRUM_PRIORITY"]

#: Block keys tried, in order, when no block is asked for: ratioed spectra before single channels.
SPECTRUM_PRIORITY = ("t", "a", "r", "km", "atr", "ra", "e", "logr", "pas", "sm", "rf")
_QUANTITY = {
    "t": ("transmittance", "1"),
    "a": ("absorbance", "1"),
    "r": ("reflectance", "1"),
    "km": ("kubelka_munk", "1"),
    "ra": ("raman_intensity", "a.u."),
    "sm": ("single_channel", "a.u."),
    "rf": ("single_channel", "a.u."),
    "atr": ("absorbance", "1"),
    "e": ("emission", "a.u."),
    "logr": ("log_reflectance", "1"),
    "pas": ("photoacoustic", "a.u."),
}
_X_UNITS = {
    "WN": "1/cm",
    "MI": "um",
    "LGW": "ln(1/cm)",
    "PNT": "points",
    "MIN": "min",
    "SEC": "s",
    "NM": "nm",
    "HZ": "Hz",
}


def _open(path: Path):
    try:
        import brukeropus
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise FormatError(f"{path}: reading OPUS files needs the 'brukeropus' package") from exc
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size < 64:
        raise FormatError(f"{path}: {path.stat().st_size} bytes is too short for a Bruker OPUS file")
    try:
        opus = brukeropus.read_opus(str(path))
    except Exception as exc:  # the library raises KeyError/struct.error/... on damaged files
        raise FormatError(f"{path}: not a readable Bruker OPUS file ({type(exc).__name__}: {exc})") from exc
    if not getattr(opus, "is_opus", False):
        raise FormatError(f"{path}: not a Bruker OPUS file (no OPUS magic number)")
    return opus


def _blocks(opus, path):
    rows = []
    size = path.stat().st_size
    for data in opus.iter_all_data():
        p = data.params
        npt = int(p.npt)
        start = int(getattr(data.block, "start", 0) or 0)
        if npt < 1 or start > size:
            raise FormatError(f"{path}: data block {data.key!r} declares {npt} points beyond the file")
        rows.append(
            {
                "key": data.key,
                "label": str(data.label),
                "x_units": _X_UNITS.get(p.dxu, str(p.dxu)),
                "points": npt,
                "first_x": float(p.fxv),
                "last_x": float(p.lxv),
            }
        )
    return rows


def opus_blocks(path) -> list[dict]:
    """Every data block of an OPUS file: ``key``, ``label``, ``x_units``, ``points``, ``first_x``, ``last_x``.

    Raises
    ------
    FormatError
        Missing, truncated or non-OPUS file.
    """
    path = Path(path)
    return _blocks(_open(path), path)


def _wavenumber(data):
    unit = str(data.params.dxu)
    x = np.asarray(data.x, dtype=float)
    if unit == "WN":
        return x
    if unit == "MI":
        return 1e4 / x
    if unit == "LGW":
        return np.exp(x)
    return None


def read_opus(path, *, block: str | None = None) -> xr.DataArray:
    """Read one spectral block of a Bruker OPUS file over ``wavenumber`` (cm⁻¹).

    Parameters
    ----------
    path : str or pathlib.Path
        The OPUS file (any extension: ``.0``, ``.1``, ...; opened read-only).
    block : str, optional
        Block key (``"a"``, ``"t"``, ``"sm"``, ...); default: the first present of
        :data:`SPECTRUM_PRIORITY`.

    Returns
    -------
    xarray.DataArray
        ``(wavenumber,)``; ``attrs``: ``signal`` ``"ftir"`` (``"raman"`` for a Raman block), ``block``,
        ``quantity``, ``units``, ``blocks`` (JSON list of all data blocks), instrument parameters
        (``instrument``, ``source``, ``detector``, ``beamsplitter``, ``resolution_cm``, ``scans``),
        ``acquired``, ``source_file`` and every parameter in ``original_metadata``.

    Raises
    ------
    FormatError
        Missing, truncated or non-OPUS file; the block asked for is absent or has no wavenumber axis.
    """
    path = Path(path)
    opus = _open(path)
    rows = _blocks(opus, path)
    keys = [r["key"] for r in rows]
    if block is None:
        block = next((k for k in SPECTRUM_PRIORITY if k in keys), None)
        if block is None:
            raise FormatError(
                f"{path}: no spectral block (only {', '.join(keys) or 'none'}); "
                "interferograms need a Fourier transform first"
            )
    if block not in keys:
        raise FormatError(f"{path}: no block {block!r}; the file has {', '.join(keys)}")
    data = getattr(opus, block)
    x = _wavenumber(data)
    if x is None:
        raise FormatError(
            f"{path}: block {block!r} ({data.label}) has x unit {data.params.dxu!r}, not a wavenumber axis"
        )
    y = np.asarray(data.y, dtype=float)
    if y.size != x.size:
        raise FormatError(f"{path}: block {block!r} holds {y.size} values but declares {x.size} points")
    quantity, units = _QUANTITY.get(block, ("intensity", "a.u."))
    params = {k: v for k, v in opus.params.items()}
    attrs = {
        "signal": "raman" if block == "ra" else "ftir",
        "block": block,
        "block_label": str(data.label),
        "quantity": quantity,
        "units": units,
        "source_file": str(path),
        "format": "bruker_opus",
        "blocks": dumps_json(rows),
    }
    for key, name in (
        ("ins", "instrument"),
        ("src", "source"),
        ("dtc", "detector"),
        ("bms", "beamsplitter"),
        ("snm", "sample"),
        ("sfm", "sample_form"),
    ):
        if key in params:
            attrs[name] = str(params[key])
    for key, name in (("res", "resolution_cm"), ("nss", "scans")):
        if key in params:
            attrs[name] = float(params[key])
    try:
        attrs["acquired"] = data.datetime.isoformat()
    except Exception:  # date/time strings are optional in a data-status block
        pass
    status = {k: v for k, v in data.params.items()}
    attrs["original_metadata"] = dumps_json({"parameters": params, "data_status": status})
    coords = {WAVENUMBER_DIM: (WAVENUMBER_DIM, x, {"units": "1/cm"})}
    return xr.DataArray(y, dims=(WAVENUMBER_DIM,), coords=coords, attrs=attrs, name=quantity)
