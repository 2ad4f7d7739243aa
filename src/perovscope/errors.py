"""Exceptions raised for user mistakes.

Every error a user can cause (a missing file, an unreadable format, a missing calibration, a fit that
cannot start) is a :class:`PerovscopeError`. Its message names the file or parameter at fault and says
what to do. The command-line interface prints that one line and exits with status 2.
"""

from __future__ import annotations

__all__ = ["PerovscopeError", "InputError", "FormatError", "CalibrationError", "FitError",
           "PerovscopeWarning", "CalibrationWarning", "lookup", "check_type"]


class PerovscopeError(Exception):
    """Base class of every error perovscope raises for bad input or unusable data."""


class InputError(PerovscopeError, ValueError):
    """A parameter or an input path is wrong (missing file, negative thickness, window off the axis)."""


class FormatError(PerovscopeError):
    """A file cannot be read: unknown extension, truncated, corrupt, empty, or not a file."""


class CalibrationError(PerovscopeError):
    """A calibration needed by an analysis is missing or inconsistent (pixel size, energy axis, ...)."""


class FitError(PerovscopeError):
    """A fit cannot be set up (too few points, no start values); per-pixel failures give NaN instead."""


class PerovscopeWarning(UserWarning):
    """Something the user should know that did not stop the analysis (the CLI prints it as one line)."""


class CalibrationWarning(PerovscopeWarning):
    """Metadata disagree with what the data measure (disk radius, pixel size); the data were used."""


def lookup(table, key, *, what: str):
    """``table[key]``, or an :class:`InputError` naming ``what`` and listing the valid names.

    Parameters
    ----------
    table : mapping
        The names a user may give (phases, samples, edges, elements ...).
    key : hashable
        The name the user gave.
    what : str
        What the name is, for the message (``"phase"``, ``"--sample"``).
    """
    if not isinstance(key, str | int) or key not in table:
        valid = ", ".join(sorted(map(str, table)))
        raise InputError(f"unknown {what} {key!r}; valid: {valid}")
    return table[key]


def check_type(value, types, *, what: str):
    """``value`` when it is an instance of ``types``, else an :class:`InputError` saying what was expected."""
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise InputError(f"{what}: expected {names}, got {type(value).__name__} ({value!r:.60})")
    return value
