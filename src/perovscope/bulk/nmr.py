"""1-D NMR spectra: integrals over chemical-shift limits, peak picking, line fits and chemical shifts.

:func:`integrate_regions` sums (or integrates by the trapezoid rule) every spectrum of a batch over
named ppm limits at once, from cumulative sums: each limit is mapped to its nearest point and the
points between them, both included, are summed — the integral of NMRPipe/nmrglue practice (its
``limits.in``/``area.out`` example), in intensity × points; ``method="trapezoid"`` gives
intensity × ppm, the area of a line. :func:`pick_nmr_peaks` finds the maxima of the mean spectrum
(parabolic sub-point positions); :func:`fit_nmr_peaks` fits Lorentzian (or other) lines with the
batched multi-peak fit and reports shifts in ppm with widths in ppm and Hz.

References
----------
.. [1] F. Delaglio et al., J. Biomol. NMR 6, 277 (1995) (NMRPipe).
.. [2] J. J. Helmus and C. P. Jaroniec, J. Biomol. NMR 55, 355 (2013) (nmrglue).
.. [3] R. K. Harris et al., "NMR nomenclature: nuclear spin properties and conventions for chemical
   shifts (IUPAC Recommendations 2001)", Pure Appl. Chem. 73, 1795 (2001).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, check_axis
from .peak_fit import PeakFit, fit_peaks, peak_components
from .raman import Peaks, pick_peaks

__all__ = ["integrate_regions", "limit_indices", "pick_nmr_peaks", "fit_nmr_peaks", "NMRFit", "METHODS"]

#: Integration rules of :func:`integrate_regions`.
METHODS = ("sum", "trapezoid")


def limit_indices(ppm, limits) -> np.ndarray:
    """Nearest-point indices ``(k, 2)`` (low index first) of ppm limits ``(k, 2)`` on the axis ``ppm``."""
    axis = check_axis(ppm, name="ppm", min_points=2)
    lim = np.asarray(limits, dtype=float)
    if lim.ndim == 1 and lim.size == 2:
        lim = lim[None, :]
    if lim.ndim != 2 or lim.shape[1] != 2:
        raise InputError(f"limits must be (start, stop) pairs in ppm, got shape {lim.shape}")
    lo, hi = min(axis[0], axis[-1]), max(axis[0], axis[-1])
    outside = (lim < lo - 1e-9) | (lim > hi + 1e-9)
    if np.any(outside):
        i = int(np.flatnonzero(outside.any(axis=1))[0])
        raise InputError(f"limits {lim[i].tolist()} ppm lie outside the spectrum ({lo:g}–{hi:g} ppm)")
    order = np.argsort(axis)
    pos = np.searchsorted(axis[order], lim)
    left = np.clip(pos - 1, 0, axis.size - 1)
    right = np.clip(pos, 0, axis.size - 1)
    pick = np.where(np.abs(axis[order][right] - lim) < np.abs(axis[order][left] - lim), right, left)
    idx = order[pick]
    return np.sort(idx, axis=1)


def integrate_regions(spectra, ppm, limits, *, method: str = "sum") -> np.ndarray:
    """Integrals of every spectrum over every ppm region, ``(..., k)``.

    Parameters
    ----------
    spectra : array_like (..., n)
        Spectra sharing the chemical-shift axis.
    ppm : array_like (n,)
        Chemical shifts (ppm), either direction (NMR axes decrease).
    limits : array_like (k, 2)
        ``(start, stop)`` ppm of each region, either order.
    method : {"sum", "trapezoid"}
        ``"sum"``: sum of the points from the point nearest ``start`` to the one nearest ``stop``,
        both included (intensity × points); ``"trapezoid"``: trapezoid rule between the same points
        (intensity × ppm).

    Returns
    -------
    numpy.ndarray (..., k)
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    axis = check_axis(ppm, name="ppm", min_points=2)
    y = as_spectra(spectra, axis.size)
    idx = limit_indices(axis, limits)
    i0, i1 = idx[:, 0], idx[:, 1]
    if method == "sum":
        cum = np.concatenate([np.zeros(y.shape[:-1] + (1,)), np.cumsum(y, axis=-1)], axis=-1)
        return cum[..., i1 + 1] - cum[..., i0]
    seg = 0.5 * (y[..., 1:] + y[..., :-1]) * np.abs(np.diff(axis))
    cum = np.concatenate([np.zeros(y.shape[:-1] + (1,)), np.cumsum(seg, axis=-1)], axis=-1)
    return cum[..., i1] - cum[..., i0]


