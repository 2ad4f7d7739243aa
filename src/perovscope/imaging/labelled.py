"""Labelled (xarray) wrappers of the imaging core: calibrations in, coordinates and units out.

Every function takes and returns :class:`xarray.DataArray` / :class:`xarray.Dataset` with the canonical
dimension names (``time``, ``y``, ``x``); dask-backed inputs stay lazy where the operation is local
(alignment and resampling run chunk by chunk over frames or channels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..calibrations import length_to_nm, pixel_length_nm, record_default
from ..dims import TIME, X, Y
from ..errors import CalibrationError, InputError
from .affine import AffineFit, fit_affine, warp_affine
from .denoise import denoise_poisson
from .fringes import local_fringes
from .particles import particle_table, segment_particles
from .registration import align_frames, frame_drift

__all__ = ["pixel_size", "check_same_pixel_size", "map_kind", "drift_correct", "stack_frames",
           "calibration_affine", "register_modalities", "resample_to", "find_particles",
           "fringe_map", "denoise", "with_pixel_size", "length_scale", "PIXEL_SIZE_OPTION"]


def pixel_size(da: xr.DataArray, *, dims=(Y, X)) -> tuple[float, str]:
    """Pixel size and unit from the spatial coordinates (``(1.0, "px")`` when uncalibrated)."""
    sizes, unit = [], "px"
    for d in dims:
        if d not in da.dims:
            raise InputError(f"{da.name or 'map'}: no {d!r} dimension (dims are {da.dims})")
        if d in da.coords and da.sizes[d] > 1:
            c = np.asarray(da[d].values, dtype=float)
            step = np.diff(c)
            if not np.allclose(step, step[0], rtol=1e-4, atol=0):
                raise CalibrationError(f"{da.name or 'map'}: non-uniform {d} coordinate")
            sizes.append(abs(float(step[0])))
            unit = da[d].attrs.get("units", "px")
        else:
            sizes.append(1.0)
    if not np.isclose(sizes[0], sizes[1], rtol=1e-3):
        raise CalibrationError(f"{da.name or 'map'}: non-square pixels ({sizes[0]} x {sizes[1]} {unit})")
    return sizes[0], unit


#: How to set a pixel size, quoted when an analysis needs one and the image has none.
PIXEL_SIZE_OPTION = "--pixel-size NM on the command line, or give the image y/x coordinates in nm"


def _nm(da, *, option: str = PIXEL_SIZE_OPTION) -> float:
    """Pixel size in nm; :class:`CalibrationError` when the image is uncalibrated or its unit unknown."""
    size, unit = pixel_size(da)
    return pixel_length_nm(size, unit, where=f"{da.name or 'image'} (y, x)", option=option)


def length_scale(da, *, attrs: dict | None = None) -> tuple[float, str]:
    """``(pixel size, unit)``: in nm when the image is calibrated, ``(1.0, "px")`` when it is not.

    For analyses whose lengths are meaningful in pixels (layer positions, distances to an interface):
    an uncalibrated image gives results in px, recorded in ``attrs["defaults_used"]`` (when ``attrs``
    is given) and announced once with a :class:`~perovscope.errors.CalibrationWarning`. An unknown
    length unit is a :class:`CalibrationError`.
    """
    size, unit = pixel_size(da)
    if str(unit).strip().lower() in ("px", "pixel", "pixels", ""):
        record_default(attrs if attrs is not None else {}, "pixel_size", "1 px",
                       why=f"{da.name or 'image'} has no spatial calibration; lengths are in px")
        return 1.0, "px"
    return pixel_length_nm(size, unit, where=f"{da.name or 'image'} (y, x)", option=PIXEL_SIZE_OPTION), "nm"


def _origin_nm(da, *, option: str | None = PIXEL_SIZE_OPTION) -> tuple[float, float]:
    """Physical position (nm) of pixel (0, 0); ``option=None`` allows px (uncalibrated) coordinates."""
    out = []
    for d in (Y, X):
        if d in da.coords:
            unit = da[d].attrs.get("units", "px")
            factor = 1.0 if option is None and unit == "px" else length_to_nm(
                unit, where=f"{da.name or 'image'} ({d})", option=option)
            out.append(float(da[d].values[0]) * factor)
        else:
            out.append(0.0)
    return out[0], out[1]


def with_pixel_size(da: xr.DataArray, pixel_size_nm: float | None) -> xr.DataArray:
    """``da`` with y/x coordinates ``index * pixel_size_nm`` in nm (unchanged when None)."""
    if pixel_size_nm is None:
        return da
    if not pixel_size_nm > 0:
        raise InputError(f"pixel size must be > 0 nm, got {pixel_size_nm!r}")
    coords = {d: (d, np.arange(da.sizes[d]) * float(pixel_size_nm), {"units": "nm"}) for d in (Y, X)
              if d in da.dims}
    return da.assign_coords(coords)


def check_same_pixel_size(a: xr.DataArray, b: xr.DataArray, *, rtol: float = 1e-3) -> float:
    """Return the common pixel size, or raise :class:`InputError` naming both maps and both sizes."""
    (sa, ua), (sb, ub) = pixel_size(a), pixel_size(b)
    if ua != ub or not np.isclose(sa, sb, rtol=rtol):
        na = a.attrs.get("source_file", a.name or "first image")
        nb = b.attrs.get("source_file", b.name or "second image")
        raise InputError(f"pixel sizes differ: {na} has {sa:.6g} {ua}/px, {nb} has {sb:.6g} {ub}/px; "
                         "resample one onto the other's grid first (perovscope.imaging.resample_to)")
    return sa


def map_kind(da: xr.DataArray) -> str:
    """``"counts"`` for detector counts (conserve totals when resampling), else ``"intensive"``."""
    return "counts" if str(da.attrs.get("units", "")).lower() in ("counts", "count", "electrons") \
        else "intensive"


def stack_frames(frames: list[xr.DataArray]) -> xr.DataArray:
    """Concatenate single images (y, x) into a (time, y, x) series, checking pixel sizes and shapes."""
    if not frames:
        raise InputError("stack_frames: no images given")
    for f in frames[1:]:
        check_same_pixel_size(frames[0], f)
        if f.shape[-2:] != frames[0].shape[-2:]:
            raise InputError(f"image shapes differ: {frames[0].shape} and {f.shape}")
    parts = [f if TIME in f.dims else f.expand_dims(TIME) for f in frames]
    out = xr.concat([p.drop_vars([Y, X], errors="ignore") for p in parts], dim=TIME)
    out = out.assign_coords({d: frames[0][d] for d in (Y, X) if d in frames[0].coords})
    out = out.assign_coords({TIME: np.arange(out.sizes[TIME])})
    out[TIME].attrs["units"] = "frame"
    out.attrs = dict(frames[0].attrs)
    return out


def drift_correct(series: xr.DataArray, *, reference: str = "first", upsample: int = 100,
                  smooth_sigma: float = 0.0, kind: str | None = None, window: float | str | None = 0.2,
                  refine_overlap: bool = False, weight_rows: bool = False) -> xr.Dataset:
    """Rigid drift of a (time, y, x) series and the aligned series.

    Returns a Dataset with ``shift_y``, ``shift_x`` (time; px, content displacement relative to the
    first frame), ``peak`` (correlation height) and ``aligned`` (time, y, x; NaN outside the field).
    The shifts are computed eagerly (they need every frame); ``aligned`` stays lazy for dask input.
    ``reference``, ``window``, ``smooth_sigma``, ``refine_overlap`` and ``weight_rows`` are those of
    :func:`frame_drift` (for device cross-sections: ``window="periodic", refine_overlap=True,
    smooth_sigma=1, reference="all", weight_rows=True``).
    """
    if series.dims[-2:] != (Y, X) or series.ndim != 3:
        raise InputError(f"drift_correct: expected dims (time, y, x), got {series.dims}")
    res = frame_drift(series.data, reference=reference, upsample=upsample, smooth_sigma=smooth_sigma,
                      window=window, refine_overlap=refine_overlap, weight_rows=weight_rows)
    kind = kind or map_kind(series)
    if hasattr(series.data, "dask"):
        import dask.array as da

        data = series.data.rechunk({1: -1, 2: -1})
        sy, sx = res.shift_y, res.shift_x

        def _block(block, block_info=None):
            lo = block_info[0]["array-location"][0][0]
            return align_frames(block, sy[lo:lo + len(block)], sx[lo:lo + len(block)], kind=kind)

        aligned = da.map_blocks(_block, data, dtype=float)
    else:
        aligned = align_frames(series.values, res.shift_y, res.shift_x, kind=kind)
    px = {"units": "px"}
    return xr.Dataset(
        {"shift_y": (TIME, res.shift_y, px), "shift_x": (TIME, res.shift_x, px),
         "peak": (TIME, res.peak, {"units": "1"}),
         "aligned": (series.dims, aligned, dict(series.attrs))},
        coords=series.coords)


def calibration_affine(moving: xr.DataArray, fixed: xr.DataArray) -> np.ndarray:
    """2x3 affine (moving px -> fixed px) implied by the two maps' spatial coordinates alone."""
    sm, sf = _nm(moving), _nm(fixed)
    (oy_m, ox_m), (oy_f, ox_f) = _origin_nm(moving), _origin_nm(fixed)
    r = sm / sf
    return np.array([[r, 0.0, (oy_m - oy_f) / sf], [0.0, r, (ox_m - ox_f) / sf]])


