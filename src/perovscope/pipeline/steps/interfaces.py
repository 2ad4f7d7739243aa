"""Steps ``interfaces`` and ``profiles``: where each interface is, how wide, and maps across it.

``interfaces`` (per frame): the mean row of each interface line of the ``grid`` step (sub-pixel
crossings of :func:`perovscope.interfaces.segment_layers`) in nm, with the spread over the columns
(roughness) as ``position_nm_std``, and the interdiffusion width: an error-function fit
(:func:`perovscope.interfaces.interdiffusion_width`) to the HAADF profile across the interface along
its local normal (``width_bin_nm`` bins over ± ``width_range_nm``).

``profiles`` (per frame): mean (and its standard error ``mean_std``, the spread ``sd`` and the pixel
``count``) of every grid quantity in bins of signed distance to each interface (nm, positive towards
the later layer), :func:`perovscope.interfaces.profile_across`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...errors import FitError
from ...interfaces import interdiffusion_width, layer_distance, profile_across
from ._common import finish_dataset, frame_of, upstream

__all__ = ["INTERFACE_DEFAULTS", "PROFILE_DEFAULTS", "interfaces_frame", "profiles_frame",
           "distance_maps", "pixel_nm"]

INTERFACE_DEFAULTS = {"width_bin_nm": 0.4, "width_range_nm": 8.0}
PROFILE_DEFAULTS = {"bin_nm": 0.8, "range_nm": 20.0}

_PROFILED = ("haadf", "exx", "eyy", "exy", "theta", "crystallinity", "cl_fraction_vegard", "cl_fraction")


def pixel_nm(grid: xr.Dataset) -> tuple[float, float, float]:
    """Pixel size and origin (y, x) of the grid in nm."""
    y, x = grid["y"].values, grid["x"].values
    return float(y[1] - y[0]), float(y[0]), float(x[0])


def distance_maps(grid: xr.Dataset) -> xr.DataArray:
    """Signed distance (nm) of every grid pixel to every interface line (interface, y, x)."""
    maps = [layer_distance(grid, interface=k) for k in range(grid.sizes["interface"])]
    return xr.concat(maps, dim="interface").assign_coords(interface=grid["interface"])


def _width(haadf, dist, p) -> tuple[float, float]:
    prof = profile_across(haadf, dist, bin_width=float(p["width_bin_nm"]),
                          d_min=-float(p["width_range_nm"]), d_max=float(p["width_range_nm"]))
    try:
        fit = interdiffusion_width(prof)
    except FitError:
        return np.nan, np.nan
    return fit["width"], fit["width_err"]


def interfaces_frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """Positions and interdiffusion widths of the interfaces of one frame.

    Returns
    -------
    xarray.Dataset over ``interface``
        ``position_nm`` (mean over the columns) and ``position_nm_std`` (sd over the columns: the
        roughness), ``width_nm`` (erf sigma) and ``width_nm_std`` (fit uncertainty),
        ``n_columns`` (columns with a finite line).
    """
    grid = frame_of(upstream(ctx, "grid"), index)
    px, oy, _ = pixel_nm(grid)
    rows = grid["interface_row"].values
    n = np.isfinite(rows).sum(axis=1)
    with np.errstate(invalid="ignore"):
        pos = oy + np.nanmean(rows, axis=1) * px
        spread = np.nanstd(rows, axis=1) * px
    dist = distance_maps(grid)
    widths = np.array([_width(grid["haadf"], dist.isel(interface=k), ctx.params)
                       for k in range(dist.sizes["interface"])]).reshape(-1, 2)
    out = xr.Dataset({"position_nm": ("interface", pos, {"units": "nm"}),
                      "position_nm_std": ("interface", spread, {"units": "nm",
                                                                "long_name": "sd over the columns"}),
                      "width_nm": ("interface", widths[:, 0], {"units": "nm"}),
                      "width_nm_std": ("interface", widths[:, 1], {"units": "nm"}),
                      "n_columns": ("interface", n, {"units": "1"})},
                     coords={"interface": grid["interface"].values})
    return finish_dataset(out, step="interfaces")


def _quantities(grid: xr.Dataset) -> xr.DataArray:
    maps, names, units = [], [], []
    for name in _PROFILED:
        if name in grid:
            maps.append(grid[name].astype(float))
            names.append(name)
            units.append(grid[name].attrs.get("units", "1"))
    if "atomic_percent" in grid:
        for el in grid["element"].values:
            maps.append(grid["atomic_percent"].sel(element=el).drop_vars("element"))
            names.append(f"at_{el}")
            units.append("at.%")
    stack = xr.concat([m.drop_vars([c for c in m.coords if c not in ("y", "x")]) for m in maps],
                      dim="quantity")
    return stack.assign_coords(quantity=names, units=("quantity", units))


def profiles_frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """Profiles of every grid quantity across every interface of one frame.

    Returns
    -------
    xarray.Dataset over ``(interface, quantity, distance)``
        ``mean``, ``mean_std`` (standard error), ``sd`` (spread), ``count`` (pixels); the unit of
        each quantity in the ``units`` coordinate.
    """
    grid = frame_of(upstream(ctx, "grid"), index)
    values = _quantities(grid)
    dist = distance_maps(grid)
    r, b = float(ctx.params["range_nm"]), float(ctx.params["bin_nm"])
    profs = [profile_across(values, dist.isel(interface=k), bin_width=b, d_min=-r, d_max=r)
             for k in range(dist.sizes["interface"])]
    ds = xr.concat(profs, dim="interface").assign_coords(interface=grid["interface"].values)
    out = xr.Dataset({"mean": ds["mean"].assign_attrs(units="see quantity"),
                      "mean_std": ds["sem"].assign_attrs(units="see quantity"),
                      "sd": ds["sd"].assign_attrs(units="see quantity"),
                      "count": ds["count"].assign_attrs(units="px")},
                     coords={"distance": ds["distance"], "quantity": values["quantity"],
                             "units": values["units"]})
    out["distance"].attrs["units"] = "nm"
    return finish_dataset(out, step="profiles")
