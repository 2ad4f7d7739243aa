"""Photoluminescence spectra: peak position, FWHM, integrated intensity, energy axis, decompositions.

Every function takes one spectrum or a batch ``(..., n)`` (an ageing or temperature series, a map) on
a shared axis and works on all of them at once.

* :func:`to_energy_axis` turns a spectrum per unit wavelength into one per unit photon energy with the
  Jacobian ``|dλ/dE| = hc/E² = λ²/hc``, so the integrated intensity is unchanged and band shapes
  (widths, shares, Urbach tails) are those of the energy distribution [1]_.
* :func:`pl_peak` measures the maximum (the vertex of a parabola in ln y fitted to the top of the
  band), the full width at half maximum (linear interpolation of the half-maximum crossings), the
  integral (trapezoid) and the centroid, optionally on a window and above a linear or constant baseline.
* :func:`decompose_pl` fits one to three components (Gaussian, Lorentzian, pseudo-Voigt or Voigt)
  with :func:`perovscope.bulk.peak_fit.fit_peaks`, giving each component's centre, width, area and
  share of the total with standard errors. Start values: one component starts at the measured
  maximum and width; each further one at the largest positive residual left by the fit with one
  component fewer, on the side the band is skewed to.

References
----------
.. [1] J. Mooney and P. Kambhampati, "Get the basics right: Jacobian conversion of wavelength and
   energy scales for quantitative analysis of emission spectra", J. Phys. Chem. Lett. 4, 3316 (2013).
.. [2] L. M. Herz, "Charge-carrier dynamics in organic-inorganic metal halide perovskites",
   Annu. Rev. Phys. Chem. 67, 65 (2016) (PL line shapes and their low-energy tails).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import PHOTON_EV_NM, as_spectra, ascending, check_axis_kind, check_min_points
from .components import ComponentFields, component_fields
from .peak_fit import PeakFit, fit_peaks, peak_components
from .uvvis_lines import _prefix, _take, moving_mean, run_around

__all__ = ["to_energy_axis", "to_wavelength_axis", "PLPeak", "pl_peak", "PLComponents", "decompose_pl",
           "components_and_residual"]


def to_energy_axis(spectra, wavelength, *, units: str | None = None, source: str | None = None):
    """Spectra per unit wavelength (nm) → spectra per unit photon energy (eV), integral conserved.

    Parameters
    ----------
    spectra : array_like (..., n)
        Intensity per nm on the shared axis ``wavelength``.
    wavelength : array_like (n,)
        Wavelength in nm (either direction, positive).
    units : str, optional
        Units of the axis; an energy unit raises.
    source : str, optional
        File name for error messages.

    Returns
    -------
    energy : ndarray (n,)
        ``E = hc/λ`` in eV, increasing.
    spectra_e : ndarray (..., n)
        ``I(E) = I(λ)·λ²/hc`` per eV, on ``energy``.
    """
    check_axis_kind(units, required="wavelength", name="wavelength", source=source)
    lam, y = ascending(wavelength, spectra, name="wavelength", min_points=2, source=source)
    y = as_spectra(y, lam.size, source=source)
    if lam[0] <= 0:
        raise InputError(f"{source + ': ' if source else ''}wavelengths must be positive (got {lam[0]:g})")
    energy = PHOTON_EV_NM / lam[::-1]
    return energy, (y * lam**2 / PHOTON_EV_NM)[..., ::-1]


def to_wavelength_axis(spectra, energy, *, units: str | None = None, source: str | None = None):
    """Spectra per eV → spectra per nm (``I(λ) = I(E)·E²/hc``), the inverse of :func:`to_energy_axis`."""
    check_axis_kind(units, required="energy", name="energy", source=source)
    e, y = ascending(energy, spectra, name="energy", min_points=2, source=source)
    y = as_spectra(y, e.size, source=source)
    if e[0] <= 0:
        raise InputError(f"{source + ': ' if source else ''}photon energies must be positive (got {e[0]:g})")
    lam = PHOTON_EV_NM / e[::-1]
    return lam, (y * e**2 / PHOTON_EV_NM)[..., ::-1]


class PLPeak(NamedTuple):
    """Peak metrics of each spectrum ``(...)`` in the units of the axis: maximum ``position`` and
    ``height``, ``fwhm`` between the half-maximum crossings ``left``/``right`` (NaN where a side
    never falls to half), the ``integral`` and the ``centroid`` (first moment), all above ``baseline``
    (its value at the maximum)."""

    position: np.ndarray
    height: np.ndarray
    fwhm: np.ndarray
    left: np.ndarray
    right: np.ndarray
    integral: np.ndarray
    centroid: np.ndarray
    baseline: np.ndarray


def _window(x, y, window, source):
    if window is None:
        return x, y
    lo, hi = sorted(float(v) for v in window)
    sel = (x >= lo) & (x <= hi)
    if sel.sum() < 3:
        raise InputError(f"{source + ': ' if source else ''}window {lo:g}–{hi:g} holds {int(sel.sum())} "
                         f"points of the axis {x[0]:g}–{x[-1]:g}; at least 3 are needed")
    return x[sel], y[..., sel]


def _baseline(x, y, kind, n_edge):
    if kind == "none":
        return np.zeros_like(y)
    left = y[..., :n_edge].mean(axis=-1, keepdims=True)
    right = y[..., -n_edge:].mean(axis=-1, keepdims=True)
    if kind == "constant":
        return np.broadcast_to(np.minimum(left, right), y.shape)
    if kind == "linear":
        xl, xr = x[:n_edge].mean(), x[-n_edge:].mean()
        return left + (right - left) * (x - xl) / (xr - xl)
    raise InputError(f"baseline={kind!r}: choose 'none', 'constant' or 'linear'")


def _top_parabola(x, y, ys, i, top):
    """Vertex of a least-squares parabola in ln y through the channels around the maximum ``i`` whose
    smoothed value ``ys`` is at least ``top`` × the maximum (at least three): position, height."""
    n = x.size
    peak = np.take_along_axis(ys, i[..., None], -1)
    lo, hi = run_around(ys >= top * peak, i)
    lo = np.minimum(lo, i - 1)
    hi = np.maximum(hi, i + 1)
    mid, scale = 0.5 * (x[0] + x[-1]), max(0.5 * (x[-1] - x[0]), 1e-300)
    t = (x - mid) / scale
    # a parabola in ln y: exact for a Gaussian top; y itself where a window holds non-positive values
    positive = _take(_prefix((y <= 0).astype(float)), lo, hi) == 0
    z = np.where(positive[..., None], np.log(np.where(y > 0, y, 1.0)), y)
    s = [_take(_prefix(np.broadcast_to(t**k, y.shape)), lo, hi) for k in range(5)]
    v = [_take(_prefix(z * t**k), lo, hi) for k in range(3)]
    m = np.stack([np.stack([s[r + c] for c in range(3)], -1) for r in range(3)], -2)
    rhs = np.stack(v, -1)[..., None]
    ok = np.abs(np.linalg.det(m)) > 1e-300
    coef = np.linalg.solve(np.where(ok[..., None, None], m, np.eye(3)), rhs)[..., 0]
    a, b, c = coef[..., 0], coef[..., 1], coef[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        tv = -b / (2 * c)
    inside = ok & (c < 0) & (tv >= t[np.clip(lo, 0, n - 1)]) & (tv <= t[np.clip(hi, 0, n - 1)])
    tv = np.where(inside, tv, t[i])
    zv = a + b * tv + c * tv * tv
    at_max = np.take_along_axis(ys, i[..., None], -1)[..., 0]
    height = np.where(inside, np.where(positive, np.exp(zv), zv), at_max)
    return mid + scale * tv, height


def pl_peak(spectra, x, *, window=None, baseline: str = "none", smooth: int = 0, top: float = 0.9,
            source: str | None = None) -> PLPeak:
    """Position, height, FWHM, integral and centroid of the emission band of every spectrum.

    Parameters
    ----------
    spectra : array_like (..., n)
        PL spectra on the shared axis ``x`` (wavelength or energy; either direction).
    x : array_like (n,)
        The axis.
    window : (float, float), optional
        Only this range of ``x`` is used.
    baseline : {"none", "constant", "linear"}
        Background under the band: none, the lower of the two end levels, or a line through the mean
        of the first and last 5 % of the channels.
    smooth : int
        Half-width (channels) of a moving mean applied before locating the maximum and the half
        maximum (the integral and the parabola through the top always use the raw data).
    top : float
        The position and height are the vertex of a least-squares parabola in ln y (exact for a
        Gaussian top) through the channels within this fraction of the maximum (0.9: the top 10 %
        of the band; at least 3 channels).
    source : str, optional
        File name for error messages.

    Returns
    -------
    PLPeak
    """
    xa, y = ascending(x, spectra, name="x", min_points=3, source=source)
    y = as_spectra(y, xa.size, source=source)
    xa, y = _window(xa, y, window, source)
    n = xa.size
    base = _baseline(xa, y, baseline, max(1, n // 20))
    yb = y - base
    ys = moving_mean(yb, int(smooth)) if smooth else yb
    i = np.clip(np.argmax(ys, axis=-1), 1, n - 2)
    position, height = _top_parabola(xa, yb, ys, i, top)
    half = 0.5 * height
    idx = np.arange(n)
    below = ys < half[..., None]
    j = np.max(np.where(below & (idx < i[..., None]), idx, -1), axis=-1)
    k = np.min(np.where(below & (idx > i[..., None]), idx, n), axis=-1)

    def cross(a, b):
        ya = np.take_along_axis(ys, np.clip(a, 0, n - 1)[..., None], -1)[..., 0]
        yb_ = np.take_along_axis(ys, np.clip(b, 0, n - 1)[..., None], -1)[..., 0]
        xa_, xb_ = xa[np.clip(a, 0, n - 1)], xa[np.clip(b, 0, n - 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return xa_ + (half - ya) * (xb_ - xa_) / (yb_ - ya)

    left = np.where(j >= 0, cross(j, j + 1), np.nan)
    right = np.where(k < n, cross(k - 1, k), np.nan)
    integral = np.trapezoid(yb, xa, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.trapezoid(yb * xa, xa, axis=-1) / integral
    base_at = np.take_along_axis(base, i[..., None], -1)[..., 0]
    return PLPeak(position, height, right - left, left, right, integral, centroid, base_at)


@dataclass(frozen=True, eq=False)
class PLComponents(ComponentFields):
    """Components of each spectrum, ``(..., k)`` ordered by increasing centre on the fitted axis:
    centres, widths (FWHM), areas, heights and shares of the summed area with standard errors; the
    fit's reduced χ² (or residual variance) and flag ``(...)``; ``fit`` is the underlying
    :class:`~perovscope.bulk.peak_fit.PeakFit` (in the fit's own component order); ``x`` and
    ``data`` are the axis (increasing, the window) and the spectra the fit saw."""

    order: np.ndarray
    fit: PeakFit
    x: np.ndarray
    data: np.ndarray


def _start_centres(y, x, fit1, skew_sign):
    """Per-spectrum start centres for ``k`` components from residuals of the previous fit."""
    centres = fit1.centre
    width = np.nanmean(fit1.fwhm)
    peaks, base = peak_components(fit1, x)
    resid = y - peaks.sum(axis=-2) - base
    mean_res = moving_mean(np.nanmean(resid.reshape(-1, x.size), axis=0), max(1, x.size // 100))
    mean_c = np.nanmean(centres.reshape(-1, centres.shape[-1]), axis=0)
    # the largest positive residual away from the centres already there
    far = np.min(np.abs(x[:, None] - mean_c[None, :]), axis=1) > 0.3 * width
    cand = np.where(far, mean_res, -np.inf)
    if np.isfinite(cand).any() and np.max(cand) > 0:
        offset = x[int(np.argmax(cand))] - mean_c[0]
    else:
        offset = skew_sign * 0.7 * width
    new = centres[..., :1] + offset
    return np.concatenate([centres, new], axis=-1)


def decompose_pl(spectra, x, *, n_components: int = 2, shape="gaussian", centres=None, fwhm=None,
                 baseline_order: int = 0, window=None, sigma=None, poisson: bool = False,
                 max_iter: int = 200, source: str | None = None) -> PLComponents:
    """Fit an emission band with ``n_components`` peaks; every component's share with its error.

    Parameters
    ----------
    spectra : array_like (..., n)
        PL spectra on the shared axis ``x`` (use :func:`to_energy_axis` first to decompose in energy).
    x : array_like (n,)
        The axis (either direction).
    n_components : int
        1, 2 or 3 peaks.
    shape : str or sequence of str
        ``"gaussian"``, ``"lorentzian"``, ``"pseudo_voigt"`` or ``"voigt"``, one for all or per peak.
    centres, fwhm : array_like (k,) or (..., k), optional
        Start centres and widths instead of the automatic ones (see the module docstring).
    baseline_order : int
        Polynomial baseline degree (0 = constant, -1 = none).
    window : (float, float), optional
        Fit only this range of ``x``.
    sigma : array_like (..., n), optional
        Standard deviations of the data (absolute errors).
    poisson : bool
        Maximum-likelihood fit of raw counts.
    max_iter : int
        Levenberg–Marquardt iteration limit.
    source : str, optional
        File name for error messages.

    Returns
    -------
    PLComponents
    """
    if n_components not in (1, 2, 3):
        raise InputError(f"n_components={n_components}: choose 1, 2 or 3")
    shapes = (shape,) * n_components if isinstance(shape, str) else tuple(shape)
    if len(shapes) != n_components:
        raise InputError(f"{len(shapes)} shapes given for {n_components} components")
    xa, y = ascending(x, spectra, name="x", min_points=3, source=source)
    y = as_spectra(y, xa.size, source=source)
    if sigma is not None:
        sigma = ascending(x, np.broadcast_to(np.asarray(sigma, float), np.shape(spectra)), name="x")[1]
    if window is not None:
        lo, hi = sorted(float(v) for v in window)
        sel = (xa >= lo) & (xa <= hi)
        xa, y = _window(xa, y, window, source)
        sigma = None if sigma is None else sigma[..., sel]
    n_par = sum(4 if s in ("voigt", "pseudo_voigt") else 3 for s in shapes) + baseline_order + 1
    check_min_points(xa.size, 2 * n_par, what=f"a {n_components}-component fit", source=source)
    common = dict(baseline_order=baseline_order, sigma=sigma, poisson=poisson, max_iter=max_iter)
    if centres is None:
        m = pl_peak(np.nanmean(y.reshape(-1, xa.size), axis=0), xa, smooth=max(1, xa.size // 200))
        width = float(m.fwhm) if np.isfinite(m.fwhm) else 0.2 * (xa[-1] - xa[0])
        skew = -1.0 if not np.isfinite(m.centroid) or m.centroid <= m.position else 1.0
        fit = fit_peaks(y, xa, centres=[float(m.position)], fwhm=[width], shape=shapes[0], **common)
        for k in range(2, n_components + 1):  # a loop over components; each fit is batched
            start = np.clip(_start_centres(y, xa, fit, skew), xa[0], xa[-1])
            prev = np.nanmean(fit.fwhm.reshape(-1, k - 1), axis=0)
            w0 = 0.8 * np.concatenate([np.where(np.isfinite(prev), prev, width), [width]])
            fit = fit_peaks(y, xa, centres=start, fwhm=w0, shape=shapes[:k], **common)
    else:
        fit = fit_peaks(y, xa, centres=centres, fwhm=fwhm, shape=shapes, **common)
    order = np.argsort(np.where(np.isfinite(fit.centre), fit.centre, np.inf), axis=-1)
    return PLComponents(**component_fields(fit, order), order=order, fit=fit, x=xa, data=y)


def components_and_residual(comp: PLComponents):
    """``(model (..., n), components (..., k, n) in centre order, baseline (..., n), residual (..., n))``
    on ``comp.x``, the axis of the fit."""
    peaks, base = peak_components(comp.fit, comp.x)
    peaks = np.take_along_axis(peaks, comp.order[..., :, None], axis=-2)
    model = peaks.sum(axis=-2) + base
    return model, peaks, base, comp.data - model
