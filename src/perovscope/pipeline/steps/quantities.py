"""Step ``quantities``: the per-frame, interface-resolved columns of the timeline.

Every column is measured on the modality's own pixels (no resampling), in regions defined by the
interface lines of the ``grid`` step: the signed distance (nm, along the local normal, positive towards
the later layer) of each modality pixel centre is read from the grid's distance map at the pixel's
registered grid position.

* ``cl_fraction_edx``: Cl/(Cl+Br) of the summed at.% of the EDX pixels lying wholly inside the emitter;
  ``cl_cathode_at_percent``: mean Cl at.% of the EDX pixels wholly below the emitter's last interface
  (ETL, LiF, AlCl₃, Al); ``alcl3_thickness_nm`` from the ``edx`` step.
* ``cl_fraction_vegard``, ``crystallinity_emitter``, ``phase_fraction_<phase>_emitter``: 4D-STEM
  pixels whose centre lies in the emitter. ``crystallinity_emitter`` is relative to the median
  crystallinity index (Bragg / scattered) of the strain reference region of frame 0 (1 = pristine).
  The lattice of the emitter is its phase with a relative crystallinity ≥
  ``min_relative_crystallinity`` (0.5): a lattice that lost more than half of its Bragg scattering
  has collapsed (amorphous perovskite) and carries no strain.
* Interface strain ``exx_<iface>`` … in a band of ``band_nm`` on the emitter side of each emitter
  interface (pixel centres with ``0 < d ≤ band_nm`` into the emitter): mean of the finite pixels; the
  normal / tangential components use the local direction of the interface line; ``_std`` is the
  propagated measurement uncertainty of the mean ``sqrt(Σσ²)/n``.
* Particles: ``pb_particle_count`` / ``cluster_count`` = sites of that kind nucleated at or before
  the frame; ``pb_particle_diameter_nm`` = mean diameter of the Pb particles detected in the frame.
* ``interface_position_nm_<iface>``, ``interdiffusion_width_nm_<iface>``, ``registration_rms_px_<m>``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from ._common import EMITTER, binned_affine, finish_dataset, frame_of, slug, upstream
from .interfaces import distance_maps

__all__ = ["DEFAULTS", "frame", "band_strain", "pixel_distance", "emitter_interfaces"]

DEFAULTS = {"band_nm": 8.0, "emitter": EMITTER, "min_relative_crystallinity": 0.5}


def emitter_interfaces(names, emitter: str = EMITTER) -> tuple[str | None, str | None]:
    """The interfaces above and below the emitter (``"HTL/emitter"``, ``"emitter/ETL"``)."""
    upper = next((n for n in names if n.split("/")[-1] == emitter), None)
    lower = next((n for n in names if n.split("/")[0] == emitter), None)
    return upper, lower


def pixel_distance(dist: np.ndarray, affine, shape) -> np.ndarray:
    """Distance maps (k, H, W) read at the grid positions of the pixel centres of a (h, w) modality."""
    r, c = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    a = np.asarray(affine, float)
    pos = np.stack([a[0, 0] * r + a[0, 1] * c + a[0, 2], a[1, 0] * r + a[1, 1] * c + a[1, 2]])
    return np.stack([ndimage.map_coordinates(np.nan_to_num(d, nan=0.0), pos, order=1, mode="nearest")
                     for d in np.asarray(dist)])


def _mean_std(values, stds, mask) -> tuple[float, float]:
    """Mean of the finite values in ``mask``; its sd propagated from ``stds`` (or the sem without)."""
    v = np.where(mask, values, np.nan)
    ok = np.isfinite(v)
    n = int(ok.sum())
    if n == 0:
        return np.nan, np.nan
    if stds is not None:
        sd = np.sqrt(np.nansum(np.where(ok, stds, 0.0) ** 2)) / n
    else:
        sd = np.nanstd(v) / np.sqrt(n)
    return float(np.nanmean(v)), float(sd)


def band_strain(strain: xr.Dataset, d_into: np.ndarray, band_nm: float, angle_rad: np.ndarray,
                valid=True) -> dict:
    """Band means of the strain components on the emitter side of one interface.

    ``d_into`` (scan_y, scan_x): distance into the emitter (nm); ``angle_rad``: local direction of the
    interface (from +x towards +y) at each pixel; ``valid``: pixels of the emitter's (uncollapsed)
    lattice. Returns ``{component: (mean, std)}`` for ``exx, eyy, exy, e_normal, e_tangential``.
    """
    band = (d_into > 0) & (d_into <= band_nm) & valid
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    exx, eyy, exy = (strain[k].values for k in ("exx", "eyy", "exy"))
    sxx, syy, sxy = (strain[k + "_std"].values for k in ("exx", "eyy", "exy"))
    comps = {"exx": (exx, sxx), "eyy": (eyy, syy), "exy": (exy, sxy),
             "e_tangential": (exx * c * c + eyy * s * s + 2 * exy * c * s,
                              np.sqrt((sxx * c * c) ** 2 + (syy * s * s) ** 2 + (2 * sxy * c * s) ** 2)),
             "e_normal": (exx * s * s + eyy * c * c - 2 * exy * c * s,
                          np.sqrt((sxx * s * s) ** 2 + (syy * c * c) ** 2 + (2 * sxy * c * s) ** 2))}
    return {k: _mean_std(v, sd, band) for k, (v, sd) in comps.items()}


def _line_angle(rows: np.ndarray, cols_grid: np.ndarray) -> np.ndarray:
    """Direction (rad, +x towards +y) of an interface line (rows per grid column) at grid columns."""
    x = np.arange(rows.size, dtype=float)
    ok = np.isfinite(rows)
    filled = np.interp(x, x[ok], rows[ok])
    slope = np.gradient(ndimage.gaussian_filter1d(filled, 2.0))
    return np.arctan(np.interp(cols_grid, x, slope))


def lattice_reference(strain_all: xr.Dataset) -> tuple[int, float]:
    """Phase label and median crystallinity index of the session's strain reference region (frame 0)."""
    ref = strain_all["reference_mask"].values[0] if "time" in strain_all["reference_mask"].dims \
        else strain_all["reference_mask"].values
    first = strain_all.isel(time=0) if "time" in strain_all.dims else strain_all
    labels = first["phase"].values[ref]
    label = int(np.bincount(labels[labels >= 0]).argmax()) if (labels >= 0).any() else -1
    return label, float(np.nanmedian(first["crystallinity"].values[ref])) if ref.any() else np.nan


