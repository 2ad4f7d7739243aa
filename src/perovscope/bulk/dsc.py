"""Differential scanning calorimetry: scans, normalisation and glass transitions.

* :func:`split_scans` cuts a temperature programme into heating, cooling and isothermal scans.
* :func:`normalise_heat_flow` turns heat flow (mW) into W/g with the sample mass, and into an apparent
  specific heat J/(g·K) with the heating rate as well.
* :func:`glass_transitions` measures each glass transition in its temperature window by fitting a
  sigmoidal (error-function) step between two sloping baselines, batched over a series of traces
  with :func:`perovscope.spectroscopy.fitting.levenberg_marquardt`::

      HF(T) = L₁(T) + [L₂(T) − L₁(T)] · Φ((T − T_mid)/w),     Lᵢ linear in T

  The *midpoint* ``T_mid`` is where the curve is half-way between the extrapolated baselines (the
  half-step temperature of ISO 11357-2 / ASTM E1356); the *onset* and *endset* are where the tangent
  at the midpoint (the inflection of the step) crosses the extrapolated pre- and post-transition
  baselines; ``step`` is the height L₂ − L₁ at the midpoint (ΔCp with mass and rate). The fit uses the
  whole window, so it is far less sensitive to noise than tangents drawn on two points. Several
  transitions in one trace are given as several windows.

Melting and other peaks (onset, peak, enthalpy over a baseline) and the automatic search for events
are in :mod:`.dsc_peaks`.

References
----------
.. [1] ISO 11357-2:2020, Plastics — Differential scanning calorimetry (DSC) — Part 2: Determination of
   glass transition temperature and step height.
.. [2] ASTM E1356-08(2014), Standard Test Method for Assignment of the Glass Transition Temperatures
   by Differential Scanning Calorimetry.
.. [3] G. W. H. Höhne, W. F. Hemminger and H.-J. Flammersheim, Differential Scanning Calorimetry, 2nd
   ed., Springer (2003), ch. 5–6.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import erf

from ..errors import InputError
from ..spectroscopy.fitting import levenberg_marquardt
from ._checks import as_spectra, ascending, check_min_points

__all__ = ["Scan", "split_scans", "scan_axis", "heating_rate", "normalise_heat_flow", "GlassTransitions",
           "glass_transitions", "parse_windows"]

_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)


class Scan(NamedTuple):
    """One monotonic part of a temperature programme: rows ``start:stop``, kind and rate (K/min)."""

    start: int
    stop: int
    kind: str
    rate_K_per_min: float


def heating_rate(time_s, temperature) -> float:
    """Least-squares slope of T(t) in K/min."""
    t = np.asarray(time_s, dtype=float)
    temp = np.asarray(temperature, dtype=float)
    ok = np.isfinite(t) & np.isfinite(temp)
    if ok.sum() < 2:
        raise InputError("a heating rate needs at least two finite (time, temperature) points")
    return float(np.polyfit(t[ok], temp[ok], 1)[0] * 60.0)


def split_scans(time_s, temperature, *, min_span_K: float = 5.0, smooth_s: float = 60.0) -> list[Scan]:
    """Heating, cooling and isothermal parts of a temperature programme.

    Parameters
    ----------
    time_s, temperature : array_like (n,)
        Time (s, increasing) and temperature (°C).
    min_span_K : float
        Ramps spanning less than this are merged into their neighbours' isothermal parts.
    smooth_s : float
        Time over which dT/dt is averaged before its sign is read.

    Returns
    -------
    list of Scan
        In time order; ramps with at least 10 points.
    """
    t = np.asarray(time_s, dtype=float)
    temp = np.asarray(temperature, dtype=float)
    if t.shape != temp.shape or t.ndim != 1:
        raise InputError("time and temperature must be 1-D arrays of the same length")
    ok = np.isfinite(temp) & np.isfinite(t)
    idx = np.flatnonzero(ok)
    if idx.size < 10:
        raise InputError(f"the temperature programme has {idx.size} finite points; at least 10 are needed")
    tt, te = t[idx], temp[idx]
    dt = np.median(np.diff(tt))
    half = max(int(round(smooth_s / (2 * dt))), 1)
    pad_t = np.pad(tt, half, mode="edge")
    pad_T = np.pad(te, half, mode="edge")
    rate = (pad_T[2 * half:] - pad_T[:-2 * half]) / np.maximum(pad_t[2 * half:] - pad_t[:-2 * half], 1e-12)
    rate = rate[: tt.size] * 60.0
    moving = np.abs(rate) > 0.05
    typical = float(np.median(np.abs(rate[moving]))) if moving.any() else 0.0
    thr = max(0.2 * typical, 0.05)
    kind = np.where(rate > thr, 1, np.where(rate < -thr, -1, 0))
    runs = _runs(kind)
    # a short pause inside a ramp (the sample lagging while it melts) does not end the ramp
    max_gap = 2 * (2 * half + 1)
    for i in range(1, len(runs) - 1):
        a, b, k = runs[i]
        if k == 0 and b - a <= max_gap and runs[i - 1][2] == runs[i + 1][2] != 0:
            kind[a:b] = runs[i - 1][2]
    scans = []
    for a, b, k in _runs(kind):
        span = float(np.ptp(te[a:b]))
        if k == 0 or span < min_span_K or b - a < 10:
            continue
        name = "heating" if k > 0 else "cooling"
        scans.append(Scan(int(idx[a]), int(idx[b - 1]) + 1, name, heating_rate(tt[a:b], te[a:b])))
    return scans


def _runs(kind):
    edges = np.flatnonzero(np.diff(kind)) + 1
    bounds = np.concatenate([[0], edges, [kind.size]])
    return [(int(a), int(b), int(kind[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=False)]


def scan_axis(time_s, temperature, *, min_fraction: float = 0.9):
    """A strictly monotonic temperature axis for one scan: ``(start, stop, axis, programmed)``.

    The measured sample temperature is used over its longest strictly monotonic run when that covers
    at least ``min_fraction`` of the scan (the ends of a ramp, where it meets an isothermal hold, are
    often flat within noise). Otherwise (recalescence when a melt crystallises, noise on a very slow
    ramp) the whole scan is kept with the programmed ramp — the straight line fitted to T(t) — as its
    axis, and ``programmed`` is True so that the caller can say so.
    """
    t = np.asarray(time_s, dtype=float)
    temp = np.asarray(temperature, dtype=float)
    n = temp.size
    if n < 3:
        raise InputError(f"a scan of {n} points has no temperature axis")
    step = np.sign(np.diff(temp)).astype(int)
    main = 1 if np.sum(step > 0) >= np.sum(step < 0) else -1
    best = (0, 0)
    for a, b, k in _runs((step == main).astype(int)):
        if k == 1 and b - a > best[1] - best[0]:
            best = (a, b + 1)
    if best[1] - best[0] >= min_fraction * n:
        return best[0], best[1], temp[best[0]:best[1]], False
    slope, icpt = np.polyfit(t, temp, 1)
    if slope == 0:
        raise InputError("the scan is isothermal: no temperature axis")
    return 0, n, icpt + slope * t, True


def normalise_heat_flow(heat_flow, *, mass_mg=None, heating_rate_K_per_min=None):
    """Heat flow in W/g (with ``mass_mg``) or J/(g·K) (with the heating rate as well).

    ``mW / mg = W/g``; dividing by the rate in K/s gives the apparent specific heat capacity.
    """
    hf = np.asarray(heat_flow, dtype=float)
    if mass_mg is None:
        raise InputError("normalising the heat flow needs the sample mass (mass_mg / --mass MG)")
    if not mass_mg > 0:
        raise InputError(f"sample mass must be positive, got {mass_mg}")
    out = hf / mass_mg
    if heating_rate_K_per_min is not None:
        if heating_rate_K_per_min == 0:
            raise InputError("heating rate is 0 (isothermal): no specific heat can be formed")
        out = out / (abs(heating_rate_K_per_min) / 60.0)
    return out


def parse_windows(text) -> list[tuple[float, float]]:
    """``"280:300,430:450"`` or ``[(280, 300)]`` -> ``[(280.0, 300.0), ...]`` (each ``lo < hi``)."""
    if text is None:
        return []
    items = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        if isinstance(item, str):
            if not item.strip():
                continue
            try:
                lo, hi = (float(v) for v in item.split(":"))
            except ValueError:
                raise InputError(f"window {item!r} must be LO:HI in °C (e.g. 280:300)") from None
        else:
            lo, hi = (float(v) for v in item)
        if not lo < hi:
            raise InputError(f"window {lo:g}:{hi:g} must have LO < HI")
        out.append((lo, hi))
    return out


class GlassTransitions(NamedTuple):
    """Glass transitions; every field ``(..., k)`` for ``k`` windows.

    ``onset``, ``midpoint``, ``endset`` (°C), ``midpoint_std`` (°C), ``width`` (σ of the step, K),
    ``step`` (L₂ − L₁ at the midpoint, heat-flow units), ``flag`` (fit flag).
    """

    onset: np.ndarray
    midpoint: np.ndarray
    endset: np.ndarray
    midpoint_std: np.ndarray
    width: np.ndarray
    step: np.ndarray
    flag: np.ndarray


def _step_model(tw, xc, hw):
    u = (tw - xc) / hw

    def model(p):
        a, b, c, d, tm, w = (p[:, i:i + 1] for i in range(6))
        s = 0.5 * (1.0 + erf((tw - tm) / (_SQRT2 * w)))
        return a + b * u + (c + d * u) * s

    def jac(p):
        a, b, c, d, tm, w = (p[:, i:i + 1] for i in range(6))
        z = (tw - tm) / w
        s = 0.5 * (1.0 + erf(z / _SQRT2))
        phi = np.exp(-0.5 * z * z) / _SQRT2PI
        amp = c + d * u
        cols = [np.ones_like(s), np.broadcast_to(u, s.shape), s, u * s, -amp * phi / w, -amp * phi * z / w]
        return np.stack(cols, axis=-1)

    return model, jac


def _line_fit(x, y, sel):
    """Batched straight line through ``y[..., sel]``: intercept and slope in the variable ``x``."""
    xs = x[sel]
    design = np.stack([np.ones_like(xs), xs], axis=1)
    coef = np.linalg.lstsq(design, y[:, sel].T, rcond=None)[0]
    return coef[0], coef[1]


def glass_transitions(temperature, heat_flow, *, windows, max_iter: int = 100,
                      source: str | None = None) -> GlassTransitions:
    """Onset, midpoint (half step) and endset of each glass transition, batched over traces.

    Parameters
    ----------
    temperature : array_like (n,)
        Temperature axis (°C) of one scan, either direction (a cooling scan is flipped).
    heat_flow : array_like (..., n)
        Heat flow (any units: mW, W/g, J/(g·K)); leading axes are a series of traces.
    windows : sequence of (lo, hi)
        One temperature window per transition, each wide enough to hold both baselines (about three
        times the transition's width).
    max_iter : int
        Levenberg–Marquardt iteration limit.

    Returns
    -------
    GlassTransitions

    Raises
    ------
    InputError
        Unsorted/duplicated temperatures, no window, a window outside the data or with fewer than 12
        points.
    """
    t, hf = ascending(temperature, heat_flow, name="temperature", min_points=12, source=source)
    hf = as_spectra(hf, t.size, name="heat_flow", source=source)
    wins = parse_windows(windows)
    if not wins:
        raise InputError("glass_transitions needs at least one temperature window (lo, hi), "
                         "e.g. --tg 280:300")
    lead = hf.shape[:-1]
    y = hf.reshape(-1, t.size)
    out = {k: [] for k in GlassTransitions._fields}
    for lo, hi in wins:
        sel = (t >= lo) & (t <= hi)
        check_min_points(int(sel.sum()), 12, what=f"the glass-transition window {lo:g}–{hi:g} °C",
                         source=source)
        tw, yw = t[sel], y[:, sel]
        xc, hw = 0.5 * (tw[0] + tw[-1]), 0.5 * (tw[-1] - tw[0])
        m = tw.size
        edge = max(m // 5, 3)
        pre = np.zeros(m, dtype=bool)
        pre[:edge] = True
        post = np.zeros(m, dtype=bool)
        post[-edge:] = True
        u = (tw - xc) / hw
        a, b = _line_fit(u, yw, pre)
        a2, b2 = _line_fit(u, yw, post)
        c, d = a2 - a, b2 - b
        denom = c[:, None] + d[:, None] * u
        frac = (yw - (a[:, None] + b[:, None] * u)) / np.where(denom != 0, denom, 1.0)
        k = np.argmax(np.cumsum(frac >= 0.5, axis=1) >= max(m // 20, 1), axis=1)
        tm0 = np.clip(tw[k], tw[edge], tw[-edge - 1])
        step_t = np.median(np.diff(tw))
        w0 = np.full_like(tm0, (tw[-1] - tw[0]) / 12.0)
        p0 = np.stack([a, b, c, d, tm0, w0], axis=1)
        model, jac = _step_model(tw, xc, hw)
        lower = np.array([-np.inf, -np.inf, -np.inf, -np.inf, tw[0], step_t])
        upper = np.array([np.inf, np.inf, np.inf, np.inf, tw[-1], (tw[-1] - tw[0]) / 3.0])
        res = levenberg_marquardt(model, jac, yw, p0, lower=lower, upper=upper, max_iter=max_iter)
        a, b, c, d, tm, w = res.params.T
        um = (tm - xc) / hw
        amp = c + d * um
        slope = b / hw + d / (2.0 * hw) + amp / (_SQRT2PI * w)
        with np.errstate(divide="ignore", invalid="ignore"):
            onset = tm - amp / (2.0 * (slope - b / hw))
            endset = tm + amp / (2.0 * (slope - (b + d) / hw))
        for key, val in (("onset", onset), ("midpoint", tm), ("endset", endset),
                         ("midpoint_std", res.std[:, 4]), ("width", w), ("step", amp), ("flag", res.flag)):
            out[key].append(val)
    return GlassTransitions(*(np.stack(out[k], axis=-1).reshape(lead + (len(wins),))
                              for k in GlassTransitions._fields))
