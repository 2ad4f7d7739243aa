"""Labelled nanoindentation: the readers' Datasets in, Oliver–Pharr, CSM, map and scratch Datasets out.

The readers (:func:`perovscope.io.nanosuite.read_nanosuite`, :func:`perovscope.io.hysitron.read_hysitron`)
give curves over ``(test, point)`` or ``point`` in the instrument's units. The functions here convert
them to nm / mN / N/m (from ``attrs["units"]``), run the batched array functions of
:mod:`perovscope.bulk.nanoindentation`, :mod:`~perovscope.bulk.nanoindentation_csm`,
:mod:`~perovscope.bulk.nanoindentation_maps` and :mod:`~perovscope.bulk.nanoindentation_scratch`, and
return Datasets whose variables all carry ``units``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .nanoindentation import oliver_pharr
from .nanoindentation_csm import csm_properties, depth_average
from .nanoindentation_maps import grid_map, indent_grid
from .nanoindentation_scratch import scratch_profile

__all__ = ["in_units", "as_tests", "unloading_mask", "oliver_pharr_dataset", "csm_dataset",
           "indent_map_dataset", "scratch_dataset"]

_FACTORS = {
    "nm": {"nm": 1.0, "um": 1e3, "µm": 1e3, "mm": 1e6, "m": 1e9, "a": 0.1, "å": 0.1},
    "mN": {"mn": 1.0, "un": 1e-3, "µn": 1e-3, "n": 1e3, "nn": 1e-6, "gf": 9.80665},
    "N/m": {"n/m": 1.0, "mn/nm": 1e6, "un/nm": 1e3, "µn/nm": 1e3, "mn/um": 1e3, "n/mm": 1e3},
    "um": {"um": 1.0, "µm": 1.0, "nm": 1e-3, "mm": 1e3, "m": 1e6},
}


def in_units(da: xr.DataArray, target: str, *, name: str | None = None) -> np.ndarray:
    """Values of ``da`` in ``target`` units (``nm``, ``mN``, ``N/m``, ``um``) from its ``attrs["units"]``."""
    unit = str(da.attrs.get("units", target)).strip().replace("μ", "µ")
    table = _FACTORS[target]
    key = unit.lower()
    if key in ("", "1"):
        key = target.lower()
    if key not in table:
        raise InputError(f"{name or da.name}: unit {unit!r} cannot be converted to {target}; known: "
                         f"{', '.join(sorted(table))}")
    return np.asarray(da.values, dtype=float) * table[key]


def as_tests(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with a ``test`` dimension (a single-curve Dataset over ``point`` gets one test)."""
    if "point" not in ds.dims:
        raise InputError("the indentation data have no 'point' dimension; read them with perovscope.io")
    if "test" in ds.dims:
        return ds
    name = str(ds.attrs.get("source_file", "test")).replace("\\", "/").rsplit("/", 1)[-1]
    return ds.expand_dims(test=[name])


def unloading_mask(ds: xr.Dataset) -> np.ndarray | None:
    """``(test, point)`` points of the segment labelled as unloading (NanoSuite), or None if unlabelled."""
    if "segment_label" not in ds or "segment" not in ds:
        return None
    labels = np.char.lower(ds["segment_label"].values.astype(str))
    seg = ds["segment"].values
    is_unload = np.char.find(labels, "unload") >= 0
    if not is_unload.any():
        return None
    first = np.where(is_unload.any(axis=-1), np.argmax(is_unload, axis=-1), -2)
    mask = seg == first[:, None]
    return mask if mask.any() else None


def _lead(ds):
    lc = {c: ds.coords[c] for c in ds.coords if ds.coords[c].dims == ("test",)}
    return lc


def _per_test(values, ds, units, desc):
    return xr.DataArray(values, dims=("test",), coords=_lead(ds), attrs={"units": units, "long_name": desc})