def _strain_columns(out, strain, grid, dist, affine, p, reference):
    names = list(grid["interface"].values)
    upper, lower = emitter_interfaces(names, p["emitter"])
    shape = strain["exx"].shape
    d = pixel_distance(dist.values, affine, shape)
    label, c_ref = reference
    relative = strain["crystallinity"].values / c_ref
    lattice = (strain["phase"].values == label) & (relative >= float(p["min_relative_crystallinity"]))
    cols_grid = (affine[1, 0] * np.arange(shape[0])[:, None] + affine[1, 1] * np.arange(shape[1])
                 + affine[1, 2])
    for iface, sign in ((upper, 1.0), (lower, -1.0)):
        if iface is None:
            continue
        k = names.index(iface)
        angle = _line_angle(grid["interface_row"].values[k], cols_grid)
        for comp, (m, s) in band_strain(strain, sign * d[k], float(p["band_nm"]), angle, lattice).items():
            out[f"{comp}_{slug(iface)}"] = (m, s)
    if upper is None or lower is None:
        return
    inside = (d[names.index(upper)] > 0) & (d[names.index(lower)] < 0)
    out["cl_fraction_vegard"] = _mean_std(strain["cl_fraction_vegard"].values, None, inside & lattice)
    out["crystallinity_emitter"] = _mean_std(relative, None, inside)
    phase, n = strain["phase"].values, max(int(inside.sum()), 1)
    for i, pname in enumerate(list(strain["phase"].attrs.get("phase_names", [])) + ["none"]):
        f = float(((phase == (i if pname != "none" else -1)) & inside).sum() / n)
        out[f"phase_fraction_{slug(pname)}_emitter"] = (f, float(np.sqrt(f * (1 - f) / n)))


