"""PL figure: spectra with the fitted components and residual, the Urbach tail on a log scale, the series."""

from __future__ import annotations

import numpy as np

from .._style import PAGE_IN, QUALITATIVE, TIME_CMAP, new_figure, styled

__all__ = ["pl_figure", "urbach_panel"]


def _axis_label(dim: str) -> str:
    return "photon energy (eV)" if dim == "energy" else "wavelength (nm)"


def urbach_panel(ax, energy, spectra, lines, names, e_lo, e_hi, eu_mev, *, ylabel="PL (counts/eV)"):
    """Log-scale spectra against photon energy, each fitted tail (``lines``, NaN outside the range)
    drawn over its range, which is shaded."""
    for i, name in enumerate(names[:6]):
        colour = QUALITATIVE[i % 8]
        y = spectra[i]
        pos = y > 0
        ax.semilogy(energy[pos], y[pos], lw=0.7, color=colour, alpha=0.8,
                    label=name if len(names) > 1 else None)
        if np.isfinite(e_lo[i]):
            ok = np.isfinite(lines[i])
            ax.semilogy(energy[ok], lines[i][ok], "--", color="black", lw=1.0)
            ax.axvspan(e_lo[i], e_hi[i], color=colour, alpha=0.12, lw=0)
    if np.isfinite(eu_mev[0]):
        ax.text(0.03, 0.95, f"E$_U$ = {eu_mev[0]:.1f} meV\n{e_lo[0]:.3f}–{e_hi[0]:.3f} eV",
                transform=ax.transAxes, va="top", fontsize=6)
    else:
        ax.text(0.03, 0.95, "no straight tail found", transform=ax.transAxes, va="top", fontsize=6)
    shown = spectra[:6]
    pos_vals = shown[shown > 0]
    if pos_vals.size:
        top = np.nanmax(pos_vals)
        ax.set_ylim(max(np.nanmin(pos_vals), top * 1e-4), top * 2)
    ax.set_xlabel("photon energy (eV)")
    ax.set_ylabel(ylabel)
    if len(names) > 1:
        ax.legend(fontsize=5, loc="lower right")


@styled
def pl_figure(results):
    """Panels: (a) spectra, fitted model and components with the residual below (first file when
    fitted); (b) the Urbach tail, ln scale against photon energy, with the fitted range; (c) for a
    series, retained intensity (%) and peak shift against the series values."""
    ds = results
    dim = ds.attrs.get("axis", "wavelength")
    names = [str(v) for v in ds["file"].values]
    m = len(names)
    series = m > 1 and "retained_pct" in ds
    ncols = 3 if series else 2
    fig = new_figure(PAGE_IN, 2.6)
    grid = fig.add_gridspec(2, ncols, height_ratios=(3, 1))
    ax = fig.add_subplot(grid[0, 0])
    axr = fig.add_subplot(grid[1, 0], sharex=ax)
    x = ds[dim].values
    fitted = "model" in ds
    if m == 1 or fitted:
        y = ds["spectrum"].values[0]
        ax.plot(x, y, ".", ms=1.5, color="0.35", label=names[0] if m == 1 else None)
    if m > 1:
        cmap = __import__("matplotlib").colormaps[TIME_CMAP]
        for i in range(m):
            ax.plot(x, ds["spectrum"].values[i], lw=0.7, color=cmap(i / max(m - 1, 1)),
                    label=names[i] if m <= 6 else None, alpha=0.9 if not fitted else 0.4)
    if fitted:
        fx = ds[f"fit_{dim}"].values
        base = ds["fit_baseline"].values[0]
        for k in range(ds.sizes["component"]):
            comp = ds["components"].values[0, k]
            share = float(ds[f"c{k + 1}_share"].values[0])
            ax.fill_between(fx, base, base + comp, color=QUALITATIVE[(k + 1) % 8], alpha=0.35, lw=0,
                            label=f"component {k + 1} ({100 * share:.0f} %)")
        ax.plot(fx, ds["model"].values[0], color="black", lw=0.9, label="model")
        axr.plot(fx, ds["residual"].values[0], lw=0.6, color="0.3")
        axr.axhline(0, color="black", lw=0.5)
        axr.set_ylabel("residual")
    else:
        axr.set_axis_off()
    ax.set_ylabel(f"PL ({ds['spectrum'].attrs.get('units', 'a.u.')})")
    pk = float(ds["peak"].values[0])
    fw = float(ds["fwhm"].values[0])
    ax.set_title(f"peak {pk:.4g}, FWHM {fw:.3g} {'eV' if dim == 'energy' else 'nm'}", fontsize=6.5)
    ax.legend(fontsize=5, loc="best")
    (axr if fitted else ax).set_xlabel(_axis_label(dim))
    if not fitted:
        ax.tick_params(labelbottom=True)
    else:
        ax.tick_params(labelbottom=False)
    axu = fig.add_subplot(grid[:, 1])
    urbach_panel(axu, ds["urbach_energy_axis"].values, ds["urbach_spectrum"].values, ds["urbach_line"].values,
                 names, ds["urbach_lo"].values, ds["urbach_hi"].values, ds["urbach_meV"].values,
                 ylabel=f"PL − background ({ds['urbach_spectrum'].attrs.get('units', 'a.u./eV')})")
    if series:
        axs = fig.add_subplot(grid[:, 2])
        name = ds.attrs.get("series_name", "series")
        sv = ds[name].values if name in ds else np.arange(m)
        axs.plot(sv, ds["retained_pct"].values, "o-", color=QUALITATIVE[0], label="retained intensity")
        axs.set_ylabel("retained intensity (%)", color=QUALITATIVE[0])
        units = ds.attrs.get("series_units", "")
        axs.set_xlabel(f"{name} ({units})" if units else name)
        axt = axs.twinx()
        axt.spines["right"].set_visible(True)
        axt.plot(sv, ds["shift"].values, "s--", color=QUALITATIVE[5], ms=2.5, label="peak shift")
        axt.set_ylabel(f"peak shift ({'eV' if dim == 'energy' else 'nm'})", color=QUALITATIVE[5])
    return fig