def _poisson_from(ds, poisson_ratio):
    if poisson_ratio is not None:
        return poisson_ratio
    if "poisson_ratio" in ds and np.all(np.isfinite(ds["poisson_ratio"].values)):
        return ds["poisson_ratio"].values.astype(float)
    return None


def oliver_pharr_dataset(ds: xr.Dataset, *, area_coefficients, poisson_ratio=None, epsilon: float = 0.75,
                         beta: float = 1.0, fit_range=None, bad: str = "raise") -> xr.Dataset:
    """Oliver–Pharr hardness and modulus of every test of ``ds`` (all fitted in one batched call).

    Parameters
    ----------
    ds : xarray.Dataset
        From a reader: ``depth`` and ``load`` over ``(test, point)`` or ``point``.
    area_coefficients : sequence of float
        Tip area function ``C0, C1, …`` (nm² for nm).
    poisson_ratio : float, optional
        Sample's ν; default: the file's ``poisson_ratio`` per test (an InputError when neither).
    epsilon, beta : float
        See :func:`perovscope.bulk.nanoindentation.oliver_pharr`.
    fit_range : (float, float), optional
        Fractions of the peak load fitted; default: the file's "Percent Unload In Stiffness
        Calculation" (NanoSuite) as the lower bound, else 0.5, and 0.98.
    bad : {"raise", "mask"}
        See :func:`perovscope.bulk.nanoindentation.fit_unloading`.

    Returns
    -------
    xarray.Dataset
        Over ``test``: ``hardness``, ``hardness_std``, ``modulus``, ``modulus_std``,
        ``reduced_modulus`` (GPa),
        ``stiffness``, ``stiffness_std`` (N/m), ``contact_depth``, ``h_max``, ``h_f`` (nm), ``p_max``
        (mN), ``contact_area`` (nm²), ``m``, ``alpha``, ``n_points``, ``rms``, ``flag``; over
        ``(test, point)``: ``depth``, ``load``, ``fit_window`` and the fitted ``load_fit``.
    """
    ds = as_tests(ds)
    for v in ("depth", "load"):
        if v not in ds:
            raise InputError(f"the data have no {v!r} channel; the indentation curves need depth and load")
    h = in_units(ds["depth"], "nm", name="depth")
    p = in_units(ds["load"], "mN", name="load")
    nu = _poisson_from(ds, poisson_ratio)
    if fit_range is None:
        lo = 0.5
        if "percent_unload_in_stiffness_calculation" in ds:
            pct = ds["percent_unload_in_stiffness_calculation"].values
            if np.all(np.isfinite(pct)) and np.all((pct > 0) & (pct < 100)) and np.ptp(pct) == 0:
                lo = 1.0 - float(pct[0]) / 100.0
        fit_range = (lo, 0.98)
    r = oliver_pharr(h, p, area_coefficients=area_coefficients, poisson_ratio=nu, epsilon=epsilon, beta=beta,
                     fit_range=fit_range, mask=unloading_mask(ds), bad=bad)
    u = r.unloading
    lc = _lead(ds)
    with np.errstate(invalid="ignore"):
        fitted = np.where(u.window, u.alpha[:, None] * np.clip(h - u.h_f[:, None], 0, None) ** u.m[:, None],
                          np.nan)
    curve = {"dims": ("test", "point"), "coords": lc}
    out = xr.Dataset({
        "hardness": _per_test(r.hardness, ds, "GPa", "hardness H = P_max/A"),
        "hardness_std": _per_test(r.hardness_std, ds, "GPa", "standard error of H from the stiffness"),
        "modulus": _per_test(r.modulus, ds, "GPa", "Young's modulus of the sample"),
        "modulus_std": _per_test(r.modulus_std, ds, "GPa", "standard error of E from the stiffness"),
        "reduced_modulus": _per_test(r.reduced_modulus, ds, "GPa", "reduced modulus E_r"),
        "stiffness": _per_test(u.stiffness, ds, "N/m", "contact stiffness S = dP/dh at the peak"),
        "stiffness_std": _per_test(u.stiffness_std, ds, "N/m", "standard error of S"),
        "contact_depth": _per_test(r.contact_depth, ds, "nm", "contact depth h_c"),
        "contact_area": _per_test(r.contact_area, ds, "nm2", "projected contact area"),
        "h_max": _per_test(u.h_max, ds, "nm", "depth at the peak load"),
        "p_max": _per_test(u.p_max, ds, "mN", "peak load"),
        "h_f": _per_test(u.h_f, ds, "nm", "final depth of the power-law fit"),
        "m": _per_test(u.m, ds, "1", "power-law exponent"),
        "alpha": _per_test(u.alpha, ds, "mN/nm^m", "power-law prefactor"),
        "n_points": _per_test(u.n_points, ds, "1", "points in the unloading fit"),
        "rms": _per_test(u.rms, ds, "mN", "RMS residual of the unloading fit"),
        "flag": _per_test(u.flag, ds, "1", "0 ok, 1 iteration limit, 2 failed, 3 masked"),
        "depth": xr.DataArray(h, **curve, attrs={"units": "nm"}),
        "load": xr.DataArray(p, **curve, attrs={"units": "mN"}),
        "fit_window": xr.DataArray(u.window, **curve, attrs={"units": "1"}),
        "load_fit": xr.DataArray(fitted, **curve, attrs={"units": "mN"}),
    })
    out.attrs.update(method="oliver_pharr", epsilon=epsilon, beta=beta, fit_range=list(map(float, fit_range)),
                     area_coefficients=[float(c) for c in area_coefficients],
                     poisson_ratio=np.atleast_1d(nu).astype(float).tolist() if nu is not None else [])
    return out


