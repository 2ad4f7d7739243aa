"""Labelled PL analyses: DataArrays over ``wavelength`` (nm) or ``energy`` (eV) in, Datasets out.

Every leading dimension of the input (``time``, ``temperature``, ``scan_y``/``scan_x`` of a map, ...)
is kept, with its coordinates; each output variable carries ``attrs["units"]``. The computations
are those of :mod:`perovscope.bulk.pl` and :mod:`perovscope.bulk.urbach`, run on the whole batch.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .pl import decompose_pl, pl_peak, to_energy_axis
from .urbach import urbach_energy

__all__ = ["energy_axis", "peak_metrics", "decomposition", "urbach"]


def _axis(da):
    for dim in ("energy", "wavelength"):
        if dim in da.dims:
            return dim
    raise InputError(f"the spectrum has dimensions {da.dims}; expected a 'wavelength' or 'energy' axis")


def _lead(da, dim):
    da = da.transpose(..., dim)
    return da, da.dims[:-1], {d: da[d] for d in da.dims[:-1] if d in da.coords}


def energy_axis(da: xr.DataArray) -> xr.DataArray:
    """A spectrum per nm over ``wavelength`` → per eV over ``energy`` (increasing), with the Jacobian;
    a DataArray already over ``energy`` is returned unchanged."""
    dim = _axis(da)
    if dim == "energy":
        return da
    da, lead, coords = _lead(da, dim)
    e, y = to_energy_axis(da.values, da[dim].values, units=da[dim].attrs.get("units"),
                          source=da.attrs.get("source_file"))
    units = str(da.attrs.get("units", "a.u."))
    coords = {**coords, "energy": ("energy", e, {"units": "eV"})}
    out = xr.DataArray(y, dims=lead + ("energy",), coords=coords,
                       attrs={**da.attrs, "units": f"{units}/eV", "jacobian": "I(E) = I(λ)·λ²/hc"})
    out.name = da.name
    return out


def peak_metrics(da: xr.DataArray, **options) -> xr.Dataset:
    """:func:`~perovscope.bulk.pl.pl_peak` on a labelled spectrum (batch) → Dataset of the metrics."""
    dim = _axis(da)
    da, lead, coords = _lead(da, dim)
    p = pl_peak(da.values, da[dim].values, source=da.attrs.get("source_file"), **options)
    xu = str(da[dim].attrs.get("units", "eV" if dim == "energy" else "nm"))
    yu = str(da.attrs.get("units", "a.u."))
    units = {"position": xu, "height": yu, "fwhm": xu, "left": xu, "right": xu,
             "integral": f"{yu}·{xu}", "centroid": xu, "baseline": yu}
    return xr.Dataset({k: xr.Variable(lead, np.asarray(getattr(p, k)), attrs={"units": u})
                       for k, u in units.items()}, coords=coords)


def decomposition(da: xr.DataArray, **options) -> xr.Dataset:
    """:func:`~perovscope.bulk.pl.decompose_pl` on a labelled spectrum (batch) → Dataset over the
    leading dimensions and ``component`` (ordered by centre), with standard errors."""
    dim = _axis(da)
    da, lead, coords = _lead(da, dim)
    c = decompose_pl(da.values, da[dim].values, source=da.attrs.get("source_file"), **options)
    xu = str(da[dim].attrs.get("units", "eV" if dim == "energy" else "nm"))
    yu = str(da.attrs.get("units", "a.u."))
    dims = lead + ("component",)
    units = {"centre": xu, "centre_std": xu, "fwhm": xu, "fwhm_std": xu, "area": f"{yu}·{xu}",
             "area_std": f"{yu}·{xu}", "height": yu, "share": "1", "share_std": "1"}
    data = {k: xr.Variable(dims, getattr(c, k), attrs={"units": u}) for k, u in units.items()}
    data["redchi"] = xr.Variable(lead, np.asarray(c.redchi), attrs={"units": f"({yu})²"})
    data["flag"] = xr.Variable(lead, np.asarray(c.flag), attrs={"units": "1"})
    return xr.Dataset(data, coords={**coords, "component": np.arange(1, c.centre.shape[-1] + 1)},
                      attrs={"shapes": ",".join(c.fit.shapes)})


def urbach(da: xr.DataArray, **options) -> xr.Dataset:
    """:func:`~perovscope.bulk.urbach.urbach_energy` on a labelled spectrum; a wavelength axis is
    converted to energy first (with the Jacobian for PL, ``kind="pl"``; plainly for absorption)."""
    dim = _axis(da)
    kind = options.get("kind", "pl")
    if dim == "wavelength":
        if kind == "pl":
            da = energy_axis(da)
        else:
            da = da.assign_coords(energy=("wavelength", 1239.8419843320026 / da["wavelength"].values))
            da = da.swap_dims(wavelength="energy").drop_vars("wavelength").sortby("energy")
    da, lead, coords = _lead(da, "energy")
    u = urbach_energy(da.values, da["energy"].values, source=da.attrs.get("source_file"), **options)
    units = {"energy": "eV", "energy_std": "eV", "e_lo": "eV", "e_hi": "eV", "n_points": "1",
             "slope": "1/eV", "intercept": "1", "e_folds": "1", "found": "1"}
    data = {("urbach_energy" if k == "energy" else k): xr.Variable(lead, np.asarray(getattr(u, k)),
                                                                   attrs={"units": v})
            for k, v in units.items()}
    return xr.Dataset(data, coords=coords)
