"""NMR figure: a 1-D spectrum on a decreasing ppm axis with integration regions and fitted lines."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["nmr_figure"]


@styled
def nmr_figure(spectrum, *, limits=None, fit=None):
    """Spectrum over ``chemical_shift`` (ppm, decreasing to the right), shaded integration regions and
    the fitted model.

    Parameters
    ----------
    spectrum : xarray.DataArray
        ``(chemical_shift,)`` intensities.
    limits : array_like (k, 2), optional
        Integration regions (ppm).
    fit : (ppm (m,), fitted (m,)), optional
        The fitted model.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "chemical_shift" not in spectrum.dims:
        return message_figure("no NMR spectrum to draw")
    ppm = spectrum["chemical_shift"].values
    y = np.asarray(spectrum.values, dtype=float)
    fig = new_figure(COLUMN_IN * 1.6, 2.6)
    ax = fig.add_subplot()
    ax.plot(ppm, y, "-", lw=0.6, color="0.2", label="spectrum")
    if limits is not None:
        for j, (a, b) in enumerate(np.asarray(limits, dtype=float)):
            sel = (ppm >= min(a, b)) & (ppm <= max(a, b))
            ax.fill_between(ppm[sel], 0.0, y[sel], color=QUALITATIVE[j % len(QUALITATIVE)], alpha=0.35, lw=0)
    if fit is not None:
        ax.plot(fit[0], fit[1], "-", lw=0.9, color="#D55E00", label="fit")
    nucleus = str(spectrum.attrs.get("nucleus", ""))
    ax.set_xlabel(label(f"δ({nucleus})" if nucleus else "chemical shift", "ppm"))
    ax.set_ylabel(label("intensity", "a.u."))
    if limits is not None and len(limits):
        lim = np.asarray(limits, dtype=float)
        pad = 0.05 * (lim.max() - lim.min() + 1.0)
        ax.set_xlim(lim.max() + pad, lim.min() - pad)
    else:
        ax.set_xlim(ppm.max(), ppm.min())
    ax.legend(fontsize="x-small", frameon=False)
    return fig
