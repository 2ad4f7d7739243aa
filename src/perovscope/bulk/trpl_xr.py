"""Labelled TRPL fits: decays as :class:`xarray.DataArray` in, a results :class:`xarray.Dataset` out.

:func:`fit_decay_dataarray` runs :func:`perovscope.bulk.trpl.fit_decays` on every decay of a
DataArray ``(..., delay)`` (all leading dimensions — files, detectors, an ageing ``time`` series —
fitted in one batched call) and returns the fitted parameters over the leading dimensions and
``component``, the mean lifetimes, and the counts, model and residuals over ``delay``, every variable
with ``attrs["units"]``. :func:`decay_table` flattens it into one row per decay.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .trpl import fit_decays

__all__ = ["fit_decay_dataarray", "decay_table", "irf_on_axis"]


def irf_on_axis(irf, delay, *, dim: str = "delay") -> np.ndarray:
    """The IRF counts on the decays' ``delay`` values (interpolated, zero outside its range)."""
    if isinstance(irf, xr.DataArray):
        if irf.ndim != 1 or dim not in irf.dims:
            raise InputError(f"irf must be one curve over {dim!r}, got dims {irf.dims}")
        x = np.asarray(irf[dim].values, dtype=float)
        v = np.asarray(irf.values, dtype=float)
        if x.size == delay.size and np.allclose(x, delay, rtol=0, atol=1e-6 * abs(delay[1] - delay[0])):
            return v
        order = np.argsort(x)
        return np.interp(delay, x[order], v[order], left=0.0, right=0.0)
    v = np.asarray(irf, dtype=float)
    if v.shape != delay.shape:
        raise InputError(f"irf has {v.size} channels but the decays have {delay.size}; give it as a "
                         "DataArray over delay to interpolate it")
    return v


def fit_decay_dataarray(decays: xr.DataArray, irf=None, *, dim: str = "delay", **options) -> xr.Dataset:
    """Fit every decay of ``decays`` (see :func:`perovscope.bulk.trpl.fit_decays` for ``options``).

    Parameters
    ----------
    decays : xarray.DataArray
        Counts over ``dim`` (a time coordinate, units in ``attrs["units"]``, default ns) and any
        leading dimensions.
    irf : xarray.DataArray or array_like, optional
        Instrument response over ``dim`` (interpolated onto the decays' channels if they differ).
    dim : str
        The delay dimension.

    Returns
    -------
    xarray.Dataset
        ``tau``, ``amplitude``, ``amplitude_fraction``, ``intensity_fraction`` (+ ``_std``) over
        ``(..., component)``; ``tau_amplitude``, ``tau_intensity``, ``tau_effective``, ``irf_shift``,
        ``background`` (+ ``_std``), ``deviance``, ``dof``, ``reduced_deviance``, ``flag`` over
        ``(...)``; ``counts``, ``fitted``, ``residuals``, ``fit_mask`` over ``(..., delay)``; ``irf``.
    """
    if not isinstance(decays, xr.DataArray) or dim not in decays.dims:
        raise InputError(f"decays must be a DataArray with a {dim!r} dimension")
    da = decays.transpose(..., dim)
    if dim not in da.coords:
        raise InputError(f"decays have no {dim!r} coordinate (channel times); add one in ns")
    delay = np.asarray(da[dim].values, dtype=float)
    tunit = str(da[dim].attrs.get("units", "ns"))
    g = None if irf is None else irf_on_axis(irf, delay, dim=dim)
    fit = fit_decays(np.asarray(da.values, dtype=float), delay, irf=g, **options)
    lead = da.dims[:-1]
    k = fit.taus.shape[-1]
    lc = {c: da.coords[c] for c in da.coords if set(da.coords[c].dims) <= set(lead)}
    comp = {"component": ("component", np.arange(1, k + 1))}

    def per_comp(a, units, desc):
        return xr.DataArray(a, dims=lead + ("component",), coords={**lc, **comp},
                            attrs={"units": units, "long_name": desc})

    def per_decay(a, units, desc):
        return xr.DataArray(a, dims=lead, coords=lc, attrs={"units": units, "long_name": desc})

    L = fit.lifetimes
    ds = xr.Dataset({
        "tau": per_comp(fit.taus, tunit, "lifetime"),
        "tau_std": per_comp(fit.taus_std, tunit, "standard error of the lifetime"),
        "amplitude": per_comp(fit.amplitudes, "counts/channel", "amplitude at t = 0"),
        "amplitude_std": per_comp(fit.amplitudes_std, "counts/channel", "standard error of the amplitude"),
        "amplitude_fraction": per_comp(L.amplitude_fractions, "1", "A_i / sum A"),
        "amplitude_fraction_std": per_comp(L.amplitude_fractions_std, "1", "standard error"),
        "intensity_fraction": per_comp(L.intensity_fractions, "1", "A_i tau_i / sum A tau"),
        "intensity_fraction_std": per_comp(L.intensity_fractions_std, "1", "standard error"),
        "tau_amplitude": per_decay(L.tau_amplitude, tunit, "amplitude-weighted mean lifetime"),
        "tau_amplitude_std": per_decay(L.tau_amplitude_std, tunit, "standard error"),
        "tau_intensity": per_decay(L.tau_intensity, tunit, "intensity-weighted mean lifetime"),
        "tau_intensity_std": per_decay(L.tau_intensity_std, tunit, "standard error"),
        "tau_effective": per_decay(L.tau_effective, tunit, "1/e effective lifetime"),
        "tau_effective_std": per_decay(L.tau_effective_std, tunit, "standard error"),
        "irf_shift": per_decay(fit.shift, tunit, "delay of the decay against the IRF"),
        "irf_shift_std": per_decay(fit.shift_std, tunit, "standard error"),
        "background": per_decay(fit.background, "counts/channel", "constant background"),
        "background_std": per_decay(fit.background_std, "counts/channel", "standard error"),
        "deviance": per_decay(fit.deviance, "1", "Poisson deviance or residual sum of squares"),
        "dof": per_decay(fit.dof, "1", "degrees of freedom"),
        "reduced_deviance": per_decay(fit.deviance / np.maximum(fit.dof, 1), "1", "deviance / dof"),
        "flag": per_decay(fit.flag.astype(np.int8), "1", "0 ok, 1 iteration limit, 2 failed, 3 masked"),
    })
    full = {c: da.coords[c] for c in da.coords}
    ds["counts"] = xr.DataArray(np.asarray(da.values, dtype=float), dims=da.dims, coords=full,
                                attrs={"units": "counts"})
    for name, arr, units in (("fitted", fit.fitted, "counts"), ("residuals", fit.residuals, "1"),
                             ("fit_mask", fit.mask, "1")):
        ds[name] = xr.DataArray(arr, dims=da.dims, coords=full, attrs={"units": units})
    if g is not None:
        ds["irf"] = xr.DataArray(g, dims=(dim,), coords={dim: da[dim]}, attrs={"units": "counts"})
    ds[dim].attrs.setdefault("units", tunit)
    stat = options.get("statistic", "poisson")
    ds.attrs.update({"technique": "trpl", "components": int(k), "statistic": stat,
                     "model": "reconvolution" if g is not None else "tail",
                     "residuals": "(y - mu)/sqrt(mu)" if stat == "poisson" else "y - mu"})
    return ds


