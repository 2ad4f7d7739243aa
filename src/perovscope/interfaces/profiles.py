"""Interface-resolved profiles of any map and the interdiffusion width from an error-function fit.

A profile is the mean, standard deviation and number of pixels of a map in bins of signed distance to
an interface (one ``np.bincount`` pass over all pixels and all leading axes at once), so pixels at the
same distance from a curved interface are averaged together.

Interdiffusion: for diffusion from a sharp step (or any Gaussian broadening of one, e.g. by the probe
and beam spreading), the concentration across the interface is an error function [1]_,
``c(d) = lo + (hi - lo) / 2 * (1 + erf((d - centre) / (sqrt(2) * width)))``. ``width`` is the
standard deviation of the Gaussian broadening (for diffusion ``width = sqrt(2 D t)``); the 10-90 %
width is ``2.563 * width``. The fit is a weighted least squares (``scipy.optimize.curve_fit``) using
the standard error of each bin's mean; uncertainties are from the covariance matrix, scaled by the
reduced chi-square.

References
----------
.. [1] J. Crank, The Mathematics of Diffusion, 2nd ed. (Oxford University Press, 1975), ch. 2.
.. [2] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed. (Springer, 2009),
   ch. 36 (spatial resolution of X-ray microanalysis).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erf

from ..errors import FitError, InputError

__all__ = ["Profile", "interface_profile", "erf_step", "ErfFit", "fit_erf_profile"]


class Profile(NamedTuple):
    """Binned profile: ``distance`` (n_bins,) bin centres; ``mean``, ``sd``, ``count`` (..., n_bins)."""

    distance: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    count: np.ndarray


def _sums(values, bin_index, n_bins):
    """(k, 3, n_bins) sums of 1, v, v^2 per bin for k stacked maps (NaN pixels ignored)."""
    v = np.asarray(values, dtype=float)
    k = v.shape[0]
    ok = np.isfinite(v) & (bin_index >= 0)[None]
    idx = (np.arange(k)[:, None] * n_bins + np.where(bin_index >= 0, bin_index, 0)[None]).ravel()
    okf = ok.ravel()
    vv = np.where(ok, v, 0.0).ravel()
    size = k * n_bins
    out = np.stack([np.bincount(idx[okf], minlength=size),
                    np.bincount(idx[okf], weights=vv[okf], minlength=size),
                    np.bincount(idx[okf], weights=vv[okf] ** 2, minlength=size)])
    return np.moveaxis(out.reshape(3, k, n_bins), 0, 1)


def interface_profile(values, distance, *, bin_width: float, d_min: float | None = None,
                      d_max: float | None = None) -> Profile:
    """Mean, sd and pixel count of ``values`` per bin of signed distance to an interface.

    Parameters
    ----------
    values : array_like (numpy or dask), shape (..., H, W)
        Map(s); leading axes (time, element) are profiled independently. A dask array is reduced
        chunk by chunk along its leading axes (y, x are taken whole), with identical results.
    distance : array_like, shape (H, W) or (..., H, W)
        Signed distance of each pixel (e.g. from :func:`distance_to_line`); NaN pixels are skipped.
    bin_width : float
        Bin width (units of ``distance``).
    d_min, d_max : float, optional
        Range of distances profiled (default: the finite range of ``distance``).

    Returns
    -------
    Profile
        Empty bins have ``count = 0`` and NaN mean and sd.
    """
    distance = np.asarray(distance, dtype=float)
    shape = values.shape
    if distance.shape[-2:] != tuple(shape[-2:]):
        raise InputError(f"interface_profile: distance grid {distance.shape} does not match the map "
                         f"{tuple(shape)}")
    if bin_width <= 0:
        raise InputError(f"bin_width must be positive, got {bin_width}")
    finite = distance[np.isfinite(distance)]
    if finite.size == 0:
        raise InputError("interface_profile: the distance map has no finite value (no interface)")
    lo = float(finite.min()) if d_min is None else d_min
    hi = float(finite.max()) if d_max is None else d_max
    edges0 = np.floor(lo / bin_width) * bin_width
    n_bins = max(1, int(np.ceil((hi - edges0) / bin_width)))
    with np.errstate(invalid="ignore"):
        b = np.floor((distance - edges0) / bin_width)
    b = np.where(np.isfinite(b) & (b >= 0) & (b < n_bins) & (distance <= hi), b, -1).astype(np.intp)
    lead = tuple(shape[:-2])
    k = int(np.prod(lead, dtype=int))
    hw = tuple(shape[-2:])
    b = np.broadcast_to(b, lead + hw).reshape(k, -1)
    if hasattr(values, "dask"):
        import dask.array as da

        v = values.reshape((k,) + hw).rechunk({1: -1, 2: -1})

        def _block(block, block_info=None):
            i0 = block_info[0]["array-location"][0][0]
            return _sums(block.reshape(block.shape[0], -1), b[i0:i0 + block.shape[0]], n_bins)

        sums = da.map_blocks(_block, v, dtype=float, chunks=(v.chunks[0], (3,), (n_bins,)))
        sums = sums.compute()
    else:
        sums = _sums(np.asarray(values).reshape(k, -1), b, n_bins)
    n, s1, s2 = sums[:, 0], sums[:, 1], sums[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 / n - mean ** 2, 0.0) * n / (n - 1)
    mean = np.where(n > 0, mean, np.nan)
    sd = np.where(n > 1, np.sqrt(var), np.nan)
    centres = edges0 + (np.arange(n_bins) + 0.5) * bin_width
    return Profile(centres, mean.reshape(lead + (n_bins,)), sd.reshape(lead + (n_bins,)),
                   n.astype(np.int64).reshape(lead + (n_bins,)))


def erf_step(d, lo, hi, centre, width):
    """``lo + (hi - lo) / 2 * (1 + erf((d - centre) / (sqrt(2) width)))`` (Crank 1975)."""
    return lo + 0.5 * (hi - lo) * (1.0 + erf((np.asarray(d) - centre) / (np.sqrt(2.0) * width)))


class ErfFit(NamedTuple):
    """Error-function fit of a profile; ``*_err`` are one-standard-deviation uncertainties."""

    centre: float
    centre_err: float
    width: float
    width_err: float
    lo: float
    hi: float
    reduced_chi2: float
    n_points: int


def fit_erf_profile(distance, mean, *, sem=None, centre_guess: float | None = None) -> ErfFit:
    """Fit :func:`erf_step` to a profile; ``width`` is the interdiffusion width (Gaussian sigma).

    Parameters
    ----------
    distance, mean : array_like, shape (n,)
        Profile (e.g. ``Profile.distance`` and ``Profile.mean``); NaN points are skipped.
    sem : array_like, shape (n,), optional
        Standard error of each point (``sd / sqrt(count)``); unweighted if omitted.
    centre_guess : float, optional
        Start value of the centre (default: where the profile crosses half-way).

    Raises
    ------
    FitError
        Fewer than 5 usable points, or the fit does not converge.

    References
    ----------
    Crank (1975), ch. 2.
    """
    d = np.asarray(distance, float)
    y = np.asarray(mean, float)
    s = None if sem is None else np.asarray(sem, float)
    ok = np.isfinite(d) & np.isfinite(y)
    if s is not None:
        ok &= np.isfinite(s) & (s > 0)
    if ok.sum() < 5:
        raise FitError(f"fit_erf_profile: need at least 5 finite profile points, got {int(ok.sum())}")
    d, y = d[ok], y[ok]
    s = s[ok] if s is not None else None
    n_edge = max(2, len(y) // 8)
    lo0, hi0 = np.median(y[:n_edge]), np.median(y[-n_edge:])
    if centre_guess is None:
        half = 0.5 * (lo0 + hi0)
        centre_guess = float(d[np.argmin(np.abs(y - half))])
    span = float(d.max() - d.min())
    p0 = [lo0, hi0, centre_guess, max(span / 20, np.min(np.diff(np.sort(d))))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, pcov = curve_fit(erf_step, d, y, p0=p0, sigma=s, absolute_sigma=False, maxfev=5000)
    except (RuntimeError, ValueError) as exc:
        raise FitError(f"fit_erf_profile: the error-function fit did not converge ({exc})") from exc
    resid = (y - erf_step(d, *popt)) / (s if s is not None else 1.0)
    dof = max(1, len(y) - 4)
    err = np.sqrt(np.abs(np.diag(pcov)))
    return ErfFit(float(popt[2]), float(err[2]), float(abs(popt[3])), float(err[3]), float(popt[0]),
                  float(popt[1]), float((resid ** 2).sum() / dof), int(len(y)))
