"""Virtual detectors and centre of mass over 4D-STEM data in one pass (a matrix product per block).

Every virtual image is a weighted sum over detector pixels, ``V[p, m] = Σ_k I[p, k] M[m, k]``, so any
number of masks — and the three moments ``Σ I``, ``Σ I kx``, ``Σ I ky`` needed for the centre of mass —
are evaluated together as one matrix product over the flattened detector pixels. Blocks of a few
patterns are converted to floating point at a time so the working set stays in cache and the pass is
limited by memory bandwidth.

References
----------
.. [1] C. Ophus, Microsc. Microanal. 25, 563 (2019): virtual detectors and centre-of-mass imaging.
.. [2] K. Müller et al., "Atomic electric fields revealed by a quantum mechanical approach to electron
   picodiffraction", Nat. Commun. 5, 5653 (2014): centre of mass ↔ projected field.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr

from ..errors import InputError
from .detector import annulus_mask, disk_mask

__all__ = ["virtual_images", "CenterOfMass", "center_of_mass", "virtual_image_map", "center_of_mass_map",
           "beam_centre"]

#: Target size (bytes) of the floating-point block handed to the matrix product.
_BLOCK_BYTES = 1 << 20


def _single_thread_blas():
    """Context limiting BLAS to one thread (tiny GEMMs; dask threads give the parallelism)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def virtual_images(data, masks, *, dtype=None, single_thread_blas: bool = True) -> np.ndarray:
    """Weighted sums of every pattern with every mask in one pass.

    Parameters
    ----------
    data : array (..., ky, kx)
        Patterns (any numeric dtype; counts are not rescaled).
    masks : array (n_masks, ky, kx) or (ky, kx)
        Detector weights.
    dtype : numpy dtype, optional
        Accumulation precision. Default: float32 (half the memory traffic) for integer counts with
        weights in [0, 1], with patterns whose total reaches 2²⁴ counts redone in float64, so sums of
        counts with 0/1 weights are exact integers either way; float64 otherwise.
    single_thread_blas : bool
        Hold BLAS to one thread (the products are skinny; parallelism comes from dask chunks).

    Returns
    -------
    numpy.ndarray (..., n_masks), float64
    """
    data = np.asarray(data)
    masks = np.asarray(masks, dtype=np.float64)
    if masks.ndim == 2:
        masks = masks[None]
    if data.ndim < 2 or masks.shape[1:] != data.shape[-2:]:
        raise InputError(f"masks of shape {masks.shape[1:]} do not match the detector shape "
                         f"{data.shape[-2:]}")
    lead = data.shape[:-2]
    k = data.shape[-2] * data.shape[-1]
    flat = data.reshape(-1, k)
    mt64 = np.ascontiguousarray(masks.reshape(len(masks), k).T)
    out = np.empty((flat.shape[0], len(masks)), dtype=np.float64)
    integer = np.issubdtype(data.dtype, np.integer) or data.dtype == bool
    # float32 is exact when every partial sum is an integer < 2^24: non-negative integer counts, 0/1
    # weights and a pattern total < 2^24 (the extra all-ones column checks the total in the same pass);
    # fractional weights are rounded at ~6e-8 relative either way. Other rows are redone in float64.
    fast = dtype in (None, np.float32) and integer and masks.min() >= 0 and masks.max() <= 1
    mt32 = np.concatenate([mt64, np.ones((k, 1))], 1).astype(np.float32)
    step = max(1, _BLOCK_BYTES // (k * 4))
    import contextlib

    with _single_thread_blas() if single_thread_blas else contextlib.nullcontext():
        for i in range(0, flat.shape[0], step):  # loop over blocks of patterns, not pixels
            blk = flat[i:i + step]
            if fast:
                r = blk.astype(np.float32) @ mt32
                redo = (r[:, -1] >= 2**24) | (r[:, -1] < 0) if dtype is None else np.zeros(len(r), bool)
                out[i:i + step] = r[:, :-1]
                if redo.any():
                    out[i:i + step][redo] = blk[redo].astype(np.float64) @ mt64
            else:
                out[i:i + step] = blk.astype(np.float64) @ mt64
    return out.reshape(*lead, len(masks))


class CenterOfMass(NamedTuple):
    """Centre of mass of each pattern in detector pixels, relative to ``origin``, after rotation."""

    com_x: np.ndarray
    com_y: np.ndarray
    total: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        return np.hypot(self.com_x, self.com_y)

    @property
    def direction_deg(self) -> np.ndarray:
        """Direction of the CoM shift, degrees from +x towards +y."""
        return np.degrees(np.arctan2(self.com_y, self.com_x))


def center_of_mass(data, *, origin=None, rotation_deg: float = 0.0, mask=None) -> CenterOfMass:
    """Centre of mass of each pattern (one pass), rotated from detector into scan axes.

    Parameters
    ----------
    data : array (..., ky, kx)
    origin : (float, float), optional
        ``(row, col)`` of the undeflected beam; default the detector centre.
    rotation_deg : float
        Rotation of the detector relative to the scan, degrees, applied as
        ``x' = x cos θ - y sin θ``, ``y' = x sin θ + y cos θ``.
    mask : array (ky, kx), optional
        Weights restricting the pixels used (e.g. a disk enclosing the bright field).

    Returns
    -------
    CenterOfMass
        NaN where a pattern has no counts.
    """
    data = np.asarray(data)
    ny, nx = data.shape[-2:]
    cy, cx = ((ny - 1) / 2.0, (nx - 1) / 2.0) if origin is None else origin
    w = np.ones((ny, nx)) if mask is None else np.asarray(mask, dtype=float)
    yy, xx = np.meshgrid(np.arange(ny) - cy, np.arange(nx) - cx, indexing="ij")
    mom = virtual_images(data, np.stack([w, w * xx, w * yy]))
    tot = mom[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.where(tot > 0, mom[..., 1] / tot, np.nan)
        my = np.where(tot > 0, mom[..., 2] / tot, np.nan)
    t = np.deg2rad(rotation_deg)
    return CenterOfMass(mx * np.cos(t) - my * np.sin(t), mx * np.sin(t) + my * np.cos(t), tot)


def beam_centre(mean_pattern, *, threshold: float = 0.5) -> tuple[float, float]:
    """``(row, col)`` of the bright-field disk: background-subtracted centroid over the region above
    ``threshold`` × the maximum (dilated by 3 px so the whole disk edge counts).

    A robust start for virtual detectors on uncalibrated data (the disk may be far from the detector
    centre, as on many real cameras).
    """
    m = np.asarray(mean_pattern, dtype=float)
    if m.ndim != 2 or not np.isfinite(m).all() or m.max() <= 0:
        raise InputError("beam_centre: mean pattern must be a finite 2-D image with positive counts")
    from scipy.ndimage import binary_dilation, gaussian_filter, label

    sm = gaussian_filter(m, 1.0)
    lab, _ = label(sm > threshold * sm.max())
    sel = binary_dilation(lab == lab[np.unravel_index(np.argmax(sm), sm.shape)], iterations=3)
    yy, xx = np.nonzero(sel)
    wt = np.clip(m[yy, xx] - np.median(m), 0, None)
    return float((yy * wt).sum() / wt.sum()), float((xx * wt).sum() / wt.sum())


# ----------------------------------------------------------------------------- labelled wrappers
def _detector_pixels(da: xr.DataArray, value, dim):
    """Convert a length in the detector coordinate's units to pixels (coordinates assumed uniform)."""
    c = np.asarray(da[dim].values, dtype=float) if dim in da.coords else None
    if c is None or len(c) < 2:
        return float(value)
    return float(value) / abs(c[1] - c[0])


def _apply_over_patterns(da: xr.DataArray, func, n_out: int, out_dim: str) -> xr.DataArray:
    """Run ``func(block (..., ky, kx)) -> (..., n_out)`` lazily over scan chunks (detector whole)."""
    if da.dims[-2:] != ("ky", "kx"):
        raise InputError(f"expected a 4D-STEM array with last dims ('ky', 'kx'), got {da.dims}")
    return xr.apply_ufunc(
        func, da, input_core_dims=[["ky", "kx"]], output_core_dims=[[out_dim]],
        dask="parallelized", output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {out_dim: n_out}, "allow_rechunk": True},
    )


def virtual_image_map(da: xr.DataArray, masks: dict, *, centre=None) -> xr.Dataset:
    """Virtual images of a labelled 4D-STEM array, one variable per mask, in one pass.

    Parameters
    ----------
    da : xarray.DataArray (..., ky, kx)
    masks : dict
        ``name -> mask`` where a mask is a ``(ky, kx)`` weight array, a float ``r`` (bright-field disk
        of radius ``r``) or a pair ``(r_in, r_out)`` (annulus); radii in the units of the ``ky``/``kx``
        coordinates (px when uncalibrated).
    centre : (float, float), optional
        ``(row, col)`` pixel centre of disks/annuli; default: the bright-field disk of the mean pattern
        (:func:`beam_centre`).
    """
    shape = da.shape[-2:]
    if centre is None and any(np.ndim(m) < 2 for m in masks.values()):
        centre = beam_centre(np.asarray(da.mean(da.dims[:-2]).values))
    built = []
    for name, m in masks.items():
        if np.ndim(m) == 2:
            built.append(np.asarray(m, dtype=float))
        elif np.ndim(m) == 0:
            built.append(disk_mask(shape, _detector_pixels(da, m, "kx"), centre=centre))
        elif np.ndim(m) == 1 and len(m) == 2:
            r0, r1 = (_detector_pixels(da, r, "kx") for r in m)
            built.append(annulus_mask(shape, r0, r1, centre=centre))
        else:
            raise InputError(f"mask {name!r}: give a (ky, kx) array, a radius, or (inner, outer) radii")
    stack = np.stack(built)
    out = _apply_over_patterns(da, lambda b: virtual_images(b, stack), len(stack), "mask")
    ds = xr.Dataset()
    units = da.attrs.get("units", "counts")
    for i, name in enumerate(masks):
        v = out.isel(mask=i, drop=True)
        v.attrs = {"units": units, "signal": "image", "long_name": f"virtual detector {name}"}
        ds[name] = v
    ds.attrs["centre_px"] = [float(c) for c in centre] if centre is not None else None
    return ds


def center_of_mass_map(da: xr.DataArray, *, origin=None, rotation_deg: float = 0.0,
                       radius=None) -> xr.Dataset:
    """Centre-of-mass maps (``com_x``, ``com_y``, ``com_magnitude``, ``com_direction``) of a 4D array.

    ``origin`` defaults to the bright-field centre of the mean pattern; ``radius`` (detector units)
    restricts the moments to a disk. Shifts are in the detector coordinate units (px or 1/nm).
    """
    shape = da.shape[-2:]
    if origin is None:
        origin = beam_centre(np.asarray(da.mean(da.dims[:-2]).values))
    mask = None if radius is None else disk_mask(shape, _detector_pixels(da, radius, "kx"), centre=origin)
    scale = _detector_pixels(da, 1.0, "kx")
    scale = 1.0 / scale if scale != 0 else 1.0

    def core(b):
        c = center_of_mass(b, origin=origin, rotation_deg=rotation_deg, mask=mask)
        return np.stack([c.com_x * scale, c.com_y * scale], axis=-1)

    out = _apply_over_patterns(da, core, 2, "component")
    unit = da["kx"].attrs.get("units", "px") if "kx" in da.coords else "px"
    cx, cy = out.isel(component=0, drop=True), out.isel(component=1, drop=True)
    ds = xr.Dataset({"com_x": cx, "com_y": cy, "com_magnitude": np.hypot(cx, cy),
                     "com_direction": np.degrees(np.arctan2(cy, cx))})
    for n in ("com_x", "com_y", "com_magnitude"):
        ds[n].attrs["units"] = unit
    ds["com_direction"].attrs["units"] = "deg"
    ds.attrs.update(origin_px=[float(o) for o in origin], rotation_deg=float(rotation_deg))
    return ds
