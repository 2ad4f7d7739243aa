"""Thermogravimetric analysis: mass normalisation, the derivative curve (DTG), mass-loss steps and
proximate analysis.

All functions take a shared time axis ``(n,)`` (s, increasing), a shared temperature ``(n,)`` (°C;
NaN allowed where the instrument did not record it) and masses ``(..., n)`` — one trace or a series.

* :func:`normalise_mass`: as recorded, % of the initial or of the maximum mass, or min–max
  (``100 (m − m_min)/(m_max − m_min)``: the heaviest point is 100 %, the final residue 0 %, which
  removes a buoyancy offset and drift at the cost of forcing the ash to zero).
* :func:`dtg`: ``−dm/dt`` (%/min) from a Savitzky–Golay derivative, and ``−dm/dT`` (%/K) where the
  temperature is ramping.
* :func:`find_steps` / :func:`mass_loss_steps`: each peak of the DTG is a step, bounded where the DTG
  falls to a small fraction of its peak (or at the DTG minimum between two steps); the mass loss is the
  mass at the start minus the mass at the end, the *inflection* the DTG maximum, and the extrapolated
  *onset*/*endset* where the tangent at the inflection meets the levels before and after the step
  (ISO 11358-1).
* :func:`proximate_analysis`: moisture (mass lost by the end of the drying hold), volatile matter
  and fixed carbon (dry basis) and ash, from the masses at two times (ASTM D7582 / E1131).

References
----------
.. [1] ISO 11358-1:2022, Plastics — Thermogravimetry (TG) of polymers — Part 1: General principles.
.. [2] ASTM E1131-20, Standard Test Method for Compositional Analysis by Thermogravimetry.
.. [3] ASTM D7582-15, Standard Test Methods for Proximate Analysis of Coal and Coke by Macro
   Thermogravimetric Analysis.
.. [4] A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by simplified least
   squares procedures", Anal. Chem. 36, 1627 (1964).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.signal import savgol_filter

from ..errors import InputError
from ._checks import as_spectra, check_axis

__all__ = ["NORMALISATIONS", "normalise_mass", "DTG", "dtg", "find_steps", "TGASteps", "mass_loss_steps",
           "Proximate", "proximate_analysis", "mass_at", "mass_loss_steps_dataset"]

NORMALISATIONS = ("none", "initial", "max", "minmax")


def _axes(time_s, mass, temperature=None):
    t = check_axis(time_s, name="time", min_points=10)
    if t[0] > t[-1]:
        raise InputError("time must increase along the trace")
    m = as_spectra(mass, t.size, name="mass")
    temp = None
    if temperature is not None:
        temp = np.asarray(temperature, dtype=float)
        if temp.shape != t.shape:
            raise InputError(f"temperature has {temp.size} points, time {t.size}")
    return t, m, temp


def normalise_mass(mass, *, method: str = "initial"):
    """Masses ``(..., n)`` in % by ``method`` (see the module notes); NaN points are ignored."""
    if method not in NORMALISATIONS:
        raise InputError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, got {method!r}")
    m = np.asarray(mass, dtype=float)
    if method == "none":
        return m.copy()
    if method == "initial":
        first = np.argmax(np.isfinite(m), axis=-1)
        ref = np.take_along_axis(m, first[..., None], axis=-1)
        return 100.0 * m / ref
    hi = np.nanmax(m, axis=-1, keepdims=True)
    if method == "max":
        return 100.0 * m / hi
    lo = np.nanmin(m, axis=-1, keepdims=True)
    return 100.0 * (m - lo) / np.where(hi > lo, hi - lo, np.nan)


def _fill(m):
    """NaN gaps filled by the nearest earlier value (then later), so that derivatives stay finite."""
    out = m.copy()
    bad = ~np.isfinite(out)
    if not bad.any():
        return out
    idx = np.where(~bad, np.arange(out.shape[-1]), 0)
    np.maximum.accumulate(idx, axis=-1, out=idx)
    out = np.take_along_axis(out, idx, axis=-1)
    still = ~np.isfinite(out)
    if still.any():
        first = np.argmax(np.isfinite(out), axis=-1)
        out = np.where(still, np.take_along_axis(out, first[..., None], axis=-1), out)
    return out


class DTG(NamedTuple):
    """``per_minute``: −dm/dt (%/min or mass units/min); ``per_kelvin``: −dm/dT (NaN where isothermal)."""

    per_minute: np.ndarray
    per_kelvin: np.ndarray


def dtg(time_s, mass, *, temperature=None, smooth_s: float = 60.0) -> DTG:
    """Derivative thermogravimetry, batched (positive for a mass loss).

    Parameters
    ----------
    time_s : array_like (n,)
        Time (s), increasing.
    mass : array_like (..., n)
        Mass (%, mg).
    temperature : array_like (n,), optional
        Temperature (°C) for −dm/dT.
    smooth_s : float
        Savitzky–Golay window (s, quadratic).
    """
    t, m, temp = _axes(time_s, mass, temperature)
    dt = float(np.median(np.diff(t)))
    win = max(5, int(round(smooth_s / dt)) | 1)
    mf = _fill(m)
    ms = savgol_filter(mf, win, 2, axis=-1) if win < t.size else mf
    rate = -np.gradient(ms, t, axis=-1) * 60.0
    per_k = np.full_like(rate, np.nan)
    if temp is not None:
        tf = _fill(temp[None, :])[0]
        ts = savgol_filter(tf, win, 2) if win < t.size else tf
        dTdt = np.gradient(ts, t) * 60.0
        ramp = np.abs(dTdt) > 0.1
        per_k = np.where(ramp, rate / np.where(ramp, dTdt, 1.0), np.nan)
    return DTG(rate, per_k)


def find_steps(time_s, mass, *, smooth_s: float = 60.0, min_loss: float = 0.5,
               edge_fraction: float = 0.02, tail_fraction: float = 0.001) -> list[tuple[float, float]]:
    """Time windows ``(start_s, end_s)`` of the mass-loss steps of a trace (a batch is averaged first).

    A step is a contiguous run where the DTG exceeds ``edge_fraction`` of its largest value (and five
    times its noise): overlapping processes (a shoulder on a peak) form one step, plateaus separate
    steps. Runs closer than ``smooth_s`` are merged, then each is widened into its tails.

    Parameters
    ----------
    min_loss : float
        Steps losing less than this (mass units, % for % data) are dropped.
    edge_fraction : float
        Level, relative to the largest DTG value, that finds the steps.
    tail_fraction : float
        Each step is then widened down to this fraction of its own DTG peak (or three times the DTG
        noise), towards its neighbours, while the DTG keeps falling.
    """
    t, m, _ = _axes(time_s, mass)
    mean = _fill(np.nanmean(m.reshape(-1, t.size), axis=0)[None, :])[0]
    rate = dtg(t, mean, smooth_s=smooth_s).per_minute
    noise = 1.4826 * np.median(np.abs(rate - np.median(rate)))
    level = max(edge_fraction * float(np.max(rate)), 5.0 * noise, 1e-12)
    above = np.concatenate([[False], rate > level, [False]])
    starts = np.flatnonzero(~above[:-1] & above[1:])
    stops = np.flatnonzero(above[:-1] & ~above[1:])
    runs: list[list[int]] = []
    for a, b in zip(starts, stops, strict=False):
        if runs and t[a] - t[runs[-1][1] - 1] < smooth_s:
            runs[-1][1] = b
        else:
            runs.append([int(a), int(b)])
    # each run is widened until the DTG falls to a small fraction of its own peak (the tails of a
    # small step lie below the common level), stopping at the neighbouring runs
    windows = []
    for k, (a, b) in enumerate(runs):
        floor = max(tail_fraction * float(np.max(rate[a:b])), 3.0 * noise)
        lo_lim = runs[k - 1][1] if k > 0 else 0
        hi_lim = runs[k + 1][0] - 1 if k + 1 < len(runs) else t.size - 1
        lo, hi = max(a - 1, lo_lim), min(b, hi_lim)
        while lo > lo_lim and rate[lo - 1] > floor and rate[lo - 1] <= rate[lo] * 1.5:
            lo -= 1
        while hi < hi_lim and rate[hi + 1] > floor and rate[hi + 1] <= rate[hi] * 1.5:
            hi += 1
        if mean[lo] - mean[hi] >= min_loss:
            windows.append((float(t[lo]), float(t[hi])))
    return windows


def mass_at(time_s, mass, when_s):
    """Masses ``(..., k)`` interpolated at times ``when_s`` (k,), batched."""
    t = np.asarray(time_s, dtype=float)
    m = _fill(np.asarray(mass, dtype=float))
    w = np.atleast_1d(np.asarray(when_s, dtype=float))
    if np.any((w < t[0]) | (w > t[-1])):
        raise InputError(f"times {w[(w < t[0]) | (w > t[-1])]} s lie outside the trace "
                         f"({t[0]:g}–{t[-1]:g} s)")
    i = np.clip(np.searchsorted(t, w) - 1, 0, t.size - 2)
    f = (w - t[i]) / (t[i + 1] - t[i])
    return m[..., i] * (1 - f) + m[..., i + 1] * f


def _vertex(t, y, i, half):
    """Vertex of the parabola fitted to ``y[row, i-half:i+half+1]`` (batched): (position, height)."""
    n = t.size
    offs = np.arange(-half, half + 1)
    idx = np.clip(i[:, None] + offs[None, :], 0, n - 1)
    x = t[idx] - t[i][:, None]
    yy = np.take_along_axis(y, idx, axis=1)
    design = np.stack([np.ones_like(x), x, x * x], axis=-1)
    coef = np.linalg.solve(np.einsum("nki,nkj->nij", design, design) + 1e-300 * np.eye(3),
                           np.einsum("nki,nk->ni", design, yy)[:, :, None])[:, :, 0]
    a, b, c = coef.T
    ok = (c < 0) & (i > 0) & (i < n - 1)
    shift = np.where(ok, -b / (2 * np.where(ok, c, -1.0)), 0.0)
    shift = np.clip(shift, x[:, 0], x[:, -1])
    return t[i] + shift, np.where(ok, a + b * shift + c * shift * shift, y[np.arange(y.shape[0]), i])


def _interp_rows(t, m, when):
    i = np.clip(np.searchsorted(t, when) - 1, 0, t.size - 2)
    f = (when - t[i]) / (t[i + 1] - t[i])
    rows = np.arange(m.shape[0])
    return m[rows, i] * (1 - f) + m[rows, i + 1] * f


class TGASteps(NamedTuple):
    """Mass-loss steps; fields ``(..., k)``: ``start_s``, ``end_s``, ``mass_start``, ``mass_end``,
    ``mass_loss`` (mass units), ``inflection_s``, ``inflection_C``, ``onset_C``, ``endset_C``,
    ``dtg_peak`` (per minute)."""

    start_s: np.ndarray
    end_s: np.ndarray
    mass_start: np.ndarray
    mass_end: np.ndarray
    mass_loss: np.ndarray
    inflection_s: np.ndarray
    inflection_C: np.ndarray
    onset_C: np.ndarray
    endset_C: np.ndarray
    dtg_peak: np.ndarray


def _temperature_at(t, temp, when):
    if temp is None:
        return np.full(np.shape(when), np.nan)
    ok = np.isfinite(temp)
    return np.interp(when, t[ok], temp[ok], left=np.nan, right=np.nan)


def mass_loss_steps(time_s, mass, *, temperature=None, windows=None, smooth_s: float = 60.0,
                    min_loss: float = 0.5) -> TGASteps:
    """Mass loss, inflection, onset and endset of each step, batched over traces.

    Parameters
    ----------
    time_s : array_like (n,)
        Time (s), increasing.
    mass : array_like (..., n)
        Mass (% or mg).
    temperature : array_like (n,), optional
        Temperature (°C) for the characteristic temperatures.
    windows : sequence of (start_s, end_s), optional
        Step windows in time; found by :func:`find_steps` when omitted.
    smooth_s, min_loss : float
        As in :func:`find_steps`.
    """
    t, m, temp = _axes(time_s, mass, temperature)
    wins = find_steps(t, m, smooth_s=smooth_s, min_loss=min_loss) if windows is None else list(windows)
    lead = m.shape[:-1]
    mf = m.reshape(-1, t.size)
    if not wins:
        empty = np.zeros(lead + (0,))
        return TGASteps(*([empty] * len(TGASteps._fields)))
    rate = dtg(t, mf, smooth_s=smooth_s).per_minute
    ms = _fill(mf)
    half = max(2, int(round(smooth_s / (2 * float(np.median(np.diff(t)))))))
    out = {k: [] for k in TGASteps._fields}
    for a, b in wins:
        if not a < b:
            raise InputError(f"step window {a:g}–{b:g} s must have start < end")
        sel = np.flatnonzero((t >= a) & (t <= b))
        if sel.size < 3:
            raise InputError(f"step window {a:g}–{b:g} s holds {sel.size} points; widen it")
        m0, m1 = mass_at(t, ms, [a, b]).T
        ipk = sel[np.argmax(rate[:, sel], axis=1)]
        t_pk, r_pk = _vertex(t, rate, ipk, half)
        m_pk = _interp_rows(t, ms, t_pk)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_on = t_pk - (m0 - m_pk) / (r_pk / 60.0)
            t_end = t_pk + (m_pk - m1) / (r_pk / 60.0)
        vals = dict(start_s=np.full_like(m0, a), end_s=np.full_like(m0, b), mass_start=m0, mass_end=m1,
                    mass_loss=m0 - m1, inflection_s=t_pk, inflection_C=_temperature_at(t, temp, t_pk),
                    onset_C=_temperature_at(t, temp, t_on), endset_C=_temperature_at(t, temp, t_end),
                    dtg_peak=r_pk)
        for k, v in vals.items():
            out[k].append(v)
    return TGASteps(*(np.stack(out[k], axis=-1).reshape(lead + (len(wins),)) for k in TGASteps._fields))


class Proximate(NamedTuple):
    """Proximate analysis in % (fields ``(...)``): ``moisture`` (as received), ``volatile_dry``,
    ``fixed_carbon_dry``, ``ash_dry``, and ``volatile`` (as received)."""

    moisture: np.ndarray
    volatile_dry: np.ndarray
    fixed_carbon_dry: np.ndarray
    ash_dry: np.ndarray
    volatile: np.ndarray


def proximate_analysis(time_s, mass, *, moisture_end_s: float, volatile_end_s: float,
                       method: str = "none", ash=None) -> Proximate:
    """Moisture, volatile matter, fixed carbon and ash from a TGA trace.

    Parameters
    ----------
    time_s : array_like (n,)
        Time (s), increasing.
    mass : array_like (..., n)
        Mass; normalised by ``method`` (:func:`normalise_mass`) so that 100 % is the sample as received.
    moisture_end_s : float
        End of the drying hold: moisture = 100 − m(moisture_end).
    volatile_end_s : float
        End of the inert-gas devolatilisation (before the switch to air): volatiles =
        m(moisture_end) − m(volatile_end).
    method : str
        Normalisation; ``"minmax"`` reproduces analyses that set the final residue to 0 %.
    ash : float or array_like, optional
        Ash (% as received); default: the final mass of the trace.

    Returns
    -------
    Proximate
        Dry basis = divided by the dry mass ``m(moisture_end)``; fixed carbon by difference.
    """
    t, m, _ = _axes(time_s, mass)
    if not moisture_end_s < volatile_end_s:
        raise InputError(f"moisture end ({moisture_end_s:g} s) must come before the volatile end "
                         f"({volatile_end_s:g} s)")
    pct = normalise_mass(m, method=method)
    dry, devol = np.moveaxis(mass_at(t, pct, [moisture_end_s, volatile_end_s]), -1, 0)
    if ash is None:
        last = np.argmax(np.isfinite(pct[..., ::-1]), axis=-1)
        ash_ar = np.take_along_axis(pct, (t.size - 1 - last)[..., None], axis=-1)[..., 0]
    else:
        ash_ar = np.broadcast_to(np.asarray(ash, dtype=float), dry.shape)
    moisture = 100.0 - dry
    volatile = dry - devol
    fixed = devol - ash_ar
    return Proximate(moisture, 100.0 * volatile / dry, 100.0 * fixed / dry, 100.0 * ash_ar / dry, volatile)


def mass_loss_steps_dataset(mass, *, dim: str = "time", temperature: str | None = "temperature", **kwargs):
    """Labelled :func:`mass_loss_steps`: a mass DataArray over ``dim`` (s) -> a Dataset over ``step``.

    ``temperature`` names a coordinate along ``dim`` (°C) used for the characteristic temperatures.
    Leading dimensions and their coordinates are kept; every variable has ``attrs["units"]``.
    """
    import xarray as xr

    if dim not in mass.dims:
        raise InputError(f"mass has no {dim!r} dimension (dims: {mass.dims}); pass dim=")
    da = mass.transpose(..., dim)
    temp = np.asarray(da[temperature].values, dtype=float) if temperature in da.coords else None
    res = mass_loss_steps(np.asarray(da[dim].values, dtype=float), da.values, temperature=temp, **kwargs)
    lead = da.dims[:-1]
    mu = str(da.attrs.get("units", "%"))
    units = {"start_s": "s", "end_s": "s", "inflection_s": "s", "inflection_C": "degC", "onset_C": "degC",
             "endset_C": "degC", "dtg_peak": f"{mu}/min"}
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    data = {k: xr.DataArray(np.asarray(getattr(res, k)), dims=lead + ("step",),
                            attrs={"units": units.get(k, mu)}) for k in res._fields}
    return xr.Dataset(data, coords=coords)
