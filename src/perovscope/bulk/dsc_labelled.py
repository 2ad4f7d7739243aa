"""Labelled DSC wrappers: heat-flow DataArrays over ``temperature`` in, Datasets of events out.

Leading dimensions (a series: ``time`` of ageing, ``sample``, ...) and their coordinates are kept;
one more dimension, ``event``, numbers the windows. Every variable carries ``attrs["units"]``.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .dsc import glass_transitions, parse_windows
from .dsc_peaks import dsc_peaks

__all__ = ["glass_transitions_dataset", "dsc_peaks_dataset"]

_TG_UNITS = {"onset": "degC", "midpoint": "degC", "endset": "degC", "midpoint_std": "degC", "width": "K",
             "flag": "1"}
_PEAK_UNITS = {"onset": "degC", "peak": "degC", "endset": "degC", "area": "mJ", "enthalpy": "J/g"}


def _prepare(heat_flow, dim):
    if dim not in heat_flow.dims:
        raise InputError(f"heat_flow has no {dim!r} dimension (dims: {heat_flow.dims}); pass dim=")
    da = heat_flow.transpose(..., dim)
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    return da, np.asarray(da[dim].values, dtype=float), da.dims[:-1], coords


def _dataset(result, fields, units, lead, coords, windows, hf_units):
    import xarray as xr

    dims = lead + ("event",)
    out = xr.Dataset(coords={**coords, "event": np.arange(len(windows)),
                             "window_lo": ("event", [w[0] for w in windows], {"units": "degC"}),
                             "window_hi": ("event", [w[1] for w in windows], {"units": "degC"})})
    for name in fields:
        unit = units.get(name, hf_units)
        out[name] = xr.DataArray(np.asarray(getattr(result, name)), dims=dims, attrs={"units": unit})
    return out


def glass_transitions_dataset(heat_flow, *, windows, dim: str = "temperature", **kwargs):
    """:func:`.dsc.glass_transitions` on a labelled heat flow; ``step`` keeps the heat-flow units."""
    da, t, lead, coords = _prepare(heat_flow, dim)
    wins = parse_windows(windows)
    res = glass_transitions(t, da.values, windows=wins, **kwargs)
    return _dataset(res, res._fields, _TG_UNITS, lead, coords, wins, str(da.attrs.get("units", "1")))


def dsc_peaks_dataset(heat_flow, *, windows, dim: str = "temperature", time_s=None, **kwargs):
    """:func:`.dsc_peaks.dsc_peaks` on a labelled heat flow (mW); ``time_s`` may be a coordinate name."""
    da, t, lead, coords = _prepare(heat_flow, dim)
    if isinstance(time_s, str):
        time_s = np.asarray(da[time_s].values, dtype=float)
    wins = parse_windows(windows)
    res = dsc_peaks(t, da.values, windows=wins, time_s=time_s, **kwargs)
    return _dataset(res, res._fields, _PEAK_UNITS, lead, coords, wins, str(da.attrs.get("units", "mW")))
