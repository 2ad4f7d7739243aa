"""Labelled (xarray) wrappers: layer stacks, distances, interface-resolved profiles, domains.

A map with no detectable interface gives an *empty* result (zero interfaces, an empty profile) and a
:class:`UserWarning`, never an exception: a featureless region is a valid measurement.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..dims import X, Y
from ..errors import InputError
from ..imaging.labelled import _nm, _origin_nm, length_scale
from .distance import distance_to_edges, distance_to_line
from .domains import DomainResult, segment_domains
from .layers import classify_layers, fit_layer_model, interface_lines
from .profiles import fit_erf_profile, interface_profile

__all__ = ["segment_layers", "layer_distance", "edge_distance", "profile_across", "interdiffusion_width",
           "domains"]


def _stack_features(features) -> xr.DataArray:
    if isinstance(features, xr.Dataset):
        features = [features[v] for v in features.data_vars]
    if isinstance(features, xr.DataArray):
        features = [features]
    feats = []
    for i, f in enumerate(features):
        if f.dims[-2:] != (Y, X):
            raise InputError(f"feature map {i} ({f.name}) must end with dims (y, x), got {f.dims}")
        if f.shape[-2:] != features[0].shape[-2:]:
            raise InputError(f"feature map {f.name} has grid {f.shape[-2:]}, expected "
                             f"{features[0].shape[-2:]}; resample it first (imaging.resample_to)")
        feats.append(f.astype(float).drop_vars([c for c in f.coords if c not in f.dims]))
    out = xr.concat(feats, dim="feature").transpose(..., "feature", Y, X)
    if out.chunks is not None:
        out = out.chunk({"feature": -1, Y: -1, X: -1})
    return out


def segment_layers(features, *, n_layers: int, method: str = "columns", reference_frame: int = -1,
                   smooth_x_px: float = 2.0, min_contrast: float = 8.0) -> xr.Dataset:
    """Layers of a device cross-section and its sub-pixel interfaces.

    Parameters
    ----------
    features : list of xarray.DataArray or xarray.Dataset
        Co-registered maps ``(time?, y, x)`` on one grid: e.g. HAADF and element maps (resample EDX
        maps onto the HAADF grid first with :func:`perovscope.imaging.resample_to`). Dask-backed maps
        are labelled lazily, frame chunk by frame chunk (the layer signatures come from the reference
        frame).
    n_layers : int
        Number of layers, in stack order, in the reference frame.
    method : {"columns", "profile", "gmm", "kmeans"}
        How the layer signatures are found (see :func:`perovscope.interfaces.fit_layer_model`).
    reference_frame : int
        Frame defining the layers (default: the last one).
    smooth_x_px : float
        Smoothing along the interfaces for labelling and sub-pixel positions.
    min_contrast : float
        Smallest contrast between neighbouring layer signatures (in noise sds of the column-averaged
        profile) for an interface to count as detected.

    Returns
    -------
    xarray.Dataset
        ``layer`` (time?, y, x) int label (0 = top); ``interface_row`` (time?, interface, x) px;
        ``interface_y`` (time?, interface) mean position in nm; ``interface_y_sd`` (roughness, nm);
        ``thickness`` (time?, layer_index) of the inner layers (nm); ``contrast`` (interface).
        With no detectable interface the ``interface`` dimension has length 0 and a warning is issued.
    """
    stack = _stack_features(features)
    lead_dims = [d for d in stack.dims if d not in ("feature", Y, X)]
    ref = stack.isel({d: reference_frame for d in lead_dims}) if lead_dims else stack
    model = fit_layer_model(np.asarray(ref.values), n_layers=n_layers, method=method)
    lead = [d for d in stack.dims if d not in ("feature", Y, X)]
    labels = xr.apply_ufunc(lambda f: classify_layers(model, f, smooth_x_px=smooth_x_px), stack,
                            input_core_dims=[["feature", Y, X]], output_core_dims=[[Y, X]],
                            dask="parallelized", output_dtypes=[np.int16])
    rows = xr.apply_ufunc(lambda f, lab: interface_lines(model, f, lab, smooth_x_px=smooth_x_px),
                          stack, labels, input_core_dims=[["feature", Y, X], [Y, X]],
                          output_core_dims=[["interface", X]], dask="parallelized",
                          output_dtypes=[float],
                          dask_gufunc_kwargs={"output_sizes": {"interface": n_layers - 1}})
    defaults: dict = {}
    px, unit = length_scale(stack, attrs=defaults)
    oy = _origin_nm(stack, option=None)[0]
    contrast = model.contrast
    if not (contrast >= min_contrast).any():
        warnings.warn("segment_layers: no detectable interface (layer contrast below "
                      f"{min_contrast} noise sd); returning an empty result", UserWarning, stacklevel=2)
        rows = rows.isel(interface=slice(0, 0))
        contrast = contrast[:0]
    ds = xr.Dataset({"layer": labels.assign_attrs(units="1", n_layers=n_layers),
                     "interface_row": rows.assign_attrs(units="px"),
                     "contrast": ("interface", contrast, {"units": "noise sd"})})
    ds["interface_y"] = (oy + rows.mean(X) * px).assign_attrs(units=unit)
    ds["interface_y_sd"] = (rows.std(X) * px).assign_attrs(units=unit)
    thick = (rows.diff("interface") * px).mean(X).rename({"interface": "layer_index"})
    ds["thickness"] = thick.assign_coords(layer_index=np.arange(1, thick.sizes["layer_index"] + 1)
                                          ).assign_attrs(units=unit)
    ds.attrs.update(defaults)
    ds = ds.assign_coords({d: stack[d] for d in (Y, X, *lead) if d in stack.coords})
    return ds


def layer_distance(layers: xr.Dataset, *, interface: int) -> xr.DataArray:
    """Signed distance (nm, positive below) of every pixel to interface ``interface`` of each frame."""
    rows = layers["interface_row"]
    if interface >= rows.sizes["interface"]:
        raise InputError(f"interface {interface} does not exist ({rows.sizes['interface']} found)")
    line = rows.isel(interface=interface)
    shape = (layers.sizes[Y], layers.sizes[X])
    px, unit = length_scale(layers["layer"])
    out = xr.apply_ufunc(lambda r: distance_to_line(r, shape, pixel_size_nm=px), line,
                         input_core_dims=[[X]], output_core_dims=[[Y, X]], vectorize=True,
                         exclude_dims={X}, dask="parallelized", output_dtypes=[float],
                         dask_gufunc_kwargs={"output_sizes": {Y: shape[0], X: shape[1]}})
    out = out.assign_coords({d: layers[d] for d in (Y, X) if d in layers.coords})
    return out.rename("distance").assign_attrs(units=unit)


def edge_distance(labels: xr.DataArray) -> xr.DataArray:
    """Signed distance (nm) to the nearest object edge (negative inside objects, positive outside)."""
    if labels.dims[-2:] != (Y, X):
        raise InputError(f"edge_distance: expected dims (..., y, x), got {labels.dims}")
    px, unit = length_scale(labels)
    if not (np.asarray(labels) != 0).any() or (np.asarray(labels) != 0).all():
        warnings.warn("edge_distance: no object edge in the map; distances are NaN", UserWarning,
                      stacklevel=2)
    out = xr.apply_ufunc(lambda m: distance_to_edges(m, pixel_size_nm=px), labels,
                         input_core_dims=[[Y, X]], output_core_dims=[[Y, X]], vectorize=True)
    return out.rename("distance").assign_attrs(units=unit)


def profile_across(values: xr.DataArray, distance: xr.DataArray, *, bin_width: float,
                   d_min: float | None = None, d_max: float | None = None) -> xr.Dataset:
    """Interface-resolved profile of a map: ``mean``, ``sd``, ``count``, ``sem`` per distance bin.

    ``values`` (..., y, x) and ``distance`` (y, x) or matching (..., y, x); leading dims are kept.
    Dask-backed ``values`` are reduced chunk by chunk with results identical to the eager path.
    An all-NaN distance (no interface) gives an empty profile and a warning.
    """
    if values.dims[-2:] != (Y, X):
        raise InputError(f"profile_across: map must end with dims (y, x), got {values.dims}")
    lead = values.dims[:-2]
    dist = distance.broadcast_like(values) if distance.ndim > 2 else distance
    units = values.attrs.get("units", "")
    if not np.isfinite(np.asarray(dist)).any():
        warnings.warn("profile_across: no interface (distance map is all NaN); empty profile",
                      UserWarning, stacklevel=2)
        empty = xr.DataArray(np.zeros(tuple(values.sizes[d] for d in lead) + (0,)),
                             dims=lead + ("distance",))
        return xr.Dataset({"mean": empty, "sd": empty, "count": empty.astype(np.int64),
                           "sem": empty}).assign_coords(distance=("distance", np.zeros(0)))
    prof = interface_profile(values.data, np.asarray(dist.transpose(..., Y, X)), bin_width=bin_width,
                             d_min=d_min, d_max=d_max)
    dims = lead + ("distance",)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = prof.sd / np.sqrt(prof.count)
    ds = xr.Dataset({"mean": (dims, prof.mean, {"units": units}), "sd": (dims, prof.sd, {"units": units}),
                     "count": (dims, prof.count, {"units": "px"}), "sem": (dims, sem, {"units": units})},
                    coords={"distance": ("distance", prof.distance,
                                         {"units": distance.attrs.get("units", "nm")})})
    return ds.assign_coords({d: values[d] for d in lead if d in values.coords})


def interdiffusion_width(profile: xr.Dataset) -> dict:
    """Error-function fit of a 1-D profile Dataset (from :func:`profile_across`): centre and width (nm)
    with uncertainties (see :func:`perovscope.interfaces.fit_erf_profile`)."""
    if profile["mean"].ndim != 1:
        raise InputError("interdiffusion_width: select one profile (e.g. .sel(element='I')) first")
    fit = fit_erf_profile(profile["distance"].values, profile["mean"].values, sem=profile["sem"].values)
    return fit._asdict()


def domains(maps_a: list[xr.DataArray], maps_b: list[xr.DataArray], **kw) -> tuple[xr.Dataset, DomainResult]:
    """Two-phase segmentation of calibrated element maps (e.g. ``[Zn]`` vs ``[Al, P]``).

    Returns a Dataset (``phase_a`` bool mask, ``fraction_a`` map, scalar results) and the core result.
    A map without two distinguishable phases gives an all-False mask, zero interface and a warning.
    """
    from sklearn.mixture import GaussianMixture

    ref = maps_a[0]
    px = _nm(ref)
    res = segment_domains(np.stack([m.values for m in maps_a]), np.stack([m.values for m in maps_b]),
                          pixel_size_nm=px, **kw)
    r = res.fraction_map[np.isfinite(res.fraction_map)].reshape(-1, 1)[:: max(1, res.mask.size // 20000)]
    two = GaussianMixture(2, random_state=0).fit(r)
    one = GaussianMixture(1).fit(r)
    if two.bic(r) >= one.bic(r):
        warnings.warn("domains: no second phase detected; returning an empty segmentation", UserWarning,
                      stacklevel=2)
        res = res._replace(mask=np.zeros_like(res.mask), area_fraction_a=0.0, area_fraction_b=1.0,
                           interface_length_per_area=0.0, domains_a=res.domains_a.iloc[:0])
    ds = xr.Dataset({"phase_a": ((Y, X), res.mask), "fraction_a": ((Y, X), res.fraction_map)},
                    coords={d: ref[d] for d in (Y, X) if d in ref.coords})
    ds.attrs.update(area_fraction_a=res.area_fraction_a, area_fraction_b=res.area_fraction_b,
                    interface_length_per_area_per_nm=res.interface_length_per_area, threshold=res.threshold)
    return ds, res
