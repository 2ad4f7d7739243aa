"""Input checks shared by every bulk technique: axes, positivity, point counts, axis kinds.

Each check raises :class:`~perovscope.errors.InputError` whose message names the argument (or the
file, through ``source``) and says what to do, so a user's mistake never surfaces as a NumPy error or
a silently wrong number. The checks are cheap (one pass over the axis) and run before any fit.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["check_axis", "ascending", "check_positive", "check_min_points", "check_axis_kind",
           "as_spectra", "PHOTON_EV_NM"]

#: h·c in eV·nm (CODATA 2018: h = 6.62607015e-34 J s, c = 299792458 m/s, e = 1.602176634e-19 C).
PHOTON_EV_NM = 1239.8419843320026

_WAVELENGTH_UNITS = {"nm", "um", "µm", "angstrom", "å", "a"}
_ENERGY_UNITS = {"ev", "mev", "kev"}


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def check_axis(x, *, name: str = "x", min_points: int = 2, source: str | None = None) -> np.ndarray:
    """Return ``x`` as a finite 1-D float array that is strictly monotonic (either direction).

    Parameters
    ----------
    x : array_like (n,)
        The abscissa (wavelength, energy, time, 2θ, q, ...).
    name : str
        The argument's name, used in the error message.
    min_points : int
        Fewest points accepted.
    source : str, optional
        File the axis came from, prefixed to the message.

    Raises
    ------
    InputError
        Not 1-D, non-finite values, too few points, duplicated or unsorted values.
    """
    arr = np.asarray(x, dtype=float)
    where = _where(source)
    if arr.ndim != 1:
        raise InputError(f"{where}{name} must be 1-D, got shape {arr.shape}")
    if arr.size < min_points:
        raise InputError(f"{where}{name} has {arr.size} points; at least {min_points} are needed")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{where}{name} holds {int(np.sum(~np.isfinite(arr)))} NaN/inf values; "
                         "remove those rows first")
    step = np.diff(arr)
    if np.any(step == 0):
        i = int(np.flatnonzero(step == 0)[0])
        raise InputError(f"{where}{name} has duplicated values (e.g. {arr[i]:g} at index {i} and "
                         f"{i + 1}); average or drop the repeated points")
    if not (np.all(step > 0) or np.all(step < 0)):
        i = int(np.flatnonzero(np.sign(step) != np.sign(step[0]))[0])
        raise InputError(f"{where}{name} is not sorted (direction changes at index {i + 1}, "
                         f"value {arr[i + 1]:g}); sort the data by {name} first")
    return arr


def ascending(x, y, *, name: str = "x", min_points: int = 2, source: str | None = None):
    """Check ``x`` (:func:`check_axis`) and return ``(x, y)`` with ``x`` increasing.

    ``y`` is ``(..., n)``; a decreasing axis (wavenumbers, binding energies) flips both.
    """
    arr = check_axis(x, name=name, min_points=min_points, source=source)
    y = np.asarray(y)
    if y.shape[-1] != arr.size:
        raise InputError(f"{_where(source)}the data have {y.shape[-1]} points along the last axis "
                         f"but {name} has {arr.size}")
    if arr[0] > arr[-1]:
        return arr[::-1].copy(), y[..., ::-1]
    return arr, y


def check_positive(y, *, name: str = "y", why: str = "a logarithm is taken",
                   source: str | None = None, allow_zero: bool = False) -> np.ndarray:
    """Return ``y`` as floats after checking every value is positive (or ≥ 0 with ``allow_zero``)."""
    arr = np.asarray(y, dtype=float)
    bad = ~(arr >= 0) if allow_zero else ~(arr > 0)
    if np.any(bad):
        kind = "negative or NaN" if allow_zero else "non-positive or NaN"
        raise InputError(f"{_where(source)}{name} has {int(np.sum(bad))} {kind} values where {why}; "
                         "restrict the range or subtract a smaller background")
    return arr


def check_min_points(n: int, needed: int, *, what: str, source: str | None = None) -> None:
    """Raise when ``n`` points are too few for ``what`` (a model with ``needed - 1`` parameters)."""
    if n < needed:
        raise InputError(f"{_where(source)}{what} needs at least {needed} points, got {n}; "
                         "widen the range or add data")


def check_axis_kind(units: str | None, *, required: str, name: str = "x",
                    source: str | None = None) -> None:
    """Check an axis's units are of the ``required`` kind: ``"energy"`` or ``"wavelength"``.

    ``None`` (unknown units) passes; a wavelength axis where energy is needed (or the reverse)
    raises with the conversion to use.
    """
    if units is None:
        return
    unit = str(units).strip().lower()
    if required == "energy" and unit in _WAVELENGTH_UNITS:
        raise InputError(f"{_where(source)}{name} is a wavelength ({units}) but photon energy is "
                         "required; convert with perovscope.bulk.pl.to_energy_axis (E = 1239.84/λ)")
    if required == "wavelength" and unit in _ENERGY_UNITS:
        raise InputError(f"{_where(source)}{name} is an energy ({units}) but a wavelength is required; "
                         "convert with λ = 1239.84/E")


def as_spectra(y, n: int, *, name: str = "spectra", source: str | None = None) -> np.ndarray:
    """``y`` as a float array ``(..., n)``: one spectrum or a batch (series, map) of them."""
    arr = np.asarray(y, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != n:
        raise InputError(f"{_where(source)}{name} must have {n} points along its last axis, "
                         f"got shape {arr.shape}")
    return arr
