"""Labelled XPS fits and region summaries: :class:`xarray.DataArray` regions in, :class:`xarray.Dataset` out.

:func:`fit_xps_dataarray` runs :func:`perovscope.bulk.xps.fit_components` on a region (any leading
dimensions: an ageing or depth series) and returns component positions, widths, areas and shares
with standard errors over ``(..., component)``, plus the data, background, fit and components over
``binding_energy``; :func:`component_table` flattens it into rows. :func:`region_summary` gives, for
every region of a file, its range, the binding energy of its maximum and its background-subtracted
area — the table of a file read without a component model.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .xps import fit_components
from .xps_background import shirley_background, tougaard_background

__all__ = ["fit_xps_dataarray", "component_table", "region_summary"]

_DIM = "binding_energy"


def fit_xps_dataarray(da: xr.DataArray, *, centres, shift: float = 0.0, **options) -> xr.Dataset:
    """Fit components to a labelled XPS region (see :func:`perovscope.bulk.xps.fit_components`).

    ``shift`` (eV) is a charge-referencing correction added to the binding energies first; the
    result's ``binding_energy`` is the corrected axis (``attrs["charge_shift_eV"]``).
    """
    if _DIM not in da.dims:
        raise InputError(f"the spectrum has no dimension {_DIM!r} (dims {da.dims})")
    lead = [d for d in da.dims if d != _DIM]
    arr = da.transpose(*lead, _DIM)
    e = np.asarray(arr[_DIM].values, dtype=float) + float(shift)
    res = fit_components(np.asarray(arr.values, dtype=float), e, centres=centres, **options)
    k = res.centre.shape[-1]
    yunit = str(da.attrs.get("units", "counts"))
    cdims = (*lead, "component")
    coords = {
        c: arr.coords[c] for c in arr.coords if arr.coords[c].dims and set(arr.coords[c].dims) <= set(lead)
    }
    coords.update(
        {
            "component": ("component", np.arange(k)),
            "shape": ("component", list(res.peak_fit.shapes)),
            _DIM: (_DIM, res.energy, {"units": "eV"}),
        }
    )
    data = {}
    for name, unit in (("centre", "eV"), ("fwhm", "eV"), ("area", f"{yunit}*eV"), ("share", "1")):
        data[name] = (cdims, getattr(res, name), {"units": unit})
        data[f"{name}_std"] = (cdims, getattr(res, f"{name}_std"), {"units": unit})
    data["height"] = (cdims, res.height, {"units": yunit})
    data["redchi"] = (tuple(lead), res.redchi, {"units": "1" if options.get("weights") else f"({yunit})^2"})
    data["flag"] = (tuple(lead), res.flag.astype(np.int8), {"units": "1"})
    data["background_B"] = (tuple(lead), res.background_B, {"units": "eV^2"})
    sdims = (*lead, _DIM)
    for name in ("data", "background", "fitted"):
        data[name] = (sdims, getattr(res, name), {"units": yunit})
    data["residual"] = (sdims, res.data - res.fitted, {"units": yunit})
    data["components"] = ((*lead, "component", _DIM), res.components, {"units": yunit})
    attrs = {k_: v for k_, v in da.attrs.items() if k_ not in ("units", "original_metadata")}
    attrs.update(
        {"charge_shift_eV": float(shift), "background_method": str(options.get("background", "shirley"))}
    )
    return xr.Dataset(data, coords=coords, attrs=attrs)


def component_table(ds: xr.Dataset) -> xr.Dataset:
    """One row per spectrum and component: region, position ± std, FWHM ± std, area ± std, share, flag."""
    ref = ds["centre"]
    out = {"region": ("row", np.full(ref.size, str(ds.attrs.get("region", ""))))}
    for c in ref.coords:
        if c not in ("component", "shape") and set(ds[c].dims) <= set(ref.dims) and ds[c].dims:
            out[c] = ("row", np.asarray(ds[c].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1))
    for c in ("component", "shape"):
        out[c] = ("row", np.asarray(ds[c].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1))
    for c in (
        "centre",
        "centre_std",
        "fwhm",
        "fwhm_std",
        "area",
        "area_std",
        "height",
        "share",
        "share_std",
        "redchi",
        "flag",
    ):
        out[c] = (
            "row",
            np.asarray(ds[c].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1),
            {"units": ds[c].attrs.get("units", "")},
        )
    return xr.Dataset(out, coords={"row": np.arange(ref.size)})


def region_summary(
    regions, *, background: str = "shirley", shift: float = 0.0, average: int = 1, background_options=None
) -> xr.Dataset:
    """Range, points, maximum position and background-subtracted area of each region (one row each)."""
    opts = dict(background_options or {})
    rows = {k: [] for k in ("region", "points", "be_min", "be_max", "peak_be", "area")}
    for da in regions:  # regions have different axes: one small computation each
        e = np.asarray(da[_DIM].values, dtype=float) + float(shift)
        y = np.asarray(da.values, dtype=float)
        order = np.argsort(e)
        e, y = e[order], y[order]
        if background == "shirley":
            bg = shirley_background(y, e, average=average).background
        elif background == "tougaard":
            bg = tougaard_background(
                y, e, average=average, C=opts.get("C", 1643.0), D=opts.get("D")
            ).background
        else:
            bg = np.zeros_like(y)
        net = y - bg
        rows["region"].append(str(da.attrs.get("region", "")))
        rows["points"].append(int(e.size))
        rows["be_min"].append(float(e[0]))
        rows["be_max"].append(float(e[-1]))
        rows["peak_be"].append(float(e[int(np.argmax(net))]))
        rows["area"].append(float(np.sum(0.5 * (net[1:] + net[:-1]) * np.diff(e))))
    units = {"be_min": "eV", "be_max": "eV", "peak_be": "eV", "area": "counts*eV", "points": "1"}
    data = {k: ("row", np.asarray(v), {"units": units[k]} if k in units else {}) for k, v in rows.items()}
    return xr.Dataset(data, coords={"row": np.arange(len(rows["region"]))})
