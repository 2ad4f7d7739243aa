"""Recovered against true: the simulator's ground truth beside the analysis, with the error."""

from __future__ import annotations

import numpy as np

from ._style import (
    DIVERGING_CMAP,
    INTENSIVE_CMAP,
    PAGE_IN,
    QUALITATIVE,
    add_colorbar,
    message_figure,
    new_figure,
    robust_range,
    styled,
    symmetric_limit,
    units_of,
)
from .maps import _aspect, _grid, _panel
from .timeline import time_values

__all__ = ["truth_series_figure", "truth_map_figure", "TRUTH_SERIES"]

#: (timeline column, variable of the ``truth`` node) compared frame by frame.
TRUTH_SERIES = (
    ("alcl3_thickness_nm", "alcl3_thickness_nm"),
    ("voltage_V", "voltage_V"),
    ("el_intensity", "el_intensity"),
    ("cl_fraction_edx", "mean_cl_fraction"),
    ("cl_fraction_vegard", "mean_cl_fraction"),
)


@styled
def truth_series_figure(timeline, truth, *, pairs=TRUTH_SERIES):
    """Per-frame quantities against the truth: overlay (left) and recovered − true (right).

    Parameters
    ----------
    timeline : xarray.Dataset
        The ``timeline`` group.
    truth : xarray.Dataset
        The truth node (dim ``time``, one entry per frame, same order).
    pairs : sequence of (str, str)
        (timeline column, truth variable) pairs; pairs missing from either side are skipped.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = [(a, b) for a, b in pairs if a in timeline and b in truth
            and truth[b].sizes.get("time", -1) == timeline.sizes.get("time", -2)]
    if not rows:
        return message_figure("no per-frame quantity to compare with the truth")
    t = time_values(timeline)
    fig = new_figure(PAGE_IN * 0.75, 0.3 + 1.0 * len(rows))
    axes = fig.subplots(len(rows), 2, squeeze=False, sharex=True)
    for r, (col, tv) in enumerate(rows):
        rec = np.asarray(timeline[col].values, dtype=float)
        tru = np.asarray(truth[tv].values, dtype=float)
        u = units_of(timeline[col])
        ax = axes[r, 0]
        ax.plot(t, tru, "-", color="0.3", lw=1.4, label="true")
        ax.plot(t, rec, "o", color=QUALITATIVE[0], ms=2.5, label="recovered")
        if f"{col}_std" in timeline:
            s = np.asarray(timeline[f"{col}_std"].values, dtype=float)
            ax.errorbar(t, rec, yerr=s, fmt="none", ecolor=QUALITATIVE[0], elinewidth=0.6)
        ax.set_ylabel(f"{col}\n({u})" if u else col, fontsize=6)
        ax = axes[r, 1]
        err = rec - tru
        ax.axhline(0, color="0.6", lw=0.5)
        ax.plot(t, err, "o-", color=QUALITATIVE[5], ms=2.0, lw=0.7)
        rms = float(np.sqrt(np.nanmean(err**2))) if np.isfinite(err).any() else float("nan")
        ax.set_title(f"recovered − true: rms {rms:.3g}{' ' + u if u else ''}", fontsize=6)
        if r == 0:
            axes[r, 0].legend(loc="best")
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("time (s)")
    fig.align_ylabels(axes[:, 0])
    return fig


@styled
def truth_map_figure(recovered, true, *, name: str = "", frame: int = -1, signed: bool = True,
                     scale: float = 1.0, units: str | None = None):
    """One map recovered, true and their difference, side by side.

    Parameters
    ----------
    recovered, true : xarray.DataArray
        Maps over ``(time?, Y, X)`` on the same grid (e.g. ``strain/exx`` and ``truth/strain/exx``).
    name : str
        The quantity's name for the titles.
    frame : int
        Frame position shown when the maps have a ``time`` dimension.
    signed : bool
        Diverging map symmetric about zero for recovered and true (strain, θ); else ``cividis``.
    scale : float
        Factor applied for display (100 shows strain in %).
    units : str, optional
        Display units (default: ``attrs["units"]`` of ``recovered``).

    Returns
    -------
    matplotlib.figure.Figure
        Recovered and true share one colour range; the error has its own symmetric range.
    """
    if "time" in recovered.dims:
        recovered = recovered.isel(time=frame)
    if "time" in true.dims:
        true = true.isel(time=frame)
    if recovered.shape != true.shape:
        return message_figure(f"{name}: recovered {recovered.shape} and true {true.shape} differ in shape")
    u = units if units is not None else units_of(recovered)
    rec = recovered * scale
    tru = true.copy(data=np.asarray(true.values, dtype=float) * scale)
    tru = tru.assign_coords({d: recovered[d] for d in recovered.dims if d in recovered.coords})
    err = rec - tru
    fig, axes = _grid(1, 3, aspect=_aspect(rec), panel_in=1.9, extra_w=0.6, extra_h=1.0)
    axes = axes[0]
    if signed:
        lim = symmetric_limit(np.concatenate([np.ravel(rec.values), np.ravel(tru.values)]))
        lo, hi, cmap = -lim, lim, DIVERGING_CMAP
    else:
        lo, hi = robust_range(np.concatenate([np.ravel(rec.values), np.ravel(tru.values)]))
        cmap = INTENSIVE_CMAP
    im = _panel(axes[0], rec, cmap=cmap, vmin=lo, vmax=hi)
    _panel(axes[1], tru, cmap=cmap, vmin=lo, vmax=hi, first_col=False, scale_bar=False)
    elim = symmetric_limit(err.values)
    im_err = _panel(axes[2], err, cmap=DIVERGING_CMAP, vmin=-elim, vmax=elim, first_col=False,
                    scale_bar=False)
    finite = np.isfinite(err.values)
    rms = float(np.sqrt(np.mean(err.values[finite] ** 2))) if finite.any() else float("nan")
    axes[0].set_title(f"{name} recovered")
    axes[1].set_title(f"{name} true")
    axes[2].set_title(f"error (rms {rms:.3g}{' ' + u if u else ''})")
    add_colorbar(fig, im, axes[:2].tolist(), f"{name} ({u})" if u else name, location="bottom",
                 shrink=0.6, aspect=30)
    add_colorbar(fig, im_err, [axes[2]], f"error ({u})" if u else "error", location="bottom",
                 shrink=0.9, aspect=15)
    return fig
