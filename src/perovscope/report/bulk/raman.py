"""Raman/FTIR band-fit figure: spectrum, baseline, fit and bands with residuals; band shifts of a series."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, PAGE_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["band_figure", "spectrum_panel"]


def spectrum_panel(
    top, bottom, x, data, baseline, fitted, components, *, xunit="", yunit="", invert_x=False, names=None
):
    """Draw one spectrum (points), its baseline (dashed), the fit (line) and the components (filled)."""
    top.plot(x, data, ".", ms=1.5, color="0.35", mew=0, label="data", rasterized=True)
    top.plot(x, baseline, "--", lw=0.7, color="0.5", label="baseline")
    for j, comp in enumerate(components):
        colour = QUALITATIVE[j % len(QUALITATIVE)]
        top.fill_between(x, baseline, baseline + comp, color=colour, alpha=0.25, lw=0)
        top.plot(x, baseline + comp, "-", lw=0.6, color=colour, label=None if names is None else names[j])
    top.plot(x, fitted, "-", lw=0.9, color="#D55E00", label="fit")
    bottom.axhline(0.0, color="0.6", lw=0.5)
    bottom.plot(x, data - fitted, "-", lw=0.5, color="0.3")
    xunit = {"1/cm": "cm⁻¹"}.get(xunit, xunit)
    top.set_ylabel(label("intensity", yunit))
    bottom.set_ylabel("residual")
    bottom.set_xlabel(label("wavenumber" if not xunit.startswith("e") else "binding energy", xunit))
    if invert_x:
        top.invert_xaxis()


@styled
def band_figure(ds, *, title: str = "", invert_x: bool = False):
    """Band fit of the first spectrum (data, baseline, bands, fit; residuals below) and, for a series,
    the shift of each band from the first spectrum with its standard error.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.bulk.raman_xr.fit_bands_dataarray`.
    title : str
        Figure title (technique).
    invert_x : bool
        Draw the wavenumber axis decreasing (FTIR convention).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "fitted" not in ds or "centre" not in ds:
        return message_figure("no band fit to draw")
    dim = [d for d in ds["fitted"].dims if d in ds.coords and d not in ds["centre"].dims][-1]
    lead = [d for d in ds["centre"].dims if d != "band"]
    n_spec = int(np.prod([ds.sizes[d] for d in lead])) if lead else 1
    series = n_spec > 1 and "shift" in ds
    fig = new_figure(PAGE_IN if series else COLUMN_IN * 1.4, 3.0)
    grid = fig.add_gridspec(2, 2 if series else 1, height_ratios=(3, 1))
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    first = {d: 0 for d in lead}
    pick = ds.isel(first) if lead else ds
    x = ds[dim].values
    xunit = str(ds[dim].attrs.get("units", ""))
    yunit = str(ds["data"].attrs.get("units", ""))
    names = [f"{c:.0f}" for c in pick["centre"].values]
    spectrum_panel(
        top,
        bottom,
        x,
        pick["data"].values,
        pick["baseline"].values,
        pick["fitted"].values,
        pick["components"].transpose("band", dim).values,
        xunit=xunit,
        yunit=yunit,
        invert_x=invert_x,
        names=names,
    )
    label_text = ""
    if lead and "spectrum" in ds.coords:
        label_text = str(np.asarray(ds["spectrum"].values).reshape(-1)[0])
    top.set_title(" · ".join(t for t in (title, label_text) if t), fontsize="medium")
    top.legend(fontsize="x-small", ncols=2, frameon=False)
    top.tick_params(labelbottom=False)
    if series:
        ax = fig.add_subplot(grid[:, 1])
        shift = ds["shift"].transpose(*lead, "band").values.reshape(n_spec, -1)
        err = ds["shift_std"].transpose(*lead, "band").values.reshape(n_spec, -1)
        idx = np.arange(n_spec)
        for j in range(shift.shape[1]):
            ax.errorbar(
                idx,
                shift[:, j],
                yerr=err[:, j],
                fmt="o-",
                ms=3,
                lw=0.8,
                capsize=2,
                color=QUALITATIVE[j % len(QUALITATIVE)],
                label=names[j],
            )
        ax.axhline(0.0, color="0.6", lw=0.5)
        ax.set_xlabel(lead[0] if len(lead) == 1 else "spectrum")
        if "spectrum" in ds.coords and ds["spectrum"].size == n_spec and n_spec <= 8:
            ax.set_xticks(
                idx, [str(s)[:14] for s in ds["spectrum"].values], rotation=30, ha="right", fontsize="x-small"
            )
        ax.set_ylabel(label("band shift", {"1/cm": "cm⁻¹"}.get(xunit, xunit)))
        ax.legend(title="band", fontsize="x-small", frameon=False)
    return fig
