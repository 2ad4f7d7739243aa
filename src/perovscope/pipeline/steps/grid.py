"""Step ``grid``: every map of a frame on the session grid (drift-corrected HAADF), and its layers.

Resampling through the frame's registration affines (:func:`perovscope.imaging.warp_affine`):
intensive maps (strain, crystallinity, at.%, Cl fraction) are interpolated, normalised by the
interpolated validity so that NaN pixels (no lattice, outside the field) neither leak zeros into their
neighbours nor get values (NaN where less than half of the interpolation weight is valid); labels
(``phase``) are taken from the nearest source pixel.

Layers: :func:`perovscope.interfaces.segment_layers` on the aligned HAADF frame. HAADF separates
glass | ITO | HTL | emitter | ETL | cathode; LiF (1.5 nm, two pixels, half-way between the ETL and Al
intensities), AlCl₃ (no Z-contrast against Al) and Al form one class. The session's layer names
(``ctx.layers``) are mapped onto the classes by merging each group of ``merge`` into one class named
by joining its members with ``+`` (default ``LiF+AlCl3+Al``); interfaces are named ``upper/lower``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from ...imaging import invert_affine, warp_affine
from ...interfaces import segment_layers
from ._common import binned_affine, finish_dataset, frame_of, interface_names, upstream

__all__ = ["DEFAULTS", "frame", "layer_classes", "resample_intensive", "resample_labels", "fill_nearest"]

DEFAULTS = {"merge": [["LiF", "AlCl3", "Al"]], "n_layers": None, "smooth_x_px": 2.0}

_STRAIN_VARS = ("exx", "eyy", "exy", "theta", "exx_std", "eyy_std", "exy_std", "theta_std",
                "crystallinity", "lattice_parameter_nm", "cl_fraction_vegard")


def layer_classes(layers, merge, n_layers=None) -> list[str]:
    """Names of the layers HAADF can separate: ``layers`` with every group in ``merge`` joined by ``+``.

    Without layer names, ``n_layers`` classes named ``layer0``, ``layer1``, ... (default 6).
    """
    names = list(layers)
    if not names:
        return [f"layer{i}" for i in range(int(n_layers or 6))]
    for group in merge or ():
        idx = sorted(names.index(g) for g in group if g in names)
        if len(idx) < 2:
            continue
        joined = "+".join(names[i] for i in idx)
        names = [joined if i == idx[0] else n for i, n in enumerate(names) if i == idx[0] or i not in idx]
    return names


def resample_intensive(values, matrix, shape) -> np.ndarray:
    """NaN-aware interpolation of ``values`` (..., h, w) onto a grid of ``shape`` through ``matrix``."""
    v = np.asarray(values, float)
    valid = np.isfinite(v)
    num = warp_affine(np.where(valid, v, 0.0), matrix, output_shape=shape, kind="intensive")
    den = warp_affine(valid.astype(float), matrix, output_shape=shape, kind="intensive")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0.5, num / den, np.nan)


def resample_labels(labels, matrix, shape, *, fill: int = -1) -> np.ndarray:
    """Nearest-neighbour resampling of an integer map (h, w) onto a grid of ``shape``."""
    lab = np.asarray(labels)
    inv = invert_affine(matrix)
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    r = np.rint(inv[0, 0] * rr + inv[0, 1] * cc + inv[0, 2]).astype(int)
    c = np.rint(inv[1, 0] * rr + inv[1, 1] * cc + inv[1, 2]).astype(int)
    inside = (r >= 0) & (r < lab.shape[0]) & (c >= 0) & (c < lab.shape[1])
    out = np.full(shape, fill, dtype=lab.dtype)
    out[inside] = lab[r[inside], c[inside]]
    return out


def fill_nearest(image) -> np.ndarray:
    """Replace NaN pixels by the value of the nearest finite pixel (edges of an aligned frame)."""
    img = np.asarray(image, float)
    bad = ~np.isfinite(img)
    if not bad.any():
        return img
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return img[tuple(idx)]


def _layers(haadf: xr.DataArray, names, smooth_x_px) -> xr.Dataset:
    """Layer labels and interface lines; columns that were outside the field are NaN."""
    inside = np.isfinite(haadf.values)
    filled = haadf.copy(data=fill_nearest(haadf.values))
    seg = segment_layers([filled], n_layers=len(names), smooth_x_px=smooth_x_px)
    rows_ok = inside.any(axis=1)
    bad_cols = ~inside[rows_ok].all(axis=0)
    rows = seg["interface_row"].values.copy()
    rows[:, bad_cols] = np.nan
    layer = np.where(inside, seg["layer"].values, -1).astype(np.int16)
    ifaces = interface_names(names)[:rows.shape[0]]
    return xr.Dataset({"layer": (("y", "x"), layer, {"units": "1", "layer_names": list(names)}),
                       "interface_row": (("interface", "x"), rows, {"units": "px"})},
                      coords={"interface": ifaces})


def _strain_on_grid(strain: xr.Dataset, matrix, shape) -> dict:
    out = {}
    for name in _STRAIN_VARS:
        if name in strain:
            out[name] = ((("y", "x"), resample_intensive(strain[name].values, matrix, shape),
                          dict(strain[name].attrs)))
    if "phase" in strain:
        out["phase"] = (("y", "x"), resample_labels(strain["phase"].values, matrix, shape),
                        dict(strain["phase"].attrs))
    return out


def _edx_on_grid(edx: xr.Dataset, matrix, shape) -> dict:
    m = binned_affine(matrix, int(edx.attrs.get("bin", 1)))
    at = edx["atomic_percent"].transpose("element", "y", "x")
    out = {"atomic_percent": (("element", "y", "x"), resample_intensive(at.values, m, shape),
                              {"units": "at.%"})}
    if "cl_fraction" in edx:
        out["cl_fraction"] = (("y", "x"), resample_intensive(edx["cl_fraction"].values, m, shape),
                              {"units": "1", "long_name": "Cl/(Cl+Br) from EDX"})
    return out, at["element"].values


def frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """The frame's maps resampled onto the grid, its layer labels and interface lines.

    Returns
    -------
    xarray.Dataset over ``(y, x)`` of the grid
        ``haadf`` (aligned counts), ``layer`` (int16, -1 outside; names in ``attrs["layer_names"]``),
        ``interface_row`` (interface, x; px, NaN in columns outside the field), strain variables and
        ``phase`` (when the session has 4D-STEM), ``atomic_percent`` (element, y, x) and
        ``cl_fraction`` (when it has EDX).
    """
    drift = upstream(ctx, "drift")
    haadf = drift["aligned"].isel(time=index).drop_vars([c for c in drift.coords if c not in ("y", "x")])
    shape = haadf.shape
    reg = frame_of(upstream(ctx, "registration"), index)
    names = layer_classes(ctx.layers, ctx.params["merge"], ctx.params["n_layers"])
    out = _layers(haadf, names, float(ctx.params["smooth_x_px"]))
    out["haadf"] = haadf.assign_attrs(units=drift["aligned"].attrs.get("units", "counts"))
    strain = upstream(ctx, "strain", optional=True)
    if strain is not None:
        mat = reg["affine"].sel(modality="4dstem").values
        for k, v in _strain_on_grid(frame_of(strain, index), mat, shape).items():
            out[k] = v
    edx = upstream(ctx, "edx", optional=True)
    if edx is not None:
        items, elements = _edx_on_grid(frame_of(edx, index), reg["affine"].sel(modality="eds").values, shape)
        out = out.assign_coords(element=elements)
        for k, v in items.items():
            out[k] = v
    out.attrs["layer_names"] = list(names)
    return finish_dataset(out, step="grid")
