"""Unit conversion of axis calibrations to perovscope's canonical units (nm, 1/nm, eV, s, deg).

Readers report axis units as free text (``"µm"``, ``"keV"``, ``"<undefined>"``, ``""``). This module
maps each onto a canonical unit and a multiplicative factor; unknown units are passed through
unchanged, and missing units mean an uncalibrated axis (``"px"``).
"""

from __future__ import annotations

import json
import math

import numpy as np

__all__ = ["canonical_unit", "is_uncalibrated", "json_safe", "dumps_json"]

_MICRO = ("µ", "μ", "u")

#: text unit (lower case, micro sign normalised to "u") -> (canonical unit, factor to multiply by)
_CONVERSIONS = {
    # lengths -> nm
    "m": ("nm", 1e9), "mm": ("nm", 1e6), "um": ("nm", 1e3), "micron": ("nm", 1e3),
    "microns": ("nm", 1e3), "nm": ("nm", 1.0), "a": ("nm", 0.1), "å": ("nm", 0.1),
    "angstrom": ("nm", 0.1), "pm": ("nm", 1e-3),
    # reciprocal lengths -> 1/nm
    "1/m": ("1/nm", 1e-9), "1/um": ("1/nm", 1e-3), "1/nm": ("1/nm", 1.0), "nm^-1": ("1/nm", 1.0),
    "1/a": ("1/nm", 10.0), "1/å": ("1/nm", 10.0), "a^-1": ("1/nm", 10.0), "1/pm": ("1/nm", 1e3),
    # energies -> eV
    "ev": ("eV", 1.0), "kev": ("eV", 1e3), "mev": ("eV", 1e-3),
    # times -> s
    "s": ("s", 1.0), "sec": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6), "ns": ("s", 1e-9),
    "min": ("s", 60.0),
    # angles
    "mrad": ("mrad", 1.0), "rad": ("mrad", 1e3), "deg": ("deg", 1.0), "°": ("deg", 1.0),
    "degree": ("deg", 1.0), "degrees": ("deg", 1.0),
}

_UNDEFINED = {"", "<undefined>", "undefined", "none", "px", "pixel", "pixels", "a.u.", "au", "t.u."}


def _key(units) -> str:
    text = "" if units is None else str(units).strip()
    if text[:1] in _MICRO and len(text) > 1:
        text = "u" + text[1:]
    return text.lower()


def is_uncalibrated(units, scale=1.0, offset=0.0) -> bool:
    """True when an axis carries no physical calibration (no unit, or ``px``-like)."""
    return _key(units) in _UNDEFINED


def canonical_unit(units) -> tuple[str, float]:
    """Return ``(canonical_unit, factor)`` so that ``value_in_canonical = value * factor``.

    Unknown units are returned unchanged with factor 1; undefined units give ``("px", 1.0)``.
    """
    key = _key(units)
    if key in _UNDEFINED:
        return "px", 1.0
    if key in _CONVERSIONS:
        return _CONVERSIONS[key]
    if key.startswith("1/") and _key(key[2:]) in _CONVERSIONS:
        unit, factor = _CONVERSIONS[_key(key[2:])]
        if unit == "nm":
            return "1/nm", 1.0 / factor
    return str(units).strip(), 1.0


def json_safe(value, *, max_items: int = 20000):
    """Convert a metadata tree to strict-JSON-serialisable Python objects.

    numpy scalars and arrays become Python numbers and lists (arrays longer than ``max_items``
    become a short description), bytes are decoded, NaN and infinities become strings, and any
    other object becomes its ``str``.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_items=max_items) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) > max_items:
            return f"<sequence of {len(value)} items omitted>"
        return [json_safe(v, max_items=max_items) for v in value]
    if isinstance(value, np.ndarray):
        if value.size > max_items:
            return f"<array shape={value.shape} dtype={value.dtype} omitted>"
        return json_safe(value.tolist(), max_items=max_items)
    if isinstance(value, np.generic):
        return json_safe(value.item(), max_items=max_items)
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, complex):
        return [value.real, value.imag]
    return str(value)


def dumps_json(value) -> str:
    """``json.dumps`` of :func:`json_safe` of ``value`` (strict JSON, no NaN)."""
    return json.dumps(json_safe(value), allow_nan=False)
