"""Powder peaks: search, indexing, phase matching, Scherrer and Williamson–Hall sizes.

* :func:`find_peaks` — local maxima of the smoothed, background-subtracted pattern that stand
  ``min_snr`` standard deviations above the background, for a batch of patterns at once (results
  padded with NaN to the largest count).
* :func:`index_peaks` — each observed peak assigned to the nearest calculated line (phase, hkl,
  X-ray line) of a refinement, with Kβ leakage optionally considered.
* :func:`match_phases` — a figure of merit of candidate phases (built-in set or CIFs) against a peak
  list, allowing an isotropic cell scaling (search–match).
* :func:`scherrer_size`, :func:`williamson_hall`, :func:`profile_size_strain` — crystallite size
  and microstrain from line breadths [1]_ [2]_ or from the Lorentzian X, Y of a refinement [3]_.

References
----------
.. [1] P. Scherrer, Nachr. Ges. Wiss. Göttingen 26, 98 (1918); J. I. Langford and A. J. C. Wilson,
   "Scherrer after sixty years", J. Appl. Cryst. 11, 102 (1978) (K ≈ 0.89–0.94).
.. [2] G. K. Williamson and W. H. Hall, "X-ray line broadening from filed aluminium and wolfram",
   Acta Metall. 1, 22 (1953).
.. [3] R. A. Young (ed.), *The Rietveld Method*, IUCr/OUP (1993), ch. 7 (size and strain from the
   Lorentzian profile terms).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_axis

__all__ = ["PeakList", "find_peaks", "IndexedPeaks", "index_peaks", "PhaseMatch", "match_phases",
           "scherrer_size", "WilliamsonHall", "williamson_hall", "profile_size_strain"]


class PeakList(NamedTuple):
    """Peaks ``(..., k)`` (NaN-padded): 2θ (deg), net height, FWHM (deg), signal/noise; count ``(...)``."""

    two_theta: np.ndarray
    height: np.ndarray
    fwhm: np.ndarray
    snr: np.ndarray
    count: np.ndarray


def find_peaks(counts, two_theta, *, sigma=None, min_snr: float = 5.0, separation_deg: float = 0.06,
               background_window_deg: float = 3.0, max_peaks: int = 300) -> PeakList:
    """Peak search on one pattern or a batch ``(..., n)``.

    Parameters
    ----------
    counts : array_like (..., n)
    two_theta : array_like (n,)
        Strictly monotonic 2θ (deg).
    sigma : array_like (..., n), optional
        Standard deviations (default √max(counts, 1)); points with σ ≤ 0 cannot hold a peak.
    min_snr : float
        Net (smoothed) height over σ required.
    separation_deg : float
        Two maxima closer than this are one peak.
    background_window_deg : float
        Width of the moving-minimum background.
    max_peaks : int
        Most peaks kept per pattern (the most significant).
    """
    from scipy.ndimage import correlate1d, maximum_filter1d, median_filter, minimum_filter1d, uniform_filter1d

    x = check_axis(two_theta, name="two_theta", min_points=7)
    y = as_spectra(counts, x.size, name="counts")
    s = np.sqrt(np.maximum(y, 1.0)) if sigma is None else np.broadcast_to(np.asarray(sigma, float), y.shape)
    if x[0] > x[-1]:
        s = s[..., ::-1]
    x, y = ascending(x, y, name="two_theta", min_points=7)
    lead, n = y.shape[:-1], x.size
    yf = y.reshape(-1, n)
    sf = np.asarray(s, dtype=float).reshape(-1, n)
    good = np.isfinite(yf) & np.isfinite(sf) & (sf > 0)
    yf = np.where(good, yf, 0.0)
    step = float(np.median(np.diff(x)))
    # a moving median is an unbiased background where peaks cover less than half the window
    size = max(5, int(round(background_window_deg / step)) | 1)
    net = yf - uniform_filter1d(median_filter(yf, size=(1, size), mode="nearest"), size, axis=-1,
                                mode="nearest")
    win = max(5, int(round(separation_deg / step)) | 1)
    # Savitzky–Golay (quadratic) smoothing: the centre value of a least-squares parabola per window
    offsets = np.arange(win) - win // 2
    coef = np.linalg.pinv(np.vander(offsets, 3, increasing=True))[0]
    smooth = correlate1d(net, coef, axis=-1, mode="nearest")
    sig = np.where(good, sf, np.inf)
    snr = smooth / sig
    local = smooth >= maximum_filter1d(smooth, size=win, axis=-1, mode="nearest")
    # prominence: rise above the higher of the lowest points within 3 separations on either side
    reach = 3 * win
    left = minimum_filter1d(smooth, size=reach, origin=(reach - 1) // 2, axis=-1, mode="nearest")
    right = minimum_filter1d(smooth, size=reach, origin=-((reach - 1) // 2), axis=-1, mode="nearest")
    prominence = (smooth - np.maximum(left, right)) / sig
    is_peak = local & (snr > min_snr) & (prominence > min_snr)
    is_peak[:, :2] = is_peak[:, -2:] = False
    kmax = int(min(max_peaks, max(1, is_peak.sum(axis=1).max())))
    order = np.argsort(np.where(is_peak, -snr, np.inf), axis=1)[:, :kmax]
    found = np.take_along_axis(is_peak, order, axis=1)
    pos = np.sort(np.where(found, order, n + 1), axis=1)
    found = pos <= n
    i = np.minimum(pos, n - 2)
    rows = np.arange(yf.shape[0])[:, None]
    ym, y0, yp = smooth[rows, i - 1], smooth[rows, i], smooth[rows, i + 1]
    den = ym - 2.0 * y0 + yp
    off = np.where(den < 0, 0.5 * (ym - yp) / np.where(den < 0, den, -1.0), 0.0)
    centre = x[i] + np.clip(off, -1.0, 1.0) * step
    height = y0 - 0.125 * (ym - yp) * off
    fwhm = _half_width(smooth, x, i, height, reach=int(min(200, max(10, 1.0 / step))))
    nan = np.nan
    out = [np.where(found, v, nan) for v in (centre, height, fwhm, snr[rows, i])]
    count = found.sum(axis=1)
    return PeakList(*(v.reshape(lead + (kmax,)) for v in out), count.reshape(lead))


def _half_width(smooth, x, i, height, reach: int = 200):
    """FWHM from the half-maximum crossings of the smoothed net pattern around index ``i``."""
    n = x.size
    rows = np.arange(smooth.shape[0])[:, None, None]
    steps = np.arange(1, reach + 1)
    half = (height / 2.0)[..., None]
    widths = []
    for sign in (-1, 1):
        j = np.clip(i[..., None] + sign * steps, 0, n - 1)
        below = smooth[rows, j] < half
        first = np.argmax(below, axis=-1)
        hit = below.any(axis=-1)
        jb = np.take_along_axis(j, first[..., None], axis=-1)[..., 0]
        ja = np.clip(jb - sign, 0, n - 1)
        ya, yb = smooth[rows[..., 0], ja], smooth[rows[..., 0], jb]
        frac = (ya - half[..., 0]) / np.where(ya != yb, ya - yb, 1.0)
        xc = x[ja] + frac * (x[jb] - x[ja])
        widths.append(np.where(hit, xc, np.nan))
    return widths[1] - widths[0]


class IndexedPeaks(NamedTuple):
    """Assignment of observed peaks ``(k,)``: phase name, hkl, X-ray line, calculated 2θ, Δ2θ."""

    two_theta: np.ndarray
    phase: np.ndarray
    hkl: np.ndarray
    line: np.ndarray
    calculated: np.ndarray
    delta: np.ndarray
    indexed: np.ndarray


def index_peaks(peak_two_theta, refinement, *, pattern=(), tol_deg: float | None = None,
                kbeta_wavelength: float | None = None, min_relative: float = 1e-3) -> IndexedPeaks:
    """Assign observed peak positions to the lines of a refined pattern.

    Parameters
    ----------
    peak_two_theta : array_like (k,)
        Observed positions (NaN entries are skipped).
    refinement : XRDRefinement
        From :func:`perovscope.bulk.xrd.refine_pattern`.
    pattern : tuple of int
        Index of the pattern in a batched refinement.
    tol_deg : float, optional
        Largest |Δ2θ| accepted; default half the calculated FWHM (at least 0.03°).
    kbeta_wavelength : float, optional
        Also try the Kβ line (filter leakage) at this wavelength.
    min_relative : float
        Calculated lines weaker than this fraction of the strongest are not used.
    """
    from dataclasses import replace

    from .xrd_reflections import Radiation

    model = refinement.model
    p = np.asarray(refinement.params)[pattern].reshape(1, -1)
    rad = model.radiation
    labels = [("Kα1" if len(rad.wavelengths) > 1 else "λ"), "Kα2"][:len(rad.wavelengths)]
    if kbeta_wavelength is not None:
        rad = Radiation(rad.wavelengths + (float(kbeta_wavelength),), rad.ratios + (0.01,), rad.label)
        labels.append("Kβ")
        model = replace(model, radiation=rad)
    area, centre, fwhm, _, _, owner = model.peaks(p)
    area, centre, fwhm = area[0], centre[0], fwhm[0]
    phase_names, hkls, lines = [], [], []
    for i, refl in enumerate(model.reflections):
        lab = refl.labels()
        for li in range(len(rad.wavelengths)):
            phase_names += [model.phases[i].name] * len(lab)
            hkls += lab
            lines += [labels[li]] * len(lab)
    phase_names, hkls, lines = np.array(phase_names), np.array(hkls), np.array(lines)
    strong = area > min_relative * np.max(area) * np.where(lines == "Kβ", 0.01, 1.0)
    obs = np.asarray(peak_two_theta, dtype=float).ravel()
    obs = obs[np.isfinite(obs)]
    dist = np.abs(obs[:, None] - centre[None, :])
    dist = np.where(strong[None, :], dist, np.inf)
    best = np.argmin(dist, axis=1) if obs.size else np.zeros(0, int)
    d = dist[np.arange(obs.size), best] if obs.size else np.zeros(0)
    tol = np.maximum(0.5 * fwhm[best], 0.03) if tol_deg is None else np.full(obs.size, float(tol_deg))
    ok = d <= tol
    return IndexedPeaks(obs, np.where(ok, phase_names[best], ""), np.where(ok, hkls[best], ""),
                        np.where(ok, lines[best], ""), np.where(ok, centre[best], np.nan),
                        np.where(ok, obs - centre[best], np.nan), ok)


class PhaseMatch(NamedTuple):
    """Search–match figures of merit per candidate phase (sorted best first); ``explains`` holds,
    per candidate, which observed peaks lie on one of its lines (bool ``(k,)``)."""

    phase: tuple
    score: np.ndarray
    explained: np.ndarray
    found: np.ndarray
    strain: np.ndarray
    explains: tuple


def match_phases(peak_two_theta, peak_height, candidates=None, *, wavelength="CuKa1",
                 tol_deg: float = 0.08, strain: float = 0.01, min_intensity: float = 5.0,
                 exclude=None) -> PhaseMatch:
    """Rank candidate phases against an observed peak list.

    For each candidate (default: the built-in set) and each isotropic cell scaling within ±``strain``,
    ``found`` is the intensity-weighted fraction of its calculated lines (≥ ``min_intensity`` % of
    the strongest, first X-ray line) that have an observed peak within ``tol_deg``, and
    ``explained`` the height-weighted fraction of the observed peaks — leaving out those marked in
    ``exclude`` (already explained by a phase chosen before) — that lie near one of its lines (any
    X-ray line, e.g. Kα2); ``score = found × explained``.
    """
    from .xrd import reference_pattern
    from .xrd_phases import BUILTIN_PHASES, get_phase
    from .xrd_reflections import radiation

    obs = np.asarray(peak_two_theta, dtype=float).ravel()
    hgt = np.asarray(peak_height, dtype=float).ravel()
    keep = np.isfinite(obs) & np.isfinite(hgt)
    obs, hgt = obs[keep], np.maximum(hgt[keep], 0.0)
    if obs.size == 0:
        raise InputError("match_phases: the peak list is empty; lower min_snr in find_peaks")
    weight = hgt if exclude is None else np.where(np.asarray(exclude, bool).ravel()[keep], 0.0, hgt)
    rad = radiation(wavelength)
    cands = [get_phase(c) for c in (candidates or list(BUILTIN_PHASES.values()))]
    lo, hi = float(obs.min()) - 1.0, float(obs.max()) + 1.0
    scales = 1.0 + np.linspace(-strain, strain, 41)
    rows = []
    for ph in cands:
        ref = reference_pattern(ph, wavelength=rad.wavelengths[0], min_intensity=min_intensity,
                                two_theta_range=(max(lo, 1.0), min(hi, 170.0)))
        if ref.two_theta.size == 0:
            rows.append((ph.name, 0.0, 0.0, 0.0, 0.0, np.zeros(obs.size, bool)))
            continue
        sin1 = np.sin(np.radians(ref.two_theta / 2.0))[None, :] / scales[:, None]
        near_any = np.zeros((scales.size, obs.size), bool)
        for li, lam in enumerate(rad.wavelengths):
            sin_t = sin1 * lam / rad.wavelengths[0]
            tt = 2.0 * np.degrees(np.arcsin(np.minimum(sin_t, 1.0)))
            near = np.abs(tt[:, :, None] - obs[None, None, :]) <= tol_deg
            if li == 0:
                found = (near.any(axis=2) * ref.intensity).sum(axis=1) / ref.intensity.sum()
            near_any |= near.any(axis=1)
        explained = (near_any * weight).sum(axis=1) / max(weight.sum(), 1e-300)
        score = found * explained
        b = int(np.argmax(score))
        rows.append((ph.name, score[b], explained[b], found[b], scales[b] - 1.0, near_any[b]))
    rows.sort(key=lambda r: -r[1])
    full = [np.zeros(keep.size, bool) for _ in rows]
    for f, r in zip(full, rows, strict=True):
        f[keep] = r[5]
    return PhaseMatch(tuple(r[0] for r in rows), *(np.array([r[k] for r in rows]) for k in range(1, 5)),
                      tuple(full))


def _breadth_rad(breadth_deg, instrumental_deg, shape):
    b = np.radians(np.asarray(breadth_deg, dtype=float))
    if instrumental_deg is None:
        return b
    bi = np.radians(np.asarray(instrumental_deg, dtype=float))
    if shape == "gaussian":
        return np.sqrt(np.where(b > bi, b * b - bi * bi, np.nan))
    if shape == "lorentzian":
        return np.where(b > bi, b - bi, np.nan)
    raise InputError(f"shape must be 'gaussian' or 'lorentzian' (instrument correction), got {shape!r}")


def scherrer_size(fwhm_deg, two_theta_deg, wavelength: float, *, k: float = 0.9, instrumental_deg=None,
                  shape: str = "gaussian"):
    """Scherrer crystallite size ``D = Kλ/(β cos θ)`` in nm (arrays broadcast).

    ``fwhm_deg`` is the line breadth in degrees 2θ; ``instrumental_deg`` (same units) is removed in
    quadrature (``shape="gaussian"``) or linearly (``"lorentzian"``); ``wavelength`` in Å.
    """
    if not wavelength > 0:
        raise InputError(f"wavelength must be > 0 Å, got {wavelength!r}")
    beta = _breadth_rad(fwhm_deg, instrumental_deg, shape)
    theta = np.radians(np.asarray(two_theta_deg, dtype=float) / 2.0)
    if np.any(~(beta > 0)):
        raise InputError("line breadths must be > 0 and larger than the instrumental breadth")
    return k * wavelength / (beta * np.cos(theta)) / 10.0


class WilliamsonHall(NamedTuple):
    """``β cos θ = Kλ/D + 4ε sin θ`` fitted over lines: size (nm), microstrain ε, errors, R² ``(...)``."""

    size: np.ndarray
    size_std: np.ndarray
    strain: np.ndarray
    strain_std: np.ndarray
    intercept: np.ndarray
    slope: np.ndarray
    r2: np.ndarray


def williamson_hall(two_theta_deg, breadth_deg, wavelength: float, *, k: float = 0.9,
                    instrumental_deg=None, shape: str = "lorentzian") -> WilliamsonHall:
    """Williamson–Hall analysis of line breadths ``(..., m)`` at positions ``(..., m)`` (deg 2θ).

    NaN lines are ignored; at least three lines are needed. A non-positive intercept (broadening
    all strain) gives an infinite size.
    """
    tt = np.asarray(two_theta_deg, dtype=float)
    beta = _breadth_rad(breadth_deg, instrumental_deg, shape)
    tt, beta = np.broadcast_arrays(tt, beta)
    th = np.radians(tt / 2.0)
    xv, yv = 4.0 * np.sin(th), beta * np.cos(th)
    ok = np.isfinite(xv) & np.isfinite(yv)
    nl = ok.sum(axis=-1)
    if np.any(nl < 3):
        raise InputError(f"williamson_hall needs at least 3 lines with finite breadths, got {int(nl.min())}")
    xz, yz = np.where(ok, xv, 0.0), np.where(ok, yv, 0.0)
    mx, my = xz.sum(-1) / nl, yz.sum(-1) / nl
    dx, dy = np.where(ok, xv - mx[..., None], 0.0), np.where(ok, yv - my[..., None], 0.0)
    sxx, sxy, syy = (dx * dx).sum(-1), (dx * dy).sum(-1), (dy * dy).sum(-1)
    slope = sxy / sxx
    icpt = my - slope * mx
    resid = ((dy - slope[..., None] * dx) ** 2 * ok).sum(-1)
    s2 = resid / np.maximum(nl - 2, 1)
    slope_sd = np.sqrt(s2 / sxx)
    icpt_sd = np.sqrt(s2 * (1.0 / nl + mx * mx / sxx))
    size = np.where(icpt > 0, k * wavelength / np.where(icpt > 0, icpt, 1.0) / 10.0, np.inf)
    size_sd = np.where(icpt > 0, size * icpt_sd / np.abs(icpt), np.nan)
    r2 = np.where(syy > 0, 1.0 - resid / np.where(syy > 0, syy, 1.0), 1.0)
    return WilliamsonHall(size, size_sd, slope, slope_sd, icpt, slope, r2)


def profile_size_strain(x_deg, y_deg, wavelength: float, *, k: float = 0.9, instrument_xy=(0.0, 0.0)):
    """Size (nm) and microstrain from the Lorentzian terms ``Γ_L = X/cos θ + Y tan θ`` of a refinement.

    ``D = (180/π) Kλ / (X − X₀)`` and ``ε = (π/180)(Y − Y₀)/4`` (X, Y in degrees 2θ; X₀, Y₀ of the
    instrument, e.g. from a LaB₆ refinement).
    """
    xs = np.asarray(x_deg, dtype=float) - instrument_xy[0]
    ys = np.asarray(y_deg, dtype=float) - instrument_xy[1]
    size = np.where(xs > 0, (180.0 / np.pi) * k * wavelength / np.where(xs > 0, xs, 1.0) / 10.0, np.inf)
    return size, (np.pi / 180.0) * ys / 4.0
