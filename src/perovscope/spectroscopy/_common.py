"""Helpers shared by the spectroscopy modules: window validation, bad-pixel masks, lazy mapping."""

from __future__ import annotations

import numpy as np

from ..codes import Code
from ..errors import InputError

__all__ = ["window_slice", "bad_pixel_mask", "BAD_REASONS", "count_bad_pixels"]

#: Bad-pixel reason codes returned by :func:`bad_pixel_mask` (:class:`perovscope.codes.Code`).
BAD_REASONS = {int(Code.OK): "good", int(Code.NON_FINITE): "non-finite",
               int(Code.ALL_ZERO): "all zero (vacuum)", int(Code.NEGATIVE_TOTAL): "negative total"}


def window_slice(axis, window, *, name: str = "window", min_channels: int = 3) -> slice:
    """Channel slice of ``axis`` covering ``window = (start, end)`` (inclusive, axis units).

    Raises
    ------
    InputError
        Naming ``name`` if the window is not two increasing numbers, lies (partly) outside the axis,
        or covers fewer than ``min_channels`` channels.
    """
    axis = np.asarray(axis, dtype=float)
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise InputError(f"{name}={window!r}: give two numbers (start, end) in the axis unit") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        raise InputError(f"{name}=({lo}, {hi}): the end must be larger than the start")
    amin, amax = float(np.nanmin(axis)), float(np.nanmax(axis))
    step = abs(float(axis[1] - axis[0])) if axis.size > 1 else 0.0
    if lo < amin - 0.5 * step or hi > amax + 0.5 * step:
        raise InputError(f"{name}=({lo:g}, {hi:g}): outside the spectral axis "
                         f"[{amin:g}, {amax:g}]; choose a window inside it")
    idx = np.flatnonzero((axis >= lo) & (axis <= hi))
    if idx.size < min_channels:
        raise InputError(f"{name}=({lo:g}, {hi:g}): covers {idx.size} channel(s); at least "
                         f"{min_channels} are needed (channel width {step:g})")
    return slice(int(idx[0]), int(idx[-1]) + 1)


def bad_pixel_mask(spectra) -> np.ndarray:
    """Reason code per pixel (0 = good) for spectra ``(..., n)``: see :data:`BAD_REASONS`.

    A pixel is bad if any channel is NaN/inf, if every channel is zero (vacuum, blanked beam), or if
    its total is negative (an over-subtracted dark reference).
    """
    s = np.asarray(spectra)
    total = np.sum(s, axis=-1, dtype=float if s.dtype.kind in "iub" else None)
    finite = np.isfinite(total)  # NaN/inf anywhere in a spectrum makes its total non-finite
    # an all-zero spectrum has a zero total: count non-zero channels only for those candidates
    cand = total == 0
    allzero = np.zeros(total.shape, dtype=bool)
    if cand.any():
        allzero[cand] = np.count_nonzero(s[cand], axis=-1) == 0
    code = np.zeros(s.shape[:-1], dtype=np.int8)
    code[total < 0] = Code.NEGATIVE_TOTAL
    code[allzero] = Code.ALL_ZERO
    code[~finite] = Code.NON_FINITE
    return code


def count_bad_pixels(code) -> dict[str, int]:
    """Count pixels per reason from a :func:`bad_pixel_mask` code array (numpy or dask)."""
    code = np.asarray(code)
    return {BAD_REASONS[k]: int(np.sum(code == k)) for k in BAD_REASONS}


def spectral_dim(da) -> str:
    """The spectral dimension of a labelled spectrum image (``energy`` or ``wavelength``)."""
    for dim in ("energy", "wavelength"):
        if dim in da.dims:
            return dim
    raise InputError(f"spectrum image with dims {tuple(da.dims)}: no 'energy' or 'wavelength' "
                     "dimension; read it with perovscope.io.read or rename the spectral axis")