def register_modalities(fixed: xr.DataArray, moving: xr.DataArray, **kw) -> AffineFit:
    """Fit the affine transform (moving px -> fixed px) between images of two modalities.

    The start is the transform implied by both calibrations (so different pixel sizes are handled),
    refined by :func:`perovscope.imaging.fit_affine`.
    """
    for name, a in (("fixed", fixed), ("moving", moving)):
        if a.dims[-2:] != (Y, X) or a.ndim != 2:
            raise InputError(f"register_modalities: {name} image must have dims (y, x), got {a.dims}")
    return fit_affine(fixed.values, moving.values, initial=calibration_affine(moving, fixed), **kw)


def resample_to(source: xr.DataArray, target: xr.DataArray, matrix=None, *, kind: str | None = None
                ) -> xr.DataArray:
    """Resample ``source`` (..., y, x) onto the (y, x) grid of ``target`` through ``matrix``.

    ``matrix`` (source px -> target px) defaults to the one implied by the calibrations. Counts are
    rebinned with their total conserved; intensive maps are interpolated (see :func:`warp_affine`).
    Leading dims (time, energy, element) are carried along; dask input stays lazy.
    """
    matrix = calibration_affine(source, target) if matrix is None else np.asarray(matrix, float)
    kind = kind or map_kind(source)
    shape = (target.sizes[Y], target.sizes[X])
    out = xr.apply_ufunc(
        lambda a: warp_affine(a, matrix, output_shape=shape, kind=kind),
        source.rename({Y: "_src_y", X: "_src_x"}),
        input_core_dims=[["_src_y", "_src_x"]], output_core_dims=[[Y, X]],
        dask="parallelized", output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {Y: shape[0], X: shape[1]}})
    out = out.assign_coords({d: target[d] for d in (Y, X) if d in target.coords})
    out.attrs = dict(source.attrs)
    return out


