"""Nanoindentation figures: load–depth curves with the unloading fits, CSM depth profiles, H and E maps,
and scratch profiles of force, friction and depth."""

from __future__ import annotations

import numpy as np

from .._style import (
    COLUMN_IN,
    INTENSIVE_CMAP,
    PAGE_IN,
    QUALITATIVE,
    add_colorbar,
    image_extent,
    label,
    message_figure,
    new_figure,
    robust_range,
    styled,
)

__all__ = ["nanoindentation_figure", "scratch_figure"]


def _curves(ax, op, pick):
    h, p = op["depth"].values, op["load"].values
    fit, win = op["load_fit"].values, op["fit_window"].values.astype(bool)
    tests = op["test"].values.astype(str) if "test" in op.coords else np.arange(h.shape[0]).astype(str)
    for n, i in enumerate(pick):
        colour = QUALITATIVE[n % 8]
        ok = np.isfinite(h[i]) & np.isfinite(p[i]) & (h[i] > -0.02 * np.nanmax(h[i]))
        ax.plot(h[i][ok], p[i][ok], "-", lw=0.7, color=colour, label=tests[i].rsplit(":", 1)[-1])
        if win[i].any() and np.isfinite(op["h_f"].values[i]):
            hf, hm = float(op["h_f"].values[i]), float(op["h_max"].values[i])
            hh = np.linspace(hf, hm, 60)
            pp = float(op["alpha"].values[i]) * np.clip(hh - hf, 0, None) ** float(op["m"].values[i])
            ax.plot(hh, pp, "--", lw=0.6, color="black", zorder=4)
            used = np.flatnonzero(win[i])
            used = used[:: max(1, used.size // 12)]  # a dozen markers show the window
            ax.plot(h[i][used], fit[i][used], "o", ms=1.8, mfc="none", mew=0.4, color="black", zorder=4)
    ax.set_xlabel(label("depth h", "nm"))
    ax.set_ylabel(label("load P", "mN"))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=5, ncol=2 if len(pick) > 5 else 1, handlelength=1.0)
    ax.set_title("P–h curves; dashed: unloading fit (○ fitted)")


def _depth_profile(ax, csm, var, mean_var, name, pick):
    h = csm["depth"].values
    v = csm[var].values
    for n, i in enumerate(pick):
        ok = np.isfinite(h[i]) & np.isfinite(v[i])
        ax.plot(h[i][ok], v[i][ok], "-", lw=0.6, color=QUALITATIVE[n % 8])
    lo, hi = float(np.nanmin(csm["depth_min"].values)), float(np.nanmax(csm["depth_max"].values))
    ax.axvspan(lo, hi, color="0.85", lw=0, zorder=0)
    ax.axhline(float(np.nanmean(csm[mean_var].values)), color="black", lw=0.6, ls=":")
    sel = v[np.isfinite(v) & (h > lo / 2.0)]
    if sel.size:
        a, b = robust_range(sel, percentile=1.0)
        pad = 0.25 * (b - a) + 1e-9
        ax.set_ylim(max(a - pad, 0), b + pad)
    ax.set_xscale("log")
    top = float(np.nanmax(h)) if np.isfinite(h).any() else hi
    ax.set_xlim(max(lo / 20.0, 1.0), top * 1.1)
    ax.set_xlabel(label("depth h", "nm"))
    ax.set_ylabel(label(name, "GPa"))
    ax.set_title(f"CSM {name} (grey: averaged range)")


def _per_test(ax, op, csm):
    idx = np.arange(op.sizes["test"]) + 1
    for var, colour, lab in (("modulus", QUALITATIVE[0], "E"), ("hardness", QUALITATIVE[1], "H")):
        err = op["modulus_std"].values if var == "modulus" else None
        ax.errorbar(idx, op[var].values, yerr=err, fmt="o", ms=2.5, lw=0.6, color=colour,
                    label=f"{lab} (unloading)")
        if csm is not None:
            ax.plot(idx, csm[f"{var}_mean"].values, "s", ms=2.5, mfc="none", mew=0.6, color=colour,
                    label=f"{lab} (CSM average)")
    tests = op["test"].values.astype(str) if "test" in op.coords else idx.astype(str)
    if idx.size <= 12:
        ax.set_xticks(idx, [t.rsplit(":", 1)[-1] for t in tests], rotation=30 if idx.size > 4 else 0,
                      ha="right" if idx.size > 4 else "center")
    ax.set_xlim(0.5, idx.size + 0.5)
    ax.set_xlabel("indent")
    ax.set_ylabel(label("E, H", "GPa"))
    ax.set_yscale("log")
    ax.legend(loc="center right", fontsize=5)
    ax.set_title("per indent")


def _map(fig, ax, grid, var, name):
    da = grid[var]
    lo, hi = robust_range(da.values, percentile=0.0)
    im = ax.imshow(da.values, extent=image_extent(da), cmap=INTENSIVE_CMAP, vmin=lo, vmax=hi, origin="upper")
    ax.set_xlabel(label("x", str(grid["x"].attrs.get("units", "µm")).replace("um", "µm")))
    ax.set_ylabel(label("y", str(grid["y"].attrs.get("units", "µm")).replace("um", "µm")))
    add_colorbar(fig, im, ax, label(name, "GPa"))
    if da.size <= 64:
        mid = 0.5 * (lo + hi)
        for (r, c), v in np.ndenumerate(da.values):
            if np.isfinite(v):
                ax.text(float(grid["x"].values[c]), float(grid["y"].values[r]), f"{v:.3g}", ha="center",
                        va="center", fontsize=5, color="black" if v > mid else "white")
    ax.set_title(f"{name}, {da.sizes['y']} × {da.sizes['x']} grid")


@styled
def nanoindentation_figure(op, *, csm=None, grid=None, max_curves: int = 9):
    """Load–depth curves with the fitted unloading power laws, CSM modulus and hardness against depth
    (when measured) or per-indent values, and hardness and modulus maps (when the indents form a grid).

    Parameters
    ----------
    op : xarray.Dataset
        Output of :func:`perovscope.bulk.nanoindentation_xr.oliver_pharr_dataset`.
    csm : xarray.Dataset, optional
        Output of :func:`perovscope.bulk.nanoindentation_xr.csm_dataset`.
    grid : xarray.Dataset, optional
        Output of :func:`perovscope.bulk.nanoindentation_xr.indent_map_dataset`.
    max_curves : int
        Curves drawn (evenly chosen).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "depth" not in op or op.sizes.get("test", 0) == 0:
        return message_figure("no indents to draw")
    ntest = op.sizes["test"]
    pick = np.unique(np.linspace(0, ntest - 1, min(max_curves, ntest)).round().astype(int))
    rows = 2 if grid is not None else 1
    fig = new_figure(PAGE_IN, 2.3 * rows)
    gs = fig.add_gridspec(rows, 3)
    _curves(fig.add_subplot(gs[0, 0]), op, pick)
    if csm is not None:
        _depth_profile(fig.add_subplot(gs[0, 1]), csm, "modulus", "modulus_mean", "E", pick)
        _depth_profile(fig.add_subplot(gs[0, 2]), csm, "hardness", "hardness_mean", "H", pick)
    else:
        _per_test(fig.add_subplot(gs[0, 1:]), op, None)
    if grid is not None:
        _map(fig, fig.add_subplot(gs[1, 0]), grid, "hardness", "H (unloading)")
        _map(fig, fig.add_subplot(gs[1, 1]), grid, "modulus", "E (unloading)")
        if "modulus_csm" in grid:
            _map(fig, fig.add_subplot(gs[1, 2]), grid, "modulus_csm", "E (CSM average)")
        else:
            _per_test(fig.add_subplot(gs[1, 2]), op, csm)
    return fig


@styled
def scratch_figure(scr, *, max_scratches: int = 6):
    """Normal and lateral force, friction coefficient and penetration depth along each scratch.

    Parameters
    ----------
    scr : xarray.Dataset
        Output of :func:`perovscope.bulk.nanoindentation_xr.scratch_dataset`.
    max_scratches : int
        Scratches drawn (evenly chosen).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "friction" not in scr:
        return message_figure("no scratch to draw")
    x = scr["distance"].values
    n = scr.sizes["test"]
    pick = np.unique(np.linspace(0, n - 1, min(max_scratches, n)).round().astype(int))
    fig = new_figure(COLUMN_IN * 1.3, 3.6)
    top, mid, bot = fig.subplots(3, 1, sharex=True)
    tests = scr["test"].values.astype(str)
    for k, i in enumerate(pick):
        colour = QUALITATIVE[k % 8]
        top.plot(x, scr["lateral_force"].values[i], "-", lw=0.7, color=colour, label=f"{tests[i]}: F_L")
        top.plot(x, scr["normal_force"].values[i], ":", lw=0.7, color=colour)
        mid.plot(x, scr["friction"].values[i], "-", lw=0.7, color=colour)
        bot.plot(x, scr["penetration_depth"].values[i], "-", lw=0.7, color=colour)
        ev = float(scr["event_distance"].values[i])
        if np.isfinite(ev):
            for ax in (top, mid, bot):
                ax.axvline(ev, color=colour, lw=0.5, ls="--")
    top.set_ylabel(label("force", "mN"))
    top.legend(loc="upper left", fontsize=5, handlelength=1.2)
    top.set_title("lateral (solid) and normal (dotted) force; dashed: first event")
    mid.set_ylabel("μ = F_L/F_N")
    finite = scr["friction"].values[pick][np.isfinite(scr["friction"].values[pick])]
    if finite.size:
        a, b = robust_range(finite, percentile=1.0)
        mid.set_ylim(max(0.0, a - 0.2 * (b - a)), b + 0.2 * (b - a) + 1e-6)
    bot.set_ylabel(label("depth", "nm"))
    bot.invert_yaxis()
    bot.set_xlabel(label("distance", "µm"))
    return fig
