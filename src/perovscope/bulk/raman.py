"""Raman and FTIR bands: baseline, multi-peak fits with uncertainties, band shifts across a series.

:func:`fit_bands` removes a baseline (:mod:`.baselines`: a polynomial through band-free windows,
AsLS/arPLS, or a polynomial fitted together with the bands) and fits ``k`` Gaussian, Lorentzian,
pseudo-Voigt or Voigt bands to every spectrum of a batch at once with the batched
Levenberg–Marquardt fit of :func:`perovscope.bulk.peak_fit.fit_peaks` (centres, FWHM, areas,
heights and area shares with standard errors from the covariance matrix, scaled by the residual
variance when no σ is given). :func:`band_shifts` gives each band's shift from a reference spectrum
with its error; :func:`shift_trend` the slope of the centres against a series coordinate
(temperature, pressure, composition, ageing time) by weighted least squares. :func:`pick_peaks`
finds the maxima of the mean spectrum (start values, FTIR peak tables); :func:`to_absorbance`
turns a transmittance into an absorbance ``A = −log₁₀ T``.

Labelled versions (:func:`fit_bands_dataarray`, :func:`band_table`) live in :mod:`.raman_xr`.

References
----------
.. [1] D. W. Marquardt, "An algorithm for least-squares estimation of nonlinear parameters",
   J. Soc. Ind. Appl. Math. 11, 431 (1963).
.. [2] C. Le Losq, D. R. Neuville, P. Florian, G. S. Henderson and D. Massiot, "The role of Al³⁺ on
   rheology and structural changes in sodium silicate and aluminosilicate glasses and melts",
   Geochim. Cosmochim. Acta 126, 495 (2014) (Gaussian deconvolution of silicate-glass Raman bands).
.. [3] P. R. Bevington and D. K. Robinson, Data Reduction and Error Analysis for the Physical
   Sciences, 3rd ed., McGraw-Hill (2003), §6 (weighted straight-line fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_min_points, check_positive
from .baselines import als_baseline, polynomial_baseline
from .components import ComponentFields, component_fields
from .peak_fit import PeakFit, fit_peaks, peak_components

__all__ = [
    "BandFit",
    "fit_bands",
    "band_shifts",
    "shift_trend",
    "pick_peaks",
    "Peaks",
    "to_absorbance",
    "BASELINES",
]

#: Baseline methods of :func:`fit_bands`.
BASELINES = ("poly", "als", "arpls", "fit", "none")


@dataclass(frozen=True, eq=False)
class BandFit(ComponentFields):
    """Result of :func:`fit_bands`: band fields ``(..., k)``, ``redchi``/``flag`` ``(...)``.

    ``x (m,)`` is the fitted range (increasing); ``data``, ``baseline``, ``fitted`` ``(..., m)`` the
    spectra there, the baseline removed before the fit (plus any fitted polynomial) and the whole
    model; ``components (..., k, m)`` each band; ``peak_fit`` the full :class:`PeakFit`.
    """

    x: np.ndarray
    data: np.ndarray
    baseline: np.ndarray
    fitted: np.ndarray
    components: np.ndarray
    peak_fit: PeakFit


def _range_mask(x, fit_range):
    if fit_range is None:
        return np.ones(x.size, dtype=bool)
    lo, hi = sorted(float(v) for v in fit_range)
    mask = (x >= lo) & (x <= hi)
    if not mask.any():
        raise InputError(f"fit_range {lo:g}–{hi:g} lies outside the axis {x[0]:g}–{x[-1]:g}")
    return mask


def _baseline(y, x, mask, method, order, windows, lam, p):
    if method == "poly":
        if windows is None:  # the ends of the fitted range
            return polynomial_baseline(y[..., mask], x[mask], order=order).baseline, mask
        return polynomial_baseline(y, x, order=order, windows=windows).baseline[..., mask], mask
    if method in ("als", "arpls"):
        return als_baseline(y, x, lam=lam, p=p, method="asls" if method == "als" else "arpls").baseline[
            ..., mask
        ], mask
    return np.zeros(y.shape[:-1] + (int(mask.sum()),)), mask


def fit_bands(
    spectra,
    x,
    *,
    centres,
    shape="gaussian",
    fwhm=None,
    fit_range=None,
    baseline: str = "poly",
    order: int = 2,
    windows=None,
    lam: float = 1e5,
    p: float = 0.01,
    centre_range=None,
    ties=(),
    weights=None,
    max_iter: int = 200,
) -> BandFit:
    """Baseline-correct and fit ``k`` bands to every spectrum of a batch at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        Raman or IR spectra sharing the axis ``x`` (a series, a map).
    x : array_like (n,)
        Wavenumbers (cm⁻¹), either direction.
    centres : array_like (k,) or (..., k)
        Start centres of the bands.
    shape : str or sequence of str
        ``"gaussian"``, ``"lorentzian"``, ``"pseudo_voigt"`` or ``"voigt"``, one or one per band.
    fwhm : float or array_like (k,), optional
        Start widths; default from the half-maximum widths of the mean spectrum.
    fit_range : (lo, hi), optional
        Wavenumbers fitted (default: all).
    baseline : {"poly", "als", "arpls", "fit", "none"}
        ``"poly"``: a polynomial of ``order`` through ``windows`` (default: the ends of the fit range);
        ``"als"``/``"arpls"``: Whittaker baselines (``lam``, ``p``) on the whole axis; ``"fit"``: a
        polynomial of ``order`` fitted together with the bands; ``"none"``.
    order : int
        Degree of the baseline polynomial.
    windows : sequence of (lo, hi), optional
        Band-free regions for ``"poly"``.
    lam, p : float
        ALS smoothness and asymmetry.
    centre_range : float, optional
        Keep each centre within ± this of its start.
    ties : sequence of :class:`~perovscope.bulk.peak_fit.Tie`
        Constraints between bands (equal widths, fixed positions...).
    weights : None, "poisson" or array_like (..., n)
        ``None``: unweighted least squares; ``"poisson"``: σ = √max(counts, 1) of the recorded
        (not baseline-corrected) counts; or σ per channel.
    max_iter : int
        Levenberg–Marquardt iteration limit.

    Returns
    -------
    BandFit
    """
    if baseline not in BASELINES:
        raise InputError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    xa, y = ascending(x, spectra, name="wavenumber", min_points=5)
    y = as_spectra(y, xa.size)
    flipped = np.asarray(x, dtype=float)[0] > np.asarray(x, dtype=float)[-1]
    if not np.all(np.isfinite(y)):
        raise InputError("spectra hold NaN/inf values; drop or interpolate them before fitting bands")
    mask = _range_mask(xa, fit_range)
    check_min_points(int(mask.sum()), 6, what="a band fit")
    base, mask = _baseline(y, xa, mask, baseline, order, windows, lam, p)
    data = y[..., mask]
    corrected = data - base
    sigma = None
    if isinstance(weights, str):
        if weights != "poisson":
            raise InputError(f"weights must be None, 'poisson' or an array, got {weights!r}")
        sigma = np.sqrt(np.maximum(np.abs(data), 1.0))
    elif weights is not None:
        sigma = np.asarray(weights, dtype=float)
        sigma = (sigma[..., ::-1] if flipped else sigma)[..., mask]
        check_positive(sigma, name="weights (σ)", why="residuals are divided by σ")
    fit = fit_peaks(
        corrected,
        xa[mask],
        centres=centres,
        shape=shape,
        fwhm=fwhm,
        baseline_order=order if baseline == "fit" else -1,
        ties=ties,
        centre_range=centre_range,
        sigma=sigma,
        max_iter=max_iter,
    )
    comps, inner = peak_components(fit, xa[mask])
    total_base = base + inner
    return BandFit(
        **component_fields(fit),
        x=xa[mask],
        data=data,
        baseline=total_base,
        fitted=total_base + comps.sum(axis=-2),
        components=comps,
        peak_fit=fit,
    )


def band_shifts(centre, centre_std=None, *, reference=0):
    """Shift of every band from a reference spectrum of the series, with its standard error.

    Parameters
    ----------
    centre : array_like (N, ..., k)
        Fitted centres along a series (first axis).
    centre_std : array_like (N, ..., k), optional
        Their standard errors (independent spectra: errors add in quadrature).
    reference : int or array_like (..., k)
        Index of the reference spectrum along the first axis, or reference positions (exact).

    Returns
    -------
    shift, shift_std : numpy.ndarray (N, ..., k)
    """
    c = np.asarray(centre, dtype=float)
    s = np.zeros_like(c) if centre_std is None else np.asarray(centre_std, dtype=float)
    if c.ndim < 2:
        raise InputError("centre must be (N, ..., k): a series of spectra along the first axis")
    if np.ndim(reference) == 0 and isinstance(reference, (int, np.integer)):
        if not -c.shape[0] <= reference < c.shape[0]:
            raise InputError(f"reference index {reference} outside the series of {c.shape[0]} spectra")
        ref, ref_s = c[reference], s[reference]
        shift_std = np.sqrt(s**2 + ref_s**2)
        shift_std[reference] = 0.0
    else:
        ref = np.asarray(reference, dtype=float)
        shift_std = s.copy()
    return c - ref, shift_std


def shift_trend(centre, coordinate, centre_std=None):
    """Slope and intercept of band centres against a series coordinate (weighted least squares).

    Parameters
    ----------
    centre : array_like (N, ..., k)
        Fitted centres along a series (first axis).
    coordinate : array_like (N,)
        The series variable (temperature, pressure, time, x in a composition series).
    centre_std : array_like (N, ..., k), optional
        Standard errors: weights 1/σ² and absolute slope errors; without them the errors come from
        the scatter about the line.

    Returns
    -------
    slope, slope_std, intercept, intercept_std : numpy.ndarray (..., k)
    """
    c = np.asarray(centre, dtype=float)
    t = np.asarray(coordinate, dtype=float)
    if c.ndim < 2 or t.shape != c.shape[:1]:
        raise InputError(
            f"coordinate must have one value per spectrum ({c.shape[0] if c.ndim else 0}), "
            f"got shape {t.shape}"
        )
    check_min_points(t.size, 3, what="a shift trend (slope and intercept with errors)")
    tt = t.reshape((-1,) + (1,) * (c.ndim - 1))
    if centre_std is None:
        w = np.ones_like(c)
    else:
        s = check_positive(centre_std, name="centre_std", why="weights 1/σ² are formed")
        w = 1.0 / s**2
    sw, st, sy = w.sum(0), (w * tt).sum(0), (w * c).sum(0)
    stt, sty = (w * tt * tt).sum(0), (w * tt * c).sum(0)
    det = sw * stt - st**2
    if np.any(det <= 0):
        raise InputError("the series coordinate takes a single value; a trend needs several")
    slope = (sw * sty - st * sy) / det
    intercept = (stt * sy - st * sty) / det
    var_slope, var_icpt = sw / det, stt / det
    if centre_std is None:  # scale by the residual variance
        resid = c - (intercept + slope * tt)
        s2 = (resid**2).sum(0) / (t.size - 2)
        var_slope, var_icpt = var_slope * s2, var_icpt * s2
    return slope, np.sqrt(var_slope), intercept, np.sqrt(var_icpt)


class Peaks(NamedTuple):
    """Maxima of a (mean) spectrum: positions (parabolic interpolation), heights, prominences, indices."""

    position: np.ndarray
    height: np.ndarray
    prominence: np.ndarray
    index: np.ndarray


def pick_peaks(
    spectra,
    x,
    *,
    prominence: float | None = None,
    min_distance: float | None = None,
    max_peaks: int | None = None,
) -> Peaks:
    """Maxima of the mean of ``spectra`` above a prominence threshold, sorted along ``x``.

    Parameters
    ----------
    spectra : array_like (..., n)
        One spectrum or a batch (its mean is searched).
    x : array_like (n,)
        Abscissa, either direction (positions are returned in its units).
    prominence : float, optional
        Least prominence; default 5 × the noise σ estimated from the median absolute second
        difference of the mean spectrum.
    min_distance : float, optional
        Least separation of two peaks, in ``x`` units.
    max_peaks : int, optional
        Keep only the most prominent.

    Returns
    -------
    Peaks
    """
    from scipy.signal import find_peaks

    xa = np.asarray(x, dtype=float)
    xs, y = ascending(xa, spectra, name="x", min_points=5)
    mean = np.nanmean(np.asarray(y, dtype=float).reshape(-1, xs.size), axis=0)
    if prominence is None:
        d2 = np.diff(mean, 2)
        noise = 1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0)
        prominence = 5.0 * noise if noise > 0 else 1e-12 * np.nanmax(np.abs(mean))
    dx = float(np.median(np.diff(xs)))
    distance = None if min_distance is None else max(1, int(round(min_distance / dx)))
    idx, props = find_peaks(mean, prominence=prominence, distance=distance)
    if max_peaks is not None and idx.size > max_peaks:
        keep = np.sort(np.argsort(props["prominences"])[::-1][:max_peaks])
        idx, prom = idx[keep], props["prominences"][keep]
    else:
        prom = props["prominences"]
    inner = np.clip(idx, 1, xs.size - 2)
    ym, y0, yp = mean[inner - 1], mean[inner], mean[inner + 1]
    den = ym - 2 * y0 + yp
    off = np.where(den < 0, 0.5 * (ym - yp) / np.where(den == 0, -1.0, den), 0.0)
    pos = xs[inner] + off * dx
    height = y0 - 0.25 * (ym - yp) * off
    return Peaks(pos, height, prom, idx if xa[0] < xa[-1] else xs.size - 1 - idx)


def to_absorbance(values, *, percent: bool | None = None):
    """Absorbance ``A = −log₁₀ T`` of a transmittance (fraction, or percent when ``percent``/max > 1.5)."""
    t = np.asarray(values, dtype=float)
    if percent is None:
        percent = bool(np.nanmax(t) > 1.5)
    t = t / 100.0 if percent else t
    t = check_positive(t, name="transmittance", why="the absorbance −log10(T) is taken")
    return -np.log10(t)