def find_particles(image: xr.DataArray, *, pixel_size_nm: float | None = None, **kw
                   ) -> tuple[xr.DataArray, pd.DataFrame]:
    """Segment bright particles of a calibrated (y, x) image: (label map, per-particle table in nm).

    ``pixel_size_nm`` replaces the image's spatial calibration; an uncalibrated image without it is a
    :class:`~perovscope.errors.CalibrationError` (sizes in px are not reported as nm).
    """
    if image.dims != (Y, X):
        raise InputError(f"find_particles: expected dims (y, x), got {image.dims}")
    image = with_pixel_size(image, pixel_size_nm)
    px, origin = _nm(image), _origin_nm(image)
    labels = segment_particles(image.values, pixel_size_nm=px, **kw)
    table = particle_table(labels, pixel_size_nm=px, origin_nm=origin, intensity=image.values)
    lab = xr.DataArray(labels, dims=(Y, X), coords=image.coords, name="particle_label",
                       attrs={"units": "1", "signal": "label"})
    return lab, table


def fringe_map(image: xr.DataArray, **kw) -> xr.Dataset:
    """Local lattice-fringe spacing/orientation of a calibrated (y, x) image as a Dataset."""
    fm = local_fringes(image.values, pixel_size_nm=_nm(image), **kw)
    dims = ("window_y", "window_x")
    units = {"d_nm": "nm", "d_err_nm": "nm", "angle_deg": "deg", "angle_err_deg": "deg", "snr": "1"}
    ds = xr.Dataset({k: (dims, getattr(fm, k), {"units": u}) for k, u in units.items()})
    return ds.assign_coords(centre_row=(dims, fm.centre_row), centre_col=(dims, fm.centre_col))


def denoise(image: xr.DataArray, **kw) -> xr.DataArray:
    """Poisson-aware denoising (see :func:`denoise_poisson`) keeping coordinates and attrs."""
    out = xr.apply_ufunc(lambda a: denoise_poisson(a, **kw), image, input_core_dims=[[Y, X]],
                         output_core_dims=[[Y, X]], dask="parallelized", output_dtypes=[float])
    out.attrs = dict(image.attrs)
    return out
