"""Composite and glass sessions: CL, EELS, EDS-domain and spectrum-map figures.

The sessions are those of CsPbI₃ particles in ZIF-62 glass [1]_, CsPbBr₃–SiO₂ nanospheres [2]_ and
MOF-glass / inorganic-glass composites [3]_. These also draw the summary PNGs of
``perovscope cl | eels | edx`` (the command line calls them).

References
----------
.. [1] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6.
.. [2] M. He, Q. Zhang, F. Carulli, A. Erroi et al., "Ultra-stable, solution-processable CsPbBr₃–SiO₂
   nanospheres for highly efficient color conversion in micro light-emitting diodes", ACS Energy Lett. 8,
   151–158 (2023), doi:10.1021/acsenergylett.2c02062.
.. [3] L. Longley et al., "Metal-organic framework and inorganic glass composites", Nat. Commun. 11,
   5800 (2020), doi:10.1038/s41467-020-19598-9.
"""

from __future__ import annotations

import numpy as np

from ._style import (
    COLUMN_IN,
    INTENSIVE_CMAP,
    PAGE_IN,
    QUALITATIVE,
    add_colorbar,
    message_figure,
    new_figure,
    robust_range,
    styled,
    units_of,
)
from .maps import _panel

__all__ = ["cl_maps_figure", "spectrum_maps_figure", "eels_spectrum_figure", "eels_edge_map_figure",
           "iodine_profile_figure", "domain_map_figure"]


def _map_or_line(fig, ax, v, text, *, cmap=INTENSIVE_CMAP, percentile=0.5):
    if v.ndim == 2:
        lo, hi = robust_range(v.values, percentile=percentile)
        im = _panel(ax, v, cmap=cmap, vmin=lo, vmax=hi)
        add_colorbar(fig, im, ax, text, shrink=0.8)
    elif v.ndim == 1:
        ax.plot(np.asarray(v[v.dims[0]].values) if v.dims[0] in v.coords else np.arange(v.size), v.values)
        ax.set_ylabel(text)
    else:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{v.ndim}-D", ha="center", transform=ax.transAxes)


def _padded(lo, hi, pad=0.15):
    w = hi - lo
    return lo - pad * w, hi + pad * w


