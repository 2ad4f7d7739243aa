"""Labelled SAXS analyses: xarray in, xarray out (coordinates kept, ``attrs["units"]`` on every variable).

Each wrapper takes an intensity :class:`xarray.DataArray` with a ``q`` dimension (any other dimensions
— a temperature series, a map — are the batch) or a :class:`xarray.Dataset` holding ``intensity`` and
optionally ``sigma`` (as :func:`perovscope.io.saxs_dat.read_saxs_dat` returns), and returns a Dataset of
results over the batch dimensions. :func:`saxs_analysis` runs Guinier, Porod, the invariant and the
sphere size distribution together and keeps the curves, the fits and the Porod plot.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .saxs import guinier_fit
from .saxs_porod import invariant, porod_fit, porod_plot
from .saxs_sizes import size_distribution

__all__ = ["guinier_dataset", "porod_dataset", "size_distribution_dataset", "saxs_analysis"]


def _split(data, sigma, dim):
    if isinstance(data, xr.Dataset):
        top = dict(data.attrs)
        if "intensity" not in data:
            raise InputError("the Dataset has no 'intensity' variable")
        sigma = data["sigma"] if sigma is None and "sigma" in data else sigma
        data = data["intensity"].assign_attrs({**top, **data["intensity"].attrs})
    if dim not in data.dims:
        raise InputError(f"the intensity has no {dim!r} dimension (dims {data.dims})")
    da = data.transpose(..., dim)
    sg = None if sigma is None else xr.DataArray(sigma).broadcast_like(da).transpose(*da.dims)
    if dim in da.coords and da.sizes[dim] > 1 and da[dim].values[0] > da[dim].values[-1]:
        da = da.isel({dim: slice(None, None, -1)})  # a decreasing axis is fine; an unsorted one raises later
        sg = None if sg is None else sg.isel({dim: slice(None, None, -1)})
    lead = [d for d in da.dims if d != dim]
    qunit = str(da[dim].attrs.get("units", "1/Å")) if dim in da.coords else "1/Å"
    q = da[dim].values if dim in da.coords else np.arange(da.sizes[dim], dtype=float)
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    return da, sg, q, lead, coords, qunit


def _length(qunit: str) -> str:
    return {"1/Å": "Å", "1/A": "Å", "1/nm": "nm"}.get(qunit, f"1/({qunit})")


def _ds(result, fields, lead, coords, attrs=None):
    data = {name: (lead, np.asarray(getattr(result, name), dtype=float), {"units": unit})
            for name, unit in fields.items()}
    return xr.Dataset(data, coords=coords, attrs=attrs or {})


def guinier_dataset(data, *, sigma=None, dim: str = "q", **kwargs) -> xr.Dataset:
    """:func:`perovscope.bulk.saxs.guinier_fit` on labelled curves (keyword options passed on)."""
    da, sg, q, lead, coords, qu = _split(data, sigma, dim)
    fit = guinier_fit(da.values, q, sigma=None if sg is None else sg.values, **kwargs)
    L = _length(qu)
    iu = str(da.attrs.get("units", "a.u."))
    return _ds(fit, {"rg": L, "rg_std": L, "i0": iu, "i0_std": iu, "q_min": qu, "q_max": qu, "qrg_min": "1",
                     "qrg_max": "1", "start": "index", "stop": "index", "n_points": "1",
                     "reduced_chi2": "1"}, lead, coords, {"qrg_limit": kwargs.get("qrg_max", 1.3)})


def porod_dataset(data, *, sigma=None, dim: str = "q", **kwargs) -> xr.Dataset:
    """:func:`perovscope.bulk.saxs_porod.porod_fit` on labelled curves."""
    da, sg, q, lead, coords, qu = _split(data, sigma, dim)
    fit = porod_fit(da.values, q, sigma=None if sg is None else sg.values, **kwargs)
    L = _length(qu)
    iu = str(da.attrs.get("units", "a.u."))
    ku = f"{iu}·({qu})^4" if iu != "a.u." else "a.u."
    ds = _ds(fit, {"porod_constant": ku, "porod_constant_std": ku, "background": iu, "background_std": iu,
                   "sigma2": f"{L}^2", "sigma2_std": f"{L}^2", "interface_width": L, "exponent": "1",
                   "exponent_std": "1", "deviation": "1", "reduced_chi2": "1"}, lead, coords)
    ds.attrs.update(porod_q_min=fit.q_min, porod_q_max=fit.q_max, porod_model=kwargs.get("model", "ruland"))
    return ds


def size_distribution_dataset(data, *, sigma=None, dim: str = "q", **kwargs) -> xr.Dataset:
    """:func:`perovscope.bulk.saxs_sizes.size_distribution` on labelled curves."""
    da, sg, q, lead, coords, qu = _split(data, sigma, dim)
    res = size_distribution(da.values, q, sigma=None if sg is None else sg.values, **kwargs)
    L = _length(qu)
    ds = _ds(res, {"mean_radius": L, "mean_radius_std": L, "width": L, "width_std": L,
                   "volume_mean_radius": L, "volume_mean_radius_std": L, "volume_width": L,
                   "volume_width_std": L, "total_volume_fraction": "1", "background": "a.u.",
                   "regularisation": "1", "reduced_chi2": "1"}, lead, coords)
    ds = ds.assign_coords(radius=("radius", res.radius, {"units": L}))
    for name in ("volume_fraction", "volume_fraction_std", "number_fraction"):
        ds[name] = (lead + ["radius"], getattr(res, name), {"units": "1"})
    ds["size_fit"] = (lead + [dim], res.fitted, {"units": str(da.attrs.get("units", "a.u."))})
    return ds.assign_coords({dim: (dim, q, {"units": qu})})


def saxs_analysis(data, *, sigma=None, dim: str = "q", guinier=None, porod=None, sizes=None) -> xr.Dataset:
    """Guinier, Porod, invariant and sphere sizes of every curve, in one Dataset.

    Parameters
    ----------
    data : xarray.DataArray or xarray.Dataset
        Curves over ``dim`` (and ``sigma`` when a Dataset).
    sigma : xarray.DataArray, optional
        Standard deviations (overrides a Dataset's ``sigma``).
    dim : str
        The q dimension.
    guinier, porod, sizes : dict, optional
        Options of :func:`guinier_fit`, :func:`porod_fit` and :func:`size_distribution`;
        ``sizes=False`` skips the size distribution.

    Returns
    -------
    xarray.Dataset
        ``guinier_*``, ``porod_*``, ``invariant*`` and ``size_*`` results over the batch dims, plus
        ``intensity``/``sigma``, ``q4_intensity`` and ``porod_deviation`` over q, and the distributions.
    """
    da, sg, q, lead, coords, qu = _split(data, sigma, dim)
    g = guinier_dataset(da, sigma=sg, dim=dim, **(guinier or {}))
    p = porod_dataset(da, sigma=sg, dim=dim, **(porod or {}))
    out = xr.merge([g.rename({k: f"guinier_{k}" for k in g.data_vars}),
                    p.rename({k: f"porod_{k}" for k in p.data_vars})], combine_attrs="drop_conflicts")
    inv = invariant(da.values, q, rg=g.rg.values, i0=g.i0.values, porod_constant=p.porod_constant.values,
                    background=p.background.values)
    iu = str(da.attrs.get("units", "a.u."))
    for name, arr in zip(("invariant", "invariant_measured", "invariant_low_q", "invariant_high_q"),
                         inv[:4], strict=True):
        out[name] = (lead, np.asarray(arr, dtype=float), {"units": f"{iu}·({qu})^3"})
    out["surface_to_invariant"] = (lead, np.asarray(inv.surface_to_invariant, dtype=float),
                                   {"units": f"1/{_length(qu)}"})
    q4i, dev = porod_plot(da.values, q, porod_constant=p.porod_constant.values,
                          background=p.background.values)
    out["intensity"] = da.assign_attrs(units=iu)
    if sg is not None:
        out["sigma"] = sg.assign_attrs(units=iu)
    out["q4_intensity"] = (da.dims, q4i, {"units": f"{iu}·({qu})^4"})
    out["porod_deviation"] = (da.dims, dev, {"units": "1"})
    if sizes is not False:
        s = size_distribution_dataset(da, sigma=sg, dim=dim, **(sizes or {}))
        rename = {k: f"size_{k}" for k in s.data_vars if k not in ("volume_fraction", "volume_fraction_std",
                                                                    "number_fraction", "size_fit")}
        out = xr.merge([out, s.rename(rename)], combine_attrs="drop_conflicts")
    out[dim].attrs["units"] = qu
    out.attrs.update({k: v for k, v in da.attrs.items() if k in ("source_file", "format", "signal")})
    return out
