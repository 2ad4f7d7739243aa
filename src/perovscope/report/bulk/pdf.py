"""PDF figure: G(r) data, the refined model and the difference curve below."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, label, message_figure, new_figure, styled

__all__ = ["pdf_figure"]


@styled
def pdf_figure(ds, *, max_patterns: int = 4):
    """G(r) (points) with the fitted model (line) over the fit range and the difference offset below;
    without a fit, G(r) alone.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.bulk.pdf_xr.fit_pdf_dataset` with ``G`` added, or a Dataset holding
        ``G`` over ``r``.
    max_patterns : int
        Patterns drawn (each with its own offset).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "G" not in ds or "r" not in ds.dims:
        return message_figure("no G(r) to draw")
    g = ds.G.transpose(..., "r").values.reshape(-1, ds.sizes["r"])
    r = ds.r.values
    names = (np.asarray(ds.pattern.values).astype(str).reshape(-1) if "pattern" in ds.coords
             else [f"pattern {i + 1}" for i in range(g.shape[0])])
    fitted = "G_calc" in ds
    pick = np.unique(np.linspace(0, g.shape[0] - 1, min(max_patterns, g.shape[0])).round().astype(int))
    fig = new_figure(COLUMN_IN * 1.6, 2.8)
    ax = fig.add_subplot()
    span = float(np.nanmax(g) - np.nanmin(g)) if g.size else 1.0
    if fitted:
        rf = ds.r_fit.values
        calc = ds.G_calc.transpose(..., "r_fit").values.reshape(-1, rf.size)
        diff = ds.G_diff.transpose(..., "r_fit").values.reshape(-1, rf.size)
        view = (r >= rf[0] - 0.5) & (r <= rf[-1] + 0.5)
        lo = float(np.nanmin(g[:, view]))
    for n, i in enumerate(pick):
        c = QUALITATIVE[n % len(QUALITATIVE)]
        shift = -1.15 * span * n
        if fitted:
            ax.plot(r[view], g[i, view] + shift, "o", ms=1.4, mfc="none", mew=0.4, color=c,
                    label=f"{names[i]} data")
            rw = float(np.asarray(ds.rw.values).reshape(-1)[i])
            a = float(np.asarray(ds.a.values).reshape(-1)[i])
            ax.plot(rf, calc[i] + shift, "-", lw=0.8, color="k",
                    label=f"fit: a = {a:.5f} Å, Rw = {rw:.3f}" if n == 0 else None)
            base = lo - 0.12 * span + shift - 0.5 * float(np.nanmax(np.abs(diff[i])))
            ax.plot(rf, diff[i] + base, "-", lw=0.6, color=QUALITATIVE[5],
                    label="difference (offset)" if n == 0 else None)
            ax.axhline(base, color="0.6", lw=0.4, ls=":")
        else:
            ax.plot(r, g[i] + shift, "-", lw=0.7, color=c, label=names[i])
    ax.set_xlabel(label("r", "Å"))
    ax.set_ylabel(label("G(r)", "Å⁻²"))
    if fitted:
        ax.set_xlim(rf[0] - 0.3, rf[-1] + 0.3)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, fontsize=5, borderaxespad=0.2)
    qmax = ds.attrs.get("qmax")
    if qmax:
        ax.set_title(f"Qmax = {float(qmax):g} Å⁻¹", loc="left")
    return fig