def _edx_columns(out, edx, grid, dist, affine, p):
    names = list(grid["interface"].values)
    upper, lower = emitter_interfaces(names, p["emitter"])
    at = edx["atomic_percent"].transpose("y", "x", "element")
    affine = binned_affine(affine, int(edx.attrs.get("bin", 1)))
    d = pixel_distance(dist.values, affine, at.shape[:2])
    half = 0.5 * float(abs(edx["y"].values[1] - edx["y"].values[0]))
    els = list(at["element"].values)
    sd = edx["atomic_percent_std"].transpose("y", "x", "element").values
    if "alcl3_thickness_nm" in edx:
        out["alcl3_thickness_nm"] = (float(edx["alcl3_thickness_nm"]), float(edx["alcl3_thickness_nm_std"]))
    if upper is not None and lower is not None and "Cl" in els and "Br" in els:
        inside = (d[names.index(upper)] >= half) & (d[names.index(lower)] <= -half)
        cl, br = (at.values[..., els.index(e)][inside] for e in ("Cl", "Br"))
        scl, sbr = (sd[..., els.index(e)][inside] for e in ("Cl", "Br"))
        a, b = np.nansum(cl), np.nansum(br)
        var = (b ** 2 * np.nansum(scl ** 2) + a ** 2 * np.nansum(sbr ** 2)) / (a + b) ** 4
        out["cl_fraction_edx"] = (float(a / (a + b)), float(np.sqrt(var)))
    if lower is not None and "Cl" in els:
        below = d[names.index(lower)] >= half
        out["cl_cathode_at_percent"] = _mean_std(at.values[..., els.index("Cl")], sd[..., els.index("Cl")],
                                                 below)


def _particle_columns(out, parts, sites, index):
    if sites is not None:
        nuc, kind = sites["nucleation_frame"].values, sites["kind"].values.astype(str)
        out["pb_particle_count"] = (float(((kind == "Pb") & (nuc <= index)).sum()), None)
        out["cluster_count"] = (float(((kind == "cluster") & (nuc <= index)).sum()), None)
    if parts is not None:
        sel = (parts["frame"].values == index) & (parts["kind"].values.astype(str) == "Pb")
        out["pb_particle_diameter_nm"] = _mean_std(parts["diameter_nm"].values, None, sel)


def _interface_columns(out, ifaces, reg):
    for k, name in enumerate(ifaces["interface"].values):
        s = slug(name)
        out[f"interface_position_nm_{s}"] = (float(ifaces["position_nm"].values[k]),
                                             float(ifaces["position_nm_std"].values[k]))
        out[f"interdiffusion_width_nm_{s}"] = (float(ifaces["width_nm"].values[k]),
                                               float(ifaces["width_nm_std"].values[k]))
    if reg is not None:
        for k, m in enumerate(reg["modality"].values):
            out[f"registration_rms_px_{slug(m)}"] = (float(reg["rms_px"].values[k]), None)


_UNITS = (("alcl3", "nm"), ("_nm", "nm"), ("at_percent", "at.%"), ("rms_px", "px"))


def _unit(name: str) -> str:
    return next((u for key, u in _UNITS if key in name), "1")


def frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """The timeline columns of one frame (scalars; ``_std`` siblings where there is an uncertainty).

    Returns
    -------
    xarray.Dataset
        Scalar variables named as in the timeline table of ``docs/results-store.md``.
    """
    grid = frame_of(upstream(ctx, "grid"), index)
    reg = upstream(ctx, "registration", optional=True)
    reg = frame_of(reg, index) if reg is not None else None
    dist = distance_maps(grid)
    cols: dict = {}
    strain = upstream(ctx, "strain", optional=True)
    if strain is not None and reg is not None:
        _strain_columns(cols, frame_of(strain, index), grid, dist,
                        reg["affine"].sel(modality="4dstem").values, ctx.params, lattice_reference(strain))
    edx = upstream(ctx, "edx", optional=True)
    if edx is not None and reg is not None:
        _edx_columns(cols, frame_of(edx, index), grid, dist, reg["affine"].sel(modality="eds").values,
                     ctx.params)
    _particle_columns(cols, upstream(ctx, "particles", optional=True),
                      upstream(ctx, "nucleation", optional=True), index)
    ifaces = upstream(ctx, "interfaces", optional=True)
    if ifaces is not None:
        _interface_columns(cols, frame_of(ifaces, index), reg)
    out = xr.Dataset()
    for name, (value, std) in cols.items():
        out[name] = ((), value, {"units": _unit(name)})
        if std is not None:
            out[name + "_std"] = ((), std, {"units": _unit(name)})
    return finish_dataset(out, step="quantities")
