"""The timeline: every per-frame quantity of a session in one table over ``time``.

:func:`build_timeline` merges the ``frames`` and ``bias`` groups and any per-frame results (AlCl₃
thickness, Cl fraction, strain near each interface, Pb particle counts, ...) into the ``timeline``
group of the results store (docs/results-store.md); :func:`timeline_to_csv` writes it as
``tables/timeline.csv``.

References
----------
.. [1] H. Wickham, "Tidy data", J. Stat. Softw. 59(10), 1–23 (2014).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..tabular import csv_text, write_text_atomic
from .clock import cumulative_dose

__all__ = ["build_timeline", "timeline_to_csv"]

_DOSE = "dose_e_per_A2"


def _frames_of(ds: xr.Dataset, what: str) -> np.ndarray:
    if "time" not in ds.dims:
        raise InputError(f"{what}: every timeline input must be over 'time'; dims are {tuple(ds.dims)}")
    if "frame" in ds.coords:
        return ds["frame"].values.astype(np.int64)
    return np.arange(ds.sizes["time"], dtype=np.int64)


def _plain(ds: xr.Dataset) -> xr.Dataset:
    """Drop every coordinate along ``time`` (they are taken from ``frames``) and the index on them."""
    along = [k for k, c in ds.coords.items() if "time" in c.dims]
    return ds.drop_vars(along) if along else ds


def build_timeline(frames: xr.Dataset, bias: xr.Dataset, *quantities: xr.Dataset) -> xr.Dataset:
    """Merge per-frame Datasets into the ``timeline`` group: one row per frame, one column per quantity.

    Parameters
    ----------
    frames : xarray.Dataset
        The ``frames`` group over ``time``: ``t_start_s``, ``t_end_s`` (the reference modality's window),
        ``dose_e_per_A2_<modality>`` per frame, optionally ``frame`` and ``time_s`` coordinates
        (default ``0..n−1`` and the window mid-point). Per-frame doses become **cumulative** doses
        (:func:`~perovscope.operando.cumulative_dose`); per-modality windows and file names stay in
        ``frames``.
    bias : xarray.Dataset or None
        The ``bias`` group (:func:`~perovscope.operando.bias_per_frame`); ``None`` or an empty Dataset
        when the session has no electrical log.
    *quantities : xarray.Dataset
        Further per-frame results; each variable must be 1-D over ``time`` (empty Datasets are skipped).

    Returns
    -------
    xarray.Dataset
        Over ``time`` with index coordinate ``frame`` and coordinate ``time_s`` (both from ``frames``);
        every variable keeps its ``attrs["units"]``.

    Raises
    ------
    InputError
        An input over other frames (different count or ``frame`` values), a variable that is not 1-D over
        ``time``, a variable without ``attrs["units"]``, or the same variable name in two inputs.
    """
    frame = _frames_of(frames, "frames")
    if "time_s" in frames.coords:
        time_s = frames["time_s"].values.astype(float)
    elif "t_start_s" in frames and "t_end_s" in frames:
        time_s = 0.5 * (frames["t_start_s"].values + frames["t_end_s"].values).astype(float)
    else:
        raise InputError("frames: needs a 'time_s' coordinate or 't_start_s' and 't_end_s' variables")
    parts = []
    base = {}
    for name, var in frames.data_vars.items():
        name = str(name)
        if name in ("t_start_s", "t_end_s"):
            base[name] = var
        elif name.startswith(_DOSE) and np.issubdtype(var.dtype, np.number):
            base[name] = cumulative_dose(var)
    parts.append(("frames", _plain(xr.Dataset(base))))
    for k, ds in enumerate((bias, *quantities)):
        what = "bias" if k == 0 else f"quantities[{k - 1}]"
        if ds is None:
            continue
        if not isinstance(ds, xr.Dataset):
            raise InputError(f"{what}: expected an xarray.Dataset, got {type(ds).__name__}")
        if not ds.data_vars:          # nothing to add (e.g. a session without a bias log)
            continue
        other = _frames_of(ds, what)
        if other.shape != frame.shape or np.any(other != frame):
            raise InputError(f"{what}: frames {other.tolist()} differ from the session's frames "
                             f"{frame.tolist()}; compute every quantity on the same frames")
        parts.append((what, _plain(ds)))
    seen: dict[str, str] = {}
    merged = {}
    for what, ds in parts:
        for name, var in ds.data_vars.items():
            name = str(name)
            if var.dims != ("time",):
                raise InputError(f"{what}: variable {name!r} has dims {var.dims}; a timeline column must "
                                 "be 1-D over 'time' (reduce or split it first)")
            if "units" not in var.attrs:
                raise InputError(f"{what}: variable {name!r} has no attrs['units'] "
                                 "(use '1' if dimensionless)")
            if name in seen:
                raise InputError(f"variable {name!r} is in both {seen[name]} and {what}; rename one")
            seen[name] = what
            merged[name] = var.variable
    ds = xr.Dataset(merged, coords={"frame": ("time", frame, {"units": "1"}),
                                    "time_s": ("time", time_s, {"units": "s"})},
                    attrs={"step": "timeline"})
    return ds.set_xindex("frame")


def units_path(path) -> Path:
    """The units file written beside a table: ``timeline.csv`` → ``timeline.units.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.units.csv")


def timeline_to_csv(ds: xr.Dataset, path) -> tuple[Path, Path]:
    """Write a timeline as a tidy CSV (one row per frame) plus a units file, each atomically.

    ``path`` gets the header ``frame,time_s,<variables...>`` with plain names (so ``pandas.read_csv``
    needs no options) and full-precision numbers (NaN written ``NaN``); ``<stem>.units.csv`` beside
    it has the columns ``column,units``, one row per column of ``path``. Each file is written to a
    temporary name in the same folder and renamed into place, so a reader never sees a partial file.

    Returns
    -------
    (Path, Path)
        The table and its units file.
    """
    if "time" not in ds.dims:
        raise InputError(f"timeline_to_csv needs a Dataset over 'time', got dims {tuple(ds.dims)}")
    path = Path(path)
    n = ds.sizes["time"]
    columns = {"frame": ds["frame"].values if "frame" in ds.coords else np.arange(n)}
    units = {"frame": "1"}
    if "time_s" in ds.coords:
        columns["time_s"] = ds["time_s"].values
        units["time_s"] = ds["time_s"].attrs.get("units", "s")
    for name, var in ds.data_vars.items():
        if var.dims != ("time",):
            raise InputError(f"timeline_to_csv: variable {name!r} has dims {var.dims}, not ('time',)")
        columns[str(name)] = var.values
        units[str(name)] = str(var.attrs.get("units", ""))
    table = pd.DataFrame(columns)
    unit_table = pd.DataFrame({"column": list(units), "units": list(units.values())})
    write_text_atomic(path, csv_text(table, index=False, na_rep="NaN"))
    upath = units_path(path)
    write_text_atomic(upath, csv_text(unit_table, index=False))
    return path, upath
