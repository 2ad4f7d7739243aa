"""DSC peaks (melting, crystallisation, solid–solid transitions) and the automatic search for events.

:func:`dsc_peaks` integrates each peak window of a batch of traces above a chosen baseline:

* ``"linear"``: the straight line between the window's end points (each the mean of a few points);
* ``"sigmoidal"``: the baseline moves from the extrapolated pre-peak line to the post-peak line in
  proportion to the fraction of the peak area already passed, iterated to self-consistency — the
  usual choice when the heat capacity changes across the transition [1]_ [2]_.

With the signal ``s = ±(HF − baseline)`` (positive for the chosen direction; an endotherm points down
when the instrument plots exotherms up), the *peak* is the maximum of ``s`` (parabolic refinement),
the *onset* the extrapolated onset — where the tangent at the steepest point of the leading edge
crosses the baseline — and the *endset* the same on the trailing edge (leading in time: the
high-temperature side of a cooling scan). The area ``∫ s dt`` (mW·s = mJ)
uses the time axis when given, otherwise ``dT/β``; divided by the sample mass (mg) it is the specific
enthalpy in J/g.

:func:`find_events` proposes windows for glass transitions and peaks from one trace: the derivative
dHF/dT is split into lobes that rise above its noise; a lobe followed by an opposite lobe of similar
area is a peak, a lone lobe is a step (a glass transition).

References
----------
.. [1] G. W. H. Höhne, W. F. Hemminger and H.-J. Flammersheim, Differential Scanning Calorimetry, 2nd
   ed., Springer (2003), §5.3 (baselines, characteristic temperatures).
.. [2] ISO 11357-3:2018, Plastics — DSC — Part 3: Determination of temperature and enthalpy of melting
   and crystallization.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.signal import savgol_filter

from ..errors import InputError
from ._checks import as_spectra, ascending, check_min_points
from .dsc import parse_windows

__all__ = ["DSCPeaks", "dsc_peaks", "find_events", "Event", "BASELINES"]

BASELINES = ("linear", "sigmoidal")


class DSCPeaks(NamedTuple):
    """Peaks; every field ``(..., k)`` for ``k`` windows.

    ``onset``, ``peak``, ``endset`` (°C), ``height`` (heat-flow units, above the baseline), ``area``
    (mJ with mW and a time axis; heat-flow × s otherwise), ``enthalpy`` (J/g; NaN without a mass).
    """

    onset: np.ndarray
    peak: np.ndarray
    endset: np.ndarray
    height: np.ndarray
    area: np.ndarray
    enthalpy: np.ndarray


def _smooth(y, points: int):
    win = max(5, int(points) | 1)
    if win >= y.shape[-1]:
        return y
    return savgol_filter(y, win, 2, axis=-1)


def _baseline(tw, yw, sign, kind: str, anchor: int, iterations: int = 6):
    n = tw.size
    if kind == "linear":
        t0, t1 = tw[:anchor].mean(), tw[-anchor:].mean()
        y0, y1 = yw[:, :anchor].mean(axis=1), yw[:, -anchor:].mean(axis=1)
        slope = (y1 - y0) / (t1 - t0)
        return y0[:, None] + slope[:, None] * (tw - t0)
    edge = max(anchor, n // 10)
    lines = []
    for sl in (slice(0, edge), slice(n - edge, n)):
        design = np.stack([np.ones(edge), tw[sl] - tw.mean()], axis=1)
        coef = np.linalg.lstsq(design, yw[:, sl].T, rcond=None)[0]
        lines.append(coef[0][:, None] + coef[1][:, None] * (tw - tw.mean()))
    pre, post = lines
    base = pre + (post - pre) * np.linspace(0.0, 1.0, n)
    for _ in range(iterations):
        s = np.clip(sign * (yw - base), 0.0, None)
        cum = np.concatenate([np.zeros((s.shape[0], 1)),
                              np.cumsum(0.5 * (s[:, 1:] + s[:, :-1]) * np.diff(tw), axis=1)], axis=1)
        total = cum[:, -1:]
        frac = np.where(total > 0, cum / np.where(total > 0, total, 1.0), np.linspace(0.0, 1.0, n))
        base = pre + (post - pre) * frac
    return base


def dsc_peaks(temperature, heat_flow, *, windows, time_s=None, heating_rate_K_per_min=None,
              mass_mg=None, direction: str = "endo", exotherm: str = "up", baseline: str = "linear",
              smooth_points: int | None = None, source: str | None = None) -> DSCPeaks:
    """Onset, peak, endset and enthalpy of DSC peaks, batched over traces sharing a temperature axis.

    Parameters
    ----------
    temperature : array_like (n,)
        Temperature of one scan (°C), monotonic in either direction.
    heat_flow : array_like (..., n)
        Heat flow (mW for mJ and J/g).
    windows : sequence of (lo, hi)
        One window per peak, reaching the flat baseline on both sides.
    time_s : array_like (n,), optional
        Time of each point (s) for the area; else ``heating_rate_K_per_min`` converts dT to dt.
    mass_mg : float, optional
        Sample mass for the enthalpy in J/g.
    direction : {"endo", "exo"}
        Which peaks: endotherms (melting) or exotherms (crystallisation).
    exotherm : {"up", "down"}
        The instrument's sign convention (TA ``Exotherm Up``).
    baseline : {"linear", "sigmoidal"}
        Baseline under the peak.
    smooth_points : int, optional
        Savitzky–Golay window for the tangents (default 1 % of the window's points, at least 5).

    Returns
    -------
    DSCPeaks

    Raises
    ------
    InputError
        Bad axis, unknown options, a window with fewer than 10 points, or neither time nor rate.
    """
    if direction not in ("endo", "exo") or exotherm not in ("up", "down"):
        raise InputError(f"direction must be endo|exo and exotherm up|down, got {direction!r}, {exotherm!r}")
    if baseline not in BASELINES:
        raise InputError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    order_t = np.asarray(temperature, dtype=float)
    t, hf = ascending(order_t, heat_flow, name="temperature", min_points=10, source=source)
    hf = as_spectra(hf, t.size, name="heat_flow", source=source)
    flipped = order_t[0] > order_t[-1]
    if time_s is not None:
        tm = np.asarray(time_s, dtype=float)
        if tm.shape != t.shape:
            raise InputError(f"time_s has {tm.size} points, temperature {t.size}")
        tm = tm[::-1] if flipped else tm
    elif heating_rate_K_per_min:
        tm = t * 60.0 / abs(heating_rate_K_per_min)
    else:
        raise InputError("a peak area needs the time axis (time_s) or the heating rate (--rate K/min)")
    sign = 1.0 if (direction == "exo") == (exotherm == "up") else -1.0
    wins = parse_windows(windows)
    if not wins:
        raise InputError("dsc_peaks needs at least one temperature window (lo, hi), e.g. --peak 30:45")
    lead = hf.shape[:-1]
    y = hf.reshape(-1, t.size)
    rows = np.arange(y.shape[0])
    out = {k: [] for k in DSCPeaks._fields}
    for lo, hi in wins:
        sel = (t >= lo) & (t <= hi)
        check_min_points(int(sel.sum()), 10, what=f"the peak window {lo:g}–{hi:g} °C", source=source)
        tw, yw, tt = t[sel], y[:, sel], np.abs(tm[sel] - tm[sel][0])
        m = tw.size
        anchor = max(3, m // 100)
        base = _baseline(tw, yw, sign, baseline, anchor)
        s = sign * (yw - base)
        ss = _smooth(s, smooth_points or max(5, m // 100))
        ipk = np.argmax(ss, axis=1)
        ipk_c = np.clip(ipk, 1, m - 2)
        y0, y1, y2 = ss[rows, ipk_c - 1], ss[rows, ipk_c], ss[rows, ipk_c + 1]
        den = y0 - 2 * y1 + y2
        shift = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
        tpk = np.interp(ipk_c + np.clip(shift, -1, 1), np.arange(m), tw)
        height = np.where(den < 0, y1 - 0.25 * (y0 - y2) * shift, y1)
        deriv = np.gradient(ss, tw, axis=1)
        idx = np.arange(m)[None, :]
        lead_i = np.argmax(np.where(idx < ipk[:, None], deriv, -np.inf), axis=1)
        trail_i = np.argmin(np.where(idx > ipk[:, None], deriv, np.inf), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            onset = tw[lead_i] - ss[rows, lead_i] / deriv[rows, lead_i]
            endset = tw[trail_i] - ss[rows, trail_i] / deriv[rows, trail_i]
        onset = np.where(ipk > 0, onset, np.nan)
        endset = np.where(ipk < m - 1, endset, np.nan)
        if flipped:  # a cooling scan starts on the high-temperature side
            onset, endset = endset, onset
        area = np.sum(0.5 * (s[:, 1:] + s[:, :-1]) * np.diff(tt), axis=1)
        enthalpy = area / mass_mg if mass_mg else np.full_like(area, np.nan)
        for key, val in (("onset", onset), ("peak", tpk), ("endset", endset), ("height", height),
                         ("area", area), ("enthalpy", enthalpy)):
            out[key].append(val)
    return DSCPeaks(*(np.stack(out[k], axis=-1).reshape(lead + (len(wins),)) for k in DSCPeaks._fields))


class Event(NamedTuple):
    """A proposed window: ``kind`` is ``"glass_transition"``, ``"endotherm"`` or ``"exotherm"``."""

    kind: str
    lo: float
    hi: float


def _lobes(d, thr):
    """Contiguous runs where |d| > thr: list of (start, stop, sign)."""
    state = np.where(d > thr, 1, np.where(d < -thr, -1, 0))
    edges = np.flatnonzero(np.diff(state)) + 1
    bounds = np.concatenate([[0], edges, [state.size]])
    return [(int(a), int(b), int(state[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            if state[a] != 0]


def find_events(temperature, heat_flow, *, exotherm: str = "up", smooth_K: float | None = None,
                threshold: float = 8.0, min_step_fraction: float = 0.02) -> list[Event]:
    """Propose windows for the glass transitions and peaks of one DSC trace (see the module notes).

    Parameters
    ----------
    temperature : array_like (n,)
        Temperature (°C), monotonic.
    heat_flow : array_like (n,) or (..., n)
        One trace (a batch is averaged first).
    exotherm : {"up", "down"}
        Sign convention, to name peaks endo/exo and keep only endothermic steps as glass transitions.
    smooth_K : float, optional
        Smoothing span (K) before the derivative is taken; default 1/200 of the scan's range, at
        least 1 K (glass transitions and melting peaks are several K wide).
    threshold : float
        Lobes must exceed the median derivative by this many robust standard deviations.
    min_step_fraction : float
        Steps smaller than this fraction of the trace's heat-flow range are ignored.
    """
    t, hf = ascending(temperature, heat_flow, name="temperature", min_points=20)
    y = np.asarray(hf, dtype=float).reshape(-1, t.size).mean(axis=0)
    dt = np.median(np.diff(t))
    if smooth_K is None:
        smooth_K = max(1.0, float(t[-1] - t[0]) / 200.0)
    pts = max(5, int(round(smooth_K / max(dt, 1e-12))))
    ys = _smooth(y[None, :], pts)[0]
    d = np.gradient(ys, t)
    med = np.median(d)
    mad = 1.4826 * np.median(np.abs(d - med)) + 1e-300
    lobes = _lobes(d - med, threshold * mad)
    # merge lobes of one sign separated by short gaps
    merged: list[list[int]] = []
    for a, b, sgn in lobes:
        if merged and merged[-1][2] == sgn and a - merged[-1][1] <= pts:
            merged[-1][1] = b
        else:
            merged.append([a, b, sgn])
    area = [float(np.trapezoid(d[a:b] - med, t[a:b])) if b - a > 1 else 0.0 for a, b, _ in merged]
    span = float(np.ptp(ys)) + 1e-300
    endo_sign = -1 if exotherm == "up" else 1
    events, used, i = [], set(), 0
    while i < len(merged):
        a, b, sgn = merged[i]
        if i + 1 < len(merged):
            a2, b2, sgn2 = merged[i + 1]
            ratio = abs(area[i + 1]) / (abs(area[i]) + 1e-300)
            if sgn2 == -sgn and 0.25 < ratio < 4.0 and a2 - b <= 2 * max(b - a, b2 - a2) + pts:
                width = t[min(b2, t.size - 1)] - t[a]
                kind = "endotherm" if sgn == endo_sign else "exotherm"
                end = float(t[min(b2, t.size - 1)])
                events.append(Event(kind, float(t[a] - 0.5 * width), end + 0.5 * width))
                used.update((i, i + 1))
                i += 2
                continue
        if sgn == endo_sign and abs(area[i]) > min_step_fraction * span:
            width = t[min(b, t.size - 1)] - t[a]
            events.append(Event("glass_transition", float(t[a] - 1.5 * width),
                                float(t[min(b, t.size - 1)] + 1.5 * width)))
        i += 1
    events = sorted((Event(e.kind, max(e.lo, float(t[0])), min(e.hi, float(t[-1]))) for e in events),
                    key=lambda e: e.lo)
    merged_events: list[Event] = []
    for e in events:  # overlapping peak windows are one (composite) peak
        last = merged_events[-1] if merged_events else None
        if last is not None and last.kind == e.kind != "glass_transition" and e.lo < last.hi:
            merged_events[-1] = Event(e.kind, last.lo, max(last.hi, e.hi))
        else:
            merged_events.append(e)
    return merged_events
