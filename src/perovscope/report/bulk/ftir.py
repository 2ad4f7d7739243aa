"""FTIR figure: spectra on a decreasing wavenumber axis with the picked peaks marked."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["ftir_figure"]


@styled
def ftir_figure(spectra, table=None, *, max_spectra: int = 6, xlim=None):
    """Spectra ``(spectrum, wavenumber)`` (offset when several) with the peak-table positions marked.

    Parameters
    ----------
    spectra : xarray.DataArray
        ``(spectrum, wavenumber)`` absorbance (or other quantity) spectra.
    table : xarray.Dataset, optional
        Peak table over ``row`` with ``spectrum``, ``position``, ``height``.
    max_spectra : int
        Spectra drawn.
    xlim : (lo, hi), optional
        Wavenumber range drawn (default: all).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "wavenumber" not in spectra.dims:
        return message_figure("no FTIR spectrum to draw")
    da = spectra if "spectrum" in spectra.dims else spectra.expand_dims(spectrum=["spectrum"])
    if xlim is not None:
        lo_x, hi_x = sorted(xlim)
        da = da.where((da["wavenumber"] >= lo_x) & (da["wavenumber"] <= hi_x), drop=True)
    x = da["wavenumber"].values
    y = da.transpose("spectrum", "wavenumber").values
    fig = new_figure(COLUMN_IN * 1.5, 2.8)
    ax = fig.add_subplot()
    span = float(np.nanpercentile(y, 99.5) - np.nanpercentile(y, 0.5)) or 1.0
    for i in range(min(max_spectra, y.shape[0])):
        colour = QUALITATIVE[i % len(QUALITATIVE)]
        off = 0.6 * span * i
        name = str(da["spectrum"].values[i])
        ax.plot(x, y[i] + off, "-", lw=0.7, color=colour, label=name)
        if table is not None and "position" in table:
            sel = np.asarray(table["spectrum"].values) == name
            ax.plot(table["position"].values[sel], table["height"].values[sel] + off, "v", ms=3, color=colour)
    quantity = str(da.attrs.get("quantity", "intensity"))
    ax.set_xlabel(label("wavenumber", "cm⁻¹"))
    ax.set_ylabel(label(quantity, "" if da.attrs.get("units") in ("1", None) else str(da.attrs["units"])))
    ax.invert_xaxis()
    lo, hi = np.nanpercentile(y[:max_spectra], 0.2), np.nanpercentile(y[:max_spectra], 99.8)
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.6 * span * (min(max_spectra, y.shape[0]) - 1) + 0.1 * (hi - lo))
    ax.legend(fontsize="x-small", frameon=False)
    return fig
