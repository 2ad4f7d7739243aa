"""Events of an operando session: when a per-frame quantity crosses a threshold, leaves its baseline or
changes level.

The degradation of a perovskite LED under constant current (Nature 2026, operando PeLED study [4]_) is a
sequence of events — Cl reaching the cathode, an AlCl₃ layer appearing, metallic Pb nucleating, the
lattice collapsing, the electroluminescence falling. Each function here decides one event on a short
per-frame series with its standard uncertainties and says why, in words and numbers, so that a reader of
the report can check the decision:

* :func:`threshold_event` — the first frame significantly past a fixed threshold;
* :func:`onset_event` — the first frame significantly departing from the initial (baseline) level;
* :func:`change_points` / :func:`change_point_event` — changes of the mean level by penalised
  least squares when no uncertainty or threshold is known;
* :func:`events_table` — the ``events`` results group.

References
----------
.. [1] R. Killick, P. Fearnhead and I. A. Eckley, "Optimal detection of changepoints with a linear
   computational cost", J. Am. Stat. Assoc. 107, 1590–1598 (2012).
.. [2] A. J. Scott and M. Knott, "A cluster analysis method for grouping means in the analysis of
   variance", Biometrics 30, 507–512 (1974) (binary segmentation).
.. [3] Y.-C. Yao, "Estimating the number of change-points via Schwarz' criterion", Stat. Probab. Lett.
   6, 181–189 (1988).
.. [4] "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
   doi:10.1038/s41586-026-10238-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..errors import InputError

__all__ = ["Event", "threshold_event", "onset_event", "ChangePoints", "change_points", "change_point_event",
           "events_table"]

#: Φ⁻¹(3/4): the median of |N(0, 1)|.
_MAD_NORMAL = 0.6744897501960817


@dataclass(frozen=True)
class Event:
    """One decided event. ``frame`` is −1 (and ``time_s`` NaN) when the event was not reached."""

    name: str
    frame: int
    time_s: float
    quantity: str
    threshold: float
    method: str
    reason: str
    units: str = ""

    @property
    def reached(self) -> bool:
        return self.frame >= 0


def _g(x) -> str:
    return f"{float(x):.4g}"


def _series(values, stds, times):
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise InputError(f"an event needs a non-empty 1-D per-frame series, got shape {v.shape}")
    s = np.zeros_like(v) if stds is None else np.asarray(stds, dtype=float)
    if s.shape != v.shape:
        raise InputError(f"stds has shape {s.shape}, values {v.shape}")
    if np.any(s < 0):
        raise InputError("stds must be >= 0 (standard uncertainties)")
    t = None if times is None else np.asarray(times, dtype=float)
    if t is not None and t.shape != v.shape:
        raise InputError(f"times has shape {t.shape}, values {v.shape}")
    return v, s, t


def _when(k: int, t) -> tuple[float, str]:
    if t is None:
        return float("nan"), f"frame {k}"
    return float(t[k]), f"frame {k} ({_g(t[k])} s)"


def threshold_event(values, stds=None, *, threshold: float, direction: str = "above", n_sigma: float = 2.0,
                    times=None, name: str, quantity: str, units: str = "") -> Event:
    """The first frame where a series is past ``threshold`` by more than ``n_sigma`` uncertainties.

    Frame ``k`` fires when ``values[k] − n_sigma·stds[k] > threshold`` (``direction="above"``) or
    ``values[k] + n_sigma·stds[k] < threshold`` (``"below"``). NaN values or uncertainties never fire.

    Parameters
    ----------
    values, stds : array_like, (n_frames,)
        The per-frame series and its standard uncertainty (``None``: exact values).
    threshold : float
        The level, in the units of ``values``.
    direction : {"above", "below"}
    n_sigma : float
        Required significance, in standard uncertainties (2 → one-sided false-alarm rate 2.3 % per frame
        for Gaussian errors).
    times : array_like, (n_frames,), optional
        Frame times (s) for ``time_s`` and the reason text.
    name, quantity, units : str
        Event name (``"cl_at_cathode"``), the series' column name and its units (for the reason).

    Returns
    -------
    Event
        With ``method="threshold"`` and a reason such as
        ``"frame 3 (90 s): 2.41 ± 0.08 at.% > 2 + 2σ"``.
    """
    v, s, t = _series(values, stds, times)
    if direction not in ("above", "below"):
        raise InputError(f"direction={direction!r}: use 'above' or 'below'")
    if not n_sigma >= 0:
        raise InputError(f"n_sigma={n_sigma!r} must be >= 0")
    u = f" {units}" if units else ""
    sign = 1.0 if direction == "above" else -1.0
    margin = sign * (v - threshold) - n_sigma * s          # > 0: significantly past
    fired = np.flatnonzero(margin > 0)
    op = ">" if direction == "above" else "<"
    pm = "+" if direction == "above" else "−"
    rule = f"{_g(threshold)} {pm} {_g(n_sigma)}σ"
    if fired.size:
        k = int(fired[0])
        time_s, when = _when(k, t)
        reason = f"{when}: {_g(v[k])} ± {_g(s[k])}{u} {op} {rule}"
    else:
        k, time_s = -1, float("nan")
        ok = np.isfinite(margin)
        if ok.any():
            j = int(np.nanargmax(np.where(ok, margin, -np.inf)))
            reason = (f"not reached: closest is {_when(j, t)[1]} with {_g(v[j])} ± {_g(s[j])}{u}, "
                      f"not {op} {rule}")
        else:
            reason = "not reached: no finite value"
    return Event(name=name, frame=k, time_s=time_s, quantity=quantity, threshold=float(threshold),
                 method="threshold", reason=reason, units=units)


def onset_event(values, stds=None, *, baseline_frames: int = 1, n_sigma: float = 3.0,
                direction: str = "increase", times=None, name: str, quantity: str, units: str = "") -> Event:
    """The first frame departing from the initial level by more than ``n_sigma`` combined uncertainties.

    The baseline is ``b = mean(values[:baseline_frames])`` with ``σ_b = √(Σ stds²)/baseline_frames``;
    frame ``k ≥ baseline_frames`` fires when ``±(values[k] − b) > n_sigma·√(stds[k]² + σ_b²)`` (``+`` for
    ``"increase"``). Examples: the AlCl₃ onset (thickness above the initial 0 nm), Pb nucleation (count
    above the pristine count, σ = √count), lattice collapse (crystallinity ``"decrease"``).

    Parameters
    ----------
    values, stds : array_like, (n_frames,)
        The series and its standard uncertainty (``None``: exact values).
    baseline_frames : int
        Number of initial frames averaged into the baseline (1 ≤ baseline_frames < n_frames).
    n_sigma : float
        Required significance (3 → one-sided false-alarm rate 0.13 % per frame for Gaussian errors).
    direction : {"increase", "decrease"}
    times, name, quantity, units
        As in :func:`threshold_event`.

    Returns
    -------
    Event
        ``method="onset"``, ``threshold`` = the baseline level.
    """
    v, s, t = _series(values, stds, times)
    if direction not in ("increase", "decrease"):
        raise InputError(f"direction={direction!r}: use 'increase' or 'decrease'")
    k0 = int(baseline_frames)
    if not 1 <= k0 < v.size:
        raise InputError(f"baseline_frames={baseline_frames!r} must be between 1 and n_frames − 1 = "
                         f"{v.size - 1}")
    if not n_sigma >= 0:
        raise InputError(f"n_sigma={n_sigma!r} must be >= 0")
    if not np.all(np.isfinite(v[:k0])):
        raise InputError(f"{quantity}: the baseline frames 0–{k0 - 1} must all be finite, got {v[:k0]}")
    base = v[:k0].mean()
    base_std = np.sqrt(np.sum(s[:k0] ** 2)) / k0
    sign = 1.0 if direction == "increase" else -1.0
    dev = sign * (v[k0:] - base)
    sigma = np.sqrt(s[k0:] ** 2 + base_std**2)
    margin = dev - n_sigma * sigma
    fired = np.flatnonzero(margin > 0)
    u = f" {units}" if units else ""
    word = "above" if direction == "increase" else "below"
    frames = "frame 0" if k0 == 1 else f"mean of frames 0–{k0 - 1}"
    baseline = f"the baseline {_g(base)} ± {_g(base_std)}{u} ({frames})"
    if fired.size:
        j = int(fired[0])
        k = k0 + j
        time_s, when = _when(k, t)
        reason = (f"{when}: {_g(v[k])} ± {_g(s[k])}{u} is {_g(dev[j])}{u} {word} {baseline}, "
                  f"> {_g(n_sigma)}σ = {_g(n_sigma * sigma[j])}{u}")
    else:
        k, time_s = -1, float("nan")
        ok = np.isfinite(margin)
        if ok.any():
            j = int(np.argmax(np.where(ok, margin, -np.inf)))
            reason = (f"not reached: the largest departure {word} {baseline} is {_g(dev[j])}{u} at "
                      f"{_when(k0 + j, t)[1]}, not > {_g(n_sigma)}σ = {_g(n_sigma * sigma[j])}{u}")
        else:
            reason = "not reached: no finite value after the baseline"
    return Event(name=name, frame=k, time_s=time_s, quantity=quantity, threshold=float(base),
                 method="onset", reason=reason, units=units)


class ChangePoints(NamedTuple):
    """Change points of the mean of a series."""

    index: np.ndarray         #: (n_changes,) int: first frame of each new segment, increasing
    segment_mean: np.ndarray  #: (n_changes + 1,) mean of each segment
    sigma: float              #: noise level used for the penalty
    penalty: float            #: cost of one change, in the units of values²


def change_points(values, *, penalty: float | None = None, min_size: int = 2) -> ChangePoints:
    """Changes of the mean level of a short series by penalised least squares (binary segmentation).

    The series is split where a split lowers the residual sum of squares ``Σ (x − segment mean)²`` by
    more than ``penalty``; splitting is repeated on the resulting segments (best split first) until no
    split pays [2]_. The default penalty is the Schwarz/BIC cost of one change, ``2 σ̂² ln n`` (a new
    mean and a location per change, [3]_), with the noise ``σ̂ = median|Δx| / (√2 Φ⁻¹(¾))`` estimated
    from first differences, which a few steps barely affect. NaN frames are left out.

    Parameters
    ----------
    values : array_like, (n,)
    penalty : float, optional
        Cost of one change in units of ``values²`` (overrides the BIC default).
    min_size : int
        Fewest frames in a segment.

    Returns
    -------
    ChangePoints
        ``index`` of the first frame after each change (frame numbers of ``values``, NaNs included).

    Notes
    -----
    Binary segmentation finds the global optimum for one change and, in practice, for well separated
    steps; a short excursion whose two edges are each too weak to pay alone can be missed, which exact
    optimal partitioning [1]_ would find. Each round evaluates every candidate split at once from
    cumulative sums, so the loop runs once per change found.
    """
    x_all = np.asarray(values, dtype=float)
    if x_all.ndim != 1:
        raise InputError(f"change_points needs a 1-D series, got shape {x_all.shape}")
    if int(min_size) < 1:
        raise InputError(f"min_size={min_size!r} must be >= 1")
    min_size = int(min_size)
    keep = np.flatnonzero(np.isfinite(x_all))
    x = x_all[keep]
    n = x.size
    if n < 2:
        return ChangePoints(np.zeros(0, np.int64), np.array([x.mean() if n else np.nan]), float("nan"),
                            float("nan") if penalty is None else float(penalty))
    sigma = float(np.median(np.abs(np.diff(x)))) / (np.sqrt(2.0) * _MAD_NORMAL)
    beta = 2.0 * sigma**2 * np.log(n) if penalty is None else float(penalty)
    if beta < 0:
        raise InputError(f"penalty={penalty!r} must be >= 0")
    xc = x - x.mean()
    s1 = np.concatenate([[0.0], np.cumsum(xc)])
    s2 = np.concatenate([[0.0], np.cumsum(xc * xc)])

    def sse(a, b):
        m = b - a
        return (s2[b] - s2[a]) - (s1[b] - s1[a]) ** 2 / m

    guard = 1e-10 * max(float(s2[-1]), np.finfo(float).tiny)   # round-off on a noise-free series
    bounds = np.array([0, n])
    tau = np.arange(1, n)
    for _ in range(n):          # one round per change found; stops when no split pays
        seg = np.searchsorted(bounds, tau, side="right") - 1
        a, b = bounds[seg], bounds[np.minimum(seg + 1, bounds.size - 1)]
        valid = (tau - a >= min_size) & (b - tau >= min_size)
        if not valid.any():
            break
        gain = np.where(valid, sse(a, b) - sse(a, np.maximum(tau, a + 1)) - sse(np.minimum(tau, b - 1), b),
                        -np.inf)
        best = int(np.argmax(gain))
        if not gain[best] > max(beta, guard):
            break
        bounds = np.sort(np.append(bounds, tau[best]))
    inner = bounds[1:-1]
    means = (s1[bounds[1:]] - s1[bounds[:-1]]) / np.diff(bounds) + x.mean()
    return ChangePoints(index=keep[inner].astype(np.int64), segment_mean=means, sigma=sigma,
                        penalty=float(beta))


def change_point_event(values, *, times=None, name: str, quantity: str, units: str = "",
                       penalty: float | None = None, min_size: int = 2) -> Event:
    """The first change of level found by :func:`change_points`, as an :class:`Event`.

    ``threshold`` is the mean level before the change; ``method="change_point"``.
    """
    v = np.asarray(values, dtype=float)
    t = None if times is None else np.asarray(times, dtype=float)
    cp = change_points(v, penalty=penalty, min_size=min_size)
    u = f" {units}" if units else ""
    if cp.index.size:
        k = int(cp.index[0])
        time_s, when = _when(k, t)
        reason = (f"{when}: mean level changes from {_g(cp.segment_mean[0])}{u} to "
                  f"{_g(cp.segment_mean[1])}{u} (least-squares gain > penalty {_g(cp.penalty)}, "
                  f"noise σ̂ = {_g(cp.sigma)}{u})")
    else:
        k, time_s = -1, float("nan")
        reason = (f"not reached: no change of the mean pays the penalty {_g(cp.penalty)} "
                  f"(noise σ̂ = {_g(cp.sigma)}{u})")
    return Event(name=name, frame=k, time_s=time_s, quantity=quantity,
                 threshold=float(cp.segment_mean[0]), method="change_point", reason=reason, units=units)


def events_table(events) -> xr.Dataset:
    """The ``events`` results group: one row per :class:`Event` over the ``event`` dimension.

    Variables ``name, frame, time_s, quantity, threshold, method, reason`` (strings as numpy unicode).
    ``threshold`` carries the events' common units, or ``"mixed"`` when they differ (each reason states
    its own units).
    """
    events = list(events)
    bad = [type(e).__name__ for e in events if not isinstance(e, Event)]
    if bad:
        raise InputError(f"events_table takes Event objects, got {bad[0]}")

    def text(field):
        return np.array([getattr(e, field) for e in events], dtype=np.str_).reshape(len(events))

    units = {e.units for e in events}
    thr_units = units.pop() if len(units) == 1 else ("mixed" if units else "")
    return xr.Dataset(
        {"name": ("event", text("name"), {"units": ""}),
         "frame": ("event", np.array([e.frame for e in events], dtype=np.int64), {"units": "1"}),
         "time_s": ("event", np.array([e.time_s for e in events], dtype=float), {"units": "s"}),
         "quantity": ("event", text("quantity"), {"units": ""}),
         "threshold": ("event", np.array([e.threshold for e in events], dtype=float),
                       {"units": thr_units}),
         "method": ("event", text("method"), {"units": ""}),
         "reason": ("event", text("reason"), {"units": ""})},
        attrs={"step": "events"})
