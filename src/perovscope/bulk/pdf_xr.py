"""Labelled PDF analyses: xarray in, xarray out (coordinates kept, ``attrs["units"]`` on every variable).

* :func:`pdf_dataarray`: S(Q) or F(Q) over ``Q`` (any batch dimensions) → G(r) over ``r``.
* :func:`fit_pdf_dataset`: a crystal-model refinement of G(r) over ``r`` (batch dims kept), with the
  observed, calculated and difference curves.
* :func:`differential_dataarray`: composite minus weighted end members, in Q or in r.

Inputs may be a :class:`xarray.Dataset` as :func:`perovscope.io.pdf_gr.read_pdf_text` returns (``G``
and ``dG`` over ``r``, ``S``/``F`` over ``Q``) or a DataArray.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .pdf import differential, pdf_from_structure_factor
from .pdf_fit import fit_pdf
from .pdf_model import PARAMETERS

__all__ = ["pdf_dataarray", "fit_pdf_dataset", "differential_dataarray", "PARAMETER_UNITS"]

#: Units of the refined parameters.
PARAMETER_UNITS = {"scale": "1", "a": "Å", "uiso": "Å^2", "delta1": "Å", "delta2": "Å^2", "qdamp": "1/Å",
                   "qbroad": "1/Å", "sratio": "1"}


def _pick(data, names):
    if isinstance(data, xr.Dataset):
        name = next((n for n in names if n in data), None)
        if name is None:
            raise InputError(f"the Dataset has none of {names}")
        return data[name].assign_attrs({**data.attrs, **data[name].attrs}), data
    return data, None


def pdf_dataarray(data, *, dim: str = "Q", kind: str | None = None, **kwargs) -> xr.DataArray:
    """G(r) from S(Q) (or F(Q)) with :func:`perovscope.bulk.pdf.pdf_from_structure_factor` (options
    passed on: ``qmin``, ``qmax``, ``lorch``, ``r``, ``r_max``, ``dr``)."""
    da, ds = _pick(data, ("S", "F"))
    kind = kind or ("F" if ds is not None and "F" in ds and "S" not in ds else da.attrs.get("kind", "S"))
    if dim not in da.dims:
        raise InputError(f"no {dim!r} dimension (dims {da.dims})")
    da = da.transpose(..., dim)
    r, g = pdf_from_structure_factor(da.values, da[dim].values, kind=kind, **kwargs)
    lead = [d for d in da.dims if d != dim]
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    coords["r"] = ("r", r, {"units": "Å"})
    qmax = kwargs.get("qmax") or float(da[dim].values.max())
    return xr.DataArray(g, dims=lead + ["r"], coords=coords, name="G",
                        attrs={"units": "1/Å^2", "qmax": qmax, "lorch": int(bool(kwargs.get("lorch")))})


def fit_pdf_dataset(data, crystal, *, dim: str = "r", sigma=None, **kwargs) -> xr.Dataset:
    """:func:`perovscope.bulk.pdf_fit.fit_pdf` on labelled G(r) (``qmax`` defaults to ``attrs["qmax"]``).

    Returns a Dataset with each parameter and its ``*_std``, ``rw``, ``reduced_chi2``, ``flag`` over the
    batch dims, and ``G_obs``, ``G_calc``, ``G_diff`` over ``r_fit``.
    """
    da, ds = _pick(data, ("G",))
    if sigma is None and ds is not None and "dG" in ds:
        sigma = ds["dG"]
    if dim not in da.dims:
        raise InputError(f"no {dim!r} dimension (dims {da.dims})")
    da = da.transpose(..., dim)
    if "qmax" not in kwargs:
        q = da.attrs.get("qmax")
        kwargs["qmax"] = float(q) if q is not None and np.isfinite(float(q)) else None
    sg = None if sigma is None else xr.DataArray(sigma).broadcast_like(da).transpose(*da.dims).values
    fit = fit_pdf(da.values, da[dim].values, crystal, sigma=sg, source=da.attrs.get("source_file"), **kwargs)
    lead = [d for d in da.dims if d != dim]
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    out = xr.Dataset(coords=coords)
    for i, name in enumerate(PARAMETERS):
        out[name] = (lead, fit.values[..., i], {"units": PARAMETER_UNITS[name]})
        out[f"{name}_std"] = (lead, fit.std[..., i], {"units": PARAMETER_UNITS[name]})
    out["rw"] = (lead, fit.rw, {"units": "1"})
    out["reduced_chi2"] = (lead, fit.reduced_chi2, {"units": "1"})
    out["flag"] = (lead, fit.flag.astype(np.int8), {"units": "1"})
    sel = np.isin(da[dim].values, fit.r_fit)
    obs = da.values[..., sel]
    out = out.assign_coords(r_fit=("r_fit", fit.r_fit, {"units": "Å"}))
    out["G_obs"] = (lead + ["r_fit"], obs, {"units": "1/Å^2"})
    out["G_calc"] = (lead + ["r_fit"], fit.fitted, {"units": "1/Å^2"})
    out["G_diff"] = (lead + ["r_fit"], obs - fit.fitted, {"units": "1/Å^2"})
    out.attrs.update(refined=",".join(fit.refined), qmax=kwargs["qmax"] or 0.0,
                     rcut=float(kwargs.get("rcut", 0.0)),
                     r_range=list(map(float, kwargs.get("r_range", (1.5, 10.0)))))
    return out


def differential_dataarray(composite, end_members, *, dim: str | None = None, **kwargs) -> xr.Dataset:
    """:func:`perovscope.bulk.pdf.differential` on labelled curves sharing one axis.

    ``end_members`` is a list of DataArrays (or one with an ``end_member`` dimension) on the composite's
    axis. Returns ``difference``, ``mixture`` and the ``weights`` (``weights_std``) over ``end_member``.
    """
    if isinstance(end_members, xr.DataArray) and "end_member" in end_members.dims:
        ends = end_members
    else:
        ends = xr.concat(list(end_members), dim="end_member")
    dim = dim or composite.dims[-1]
    comp = composite.transpose(..., dim)
    e = ends.transpose("end_member", dim)
    res = differential(comp.values, e.values, comp[dim].values, **kwargs)
    lead = [d for d in comp.dims if d != dim]
    units = str(comp.attrs.get("units", ""))
    coords = {k: v for k, v in comp.coords.items()}
    out = xr.Dataset({"difference": (comp.dims, res.difference, {"units": units}),
                      "mixture": (comp.dims, res.mixture, {"units": units}),
                      "weights": (lead + ["end_member"], res.weights, {"units": "1"}),
                      "weights_std": (lead + ["end_member"], res.weights_std, {"units": "1"}),
                      "offset": (lead, res.offset, {"units": units})}, coords=coords)
    return out
