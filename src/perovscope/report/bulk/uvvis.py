"""UV-Vis figure: absorbance with the edge line and λg, the Tauc plot with its window and intercept, the
Urbach tail (ln α against photon energy) with its fitted range."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, new_figure, styled

__all__ = ["uvvis_figure"]

_ORDINATE = {"direct": r"$(\alpha h\nu)^2$", "indirect": r"$(\alpha h\nu)^{1/2}$",
             "direct-forbidden": r"$(\alpha h\nu)^{2/3}$", "indirect-forbidden": r"$(\alpha h\nu)^{1/3}$"}


def _edge_panel(ax, ds, i, colour):
    lam = ds["wavelength"].values
    a = ds["absorbance"].values[i]
    ax.plot(lam, a, lw=0.8, color=colour, label=str(ds["file"].values[i]))
    lg = float(ds["lambda_g"].values[i])
    if np.isfinite(lg):
        lo, hi = float(ds["edge_lo"].values[i]), float(ds["edge_hi"].values[i])
        xs = np.linspace(min(lo, lg) - 5, max(hi, lg) + 5, 50)
        m, b = float(ds["edge_slope"].values[i]), float(ds["edge_intercept"].values[i])
        line = m * xs + b
        keep = line >= float(ds["edge_baseline"].values[i]) - 0.02 * np.nanmax(a)
        ax.plot(xs[keep], line[keep], "--", color="black", lw=0.8)
        ax.axvspan(lo, hi, color=colour, alpha=0.12, lw=0)
        ax.plot([lg], [float(ds["edge_baseline"].values[i])], "o", mfc="white", color="black", ms=3.5,
                zorder=5)
        if i == 0:
            ax.annotate(f"λg = {lg:.1f} nm\nEg = {float(ds['eg_edge'].values[i]):.3f} eV", (lg, 0),
                        xytext=(6, 18), textcoords="offset points", fontsize=6)
    ax.set_xlabel("wavelength (nm)")
    units = ds["absorbance"].attrs.get("units", "1")
    ax.set_ylabel("absorbance" if units == "1" else f"α ({units})")


def _tauc_panel(ax, ds, i, colour):
    e = ds["energy"].values
    t = ds["tauc_ordinate"].values[i]
    ax.plot(e, t, lw=0.8, color=colour)
    eg = float(ds["eg_tauc"].values[i])
    lo, hi = float(ds["tauc_lo"].values[i]), float(ds["tauc_hi"].values[i])
    if np.isfinite(eg):
        m, b = float(ds["tauc_slope"].values[i]), float(ds["tauc_intercept"].values[i])
        xs = np.linspace(eg, hi + 0.3 * (hi - lo), 50)
        ax.plot(xs, m * xs + b, "--", color="black", lw=0.8)
        ax.axvspan(lo, hi, color=colour, alpha=0.15, lw=0)
        ax.plot([eg], [0.0], "o", mfc="white", color="black", ms=3.5, zorder=5)
        if i == 0:
            ax.annotate(f"Eg = {eg:.3f} ± {float(ds['eg_tauc_std'].values[i]):.3f} eV\n"
                        f"window {lo:.3f}–{hi:.3f} eV (R² {float(ds['tauc_r2'].values[i]):.4f})",
                        (0.03, 0.95), xycoords="axes fraction", va="top", fontsize=6)
    sel = t[np.isfinite(t)]
    if np.isfinite(lo):
        top = np.nanmax(t[(e >= lo - 0.5) & (e <= hi + 0.5)])
    else:
        top = sel.max() if sel.size else 1.0
    ax.set_ylim(-0.05 * top, 1.6 * top)
    if np.isfinite(lo):
        ax.set_xlim(max(e[0], lo - 0.8), min(e[-1], hi + 0.8))
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("photon energy hν (eV)")
    ax.set_ylabel(_ORDINATE.get(ds.attrs.get("transition", "direct"), "Tauc ordinate"))


def _urbach_panel(ax, ds, i, colour):
    e = ds["energy"].values
    a = ds["absorbance"].values[i][::-1]
    pos = a > 0
    ax.semilogy(e[pos], a[pos], lw=0.8, color=colour)
    lo, hi = float(ds["urbach_lo"].values[i]), float(ds["urbach_hi"].values[i])
    if np.isfinite(lo):
        xs = np.linspace(lo, hi, 40)
        slope, icpt = float(ds["urbach_slope"].values[i]), float(ds["urbach_intercept"].values[i])
        ax.semilogy(xs, np.exp(slope * xs + icpt), "--", color="black", lw=1.0)
        ax.axvspan(lo, hi, color=colour, alpha=0.15, lw=0)
        if i == 0:
            ax.text(0.03, 0.95, f"E$_U$ = {float(ds['urbach_meV'].values[i]):.0f} meV\n{lo:.3f}–{hi:.3f} eV",
                    transform=ax.transAxes, va="top", fontsize=6)
    elif i == 0:
        ax.text(0.03, 0.95, "no straight sub-gap tail", transform=ax.transAxes, va="top", fontsize=6)
    ax.set_xlabel("photon energy (eV)")
    ax.set_ylabel("absorbance (log scale)")


@styled
def uvvis_figure(results):
    """Three panels (first six files overlaid): absorbance with the edge line and λg; the Tauc plot
    with the fitted window shaded and the line extrapolated to its intercept Eg; ln α against photon
    energy with the Urbach fit over its range."""
    ds = results
    fig = new_figure(PAGE_IN, 2.3)
    axes = fig.subplots(1, 3)
    for i in range(min(ds.sizes["file"], 6)):
        colour = QUALITATIVE[i % 8]
        _edge_panel(axes[0], ds, i, colour)
        _tauc_panel(axes[1], ds, i, colour)
        _urbach_panel(axes[2], ds, i, colour)
    if ds.sizes["file"] > 1:
        axes[0].legend(fontsize=5)
    axes[1].set_title(f"Tauc, {ds.attrs.get('transition', 'direct')}", fontsize=6.5)
    return fig
