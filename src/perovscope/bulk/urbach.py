"""Urbach energy from an exponential tail, ln(signal) against photon energy, with the range reported.

Below a band edge the absorption falls exponentially, ``α ∝ exp((E − E₀)/E_U)`` (Urbach 1953), and
the low-energy side of a photoluminescence band shows the same kind of tail. On a log scale the tail
is a straight line of slope ``1/E_U``. For PL the fitted slope gives the apparent tail energy; with
``temperature_K`` the van Roosbroeck–Shockley relation ``I ∝ α·E²·exp(−E/kT)`` is inverted first
(``ln(I/E²) + E/kT`` is fitted), which gives the Urbach energy of the absorption tail itself.

The range is chosen automatically unless ``window`` is given. Candidate windows run between the
nodes of a grid of ``nodes`` channels, on the tail side of the spectrum (below the PL maximum; below
the point where the smoothed absorption reaches half its rise) and above the noise (signal above three
times the local noise level, from second differences). Each window gets a weighted line in ``ln y``
(weights ``(y/σ)²``, errors scaled by the scatter of the residuals, so only relative noise levels
matter), and so do its first and last thirds; a window is straight when both thirds have the slope of
the whole to within ``tolerance`` (2 %) plus twice their standard errors, their slopes are determined
to 25 %, and the slope is positive at more than 5σ. A PL tail is the bottom of the band, so a window
must start within two grid steps of where the signal first rises out of the noise (the low end of the
run of significant channels below the maximum); an absorption tail is the steep part of ln α, so its
slope must reach half the largest local slope of ln α on the rise (from 10 % to 50 % of the
absorption's rise; above the gap ln α flattens, below the tail the sub-gap background flattens it).
The noise level is at least the digitisation step/√12 (absorbance written with three decimals).
Of the straight windows the longest is kept; where none is straight (a Gaussian wing reaching the
noise, say) the result is NaN with ``found`` False.

References
----------
.. [1] F. Urbach, "The long-wavelength edge of photographic sensitivity and of the electronic
   absorption of solids", Phys. Rev. 92, 1324 (1953).
.. [2] W. van Roosbroeck and W. Shockley, "Photon-radiative recombination of electrons and holes in
   germanium", Phys. Rev. 94, 1558 (1954).
.. [3] S. De Wolf, J. Holovsky, S.-J. Moon et al., "Organometallic halide perovskites: sharp optical
   absorption edge and its relation to photovoltaic performance", J. Phys. Chem. Lett. 5, 1035 (2014).
.. [4] M. Ledinsky, T. Schönfeldová, J. Holovský et al., "Temperature dependence of the Urbach energy
   in lead iodide perovskites", J. Phys. Chem. Lett. 10, 1368 (2019).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_axis_kind, check_min_points, check_positive
from .uvvis_lines import (
    _prefix,
    _take,
    first_index,
    line_fit,
    local_slope,
    moving_mean,
    noise_sigma,
    run_around,
)

__all__ = ["UrbachFit", "urbach_energy", "K_B_EV"]

#: Boltzmann constant in eV/K (CODATA 2018).
K_B_EV = 8.617333262e-5


class UrbachFit(NamedTuple):
    """Urbach fit of each spectrum ``(...)``: ``energy`` E_U (eV) with its standard error, the window
    ``e_lo..e_hi`` (eV) and its points, the line ``ln y = slope·E + intercept``, the e-folds spanned,
    and ``found`` (False where no straight window exists: NaN values)."""

    energy: np.ndarray
    energy_std: np.ndarray
    e_lo: np.ndarray
    e_hi: np.ndarray
    n_points: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    e_folds: np.ndarray
    found: np.ndarray


def _candidates(n: int, nodes: int, min_points: int):
    grid = np.unique(np.round(np.linspace(0, n - 1, min(nodes, n))).astype(int))
    lo, hi = np.meshgrid(grid, grid, indexing="ij")
    keep = (hi - lo + 1) >= min_points
    return lo[keep], hi[keep]


def _choose(e, z, w, valid, lo_c, hi_c, tolerance: float, min_slope=None, floor=None, chunk: int = 256):
    """Best straight window per spectrum (index into the candidates, -1 where none), in blocks."""
    n = e.size
    flat_z, flat_w = z.reshape(-1, n), w.reshape(-1, n)
    flat_bad = (~valid).reshape(-1, n).astype(float)
    best = np.full(flat_z.shape[0], -1)
    third = np.maximum((hi_c - lo_c + 1) // 3, 3)
    for start in range(0, flat_z.shape[0], chunk):  # blocks of spectra bound the memory
        sl = slice(start, start + chunk)
        zb, wb = flat_z[sl], flat_w[sl]
        shape = (zb.shape[0], lo_c.size)
        lo, hi = np.broadcast_to(lo_c, shape), np.broadcast_to(hi_c, shape)
        clean = _take(_prefix(flat_bad[sl]), lo, hi) == 0
        full = line_fit(e, zb, lo, hi, weights=wb)
        birge = full.chi2 / np.maximum(full.n - 2, 1)
        s = full.slope
        s_sd = np.sqrt(np.maximum(full.slope_var * birge, 0.0))
        ok = clean & (s > 0) & (s > 5.0 * s_sd)
        if floor is not None:  # a PL tail starts where the signal leaves the noise
            ok &= lo <= floor.reshape(-1)[sl, None]
        if min_slope is not None:
            ok &= s >= min_slope.reshape(-1)[sl, None]
        for part_lo, part_hi in ((lo, lo + third - 1), (hi - third + 1, hi)):
            part = line_fit(e, zb, part_lo, part_hi, weights=wb)
            p_sd = np.sqrt(np.maximum(part.slope_var * part.chi2 / np.maximum(part.n - 2, 1), 0.0))
            ok &= (np.abs(part.slope - s) <= tolerance * s + 2.0 * p_sd) & (p_sd <= 0.25 * s)
        score = np.where(ok, e[hi] - e[lo], -np.inf)
        pick = np.argmax(score, axis=-1)
        found = np.isfinite(np.take_along_axis(score, pick[:, None], axis=-1)[:, 0])
        best[sl] = np.where(found, pick, -1)
    return best.reshape(z.shape[:-1])


def urbach_energy(signal, energy, *, units: str | None = None, kind: str = "pl", window=None,
                  temperature_K: float | None = None, background=None, nodes: int = 48, min_points: int = 6,
                  tolerance: float = 0.02, half: int | None = None, source: str | None = None) -> UrbachFit:
    """Urbach (tail) energy of every spectrum of a batch from a straight line in ln(signal) vs E.

    Parameters
    ----------
    signal : array_like (..., n)
        PL intensity (per unit energy) or absorption (α or absorbance) on the shared axis ``energy``.
    energy : array_like (n,)
        Photon energy in eV (either direction).
    units : str, optional
        Units of the axis; a wavelength unit raises (convert a PL spectrum with
        :func:`perovscope.bulk.pl.to_energy_axis`, which applies the Jacobian).
    kind : {"pl", "absorption"}
        Where the tail is sought: below the PL maximum, or below the half-rise of the absorption.
    window : (float, float), optional
        Fit range in eV instead of the automatic choice; every value inside must be positive.
    temperature_K : float, optional
        PL only: invert the van Roosbroeck–Shockley relation at this temperature.
    background : float, array_like (...) or "auto", optional
        Level subtracted before the logarithm (a dark-count offset bends the tail). ``"auto"``
        (PL only) takes the mean of the highest-energy 5 % of the channels, where the band has
        fallen to the background.
    nodes : int
        Grid of candidate window ends (more: finer ranges, slower).
    min_points : int
        Fewest channels in a window.
    tolerance : float
        A window is straight when the slopes of its first and last thirds agree with its own slope
        to within this fraction (plus twice their standard errors).
    half : int, optional
        Smoothing half-width (channels) used to find the maximum and the local noise.
    source : str, optional
        File name for error messages.

    Returns
    -------
    UrbachFit
    """
    check_axis_kind(units, required="energy", name="energy", source=source)
    if kind not in ("pl", "absorption"):
        raise InputError(f"kind={kind!r}: choose 'pl' or 'absorption'")
    if temperature_K is not None and not temperature_K > 0:
        raise InputError(f"temperature_K={temperature_K}: must be positive (kelvin)")
    e, y = ascending(energy, signal, name="energy", min_points=3, source=source)
    y = as_spectra(y, e.size, name="signal", source=source)
    check_min_points(e.size, max(min_points, 3), what="an Urbach fit", source=source)
    n = e.size
    half = int(max(2, round(n / 100))) if half is None else int(half)
    idx = np.arange(n)
    if isinstance(background, str):
        if background != "auto" or kind != "pl":
            raise InputError(f"background={background!r}: give a number, or 'auto' for a PL spectrum")
        background = np.mean(y[..., -max(3, n // 20):], axis=-1)
    if background is not None:
        y = y - np.asarray(background, dtype=float)[..., None]

    def transform(v):
        z = np.log(v)
        if temperature_K is not None and kind == "pl":
            z = z - 2.0 * np.log(e) + e / (K_B_EV * temperature_K)
        return z

    if window is not None:
        lo_e, hi_e = sorted(float(v) for v in window)
        inside = np.flatnonzero((e >= lo_e) & (e <= hi_e))
        if inside.size < min_points:
            raise InputError(f"Urbach window {lo_e:g}–{hi_e:g} eV holds {inside.size} points; "
                             f"at least {min_points} are needed")
        check_positive(y[..., inside], name="signal in the Urbach window", source=source)
        lo = np.full(y.shape[:-1], inside[0])
        hi = np.full(y.shape[:-1], inside[-1])
        z = transform(np.where(y > 0, y, 1.0))
        fit = line_fit(e, z, lo, hi)
        found = np.ones(y.shape[:-1], dtype=bool)
    else:
        if not np.any(y > 0):
            raise InputError(f"{source + ': ' if source else ''}the signal has no positive values; "
                             "an Urbach tail needs a logarithm of the signal")
        sm = moving_mean(y, half)
        i_max = np.argmax(sm, axis=-1)
        if kind == "pl":
            upper = i_max
        else:
            below = idx <= i_max[..., None]
            base = np.min(np.where(below, sm, np.inf), axis=-1)
            rise = sm.max(axis=-1) - base
            upper = first_index(below & (sm >= (base + 0.5 * rise)[..., None]), default=n - 1)
            edge_lo = first_index(below & (sm >= (base + 0.1 * rise)[..., None]), default=0)
        peak = np.take_along_axis(sm, i_max[..., None], axis=-1)
        step = np.diff(y, axis=-1)
        quantum = np.min(np.where(step != 0, np.abs(step), np.inf), axis=-1, keepdims=True)  # digitisation
        quantum = np.where(np.isfinite(quantum), quantum, 0.0)
        floor_sigma = np.maximum(1e-4 * np.abs(peak), quantum / np.sqrt(12))
        sigma = np.maximum(noise_sigma(y, half=max(5, 2 * half)), floor_sigma)
        valid = (y > 3.0 * sigma) & (idx <= upper[..., None])
        z = transform(np.where(y > 0, y, 1.0))
        w = np.where(valid, (y / sigma) ** 2, 0.0)
        lo_c, hi_c = _candidates(n, nodes, min_points)
        min_slope = None
        if kind == "absorption":  # the tail is the steep part: above the gap ln α flattens
            steep = np.nan_to_num(local_slope(e, z, 2 * half), nan=-np.inf)
            edge = valid & (idx >= edge_lo[..., None])  # the rise, not the noisy sub-gap floor
            min_slope = 0.5 * np.max(np.where(edge, steep, -np.inf), axis=-1)
        floor = None
        if kind == "pl":
            run_lo, _ = run_around(valid, np.minimum(upper, n - 1))
            floor = run_lo + max(min_points, int(np.ceil(2 * n / nodes)))
        pick = _choose(e, z, w, valid, lo_c, hi_c, tolerance, min_slope, floor)
        found = pick >= 0
        lo = np.where(found, lo_c[np.maximum(pick, 0)], 0)
        hi = np.where(found, hi_c[np.maximum(pick, 0)], min_points - 1)
        fit = line_fit(e, z, lo, hi, weights=np.where(w > 0, w, 1e-300))
        birge = np.maximum(fit.chi2 / np.maximum(fit.n - 2, 1), 1.0)
        fit = fit._replace(slope_var=fit.slope_var * birge)
    slope = np.where(found, fit.slope, np.nan)
    eu = 1.0 / slope
    eu_std = np.sqrt(np.maximum(fit.slope_var, 0.0)) / slope**2
    nan = np.where(found, 1.0, np.nan)
    return UrbachFit(eu, eu_std, e[lo] * nan, e[hi] * nan, np.where(found, fit.n, 0), slope,
                     fit.intercept * nan, slope * (e[hi] - e[lo]), found)
