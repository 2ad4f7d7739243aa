"""Steps of a composite session (``[session] sample = "composite"``: particles in a glass).

* ``cl_map`` — a Gaussian per CL pixel (:func:`perovscope.spectroscopy.cl_peak_map`): emission centre,
  width and intensity maps with uncertainties.
* ``eels_map`` — the power-law background fitted before an edge and the background-subtracted edge
  signal per pixel (:func:`perovscope.spectroscopy.eels_edge_map`; I M₄,₅ after a 580–618 eV window).
* ``composite_particles`` — bright particles of the HAADF image (Z contrast) with their sizes, the
  signed distance to their edges, and the profile of the EELS edge signal across the edges with the
  fraction at the edge and the decay width of the halo outside (iodine outside the grains; CsPbI3/ZIF-62,
  Nat. Commun. 2023).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .context import Step, StepContext

__all__ = ["COMPOSITE_STEPS"]


def _cl_frame(ctx: StepContext, index: int, prepared: dict) -> xr.Dataset:
    from ..spectroscopy import cl_peak_map

    p = ctx.params
    da = ctx.read("cl", index).load()
    window = tuple(p["window"]) if p["window"] else None
    return cl_peak_map(da, n_components=int(p["components"]), window=window)


def _eels_frame(ctx: StepContext, index: int, prepared: dict) -> xr.Dataset:
    from ..spectroscopy import eels_edge_map

    p = ctx.params
    da = ctx.read("eels", index).load()
    edge = eels_edge_map(da, edges=[tuple(p["edge_window"])], background_window=tuple(p["background_window"]),
                         width=float(p["edge_window"][1] - p["edge_window"][0])).isel(edge=0, drop=True)
    edge = edge.assign_attrs(units="counts", long_name="background-subtracted edge signal")
    return xr.Dataset({"edge_signal": edge}, attrs={"edge_window_eV": list(p["edge_window"]),
                                                    "background_window_eV": list(p["background_window"])})


def _particles_frame(ctx: StepContext, index: int, prepared: dict) -> xr.Dataset:
    from ..imaging import find_particles
    from ..interfaces import edge_distance, profile_across

    p = ctx.params
    haadf = ctx.read("haadf", index).load()
    labels, table = find_particles(haadf, poisson=True)
    ds = xr.Dataset({"label": labels.reset_coords(drop=True).astype(np.int32)})
    ds["label"].attrs = {"units": "1", "long_name": "particle label (0: matrix)"}
    columns = {"diameter_nm": ("diameter_nm", "nm"), "area_nm2": ("area_nm2", "nm^2"),
               "centroid_y": ("centroid_y_nm", "nm"), "centroid_x": ("centroid_x_nm", "nm")}
    for col, (name, units) in columns.items():
        if col in table:
            ds[name] = ("particle", table[col].to_numpy(float), {"units": units})
    dist = edge_distance(labels)
    ds["distance_nm"] = dist.reset_coords(drop=True).assign_attrs(units="nm")
    if ctx.has("eels") and "eels_map" in ctx.upstream:
        edge = ctx.upstream["eels_map"]["edge_signal"].isel(time=index)
        if edge.shape == dist.shape:
            edge = xr.DataArray(edge.values, dims=dist.dims)
            inside = float(np.nanmedian(edge.values[dist.values < -p["inside_nm"]]))
            prof = profile_across(edge / inside, xr.DataArray(dist.values, dims=dist.dims),
                                  bin_width=float(p["bin_nm"]), d_min=-float(p["inside_nm"]) * 2,
                                  d_max=float(p["outside_nm"]))
            d, mean = np.asarray(prof["distance"].values, float), np.asarray(prof["mean"].values, float)
            sem = np.asarray(prof["sem"].values, float)
            ds["edge_profile"] = ("distance", mean, {"units": "1"})
            ds["edge_profile_std"] = ("distance", sem, {"units": "1"})
            ds = ds.assign_coords(distance=("distance", d, {"units": "nm"}))
            for name, value in zip(("iodine_fraction_at_edge", "iodine_width_nm"), _halo_fit(d, mean, sem),
                                   strict=True):
                ds[name] = ((), value[0], {"units": "1" if "fraction" in name else "nm"})
                ds[f"{name}_std"] = ((), value[1], {"units": "1" if "fraction" in name else "nm"})
    return ds


def _halo_fit(d: np.ndarray, mean: np.ndarray, sem: np.ndarray):
    """Fit ``f erfc(d / w)`` to the normalised edge signal outside the particles (``d > 0``).

    The halo of an element diffusing out of a grain into the matrix: fraction ``f`` at the edge, decay
    length ``w`` (iodine is found up to ~10 nm outside CsPbI3 grains in ZIF-62 glass, Nat. Commun.
    2023). Returns
    ``((f, sd_f), (w, sd_w))``; NaN when fewer than four bins are usable.
    """
    from scipy.optimize import curve_fit
    from scipy.special import erfc

    ok = (d > 0) & np.isfinite(mean) & np.isfinite(sem) & (sem > 0)
    if ok.sum() < 4:
        return (np.nan, np.nan), (np.nan, np.nan)
    try:
        popt, pcov = curve_fit(lambda x, f, w: f * erfc(x / w), d[ok], mean[ok], p0=(0.5, 3.0),
                               sigma=sem[ok], absolute_sigma=True, bounds=([0, 0.1], [2, 100]))
    except (RuntimeError, ValueError):
        return (np.nan, np.nan), (np.nan, np.nan)
    sd = np.sqrt(np.diag(pcov))
    return (float(popt[0]), float(sd[0])), (float(popt[1]), float(sd[1]))


COMPOSITE_STEPS = (
    Step("cl_map", needs=("cl",), defaults={"components": 1, "window": []}, frame=_cl_frame,
         samples=("composite",), description="CL Gaussian centre, width and intensity maps"),
    Step("eels_map", needs=("eels",), frame=_eels_frame, samples=("composite",),
         defaults={"background_window": [580.0, 618.0], "edge_window": [625.0, 675.0]},
         description="background-subtracted EELS edge map (I M4,5)"),
    Step("composite_particles", needs=("haadf", "eels_map"), optional=("eels_map",), frame=_particles_frame,
         samples=("composite",), defaults={"inside_nm": 2.0, "outside_nm": 25.0, "bin_nm": 1.0},
         description="particle sizes, distance to particle edges, edge-signal profile and width"),
)
