"""Calibrations an analysis needs, taken from the data or refused: no silent defaults that change numbers.

An analysis that needs a calibration (the beam energy for EDX quantification, the pixel size for sizes
in nm) gets it from the argument the user gave, else from the signal (``attrs`` or the coordinates'
``units``), else raises :class:`~perovscope.errors.CalibrationError` naming the missing attribute and
the option that sets it. Where a default is legitimate it is recorded in ``attrs["defaults_used"]``
and announced once with a :class:`~perovscope.errors.CalibrationWarning`.
"""

from __future__ import annotations

import warnings

from .errors import CalibrationError, CalibrationWarning

__all__ = ["required_attr", "length_to_nm", "pixel_length_nm", "record_default", "LENGTH_TO_NM"]

#: Length units (as written in ``coord.attrs["units"]``) and their size in nm.
LENGTH_TO_NM = {"nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "micron": 1e3, "mm": 1e6, "m": 1e9,
                "A": 0.1, "Å": 0.1, "angstrom": 0.1, "pm": 1e-3}

_UNCALIBRATED = {"", "px", "pixel", "pixels", "<undefined>", "undefined", "none", None}


def _name(da) -> str:
    return str(getattr(da, "name", None) or getattr(da, "attrs", {}).get("signal") or "the signal")


def required_attr(da, key: str, *, given=None, option: str) -> float:
    """``given`` if not None, else ``da.attrs[key]`` as a float; else a :class:`CalibrationError`.

    Parameters
    ----------
    da : xarray.DataArray
        The signal whose attributes are searched.
    key : str
        Attribute name (e.g. ``"beam_energy_keV"``).
    given : float, optional
        The value the user passed (wins over the attribute).
    option : str
        How the user sets it, quoted in the error (``"--beam-energy-keV KV or beam_energy_keV="``).
    """
    value = given if given is not None else getattr(da, "attrs", {}).get(key)
    try:
        value = float(value) if value is not None else None
    except (TypeError, ValueError):
        raise CalibrationError(f"{_name(da)}: attrs[{key!r}] = {value!r} is not a number; pass "
                               f"{option}") from None
    if value is None or not value == value or value <= 0:  # missing, NaN or non-positive
        raise CalibrationError(f"{_name(da)}: {key} is missing (the file does not record it); pass "
                               f"{option}")
    return value


def length_to_nm(unit, *, where: str, option: str) -> float:
    """Size of one ``unit`` in nm; :class:`CalibrationError` for px (uncalibrated) or an unknown unit."""
    text = None if unit is None else str(unit).strip()
    if text in _UNCALIBRATED or (text or "").lower() in _UNCALIBRATED:
        raise CalibrationError(f"{where}: no pixel size (the coordinates are in px, uncalibrated); pass "
                               f"{option}")
    factor = LENGTH_TO_NM.get(text) or LENGTH_TO_NM.get(text.lower())
    if factor is None:
        raise CalibrationError(f"{where}: unknown length unit {text!r} (known: "
                               f"{', '.join(sorted(set(LENGTH_TO_NM)))}); fix the coordinate's "
                               f"attrs['units'] or pass {option}")
    return factor


def pixel_length_nm(size: float, unit, *, where: str, option: str) -> float:
    """``size`` (one pixel, in ``unit``) in nm, refusing uncalibrated or unknown units."""
    return float(size) * length_to_nm(unit, where=where, option=option)


def record_default(attrs: dict, key: str, value, *, why: str) -> None:
    """Record that ``key`` took the default ``value`` in ``attrs["defaults_used"]`` and warn once."""
    used = dict(attrs.get("defaults_used") or {})
    if key in used:
        return
    used[key] = value
    attrs["defaults_used"] = used
    warnings.warn(f"{key} = {value} assumed ({why})", CalibrationWarning, stacklevel=3)