def csm_dataset(ds: xr.Dataset, *, area_coefficients, poisson_ratio=None, depth_range=None,
                tolerance: float = 0.01, epsilon: float = 0.75, beta: float = 1.0) -> xr.Dataset:
    """Hardness and modulus at every loading point from the CSM stiffness, and their depth averages.

    ``depth_range`` (nm) defaults to the file's "Minimum/Maximum Calculation Depth" per test; the
    loading segment is segment 0 when the file labels segments, else the points before the peak load.
    Returns ``hardness``/``modulus`` over ``(test, point)`` and ``hardness_mean``/``modulus_mean``
    (+ ``_std``, ``n_points``) over ``test``.
    """
    ds = as_tests(ds)
    if "contact_stiffness" not in ds:
        raise InputError("no continuous-stiffness channel ('Harmonic Contact Stiffness'); use the "
                         "unloading (Oliver–Pharr) analysis instead")
    h = in_units(ds["depth"], "nm", name="depth")
    p = in_units(ds["load"], "mN", name="load")
    s = in_units(ds["contact_stiffness"], "N/m", name="contact_stiffness")
    if "segment_label" in ds and "segment" in ds and np.any(ds["segment"].values >= 0):
        loading = ds["segment"].values == 0
    else:
        ipk = np.nanargmax(np.where(np.isfinite(p), p, -np.inf), axis=-1)
        loading = np.arange(p.shape[-1])[None, :] <= ipk[:, None]
    if depth_range is None:
        if "minimum_calculation_depth" in ds and "maximum_calculation_depth" in ds:
            depth_range = (ds["minimum_calculation_depth"].values, ds["maximum_calculation_depth"].values)
        else:
            raise InputError("depth_range is needed for the CSM averages (the file names no calculation "
                             "depths), e.g. --depth-range 100 200")
    nu = _poisson_from(ds, poisson_ratio)
    nu_b = np.asarray(nu)[:, None] if nu is not None and np.ndim(nu) == 1 else nu
    props = csm_properties(h, p, s, area_coefficients=area_coefficients, poisson_ratio=nu_b, epsilon=epsilon,
                           beta=beta, mask=loading)
    e_avg = depth_average(props.modulus, h, depth_range, tolerance=tolerance, mask=loading)
    h_avg = depth_average(props.hardness, h, depth_range, tolerance=tolerance, mask=loading)
    curve = {"dims": ("test", "point"), "coords": _lead(ds)}
    lo, hi = (np.broadcast_to(np.asarray(b, dtype=float), (ds.sizes["test"],)) for b in depth_range)
    out = xr.Dataset({
        "hardness": xr.DataArray(props.hardness, **curve, attrs={"units": "GPa"}),
        "modulus": xr.DataArray(props.modulus, **curve, attrs={"units": "GPa"}),
        "contact_depth": xr.DataArray(props.contact_depth, **curve, attrs={"units": "nm"}),
        "depth": xr.DataArray(np.where(loading, h, np.nan), **curve, attrs={"units": "nm"}),
        "modulus_mean": _per_test(e_avg.mean, ds, "GPa", "E averaged over the depth range"),
        "modulus_sd": _per_test(e_avg.std, ds, "GPa", "standard deviation of E over the range"),
        "hardness_mean": _per_test(h_avg.mean, ds, "GPa", "H averaged over the depth range"),
        "hardness_sd": _per_test(h_avg.std, ds, "GPa", "standard deviation of H over the range"),
        "n_points": _per_test(e_avg.n_points, ds, "1", "CSM points in the depth range"),
        "depth_min": _per_test(lo, ds, "nm", "lower end of the depth range"),
        "depth_max": _per_test(hi, ds, "nm", "upper end of the depth range"),
    })
    out.attrs.update(method="csm", tolerance=tolerance, epsilon=epsilon, beta=beta,
                     area_coefficients=[float(c) for c in area_coefficients])
    return out


