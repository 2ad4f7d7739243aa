"""TRPL figure: decays on a log scale with their fits and the IRF, weighted residuals below."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["trpl_figure"]


def _label(ds, i, lead):
    parts = []
    for c in ds.coords:
        dims = ds.coords[c].dims
        if dims and set(dims) <= set(lead) and c not in ("component",):
            v = np.asarray(ds.coords[c].broadcast_like(ds["tau_amplitude"]).values).reshape(-1)[i]
            parts.append(str(v))
    return " · ".join(dict.fromkeys(parts)) or f"decay {i + 1}"


@styled
def trpl_figure(ds, *, max_decays: int = 6):
    """Counts (points), reconvolution fit (line) and IRF (grey, scaled to the first decay's peak) on a
    log axis; weighted residuals ``(y - μ)/√μ`` of every decay below.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.bulk.trpl_xr.fit_decay_dataarray`.
    max_decays : int
        Decays drawn (evenly chosen from the batch).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "counts" not in ds or "delay" not in ds.dims:
        return message_figure("no decays to draw")
    lead = ds["tau_amplitude"].dims
    tunit = str(ds["delay"].attrs.get("units", "ns"))
    counts = ds["counts"].transpose(..., "delay").values.reshape(-1, ds.sizes["delay"])
    fitted = ds["fitted"].transpose(..., "delay").values.reshape(counts.shape)
    resid = ds["residuals"].transpose(..., "delay").values.reshape(counts.shape)
    mask = ds["fit_mask"].transpose(..., "delay").values.reshape(counts.shape).astype(bool)
    tau = ds["tau"].transpose(..., "component").values.reshape(counts.shape[0], -1)
    t = ds["delay"].values
    nshow = min(max_decays, counts.shape[0])
    pick = np.unique(np.linspace(0, counts.shape[0] - 1, nshow).round().astype(int))
    fig = new_figure(COLUMN_IN * 1.35, 3.0)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    used = mask[pick].any(axis=0)
    j = np.flatnonzero(used)
    lo, hi = (t[j[0]], t[j[-1]]) if j.size else (t[0], t[-1])
    span = hi - lo
    lo = min(lo, float(np.min(t[np.argmax(counts[pick], axis=1)])) - 0.03 * span)  # show the rise
    xlim = (lo - 0.02 * span, hi + 0.02 * span)
    peak = 1.0
    for n, i in enumerate(pick):
        colour = QUALITATIVE[n % len(QUALITATIVE)]
        y = np.where(counts[i] > 0, counts[i], np.nan)
        top.plot(t, y, ".", ms=1.6, color=colour, alpha=0.45, mew=0, rasterized=True)
        taus = ", ".join(f"{v:.3g}" for v in tau[i] if np.isfinite(v))
        top.plot(t, np.where(mask[i], fitted[i], np.nan), "-", lw=0.8, color=colour, zorder=3,
                 label=f"{_label(ds, i, lead)}: τ = {taus} {tunit}")
        bottom.plot(t, resid[i], "-", lw=0.4, color=colour, alpha=0.8)
        peak = max(peak, float(np.nanmax(np.where(mask[i], counts[i], np.nan), initial=1.0)))
    if "irf" in ds:
        g = np.asarray(ds["irf"].values, dtype=float)
        if np.nanmax(g) > 0:
            gs = g / np.nanmax(g) * peak
            top.plot(t, np.where(gs > 0, gs, np.nan), "-", lw=0.6, color="0.55", label="IRF (scaled)",
                     zorder=1)
    sel = counts[pick][:, (t >= xlim[0]) & (t <= xlim[1])]
    positive = sel[sel > 0]
    floor = max(0.5, float(np.percentile(positive, 1)) * 0.5) if positive.size else 0.5
    top.set_yscale("log")
    top.set_ylim(floor, peak * 2.0)
    top.set_xlim(*xlim)
    top.set_ylabel(label("counts", "per channel"))
    top.legend(loc="upper right", fontsize=5.0, handlelength=1.2)
    stat = ds.attrs.get("statistic", "poisson")
    bottom.axhline(0.0, color="0.3", lw=0.5)
    bottom.set_ylabel("(y − μ)/√μ" if stat == "poisson" else "y − μ")
    bottom.set_xlabel(label("delay", tunit))
    finite = resid[pick][np.isfinite(resid[pick])]
    if finite.size:
        lim = max(3.0, float(np.percentile(np.abs(finite), 99.5)))
        bottom.set_ylim(-lim, lim)
    model = ds.attrs.get("model", "reconvolution")
    top.set_title(f"{ds.attrs.get('components', '')}-exponential {model} fit ({stat.replace('_', ' ')})")
    return fig
