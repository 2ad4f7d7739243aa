"""One set of per-pixel status codes for every area: fit flags, bad-pixel reasons, lattice reasons.

Each number means one thing everywhere, so a ``flag`` or ``reason`` map from any analysis can be read
with one table (and the stored ``flag_values`` / ``flag_meanings`` attributes, CF-style, say which
codes a variable uses). 0 is always "good"; the ranges group the kinds:

* 1–4, fit outcome (:mod:`perovscope.spectroscopy.fitting`, the CL kernel, :mod:`perovscope.bulk`):
  iteration limit, numerical failure, masked input, no peak above the noise;
* 5–7, input screening of spectra (:func:`perovscope.spectroscopy.bad_pixel_mask`): non-finite
  values, all channels zero, negative total;
* 8–11, diffraction patterns (:mod:`perovscope.diffraction`): vacuum, amorphous, too few Bragg disks,
  disks not indexed by the lattice (a failed lattice fit is :attr:`Code.FIT_FAILED`).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Code", "flag_attrs", "names"]


class Code(IntEnum):
    """Status code of a pixel (stored as a small unsigned/signed integer)."""

    OK = 0
    MAX_ITER = 1
    FIT_FAILED = 2
    MASKED = 3
    NO_PEAK = 4
    NON_FINITE = 5
    ALL_ZERO = 6
    NEGATIVE_TOTAL = 7
    VACUUM = 8
    AMORPHOUS = 9
    TOO_FEW_DISKS = 10
    NOT_INDEXED = 11


def names(codes) -> dict[str, int]:
    """``{lower-case name: value}`` of ``codes`` (e.g. ``{"ok": 0, "vacuum": 8, ...}``)."""
    return {Code(c).name.lower(): int(c) for c in codes}


def flag_attrs(codes) -> dict:
    """CF-style attributes of a code variable: ``flag_values`` and space-separated ``flag_meanings``."""
    table = names(codes)
    return {"flag_values": list(table.values()), "flag_meanings": " ".join(table)}
