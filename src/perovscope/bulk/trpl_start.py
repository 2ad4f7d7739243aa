"""Start values and fit ranges for TCSPC decay fits, estimated for a whole batch without loops.

* the recorded range: TCSPC electronics write exact zeros outside the ADC window, which would
  otherwise pull the fitted background to zero — leading and trailing zero runs are left out;
* the background from the quieter end of the recorded range;
* the peak (of a 5-channel moving average), the half-maximum rising edge and the first moment of
  the decay after the peak (≈ the intensity-weighted lifetime), spread into ``k`` start lifetimes;
* the shift of a decay against the instrument response from their rising edges;
* for tail fits (no response) the fit start one rise time after the peak and the integer alignment
  of every decay on a common peak channel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["uniform_step", "recorded_mask", "estimate_irf_background", "start_values", "Start",
           "align", "unalign"]


class Start(NamedTuple):
    """Start values per decay (channel units) and the fit mask on the original channels."""

    mask: np.ndarray        # (N, n) channels fitted
    counts: np.ndarray      # (N,) counts above background in the mask
    tau: np.ndarray         # (N, k)
    shift: np.ndarray       # (N,)
    background: np.ndarray  # (N,)
    peak: np.ndarray        # (N,) peak channel
    offsets: np.ndarray     # (N,) tail fits: channel of the decay = aligned channel + offset
    origin: int             # tail fits: the common peak channel after alignment


def uniform_step(t) -> float:
    """The channel width of an increasing axis; InputError when the channels are not equally spaced."""
    step = np.diff(t)
    width = (t[-1] - t[0]) / (t.size - 1)
    dev = float(np.max(np.abs(step - width)))
    if dev > 0.05 * width:
        i = int(np.argmax(np.abs(step - width)))
        raise InputError(f"t is not uniformly spaced (step {step[i]:g} at index {i} against a mean of "
                         f"{width:g}); TCSPC channels must be equally wide — resample the decays first")
    return float(width)


def recorded_mask(y) -> np.ndarray:
    """``(N, n)`` True between the first and the last non-zero channel of each row."""
    nz = np.asarray(y) != 0
    j = np.arange(nz.shape[-1])
    first = np.where(nz.any(-1), np.argmax(nz, axis=-1), nz.shape[-1])
    last = nz.shape[-1] - 1 - np.argmax(nz[..., ::-1], axis=-1)
    return (j >= first[..., None]) & (j <= last[..., None])


def estimate_irf_background(irf) -> float:
    """Mean of the recorded IRF channels well before its rise (0 when fewer than 10 such channels).

    The rise is where the IRF first reaches 1 % of its maximum; the channels within three times
    the distance from there to the peak are left out too (the foot of the pulse).
    """
    irf = np.asarray(irf, dtype=float)
    rec = recorded_mask(irf[None, :])[0]
    if not rec.any():
        return 0.0
    first = int(np.argmax(rec))
    rise = int(np.argmax(irf >= 0.01 * np.max(irf)))
    end = rise - 3 * max(int(np.argmax(irf)) - rise, 1)
    pre = irf[first:max(end, first)]
    return float(np.mean(pre)) if pre.size >= 10 else 0.0


def _smooth(y, width: int = 5):
    c = np.cumsum(np.pad(y, [(0, 0)] * (y.ndim - 1) + [(width // 2 + 1, width // 2)], mode="edge"), axis=-1)
    return (c[..., width:] - c[..., :-width]) / width


def _first_crossing(y, level, upto):
    """Fractional index of the first channel ``≤ upto`` where ``y`` reaches ``level`` (row-wise)."""
    j = np.arange(y.shape[-1])
    hit = (y >= level[:, None]) & (j[None, :] <= upto[:, None])
    i = np.argmax(hit, axis=-1)
    prev = np.take_along_axis(y, np.maximum(i - 1, 0)[:, None], axis=-1)[:, 0]
    cur = np.take_along_axis(y, i[:, None], axis=-1)[:, 0]
    frac = np.where(cur > prev, (level - prev) / np.where(cur > prev, cur - prev, 1.0), 0.0)
    return np.where(i > 0, i - 1 + np.clip(frac, 0.0, 1.0), 0.0)


def start_values(y, mask, irf, k: int, *, spread, tail_window: bool) -> Start:
    """Start values for :func:`perovscope.bulk.trpl.fit_decays` (see the module docstring).

    ``y`` ``(N, n)`` counts, ``mask`` ``(N, n)`` channels allowed, ``irf`` ``(n,)`` normalised
    response or None (tail fit), ``spread`` the ``k`` factors applied to the first-moment lifetime.
    """
    nd, n = y.shape
    j = np.arange(n)
    used = np.sum(mask, axis=1)
    if np.any(used == 0):
        raise InputError(f"{int(np.sum(used == 0))} decay(s) have no recorded channel in the window; "
                         "check the window and that the decays hold counts")
    rank = np.cumsum(mask, axis=1)
    q = np.maximum(5, used // 20)[:, None]
    first = mask & (rank <= q)
    last = mask & (rank > used[:, None] - q)
    b_first = np.sum(np.where(first, y, 0.0), 1) / np.maximum(first.sum(1), 1)
    b_last = np.sum(np.where(last, y, 0.0), 1) / np.maximum(last.sum(1), 1)
    bg = np.maximum(np.minimum(b_first, b_last), 0.0)
    ys = np.where(mask, _smooth(y), -np.inf)
    peak = np.argmax(ys, axis=1)
    top = np.take_along_axis(ys, peak[:, None], axis=1)[:, 0]
    ys = np.where(mask, ys, bg[:, None])
    rise = _first_crossing(ys, bg + 0.5 * (top - bg), peak)
    offsets = np.zeros(nd, dtype=int)
    origin = 0
    if irf is None:
        if tail_window:
            start = peak + np.maximum(1, np.ceil(peak - rise)).astype(int)
            mask = mask & (j[None, :] >= start[:, None])
        origin = int(np.max(peak))
        offsets = peak - origin
        ref = peak
        shift = np.zeros(nd)
    else:
        g = np.asarray(irf)
        gpk = int(np.argmax(g))
        g_rise = _first_crossing(g[None, :], np.array([0.5 * g[gpk]]), np.array([gpk]))[0]
        cg = np.cumsum(g)
        med = float(np.interp(0.5, cg, j)) if cg[-1] > 0 else float(gpk)
        shift = rise - 0.5 * (g_rise + med)
        ref = peak
    w = np.where(mask & (j[None, :] >= ref[:, None]), np.maximum(y - bg[:, None], 0.0), 0.0)
    tot = np.sum(w, axis=1)
    tau_m = np.sum(w * (j[None, :] - ref[:, None] + 0.5), axis=1) / np.maximum(tot, 1e-300)
    tau_m = np.maximum(np.where(np.isfinite(tau_m), tau_m, 1.0), 0.3)
    tau = tau_m[:, None] * np.asarray(spread)[None, :]
    counts = np.maximum(np.sum(np.where(mask, np.maximum(y - bg[:, None], 0.0), 0.0), axis=1), 1.0)
    return Start(mask, counts, tau, shift, bg, peak, offsets, origin)


def align(a, offsets, fill=0.0):
    """Rows of ``a`` ``(N, n)`` moved so that channel ``i`` lands at ``i - offset`` (``n + max|o|`` long)."""
    n = a.shape[1]
    extra = int(np.max(-offsets, initial=0))
    jj = np.arange(n + extra)[None, :] + offsets[:, None]
    ok = (jj >= 0) & (jj < n)
    out = np.take_along_axis(a, np.clip(jj, 0, n - 1), axis=1)
    return np.where(ok, out, fill)


def unalign(a, offsets, n, fill=np.nan):
    """Inverse of :func:`align`: back to ``n`` original channels."""
    ii = np.arange(n)[None, :] - offsets[:, None]
    ok = (ii >= 0) & (ii < a.shape[1])
    out = np.take_along_axis(a, np.clip(ii, 0, a.shape[1] - 1), axis=1)
    return np.where(ok, out, fill)
