"""Exceptions raised for user mistakes.

Every error a user can cause (a missing file, an unreadable format, a missing calibration, a fit that
cannot start) is a :class:`PerovscopeError`. Its message names the file or parameter at fault and says
what to do. The command-line interface prints that one line and exits with status 2.
"""

from __future__ import annotations

__all__ = ["PerovscopeError", "InputError", "FormatError", "CalibrationError", "FitError",
           "PerovscopeWarning", "CalibrationWarning"]


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