def decay_table(ds: xr.Dataset) -> xr.Dataset:
    """One row per decay: labels of the leading dimensions, lifetimes, fractions (%), mean lifetimes."""
    ref = ds["tau_amplitude"]
    lead = ref.dims
    nrow = int(np.prod([ds.sizes[d] for d in lead])) if lead else 1

    def flat(name, **sel):
        return np.asarray(ds[name].isel(**sel).transpose(*lead).values).reshape(nrow)

    out = {}
    for c in ds.coords:
        dims = ds.coords[c].dims
        if dims and set(dims) <= set(lead):
            vals = ds.coords[c].broadcast_like(ref).transpose(*lead).values.reshape(nrow)
            out[str(c)] = xr.DataArray(vals.astype(str), dims="row", attrs={"units": ""})
    tunit = ds["tau"].attrs["units"]

    def col(values, units):
        return xr.DataArray(values, dims="row", attrs={"units": units})

    for i in range(ds.sizes["component"]):
        out[f"tau_{i + 1}"] = col(flat("tau", component=i), tunit)
        out[f"tau_{i + 1}_std"] = col(flat("tau_std", component=i), tunit)
        out[f"a_{i + 1}"] = col(100 * flat("amplitude_fraction", component=i), "%")
        out[f"f_{i + 1}"] = col(100 * flat("intensity_fraction", component=i), "%")
    for name in ("tau_amplitude", "tau_intensity", "tau_effective"):
        out[name] = col(flat(name), tunit)
        out[f"{name}_std"] = col(flat(f"{name}_std"), tunit)
    out["irf_shift"] = col(flat("irf_shift"), tunit)
    out["background"] = col(flat("background"), "counts/channel")
    out["reduced_deviance"] = col(flat("reduced_deviance"), "1")
    out["flag"] = col(flat("flag").astype(int), "1")
    return xr.Dataset(out).assign_coords(row=np.arange(nrow))
