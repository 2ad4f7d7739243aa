"""Labelled Raman/FTIR band fits: :class:`xarray.DataArray` spectra in, a :class:`xarray.Dataset` out.

:func:`fit_bands_dataarray` runs :func:`perovscope.bulk.raman.fit_bands` on every spectrum of a
labelled batch (any leading dimensions — a temperature series, a map) and returns the band
parameters over ``(..., band)`` with their standard errors, the shift of every band from the first
spectrum of the first leading dimension, and the spectra, baselines, fits and components over the
fitted wavenumbers, every variable with ``attrs["units"]``. :func:`band_table` flattens it into a
table over ``row`` (one row per spectrum and band) for printing or CSV.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .raman import band_shifts, fit_bands

__all__ = ["fit_bands_dataarray", "band_table"]


def fit_bands_dataarray(da: xr.DataArray, *, dim: str = "wavenumber", centres, **options) -> xr.Dataset:
    """Fit bands to a labelled spectrum or batch (see :func:`perovscope.bulk.raman.fit_bands`).

    Parameters
    ----------
    da : xarray.DataArray
        Spectra with a wavenumber dimension ``dim`` (units in ``da[dim].attrs["units"]``, cm⁻¹).
    dim : str
        The spectral dimension.
    centres : array_like (k,)
        Start centres.
    **options
        Passed to :func:`~perovscope.bulk.raman.fit_bands` (``shape``, ``fit_range``, ``baseline``,
        ``order``, ``windows``, ``fwhm``, ``centre_range``, ``ties``, ``weights``...).

    Returns
    -------
    xarray.Dataset
        ``centre``, ``fwhm``, ``area``, ``height``, ``share`` and their ``*_std`` over ``(..., band)``;
        ``shift``/``shift_std`` (when there is a leading dimension); ``redchi``, ``flag`` over the
        leading dims; ``data``, ``baseline``, ``fitted``, ``residual`` over ``(..., dim)`` and
        ``components`` over ``(..., band, dim)``, restricted to the fitted range.
    """
    if dim not in da.dims:
        raise InputError(f"the spectra have no dimension {dim!r} (dims {da.dims})")
    lead = [d for d in da.dims if d != dim]
    arr = da.transpose(*lead, dim)
    x = np.asarray(arr[dim].values, dtype=float)
    res = fit_bands(np.asarray(arr.values, dtype=float), x, centres=centres, **options)
    xunit = str(da[dim].attrs.get("units", "1/cm"))
    yunit = str(da.attrs.get("units", "a.u."))
    k = res.centre.shape[-1]
    lead_coords = {c: arr.coords[c] for c in arr.coords if set(arr.coords[c].dims) <= set(lead)}
    bdims = (*lead, "band")
    start = (
        np.broadcast_to(np.asarray(centres, dtype=float), (k,))
        if np.ndim(centres) <= 1
        else np.nanmean(np.asarray(centres, dtype=float).reshape(-1, k), axis=0)
    )
    coords = {
        **lead_coords,
        "band": ("band", np.arange(k)),
        "start_centre": ("band", start, {"units": xunit}),
        "shape": ("band", list(res.peak_fit.shapes)),
        dim: (dim, res.x, {"units": xunit}),
    }
    units = {"centre": xunit, "fwhm": xunit, "area": f"{yunit}*{xunit}", "height": yunit, "share": "1"}
    data = {}
    for name, unit in units.items():
        data[name] = (bdims, getattr(res, name), {"units": unit})
        data[f"{name}_std"] = (
            bdims,
            getattr(res, f"{name}_std") if name != "height" else np.full_like(res.height, np.nan),
            {"units": unit},
        )
    if lead:
        shift, shift_std = band_shifts(res.centre, res.centre_std, reference=0)
        data["shift"] = (bdims, shift, {"units": xunit, "reference": "first spectrum"})
        data["shift_std"] = (bdims, shift_std, {"units": xunit})
    data["redchi"] = (
        tuple(lead),
        res.redchi,
        {"units": "1" if options.get("weights") is not None else f"({yunit})^2"},
    )
    data["flag"] = (tuple(lead), res.flag.astype(np.int8), {"units": "1"})
    sdims = (*lead, dim)
    for name in ("data", "baseline", "fitted"):
        data[name] = (sdims, getattr(res, name), {"units": yunit})
    data["residual"] = (sdims, res.data - res.fitted, {"units": yunit})
    data["components"] = ((*lead, "band", dim), res.components, {"units": yunit})
    attrs = {k_: v for k_, v in da.attrs.items() if k_ not in ("units", "original_metadata")}
    attrs.update(
        {
            "baseline_method": str(options.get("baseline", "poly")),
            "fit_range": str(options.get("fit_range")),
            "windows": str(options.get("windows")),
        }
    )
    return xr.Dataset(data, coords=coords, attrs=attrs)


def band_table(ds: xr.Dataset) -> xr.Dataset:
    """One row per spectrum and band: the leading labels, centre ± std, FWHM ± std, area ± std, share,
    shift (for a series), reduced χ² and fit flag — each column with ``attrs["units"]``."""
    ref = ds["centre"]
    cols = ["centre", "centre_std", "fwhm", "fwhm_std", "area", "area_std", "height", "share", "share_std"]
    cols += [c for c in ("shift", "shift_std") if c in ds]
    out = {}
    for c in ref.coords:
        if c != "band" and set(ds[c].dims) <= set(ref.dims) and c not in ("start_centre", "shape"):
            out[c] = (
                "row",
                np.asarray(ds[c].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1),
                {"units": ds[c].attrs.get("units", "")},
            )
    out["band"] = ("row", np.asarray(ds["band"].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1))
    for c in cols + ["redchi", "flag"]:
        out[c] = (
            "row",
            np.asarray(ds[c].broadcast_like(ref).transpose(*ref.dims).values).reshape(-1),
            {"units": ds[c].attrs.get("units", "")},
        )
    return xr.Dataset(out, coords={"row": np.arange(ref.size)})
