"""Statistics of fitted-parameter maps: histograms, 2-D correlation histograms, mask statistics,
and line profiles across spectrum images.

References
----------
.. [1] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6, Supplementary Fig. 12: histograms of the CL Gaussian coefficients and
   2-D histograms of peak centre against width and intensity; σ larger at particle edges than cores.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr

from ..errors import InputError

__all__ = ["Histogram", "Histogram2D", "parameter_histogram", "correlation_histogram",
           "masked_statistics", "line_profile"]


class Histogram(NamedTuple):
    """``counts`` (bins,), ``edges`` (bins + 1,), ``n_used`` finite values, ``n_excluded`` others."""

    counts: np.ndarray
    edges: np.ndarray
    n_used: int
    n_excluded: int


class Histogram2D(NamedTuple):
    """``counts`` (bins_a, bins_b), ``edges_a``, ``edges_b``, ``n_used``, ``pearson_r``."""

    counts: np.ndarray
    edges_a: np.ndarray
    edges_b: np.ndarray
    n_used: int
    pearson_r: float


def _values(v):
    return np.asarray(v.values if isinstance(v, xr.DataArray) else v, dtype=float).ravel()


def parameter_histogram(values, *, bins=50, range=None) -> Histogram:  # noqa: A002
    """Histogram of a parameter map, ignoring NaN (failed or masked pixels)."""
    v = _values(values)
    ok = np.isfinite(v)
    counts, edges = np.histogram(v[ok], bins=bins, range=range)
    return Histogram(counts, edges, int(ok.sum()), int((~ok).sum()))


def correlation_histogram(a, b, *, bins=40, range=None) -> Histogram2D:  # noqa: A002
    """2-D histogram of two parameter maps (e.g. centre vs width) over pixels where both are finite,
    with the Pearson correlation coefficient."""
    va, vb = _values(a), _values(b)
    if va.shape != vb.shape:
        raise InputError(f"b: shape {vb.shape} differs from a {va.shape}")
    ok = np.isfinite(va) & np.isfinite(vb)
    counts, ea, eb = np.histogram2d(va[ok], vb[ok], bins=bins, range=range)
    r = float(np.corrcoef(va[ok], vb[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    return Histogram2D(counts, ea, eb, int(ok.sum()), r)


def masked_statistics(values, mask) -> dict:
    """Mean, standard deviation, median and pixel count of a map inside and outside a boolean mask.

    Returns
    -------
    dict
        ``{"inside": {...}, "outside": {...}}`` each with ``mean, std, median, n`` (finite pixels).
    """
    v = _values(values)
    m = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask, dtype=bool).ravel()
    if m.shape != v.shape:
        raise InputError(f"mask: shape {m.shape} differs from the map {v.shape}")
    out = {}
    for key, sel in (("inside", m), ("outside", ~m)):
        x = v[sel & np.isfinite(v)]
        out[key] = {"mean": float(np.mean(x)) if x.size else float("nan"),
                    "std": float(np.std(x, ddof=1)) if x.size > 1 else float("nan"),
                    "median": float(np.median(x)) if x.size else float("nan"),
                    "n": int(x.size)}
    return out


def line_profile(da: xr.DataArray, start, end, *, width: float = 0.0, step: float | None = None,
                 dims=("y", "x")) -> xr.DataArray:
    """Profile of a map or spectrum image along the line ``start → end`` averaged over ``width``.

    Parameters
    ----------
    da : xarray.DataArray
        Anything with the two spatial ``dims`` (extra dims such as ``energy`` are carried along).
    start, end : (float, float)
        Line end points as ``(y, x)`` in the coordinate units of ``dims`` (nm or px).
    width : float
        Full width of the averaging band perpendicular to the line (same units); 0 = single line.
    step : float, optional
        Sampling step along the line; default the pixel size along ``dims[1]``.

    Returns
    -------
    xarray.DataArray
        Dimension ``distance`` (from ``start``, same unit) replacing ``dims``; bilinear
        interpolation; samples outside the map are NaN.
    """
    dy, dx = dims
    for d in dims:
        if d not in da.dims:
            raise InputError(f"dims: {d!r} not in the array's dims {tuple(da.dims)}")
    p0 = np.asarray(start, dtype=float)
    p1 = np.asarray(end, dtype=float)
    length = float(np.hypot(*(p1 - p0)))
    if not np.isfinite(length) or length == 0:
        raise InputError(f"start={tuple(start)}, end={tuple(end)}: the line has zero length")
    pix = float(abs(da[dx].values[1] - da[dx].values[0])) if da.sizes[dx] > 1 else 1.0
    step = pix if step is None else float(step)
    if step <= 0 or width < 0:
        raise InputError(f"step={step}, width={width}: step must be positive, width non-negative")
    t = np.arange(0.0, length + 1e-9 * length, step)
    u = (p1 - p0) / length
    normal = np.array([-u[1], u[0]])
    n_off = max(1, int(round(width / pix)) + 1) if width > 0 else 1
    offs = np.linspace(-width / 2, width / 2, n_off) if n_off > 1 else np.zeros(1)
    ys = p0[0] + t[:, None] * u[0] + offs[None, :] * normal[0]
    xs = p0[1] + t[:, None] * u[1] + offs[None, :] * normal[1]
    sampled = da.interp({dy: xr.DataArray(ys, dims=("distance", "_offset")),
                         dx: xr.DataArray(xs, dims=("distance", "_offset"))}, method="linear")
    prof = sampled.mean("_offset").drop_vars([dy, dx], errors="ignore")
    prof = prof.assign_coords(distance=t)
    prof["distance"].attrs["units"] = da[dx].attrs.get("units", "px")
    return prof.assign_attrs(da.attrs, line_start=list(p0), line_end=list(p1), line_width=width)
