"""XPS figure: a core-level region on a decreasing binding-energy axis with background, components, fit."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["xps_figure"]


@styled
def xps_figure(ds):
    """Counts (points), background (dashed), components on the background (filled), fit, residuals.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.bulk.xps_xr.fit_xps_dataarray` (the first spectrum is drawn).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "fitted" not in ds:
        return message_figure("no XPS fit to draw")
    lead = [d for d in ds["centre"].dims if d != "component"]
    pick = ds.isel({d: 0 for d in lead}) if lead else ds
    e = ds["binding_energy"].values
    data, bg, fit = pick["data"].values, pick["background"].values, pick["fitted"].values
    comps = pick["components"].transpose("component", "binding_energy").values
    fig = new_figure(COLUMN_IN * 1.4, 3.0)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    top.plot(e, data, ".", ms=2.0, color="0.35", mew=0, label="data")
    top.plot(e, bg, "--", lw=0.8, color="0.45", label=f"{ds.attrs.get('background_method', '')} background")
    for j, comp in enumerate(comps):
        colour = QUALITATIVE[j % len(QUALITATIVE)]
        top.fill_between(e, bg, bg + comp, color=colour, alpha=0.3, lw=0)
        top.plot(e, bg + comp, "-", lw=0.6, color=colour, label=f"{float(pick['centre'].values[j]):.2f} eV")
    top.plot(e, fit, "-", lw=0.9, color="#D55E00", label="fit")
    bottom.axhline(0.0, color="0.6", lw=0.5)
    bottom.plot(e, data - fit, "-", lw=0.5, color="0.3")
    unit = str(ds["data"].attrs.get("units", "counts"))
    top.set_ylabel(label("intensity", unit))
    bottom.set_ylabel("residual")
    bottom.set_xlabel(label("binding energy", "eV"))
    top.invert_xaxis()
    shift = float(ds.attrs.get("charge_shift_eV", 0.0))
    title = " · ".join(t for t in (str(ds.attrs.get("sample", "")), str(ds.attrs.get("region", ""))) if t)
    if shift:
        title += f" (shifted {shift:+.2f} eV)"
    top.set_title(title, fontsize="medium")
    top.legend(fontsize="x-small", frameon=False)
    top.set_ylim(bottom=min(np.nanmin(bg), np.nanmin(data)) * 0.95)
    return fig
