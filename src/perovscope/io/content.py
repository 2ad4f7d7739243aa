"""Whether a signal holds anything to analyse: the check every command runs on its input.

A file can be perfectly readable and still hold nothing an analysis can use: every value NaN, every
value zero (a detector that was off), every value at the dtype's maximum (a saturated detector) or one
constant. Analyses mask and count bad *pixels*; a signal made only of them is a user mistake, reported
as one :class:`~perovscope.errors.InputError` naming the file, instead of a map of NaN written as if it
were a result.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError

__all__ = ["check_content"]


def _stats(data):
    """(number of finite values, finite min, finite max) in one pass (dask or numpy)."""
    if np.issubdtype(data.dtype, np.complexfloating):
        data = abs(data)
    if not np.issubdtype(data.dtype, np.number) and data.dtype != bool:
        raise InputError(f"values of dtype {data.dtype} are not numeric")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN reductions: reported below instead
        if hasattr(data, "dask"):
            import dask
            import dask.array as dsa

            finite = dsa.isfinite(data)
            clean = dsa.where(finite, data, np.nan) if data.dtype.kind == "f" else data
            n, lo, hi = dask.compute(finite.sum(), dsa.nanmin(clean), dsa.nanmax(clean))
        else:
            arr = np.asarray(data)
            finite = np.isfinite(arr)
            n = int(finite.sum())
            lo, hi = (arr[finite].min(), arr[finite].max()) if n else (np.nan, np.nan)
    return int(n), lo, hi


def check_content(da, *, source: str, what: str | None = None) -> None:
    """Raise :class:`InputError` when ``da`` holds no finite value or one value everywhere.

    Parameters
    ----------
    da : xarray.DataArray
        The signal a command is about to analyse (lazy or in memory; computed once, reduced to three
        numbers).
    source : str
        The file it came from, named in the message.
    what : str, optional
        The signal's name in the message (default: ``da.name`` or its kind).
    """
    name = what or str(da.name or da.attrs.get("signal") or "the signal")
    if da.size == 0:
        raise InputError(f"{source}: {name} is empty (shape {tuple(da.shape)})")
    try:
        n, lo, hi = _stats(da.data)
    except InputError as exc:
        raise InputError(f"{source}: {name}: {exc}") from None
    if n == 0:
        raise InputError(f"{source}: {name} holds no finite value (every value is NaN or infinite); "
                         "nothing to analyse")
    if lo != hi:
        return
    value = lo.item() if hasattr(lo, "item") else lo
    if value == 0:
        why = "every value is 0 (all-zero data: was the detector on?)"
    elif np.issubdtype(da.dtype, np.integer) and value == np.iinfo(da.dtype).max:
        why = f"every value is {value}, the {da.dtype} maximum (the detector is saturated)"
    else:
        why = f"every value is {value} (constant data)"
    if n < da.size:
        why += f" where finite ({da.size - n} of {da.size} values are NaN)"
    raise InputError(f"{source}: {name}: {why}; nothing to analyse")
