"""Correlations of per-frame quantities with the device's electrical state.

Does the resistance rise with the AlCl₃ thickness? Does the electroluminescence fall as Pb particles
appear, and does it follow them with a delay? An operando session has few frames (8–50), which are
autocorrelated (each frame inherits the state of the one before), so this module reports rank
correlations with intervals that respect that autocorrelation:

* :func:`spearman` — Spearman's ρ (ties averaged), vectorised over leading axes;
* :func:`lagged_correlation` — Pearson and Spearman r with ``y`` shifted by ``−max_lag … max_lag`` frames;
* :func:`block_bootstrap_ci` — a moving-block bootstrap interval for ρ [1]_, [2]_;
* :func:`correlation_table` — the ``correlations`` results group.

References
----------
.. [1] H. R. Künsch, "The jackknife and the bootstrap for general stationary observations", Ann. Stat.
   17, 1217–1241 (1989).
.. [2] P. Hall, J. L. Horowitz and B.-Y. Jing, "On blocking rules for the bootstrap with dependent
   data", Biometrika 82, 561–574 (1995) (block length ∝ n^(1/3) for interval estimation).
.. [3] C. Spearman, "The proof and measurement of association between two things", Am. J. Psychol.
   15, 72–101 (1904).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr
from scipy.stats import rankdata

from ..errors import InputError

__all__ = ["spearman", "pearson", "LaggedCorrelation", "lagged_correlation", "BootstrapCI",
           "block_bootstrap_ci", "correlation_table"]

_MIN_PAIRS = 3


def pearson(x, y):
    """Pearson's r along the last axis of ``x`` and ``y`` (broadcast); NaN where either is constant."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    sxy = np.sum(xc * yc, axis=-1)
    sxx = np.sum(xc * xc, axis=-1)
    syy = np.sum(yc * yc, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    return np.clip(r, -1.0, 1.0)


def spearman(x, y):
    """Spearman's rank correlation ρ of ``x`` and ``y`` along the last axis [3]_.

    Ties get their average rank; ρ is the Pearson correlation of the ranks. Leading axes broadcast
    (``(n_boot, n)`` arrays give ``n_boot`` values at once). Inputs must be finite (drop NaN pairs
    first); a constant series gives NaN.

    Returns
    -------
    float or numpy.ndarray
        ρ in [−1, 1], shape of the broadcast leading axes.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape[-1:] != y.shape[-1:]:
        raise InputError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("spearman: x and y must be finite; drop the NaN pairs first")
    r = pearson(rankdata(x, axis=-1), rankdata(y, axis=-1))
    return float(r) if np.ndim(r) == 0 else r


def _pairs(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise InputError(f"x and y must be 1-D of the same length, got {x.shape} and {y.shape}")
    return x, y


class LaggedCorrelation(NamedTuple):
    """Correlation of ``x[t]`` with ``y[t + lag]`` at each lag."""

    lags: np.ndarray       #: (2 max_lag + 1,) int, −max_lag … max_lag
    pearson: np.ndarray    #: (n_lags,) Pearson r (NaN with fewer than 3 pairs or a constant series)
    spearman: np.ndarray   #: (n_lags,) Spearman ρ
    n: np.ndarray          #: (n_lags,) number of finite pairs
    best_lag: int          #: lag of the largest |r| of ``method`` (ties: the smallest |lag|)
    best_r: float          #: r at ``best_lag``


def lagged_correlation(x, y, *, max_lag: int, method: str = "spearman") -> LaggedCorrelation:
    """Pearson and Spearman correlation of ``x[t]`` with ``y[t + lag]`` for ``|lag| ≤ max_lag``.

    A positive lag means ``y`` follows ``x``: if ``y[t] = x[t − 2]`` the correlation peaks at lag 2.
    Pairs with a NaN are left out at each lag; a lag with fewer than 3 pairs gives NaN.

    Parameters
    ----------
    x, y : array_like, (n,)
    max_lag : int
        Largest shift in frames (≥ 0).
    method : {"spearman", "pearson"}
        Which coefficient picks ``best_lag``.
    """
    x, y = _pairs(x, y)
    n = x.size
    if int(max_lag) < 0:
        raise InputError(f"max_lag={max_lag!r} must be >= 0")
    if method not in ("spearman", "pearson"):
        raise InputError(f"method={method!r}: use 'spearman' or 'pearson'")
    lags = np.arange(-int(max_lag), int(max_lag) + 1)
    # index grid: row = lag, column = t; pair (x[t], y[t + lag]) exists when 0 <= t + lag < n
    t = np.arange(n)
    j = t[None, :] + lags[:, None]
    inside = (j >= 0) & (j < n)
    xs = np.broadcast_to(x, j.shape)
    ys = np.where(inside, y[np.clip(j, 0, n - 1)], np.nan)
    ok = inside & np.isfinite(xs) & np.isfinite(ys)
    count = ok.sum(axis=1)
    # masked correlations per lag: ranks of the valid pairs only (NaN pushed to the end and ignored)
    xm = np.where(ok, xs, np.nan)
    ym = np.where(ok, ys, np.nan)
    rp = _masked_pearson(xm, ym, ok)
    rs = _masked_pearson(_masked_rank(xm), _masked_rank(ym), ok)
    few = count < _MIN_PAIRS
    rp[few] = np.nan
    rs[few] = np.nan
    r = rs if method == "spearman" else rp
    order = np.argsort(np.abs(lags), kind="stable")
    score = np.where(np.isfinite(r[order]), np.abs(r[order]), -1.0)
    # the smallest |lag| within round-off of the best (monotone series tie at many lags)
    pick = order[int(np.argmax(score >= score.max() - 1e-12))]
    return LaggedCorrelation(lags=lags, pearson=rp, spearman=rs, n=count, best_lag=int(lags[pick]),
                             best_r=float(r[pick]))


def _masked_rank(a):
    """Average ranks along the last axis of the finite entries (NaN entries stay NaN)."""
    return rankdata(a, axis=-1, nan_policy="omit")


def _masked_pearson(x, y, ok):
    with np.errstate(invalid="ignore", divide="ignore"):
        cnt = ok.sum(axis=-1, keepdims=True)
        mx = np.where(ok, x, 0.0).sum(axis=-1, keepdims=True) / cnt
        my = np.where(ok, y, 0.0).sum(axis=-1, keepdims=True) / cnt
        xc = np.where(ok, x - mx, 0.0)
        yc = np.where(ok, y - my, 0.0)
        r = np.sum(xc * yc, axis=-1) / np.sqrt(np.sum(xc * xc, axis=-1) * np.sum(yc * yc, axis=-1))
    return np.clip(r, -1.0, 1.0)


class BootstrapCI(NamedTuple):
    """Spearman ρ with a moving-block bootstrap percentile interval."""

    rho: float
    low: float
    high: float
    block: int
    n_boot: int


def block_bootstrap_ci(x, y, *, block: int | None = None, n_boot: int = 2000, level: float = 0.95,
                       seed: int = 0) -> BootstrapCI:
    """Spearman ρ of ``(x, y)`` and its moving-block bootstrap percentile interval.

    Each replicate concatenates ``⌈n/block⌉`` blocks of consecutive pairs ``(x[t], y[t])`` starting at
    uniformly drawn positions ``0 … n − block`` and keeps the first ``n`` pairs [1]_, so the short-range
    dependence inside a block survives resampling; the interval is the ``(1 ± level)/2`` percentiles of
    the replicate ρ. All replicates are ranked at once as an ``(n_boot, n)`` array.

    Parameters
    ----------
    x, y : array_like, (n,)
        Finite paired series (NaN pairs are dropped first, which joins the frames around them).
    block : int, optional
        Block length; default ``max(1, round(n^(1/3)))`` [2]_. ``block=1`` is the ordinary bootstrap.
    n_boot : int
        Number of replicates.
    level : float
        Two-sided coverage, in (0, 1).
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI
        ``rho`` (of the data), ``low``, ``high`` (NaN when ρ is undefined), ``block``, ``n_boot``.

    Notes
    -----
    Replicates in which one series is constant have no ρ and are left out of the percentiles. With
    fewer than ~20 frames the percentile interval under-covers for strongly autocorrelated series;
    treat it as a guide, not a test.
    """
    x, y = _pairs(x, y)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = x.size
    if not 0 < level < 1:
        raise InputError(f"level={level!r} must be in (0, 1)")
    if int(n_boot) < 1:
        raise InputError(f"n_boot={n_boot!r} must be >= 1")
    b = max(1, int(round(n ** (1.0 / 3.0)))) if block is None else int(block)
    if n < _MIN_PAIRS:
        return BootstrapCI(float("nan"), float("nan"), float("nan"), b, int(n_boot))
    if not 1 <= b <= n:
        raise InputError(f"block={block!r} must be between 1 and the number of pairs ({n})")
    rho = spearman(x, y)
    if not np.isfinite(rho):
        return BootstrapCI(float("nan"), float("nan"), float("nan"), b, int(n_boot))
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // b)
    starts = rng.integers(0, n - b + 1, size=(int(n_boot), n_blocks))
    idx = (starts[:, :, None] + np.arange(b)).reshape(int(n_boot), -1)[:, :n]
    reps = pearson(rankdata(x[idx], axis=-1), rankdata(y[idx], axis=-1))
    alpha = 0.5 * (1.0 - level)
    if np.all(np.isnan(reps)):
        return BootstrapCI(rho, float("nan"), float("nan"), b, int(n_boot))
    low, high = np.nanquantile(reps, [alpha, 1.0 - alpha])
    return BootstrapCI(rho=float(rho), low=float(low), high=float(high), block=b, n_boot=int(n_boot))


#: not correlated unless asked for: bookkeeping, the electrical log itself (R = V/I is tautological under
#: constant current) and the cumulative clocks (charge, dose), which only restate the time axis
_NOT_BY_DEFAULT = ("n_samples", "t_start_s", "t_end_s", "voltage_V", "current_A", "resistance_ohm",
                   "el_intensity", "charge_C", "dose_e_per_A2")


def _usable(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size >= _MIN_PAIRS and np.ptp(finite) > 0


def correlation_table(timeline: xr.Dataset, *, quantities=None, against=("resistance_ohm", "el_intensity"),
                      max_lag: int = 2, n_boot: int = 2000, level: float = 0.95, seed: int = 0,
                      block: int | None = None) -> xr.Dataset:
    """The ``correlations`` results group: each per-frame quantity against the electrical state.

    Parameters
    ----------
    timeline : xarray.Dataset
        Per-frame quantities over ``time`` (:func:`perovscope.operando.build_timeline`).
    quantities : sequence of str, optional
        Columns to correlate; default every numeric 1-D variable over ``time`` except uncertainties
        (``*_std``), the ``against`` columns, bookkeeping (``n_samples``, ``t_start_s*``, ``t_end_s*``),
        the electrical log (``voltage_V``, ``current_A``, ``resistance_ohm``, ``el_intensity``) and the
        cumulative clocks (``charge_C``, ``dose_e_per_A2*``). Name them here to include them.
    against : sequence of str
        Columns each quantity is correlated with (absent ones are skipped).
    max_lag : int
        Largest lag (frames) for ``lag_frames``/``lag_rho`` (:func:`lagged_correlation`).
    n_boot, level, seed, block
        Passed to :func:`block_bootstrap_ci`.

    Returns
    -------
    xarray.Dataset
        Over ``row``: ``quantity``, ``against``, ``rho`` with ``rho_low``/``rho_high`` (the ``level``
        block-bootstrap interval), ``lag_frames`` and ``lag_rho`` (Spearman at the lag of largest |ρ|;
        positive: ``against`` follows ``quantity``) and ``n`` (frames with both finite). Pairs where
        either column is constant, has fewer than 3 finite frames, or is the same column are skipped.
    """
    if "time" not in timeline.dims:
        raise InputError(f"correlation_table needs a Dataset over 'time', got dims {tuple(timeline.dims)}")

    def numeric_series(name):
        var = timeline[name]
        return var.dims == ("time",) and np.issubdtype(var.dtype, np.number)

    if quantities is None:
        quantities = [str(k) for k in timeline.data_vars
                      if numeric_series(k) and not str(k).endswith("_std") and str(k) not in against
                      and not str(k).startswith(_NOT_BY_DEFAULT)]
    else:
        missing = [q for q in quantities if q not in timeline]
        if missing:
            raise InputError(f"correlation_table: {missing} not in the timeline; it has "
                             f"{sorted(map(str, timeline.data_vars))}")
        quantities = [q for q in quantities if not q.endswith("_std") and numeric_series(q)]
    rows = []
    for a in against:            # a few columns × tens of quantities; each pair is vectorised
        if a not in timeline or not numeric_series(a):
            continue
        ya = timeline[a].values.astype(float)
        if not _usable(ya):
            continue
        for q in quantities:
            if q == a:
                continue
            xq = timeline[q].values.astype(float)
            if not _usable(xq):
                continue
            ok = np.isfinite(xq) & np.isfinite(ya)
            if not (_usable(xq[ok]) and _usable(ya[ok])):
                continue
            ci = block_bootstrap_ci(xq, ya, block=block, n_boot=n_boot, level=level, seed=seed)
            lag = lagged_correlation(xq, ya, max_lag=max_lag)
            rows.append((q, a, ci.rho, ci.low, ci.high, lag.best_lag, lag.best_r, int(ok.sum())))
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 8

    def arr(k, dtype):
        return np.array(cols[k], dtype=dtype).reshape(len(rows))

    return xr.Dataset(
        {"quantity": ("row", arr(0, np.str_), {"units": ""}),
         "against": ("row", arr(1, np.str_), {"units": ""}),
         "rho": ("row", arr(2, float), {"units": "1", "long_name": "Spearman rank correlation"}),
         "rho_low": ("row", arr(3, float), {"units": "1"}),
         "rho_high": ("row", arr(4, float), {"units": "1"}),
         "lag_frames": ("row", arr(5, np.int64), {"units": "frames"}),
         "lag_rho": ("row", arr(6, float), {"units": "1"}),
         "n": ("row", arr(7, np.int64), {"units": "1"})},
        attrs={"step": "correlations", "level": level, "n_boot": int(n_boot), "seed": int(seed),
               "max_lag": int(max_lag), "interval": "moving-block bootstrap percentile (Künsch 1989)"})
