"""CIE 1931 chromaticity diagram with the spectral locus, the white point and each spectrum's (x, y)."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, PAGE_IN, QUALITATIVE, new_figure, styled

__all__ = ["colour_figure", "chromaticity_diagram"]


def _locus_rgb(lam):
    """Approximate display colours of spectral wavelengths (for the locus line only)."""
    from matplotlib import colormaps

    t = np.clip((lam - 400.0) / (680.0 - 400.0), 0, 1)
    return colormaps["nipy_spectral"](0.08 + 0.82 * t)


def chromaticity_diagram(ax, locus_lam, locus_x, locus_y, points, labels, white, *, dominant=None):
    """The horseshoe (spectral locus, coloured by wavelength, closed by the purple line), wavelength
    ticks, the white point and the points with their dominant-wavelength lines."""
    keep = locus_lam <= 700
    lx, ly, ll = locus_x[keep], locus_y[keep], locus_lam[keep]
    from matplotlib.collections import LineCollection

    points_xy = np.column_stack([lx, ly])
    segments = np.stack([points_xy[:-1], points_xy[1:]], axis=1)
    ax.add_collection(LineCollection(segments, colors=_locus_rgb(ll[:-1]), linewidths=1.6, capstyle="butt"))
    ax.plot([lx[-1], lx[0]], [ly[-1], ly[0]], color="0.5", lw=0.8, ls="--")
    for mark in (460, 480, 500, 520, 540, 560, 580, 600, 620):
        j = int(np.argmin(np.abs(ll - mark)))
        ax.plot(lx[j], ly[j], "o", ms=1.8, color="black")
        off = (-14, 0) if mark < 500 else ((-6, 5) if mark <= 520 else (4, 0))
        ax.annotate(str(mark), (lx[j], ly[j]), xytext=off, textcoords="offset points", fontsize=5)
    ax.plot(*white, "+", color="black", ms=5, mew=0.8)
    for k, ((x, y), name) in enumerate(zip(points, labels, strict=True)):
        colour = QUALITATIVE[k % 8]
        ax.plot(x, y, "o", ms=4, mfc=colour, mec="black", mew=0.5, label=f"{name} ({x:.4f}, {y:.4f})",
                zorder=5)
        if dominant is not None and np.isfinite(dominant[k]) and dominant[k] > 0:
            j = int(np.argmin(np.abs(ll - dominant[k])))
            ax.plot([white[0], lx[j]], [white[1], ly[j]], ":", color=colour, lw=0.7)
    ax.set_xlim(0, 0.8)
    ax.set_ylim(0, 0.9)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=5, loc="upper right")


@styled
def colour_figure(results):
    """Left: the spectra (normalised); right: the CIE 1931 xy chromaticity diagram with the points."""
    ds = results
    names = [str(v) for v in ds["file"].values]
    fig = new_figure(PAGE_IN if len(names) else COLUMN_IN, 3.0)
    ax_s, ax_c = fig.subplots(1, 2, width_ratios=(1.1, 1))
    lam = ds["wavelength"].values
    for k, name in enumerate(names[:8]):
        y = ds["spectrum"].values[k]
        ax_s.plot(lam, y / np.nanmax(np.abs(y)), lw=0.8, color=QUALITATIVE[k % 8], label=name)
    ax_s.set_xlabel("wavelength (nm)")
    ax_s.set_ylabel("normalised intensity")
    ax_s.legend(fontsize=5)
    pts = list(zip(ds["x"].values[:8], ds["y"].values[:8], strict=True))
    chromaticity_diagram(ax_c, ds["locus_wavelength"].values, ds["locus_x"].values, ds["locus_y"].values, pts,
                         names[:8], (ds.attrs["white_x"], ds.attrs["white_y"]),
                         dominant=ds["dominant_wavelength"].values[:8])
    ax_c.set_title(f"CIE 1931 (white point {ds.attrs.get('white', 'E')})", fontsize=6.5)
    return fig