def indent_map_dataset(results: xr.Dataset, x, y, *, variables=("hardness", "modulus"),
                       tolerance: float | None = None, position_units: str = "um") -> xr.Dataset:
    """Per-test ``variables`` of ``results`` on the grid of the indents' stage positions ``x``, ``y``.

    Returns a Dataset over ``(y, x)`` (positions relative to the first column/row, in
    ``position_units``) holding each variable as a map, NaN where no indent was made.
    """
    grid = indent_grid(np.asarray(x, dtype=float), np.asarray(y, dtype=float), tolerance=tolerance)
    coords = {"y": ("y", grid.y - grid.y[0], {"units": position_units}),
              "x": ("x", grid.x - grid.x[0], {"units": position_units})}
    data = {}
    for v in variables:
        if v not in results:
            raise InputError(f"results have no {v!r} to map (have: {', '.join(results.data_vars)})")
        data[v] = xr.DataArray(grid_map(results[v].values, grid), dims=("y", "x"), coords=coords,
                               attrs={"units": results[v].attrs.get("units", "1")})
    return xr.Dataset(data, attrs={"x_origin": float(grid.x[0]), "y_origin": float(grid.y[0])})


def _resample_rows(xq, x, y):
    """Linear interpolation of every row ``y[i](x[i])`` at the shared ``xq`` (no loop over rows).

    Rows may run in either direction and end in NaN padding; outside a row's range the end values
    are held.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nrow, n = x.shape
    finite = np.isfinite(x) & np.isfinite(y)
    cnt = finite.sum(axis=1)
    if not np.all(cnt >= 2):
        raise InputError("a scratch has fewer than 2 points with a distance; drop it")
    lo = np.nanmin(np.where(finite, x, np.nan))
    span = np.nanmax(np.where(finite, x, np.nan)) - lo + 1.0
    order = np.argsort(np.where(finite, x, np.inf), axis=1, kind="stable")  # each row increasing
    j = np.arange(n)[None, :]
    xs = np.take_along_axis(np.where(finite, x - lo, 0.0), order, axis=1)
    xs = np.where(j < cnt[:, None], xs, span + j * 1e-9)  # padding sorts after each row's data
    ys = np.take_along_axis(y, order, axis=1)
    offset = (np.arange(nrow) * 3.0 * span)[:, None]  # rows side by side on one increasing line
    q = np.clip(np.asarray(xq, dtype=float)[None, :] - lo, xs[:, :1],
                np.take_along_axis(xs, (cnt - 1)[:, None], axis=1))
    pos = np.searchsorted((xs + offset).ravel(), (q + offset).ravel()).reshape(q.shape) - (np.arange(nrow)
                                                                                           * n)[:, None]
    i1 = np.clip(pos, 1, (cnt - 1)[:, None])
    x0, x1 = np.take_along_axis(xs, i1 - 1, axis=1), np.take_along_axis(xs, i1, axis=1)
    y0, y1 = np.take_along_axis(ys, i1 - 1, axis=1), np.take_along_axis(ys, i1, axis=1)
    t = np.where(x1 > x0, (q - x0) / np.where(x1 > x0, x1 - x0, 1.0), 0.0)
    return y0 + t * (y1 - y0)


def scratch_dataset(ds: xr.Dataset, *, window=None, event_threshold: float = 8.0) -> xr.Dataset:
    """Friction and depth profiles of scratch tests (``distance``, ``lateral_force``, a normal force and
    ``depth``; forces in mN, depth nm, distance µm), with per-scratch summaries over ``test``.

    Scratches recorded on different distance samples are interpolated onto the first one's (all at
    once).
    """
    ds = as_tests(ds)
    normal = "normal_force" if "normal_force" in ds else "load"
    for v in ("distance", "lateral_force", normal, "depth"):
        if v not in ds:
            raise InputError(f"the scratch data have no {v!r} channel (need distance, lateral force, normal "
                             "force and depth)")
    x = in_units(ds["distance"], "um", name="distance")
    fl = in_units(ds["lateral_force"], "mN", name="lateral_force")
    fn = in_units(ds[normal], "mN", name=normal)
    d = in_units(ds["depth"], "nm", name="depth")
    ok = np.all(np.isfinite(x), axis=0)
    x0 = x[0][ok]
    if not np.allclose(x[:, ok], x0, rtol=1e-6, atol=1e-9):
        x0 = x[0][np.isfinite(x[0])]
        fl, fn, d = (_resample_rows(x0, x, arr) for arr in (fl, fn, d))
    else:
        fl, fn, d = fl[:, ok], fn[:, ok], d[:, ok]
    r = scratch_profile(x0, fl, fn, d, window=window, event_threshold=event_threshold)
    prof = {"dims": ("test", "distance"), "coords": {**_lead(ds), "distance": ("distance", r.distance,
                                                                              {"units": "um"})}}
    return xr.Dataset({
        "lateral_force": xr.DataArray(fl, **prof, attrs={"units": "mN"}),
        "normal_force": xr.DataArray(fn, **prof, attrs={"units": "mN"}),
        "friction": xr.DataArray(r.friction, **prof, attrs={"units": "1"}),
        "penetration_depth": xr.DataArray(r.penetration_depth, **prof, attrs={"units": "nm"}),
        "mean_lateral_force": _per_test(r.mean_lateral_force, ds, "mN", "mean lateral force"),
        "mean_normal_force": _per_test(r.mean_normal_force, ds, "mN", "mean normal force"),
        "mean_friction": _per_test(r.mean_friction, ds, "1", "mean friction coefficient"),
        "friction_std": _per_test(r.friction_std, ds, "1", "standard deviation of μ"),
        "mean_depth": _per_test(r.mean_penetration_depth, ds, "nm", "mean penetration depth"),
        "max_depth": _per_test(r.max_penetration_depth, ds, "nm", "largest penetration depth"),
        "event_distance": _per_test(r.event_distance, ds, "um", "first lateral-force jump"),
    }, attrs={"method": "scratch", "event_threshold": event_threshold})