def pick_nmr_peaks(
    spectra,
    ppm,
    *,
    threshold: float | None = None,
    min_separation_ppm: float | None = None,
    max_peaks: int | None = None,
) -> Peaks:
    """Maxima of the mean spectrum above ``threshold`` prominence (default 5 × the noise σ), in ppm."""
    return pick_peaks(
        spectra, ppm, prominence=threshold, min_distance=min_separation_ppm, max_peaks=max_peaks
    )


class NMRFit(NamedTuple):
    """Line fit: shift (ppm) ± std, FWHM in ppm and Hz ± std, area (intensity × ppm) ± std, height,
    share ``(..., k)``; ``redchi``/``flag`` ``(...)``; ``ppm (m,)`` increasing, with ``data``,
    ``fitted`` and ``components``."""

    shift: np.ndarray
    shift_std: np.ndarray
    fwhm_ppm: np.ndarray
    fwhm_ppm_std: np.ndarray
    fwhm_hz: np.ndarray
    fwhm_hz_std: np.ndarray
    area: np.ndarray
    area_std: np.ndarray
    height: np.ndarray
    share: np.ndarray
    redchi: np.ndarray
    flag: np.ndarray
    ppm: np.ndarray
    data: np.ndarray
    fitted: np.ndarray
    components: np.ndarray
    peak_fit: PeakFit


def fit_nmr_peaks(
    spectra,
    ppm,
    *,
    centres,
    observe_mhz: float | None = None,
    shape="lorentzian",
    fwhm=None,
    region=None,
    baseline_order: int = 0,
    ties=(),
    centre_range=None,
    max_iter: int = 200,
) -> NMRFit:
    """Fit lines at start shifts ``centres`` (ppm) to every spectrum at once.

    Parameters
    ----------
    spectra : array_like (..., n)
    ppm : array_like (n,)
        Chemical shifts, either direction.
    centres : array_like (k,)
        Start shifts (ppm).
    observe_mhz : float, optional
        Observe frequency (MHz) to express widths in Hz (``Δν = Δδ · ν₀``).
    shape : str or sequence of str
        Line shapes; Lorentzian (liquids) by default, Gaussian/pseudo-Voigt/Voigt for solids (MAS).
    fwhm : float or array_like (k,), optional
        Start widths (ppm).
    region : (lo, hi), optional
        ppm range fitted.
    baseline_order : int
        Polynomial baseline fitted with the lines (−1 for none).
    ties, centre_range, max_iter
        As for :func:`perovscope.bulk.peak_fit.fit_peaks`.

    Returns
    -------
    NMRFit
    """
    axis = check_axis(ppm, name="ppm", min_points=5)
    y = as_spectra(spectra, axis.size)
    if region is not None:
        lo, hi = sorted(float(v) for v in region)
        sel = (axis >= lo) & (axis <= hi)
        if sel.sum() < 6:
            raise InputError(f"region {lo:g}–{hi:g} ppm holds {int(sel.sum())} points")
        axis, y = axis[sel], y[..., sel]
    if axis[0] > axis[-1]:
        axis, y = axis[::-1].copy(), y[..., ::-1]
    fit = fit_peaks(
        y,
        axis,
        centres=centres,
        shape=shape,
        fwhm=fwhm,
        baseline_order=baseline_order,
        ties=ties,
        centre_range=centre_range,
        max_iter=max_iter,
    )
    mhz = np.nan if observe_mhz is None else float(observe_mhz)
    if observe_mhz is not None and not mhz > 0:
        raise InputError(f"observe_mhz must be > 0, got {observe_mhz!r}")
    comps, base = peak_components(fit, axis)
    return NMRFit(
        fit.centre,
        fit.centre_std,
        fit.fwhm,
        fit.fwhm_std,
        fit.fwhm * mhz,
        fit.fwhm_std * mhz,
        fit.area,
        fit.area_std,
        fit.height,
        fit.share,
        fit.redchi,
        fit.flag,
        axis,
        y,
        base + comps.sum(axis=-2),
        comps,
        fit,
    )
