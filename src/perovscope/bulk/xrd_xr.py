"""Labelled (xarray) wrappers of the powder-XRD refinement.

:func:`refine_xrd` takes a :class:`xarray.DataArray` of intensities over ``two_theta`` with any
leading dimensions (``temperature``, ``time``, ...) and returns a :class:`xarray.Dataset` keeping
those coordinates: cells, weight fractions, profile and instrument parameters, agreement indices,
and the calculated pattern, background and difference (every variable with ``attrs["units"]``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import dims
from ..errors import InputError
from .xrd import XRDRefinement, refine_pattern

__all__ = ["refine_xrd", "refinement_dataset", "CELL_PARAMS"]

CELL_PARAMS = ("a", "b", "c", "alpha", "beta", "gamma")
_CELL_UNITS = {"a": "angstrom", "b": "angstrom", "c": "angstrom", "alpha": "deg", "beta": "deg",
               "gamma": "deg"}


def refinement_dataset(res: XRDRefinement, lead_dims=(), lead_coords=None, observed=None) -> xr.Dataset:
    """A Dataset from an :class:`~perovscope.bulk.xrd.XRDRefinement` (leading dims ``lead_dims``)."""
    lead_dims = tuple(lead_dims)
    tt = dims.TWO_THETA
    coords = {tt: (tt, res.two_theta, {"units": "deg"}), "phase": ("phase", list(res.phases)),
              "cell_param": ("cell_param", list(CELL_PARAMS)),
              "profile_param": ("profile_param", ["U", "V", "W", "X", "Y", "B"]),
              "parameter": ("parameter", list(res.names))}
    coords.update(lead_coords or {})
    ld = lead_dims

    def var(values, extra, units, long_name=""):
        return (ld + extra, np.asarray(values), {"units": units, "long_name": long_name})

    data = {
        "cell": var(res.cell, ("phase", "cell_param"), "angstrom|deg", "a, b, c (Å), α, β, γ (deg)"),
        "cell_std": var(res.cell_std, ("phase", "cell_param"), "angstrom|deg"),
        "weight_fraction": var(100 * res.weight_fraction, ("phase",), "wt%", "Hill–Howard weight fraction"),
        "weight_fraction_std": var(100 * res.weight_fraction_std, ("phase",), "wt%"),
        "scale": var(res.scale, ("phase",), "1"), "scale_std": var(res.scale_std, ("phase",), "1"),
        "profile": var(res.profile, ("phase", "profile_param"), "deg^2|deg|angstrom^2",
                       "U, V, W (deg²), X, Y (deg), overall B (Å²)"),
        "zero": var(res.zero, (), "deg"), "zero_std": var(res.zero_std, (), "deg"),
        "displacement": var(res.displacement, (), "mm"),
        "displacement_std": var(res.displacement_std, (), "mm"),
        "rwp": var(100 * res.rwp, (), "%"), "rexp": var(100 * res.rexp, (), "%"),
        "gof": var(res.gof, (), "1", "Rwp/Rexp"), "chi2": var(res.chi2, (), "1"),
        "flag": var(res.flag, (), "1"), "params": var(res.params, ("parameter",), "mixed"),
        "params_std": var(res.std, ("parameter",), "mixed"),
        "calculated": var(res.calc, (tt,), "counts"), "background": var(res.background, (tt,), "counts"),
    }
    if observed is not None:
        data["observed"] = var(observed, (tt,), "counts")
        data["difference"] = var(np.asarray(observed) - res.calc, (tt,), "counts")
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(radiation=res.model.radiation.label, wavelengths_A=list(res.model.radiation.wavelengths),
                    line_ratios=list(res.model.radiation.ratios), radius_mm=res.model.radius_mm)
    return ds


def refine_xrd(da: xr.DataArray, phases, *, sigma=None, **kwargs) -> xr.Dataset:
    """Refine a labelled pattern (or a series of them) against ``phases``.

    Parameters
    ----------
    da : xarray.DataArray
        Intensities with a ``two_theta`` dimension (deg) last or anywhere; other dimensions are a
        batch refined in one call. A ``sigma`` coordinate (or the ``sigma`` argument) gives the
        standard deviations.
    phases : sequence
        Built-in names, CIF paths or CrystalPhase objects.
    **kwargs
        Passed to :func:`perovscope.bulk.xrd.refine_pattern`.
    """
    tt = dims.TWO_THETA
    if tt not in da.dims:
        raise InputError(f"refine_xrd: the DataArray needs a {tt!r} dimension, has {da.dims}")
    units = da[tt].attrs.get("units", "deg")
    if str(units).lower() not in ("deg", "degree", "degrees", "°"):
        raise InputError(f"refine_xrd: two_theta must be in degrees, got {units!r}")
    da = da.transpose(..., tt)
    if sigma is None and "sigma" in da.coords:
        sigma = da["sigma"].broadcast_like(da).values
    rng = kwargs.get("two_theta_range")
    res = refine_pattern(da.values, da[tt].values, phases, sigma=sigma, **kwargs)
    lead = da.dims[:-1]
    lead_coords = {d: (d, da[d].values, dict(da[d].attrs)) for d in lead if d in da.coords}
    x = da[tt].values
    keep = np.ones(x.size, bool) if rng is None else (x >= rng[0]) & (x <= rng[1])
    obs = da.values[..., keep]
    order = np.argsort(x[keep])
    return refinement_dataset(res, lead, lead_coords, observed=obs[..., order])
