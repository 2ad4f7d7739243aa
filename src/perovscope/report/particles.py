"""Particle figures: size histograms per frame, nucleation times, and size distributions."""

from __future__ import annotations

import numpy as np

from ._style import (
    COLUMN_IN,
    PAGE_IN,
    QUALITATIVE,
    TIME_CMAP,
    frame_indices,
    message_figure,
    new_figure,
    styled,
)

__all__ = ["particle_sizes_figure", "size_distribution_figure"]


def _column(ds, name, default=None):
    if ds is not None and name in ds:
        return np.asarray(ds[name].values)
    return default


@styled
def particle_sizes_figure(particles, *, nucleation=None, frame_times=None, kind=None, frames=None,
                          max_frames: int = 5, bins: int = 15):
    """Diameter histograms per frame (left) and cumulative nucleation against time (right).

    Parameters
    ----------
    particles : xarray.Dataset
        The ``particles`` table (``frame``, ``diameter_nm``, ``kind``; dim ``particle``).
    nucleation : xarray.Dataset, optional
        The ``nucleation`` table (``nucleation_time_s``, ``kind``; dim ``site``).
    frame_times : array-like, optional
        Time (s) of each frame index, for the colour of each histogram (default: frame index).
    kind : str, optional
        Only particles of this kind (``"Pb"`` or ``"cluster"``); default all.
    frames : sequence of int, optional
        Frame indices whose histograms are drawn (default: up to ``max_frames`` frames with particles).
    bins : int
        Number of diameter bins (shared by all frames).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.ticker import MaxNLocator

    frame = _column(particles, "frame")
    diam = _column(particles, "diameter_nm")
    if frame is None or diam is None or diam.size == 0:
        return message_figure("no particles found in this session")
    kinds = _column(particles, "kind", np.full(diam.shape, "Pb")).astype(str)
    keep = np.isfinite(diam.astype(float)) & ((kinds == kind) if kind else True)
    frame, diam, kinds = frame[keep].astype(int), diam[keep].astype(float), kinds[keep]
    present = np.unique(frame)
    if frames is None:
        frames = [int(present[i]) for i in frame_indices(present.size, max_frames)] if present.size else []
    has_nuc = nucleation is not None and "nucleation_time_s" in nucleation and nucleation.sizes.get("site", 0)
    fig = new_figure(PAGE_IN if has_nuc else COLUMN_IN, 2.2)
    axes = fig.subplots(1, 2 if has_nuc else 1, squeeze=False)[0]
    ax = axes[0]
    times = np.asarray(frame_times, dtype=float) if frame_times is not None else None

    def tval(f):
        return times[f] if times is not None and 0 <= f < times.size else float(f)

    tv = [tval(f) for f in frames] or [0.0]
    norm = Normalize(vmin=min(tv), vmax=max(tv) if max(tv) > min(tv) else min(tv) + 1)
    cmap = colormaps[TIME_CMAP]
    edges = np.histogram_bin_edges(diam, bins=bins) if diam.size else np.linspace(0, 1, bins + 1)
    for f in frames:
        d = diam[frame == f]
        counts, _ = np.histogram(d, bins=edges)
        sd = np.std(d, ddof=1) if d.size > 1 else 0.0
        when = f" ({tval(f):.4g} s)" if times is not None else ""
        ax.stairs(counts, edges, color=cmap(norm(tval(f))), lw=1.0,
                  label=f"frame {f}{when}: n = {d.size}, {np.mean(d):.3g} ± {sd:.2g} nm")
    ax.set_xlabel("diameter (nm)")
    ax.set_ylabel("particles per frame")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, None)
    ax.margins(y=0.25)
    if len(frames) > 6:
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02, shrink=0.9)
        cb.set_label("time (s)" if times is not None else "frame")
    else:
        ax.legend(loc="upper left", fontsize=5)
    if has_nuc:
        ax = axes[1]
        t = np.asarray(nucleation["nucleation_time_s"].values, dtype=float)
        nk = _column(nucleation, "kind", np.full(t.shape, "Pb")).astype(str)
        for k, name in enumerate(sorted(set(nk))):
            tk = np.sort(t[(nk == name) & np.isfinite(t)])
            if tk.size == 0:
                continue
            ax.step(np.concatenate([[0.0], tk]), np.arange(tk.size + 1), where="post",
                    color=QUALITATIVE[k % len(QUALITATIVE)], label=name)
        ax.set_xlabel("nucleation time (s)")
        ax.set_ylabel("nucleated sites (cumulative)")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left")
    return fig


@styled
def size_distribution_figure(diameters, *, label: str = "particles", bins: int | str = "auto",
                             log_normal: bool = True, ax_label: str = "diameter (nm)"):
    """Histogram of sizes with mean ± sd (and a log-normal curve of the same moments).

    Parameters
    ----------
    diameters : array-like or xarray.DataArray
        Sizes in nm (NaN ignored).
    label : str
        What is counted (legend and title), e.g. ``"nanospheres"``.
    bins : int or str
        Passed to :func:`numpy.histogram_bin_edges`.
    log_normal : bool
        Overlay the log-normal density with the sample's log-mean and log-sd.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d = np.asarray(getattr(diameters, "values", diameters), dtype=float).ravel()
    d = d[np.isfinite(d) & (d > 0)]
    if d.size == 0:
        return message_figure(f"no {label} measured")
    fig = new_figure(COLUMN_IN, 2.2)
    ax = fig.add_subplot()
    edges = np.histogram_bin_edges(d, bins=bins)
    counts, _ = np.histogram(d, bins=edges)
    ax.stairs(counts, edges, fill=True, color=QUALITATIVE[0], alpha=0.35)
    ax.stairs(counts, edges, color=QUALITATIVE[0], lw=0.8)
    sd = float(np.std(d, ddof=1)) if d.size > 1 else 0.0
    if log_normal and d.size > 2:
        mu, s = float(np.mean(np.log(d))), float(np.std(np.log(d), ddof=1))
        x = np.linspace(edges[0], edges[-1], 200)
        x = x[x > 0]
        pdf = np.exp(-((np.log(x) - mu) ** 2) / (2 * s**2)) / (x * s * np.sqrt(2 * np.pi)) if s > 0 else 0 * x
        ax.plot(x, pdf * d.size * np.diff(edges).mean(), color=QUALITATIVE[5], lw=0.9, label="log-normal")
    ax.set_xlabel(ax_label)
    ax.set_ylabel("count")
    ax.set_title(f"{label}: {np.mean(d):.3g} ± {sd:.2g} nm (n = {d.size})")
    if log_normal and d.size > 2:
        ax.legend(loc="upper right")
    return fig