@styled
def cl_maps_figure(ds, *, title: str | None = None, bins: int = 40, percentile: float = 2.0):
    """CL peak centre, width and intensity maps over their histograms and the centre–σ 2-D histogram.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`perovscope.spectroscopy.maps.cl_peak_map`: ``centre``, ``sigma``, ``intensity``
        over ``(y, x)`` (Nat. Commun. 2023, CsPbI₃/ZIF-62: peak ~710 nm, σ larger at particle edges).
        Where ``flag`` is present, only pixels with ``flag == 0`` (converged fits) enter the centre and
        σ maps and histograms.
    title : str, optional
        Figure title.
    bins : int
        Bins of the 1-D histograms (the 2-D histogram uses 3/4 of it).
    percentile : float
        Colour and histogram ranges span the ``percentile`` to ``100 - percentile`` percentiles (plus a
        margin for the histograms): isolated fits to noise do not stretch them.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..spectroscopy.statistics import correlation_histogram, parameter_histogram

    names = [n for n in ("centre", "sigma", "intensity") if n in ds]
    if not {"centre", "sigma"} <= set(names):
        return message_figure("no CL centre/σ maps")
    if "flag" in ds:  # only converged fits (flag 0) in the centre/σ maps and histograms
        ok = ds["flag"] == 0
        ds = ds.assign(centre=ds["centre"].where(ok), sigma=ds["sigma"].where(ok))
    ranges = {n: _padded(*robust_range(ds[n].values, percentile=percentile)) for n in ("centre", "sigma")}
    fig = new_figure(PAGE_IN, 4.2)
    axes = fig.subplots(2, 3)
    for ax, name in zip(axes[0], names, strict=False):
        _map_or_line(fig, ax, ds[name], f"{name} ({units_of(ds[name])})" if units_of(ds[name]) else name,
                     percentile=percentile)
        ax.set_title({"centre": "peak centre", "sigma": "peak σ"}.get(name, name))
    for ax in axes[0][len(names):]:
        ax.set_axis_off()
    for ax, name in zip(axes[1][:2], ("centre", "sigma"), strict=True):
        h = parameter_histogram(ds[name], bins=bins, range=ranges[name])
        ax.stairs(h.counts, h.edges, fill=True, color=QUALITATIVE[0], alpha=0.35)
        ax.stairs(h.counts, h.edges, color=QUALITATIVE[0], lw=0.8)
        u = units_of(ds[name])
        ax.set_xlabel(f"{name} ({u})" if u else name)
        ax.set_ylabel("pixels")
    inside = ((ds["centre"] >= ranges["centre"][0]) & (ds["centre"] <= ranges["centre"][1])
              & (ds["sigma"] >= ranges["sigma"][0]) & (ds["sigma"] <= ranges["sigma"][1]))
    h2 = correlation_histogram(ds["centre"].where(inside), ds["sigma"].where(inside),
                               bins=max(5, int(bins * 0.75)), range=(ranges["centre"], ranges["sigma"]))
    ax = axes[1][2]
    if h2.n_used:
        mesh = ax.pcolormesh(h2.edges_a, h2.edges_b, np.ma.masked_equal(h2.counts.T, 0), cmap="viridis")
        add_colorbar(fig, mesh, ax, "pixels", shrink=0.8)
    ax.set_xlabel(f"centre ({units_of(ds['centre'])})")
    ax.set_ylabel(f"σ ({units_of(ds['sigma'])})")
    ax.set_title(f"Pearson r = {h2.pearson_r:.2f} (n = {h2.n_used})")
    if title:
        fig.suptitle(title)
    return fig


@styled
def spectrum_maps_figure(ds, names, *, title: str | None = None):
    """One panel per variable of ``ds`` (maps, or lines for 1-D variables), each with its colour bar."""
    names = [n for n in names if n in ds]
    if not names:
        return message_figure("nothing to draw")
    fig = new_figure(min(PAGE_IN, 2.4 * len(names)), 2.3)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        v = ds[name]
        u = units_of(v)
        _map_or_line(fig, ax, v, f"{name} ({u})" if u else name)
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return fig


def _mean_spectrum(da):
    return da.mean([d for d in da.dims if d != "energy"]) if da.ndim > 1 else da


@styled
def eels_spectrum_figure(raw, subtracted, *, window=None):
    """Mean EELS spectrum and the mean background-subtracted spectrum, with the fit window shaded."""
    fig = new_figure(COLUMN_IN * 1.4, 2.3)
    ax = fig.add_subplot()
    raw, sub = _mean_spectrum(raw), _mean_spectrum(subtracted)
    ax.plot(raw["energy"].values, raw.values, lw=0.8, label="mean spectrum")
    ax.plot(sub["energy"].values, sub.values, lw=0.8, label="background subtracted")
    if window is not None:
        ax.axvspan(*window, color="0.88", label="fit window", zorder=0)
    ax.set_xlabel("energy loss (eV)")
    ax.set_ylabel(f"intensity ({units_of(raw, 'counts') or 'counts'})")
    ax.legend()
    return fig


@styled
def eels_edge_map_figure(ds, *, variable: str = "edge_signal"):
    """Integrated edge signal above background per edge (``edge`` dim), e.g. the I M₄,₅ map."""
    if variable not in ds:
        return message_figure("no EELS edge map")
    da = ds[variable]
    edges = [str(e) for e in da["edge"].values] if "edge" in da.dims else [None]
    fig = new_figure(min(PAGE_IN, 2.6 * len(edges)), 2.3)
    axes = fig.subplots(1, len(edges), squeeze=False)[0]
    for ax, edge in zip(axes, edges, strict=True):
        m = da.sel(edge=edge) if edge is not None else da
        m = m.transpose(*[d for d in m.dims if d in ("y", "x", "scan_y", "scan_x")])
        lo, hi = robust_range(m.values)
        im = _panel(ax, m, cmap=INTENSIVE_CMAP, vmin=lo, vmax=hi)
        unit = units_of(da, "counts") or "counts"
        add_colorbar(fig, im, ax, f"{edge or 'edge'} signal ({unit})", shrink=0.8)
        ax.set_title(f"{edge} edge" if edge else "edge")
    return fig


@styled
def iodine_profile_figure(profile, *, width_nm=None, width_std_nm=None, fit=None, ylabel="relative iodine"):
    """The iodine profile across a particle/glass interface with its erfc width (Nat. Commun. 2023).

    Parameters
    ----------
    profile : xarray.DataArray
        Relative iodine against signed distance from the particle surface (dim ``distance`` or ``x``,
        nm; positive into the glass). A sibling ``_std`` may be given as ``profile.attrs["std"]``.
    width_nm, width_std_nm : float, optional
        Fitted erfc width (the distance at which the signal falls to erfc(1) = 16 % of the surface value).
    fit : array-like, optional
        The fitted curve on the same distances.

    Returns
    -------
    matplotlib.figure.Figure
    """
    dim = profile.dims[-1]
    d = np.asarray(profile[dim].values, dtype=float) if dim in profile.coords else np.arange(profile.size)
    y = np.asarray(profile.values, dtype=float)
    fig = new_figure(COLUMN_IN, 2.3)
    ax = fig.add_subplot()
    ax.plot(d, y, "o", ms=2.2, color=QUALITATIVE[0], label="measured")
    if fit is not None:
        ax.plot(d, np.asarray(fit, dtype=float), "-", color=QUALITATIVE[5], lw=1.0, label="erfc fit")
    ax.axvline(0, color="0.5", lw=0.5, ls=":")
    if width_nm is not None and np.isfinite(width_nm):
        txt = f"width {width_nm:.3g}" + (f" ± {width_std_nm:.2g}" if width_std_nm else "") + " nm"
        ax.axvspan(0, width_nm, color=QUALITATIVE[1], alpha=0.18, lw=0, label=txt)
    ax.set_xlabel("distance from particle surface (nm)")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right")
    return fig


@styled
def domain_map_figure(domain, *, area_fraction=None, names=("phosphate glass", "MOF glass")):
    """EDS domain map (True = MOF glass) with the area fraction of each domain (Longley et al. 2020)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    vals = np.asarray(domain.values, dtype=float)
    frac = float(area_fraction) if area_fraction is not None else float(np.nanmean(vals))
    fig = new_figure(COLUMN_IN * 1.5, 2.4)
    ax_map, ax_bar = fig.subplots(1, 2, width_ratios=(2.2, 1))
    cmap = ListedColormap([QUALITATIVE[1], QUALITATIVE[0]])
    _panel(ax_map, domain.astype(float), cmap=cmap, vmin=-0.5, vmax=1.5)
    ax_map.set_title("EDS domains")
    ax_bar.bar([0, 1], [1 - frac, frac], color=[QUALITATIVE[1], QUALITATIVE[0]], width=0.6)
    ax_bar.set_xticks([0, 1], [names[0].replace(" ", "\n"), names[1].replace(" ", "\n")])
    ax_bar.set_ylabel("area fraction")
    ax_bar.set_ylim(0, 1)
    for k, v in enumerate((1 - frac, frac)):
        ax_bar.text(k, v + 0.02, f"{v:.3f}", ha="center", va="bottom", fontsize=6)
    fig.legend(handles=[Patch(color=QUALITATIVE[1], label=names[0]),
                        Patch(color=QUALITATIVE[0], label=names[1])],
               loc="outside lower center", ncol=2)
    return fig
