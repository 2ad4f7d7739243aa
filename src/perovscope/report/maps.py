"""Maps per frame: strain, phase, crystallinity, composition and HAADF with particles and interfaces.

Every function takes a Dataset whose maps end with two spatial dimensions (``y, x`` on the reference
grid, or ``scan_y, scan_x`` on the 4D-STEM scan) after ``time``, draws one column per shown frame and
returns a :class:`matplotlib.figure.Figure`. Colour ranges are shared across frames so that frames
compare by eye; signed quantities use a diverging map symmetric about zero.
"""

from __future__ import annotations

import numpy as np

from ._style import (
    DIVERGING_CMAP,
    IMAGE_CMAP,
    INTENSIVE_CMAP,
    PAGE_IN,
    QUALITATIVE,
    add_colorbar,
    add_scale_bar,
    coord_units,
    frame_indices,
    frame_title,
    image_extent,
    message_figure,
    new_figure,
    robust_range,
    styled,
    symmetric_limit,
    units_of,
)
from .overlays import interface_lines, names_attr, overlay_interfaces

__all__ = ["strain_maps_figure", "phase_map_figure", "crystallinity_figure", "composition_figure",
           "haadf_particles_figure", "interface_lines", "names_attr"]

#: Colour of pixels without a value (NaN): light grey, distinct from zero strain (white).
NAN_COLOUR = "0.82"

STRAIN_COMPONENTS = (("exx", "ε$_{xx}$"), ("eyy", "ε$_{yy}$"), ("exy", "ε$_{xy}$"))


def _frames(ds, frames, max_frames):
    n = ds.sizes.get("time", 1)
    return list(frames) if frames is not None else frame_indices(n, max_frames)


def _frame(da, i):
    return da.isel(time=i) if "time" in da.dims else da


def _spatial(da):
    return da.dims[-2], da.dims[-1]


def _panel(ax, da2d, *, cmap, vmin, vmax, norm=None, first_col=True, last_row=True, scale_bar=True):
    ydim, xdim = _spatial(da2d)
    ext = image_extent(da2d, ydim, xdim)
    kw = {"norm": norm} if norm is not None else {"vmin": vmin, "vmax": vmax}
    if isinstance(cmap, str):
        from matplotlib import colormaps

        cmap = colormaps[cmap].with_extremes(bad=NAN_COLOUR)
    im = ax.imshow(np.asarray(da2d.values, dtype=float), cmap=cmap, extent=ext, origin="upper",
                   interpolation="nearest", **kw)
    unit = coord_units(da2d, xdim)
    if first_col:
        ax.set_ylabel(f"y ({coord_units(da2d, ydim)})")
    else:
        ax.tick_params(labelleft=False)
    if last_row:
        ax.set_xlabel(f"x ({unit})")
    else:
        ax.tick_params(labelbottom=False)
    if scale_bar and first_col:
        add_scale_bar(ax, ext, units=unit)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return im


def _aspect(da) -> float:
    """Height / width of a map in physical units."""
    left, right, bottom, top = image_extent(da, *_spatial(da))
    w, h = abs(right - left), abs(bottom - top)
    return h / w if w > 0 else 1.0


def _grid(n_rows, n_cols, *, aspect=1.0, panel_in=1.55, extra_w=1.0, extra_h=0.55):
    """Rows × columns of map axes sized so that the maps (height/width ``aspect``) fill them."""
    w = min(panel_in, (PAGE_IN - extra_w) / n_cols)
    h = w * min(max(aspect, 0.25), 3.0)
    fig = new_figure(n_cols * w + extra_w, n_rows * h + extra_h)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)
    return fig, axes


def _lines_for(interfaces, layer, i):
    try:
        return interface_lines(interfaces, layer, i)
    except (KeyError, IndexError, ValueError):
        return []


@styled
def strain_maps_figure(ds, *, frames=None, max_frames: int = 4, interfaces=None, layer=None,
                       percentile: float = 99.5):
    """εxx, εyy, εxy and θ maps, one column per frame, one colour range shared across all frames.

    Parameters
    ----------
    ds : xarray.Dataset
        ``strain`` or ``grid`` group: ``exx, eyy, exy`` (1) and ``theta`` (deg) over
        ``(time, y, x)`` or ``(time, scan_y, scan_x)``.
    frames : sequence of int, optional
        Frame positions to show; by default up to ``max_frames`` spread over the session.
    interfaces, layer : optional
        ``interfaces`` Dataset and/or ``grid/layer`` labels; drawn as dashed lines (grid maps only).
    percentile : float
        The symmetric range ±L covers this percentile of |ε| over every frame (outliers saturate).

    Returns
    -------
    matplotlib.figure.Figure
        Strain images share ``clim == (-L, L)`` (strain in %), θ images share ``(-Lθ, Lθ)``.
    """
    comps = [(n, lab) for n, lab in STRAIN_COMPONENTS if n in ds]
    has_theta = "theta" in ds
    if not comps and not has_theta:
        return message_figure("no strain maps in this session")
    idx = _frames(ds, frames, max_frames)
    lim = symmetric_limit(np.concatenate([np.ravel(ds[n].values) for n, _ in comps]) * 100,
                          percentile=percentile) if comps else 1.0
    tlim = symmetric_limit(ds["theta"].values, percentile=percentile) if has_theta else 1.0
    rows = comps + ([("theta", "θ")] if has_theta else [])
    fig, axes = _grid(len(rows), len(idx), aspect=_aspect(_frame(ds[rows[0][0]], 0)))
    strain_ims, theta_ims = [], []
    on_grid = ds[rows[0][0]].dims[-1] == "x"
    for c, i in enumerate(idx):
        lines = _lines_for(interfaces, layer, i) if on_grid else []
        for r, (name, lab) in enumerate(rows):
            ax = axes[r, c]
            da = _frame(ds[name], i)
            scale, lm = (1.0, tlim) if name == "theta" else (100.0, lim)
            im = _panel(ax, da * scale, cmap=DIVERGING_CMAP, vmin=-lm, vmax=lm, first_col=c == 0,
                        last_row=r == len(rows) - 1, scale_bar=r == 0)
            (theta_ims if name == "theta" else strain_ims).append(im)
            overlay_interfaces(ax, lines, color="0.15", labels=c == 0)
            if r == 0:
                ax.set_title(frame_title(ds, i))
            if c == 0:
                ax.text(0.03, 0.95, lab, transform=ax.transAxes, fontsize=7, va="top", ha="left",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    if strain_ims:
        add_colorbar(fig, strain_ims[0], axes[:len(comps), -1].tolist(), "strain (%)")
    if theta_ims:
        add_colorbar(fig, theta_ims[0], [axes[-1, -1]], f"θ ({units_of(ds['theta'], 'deg')})")
    return fig


def _phase_colours(n):
    return [QUALITATIVE[k % len(QUALITATIVE)] for k in range(n)]


@styled
def phase_map_figure(ds, *, frames=None, max_frames: int = 4, interfaces=None, layer=None,
                     variable: str = "phase"):
    """Phase labels per frame with a legend of the phase names (``attrs["phase_names"]``).

    Parameters
    ----------
    ds : xarray.Dataset
        Group holding ``variable`` (int labels over ``time`` and two spatial dims; negative = none).
    frames, max_frames, interfaces, layer
        As :func:`strain_maps_figure`.
    variable : str
        ``"phase"`` (names in ``phase_names``) or ``"layer"`` (names in ``layer_names``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    if variable not in ds:
        return message_figure(f"no {variable} map in this session")
    da = ds[variable]
    names = names_attr(da, f"{variable}_names") or names_attr(ds, f"{variable}_names")
    vals = np.asarray(da.values, dtype=float)
    present = sorted({int(v) for v in np.unique(vals[np.isfinite(vals)]) if v >= 0})
    n = max(len(names), (max(present) + 1) if present else 1)
    cmap = ListedColormap(_phase_colours(n)).with_extremes(bad="white")
    norm = BoundaryNorm(np.arange(-0.5, n + 0.5), n)
    idx = _frames(ds, frames, max_frames)
    fig, axes = _grid(1, len(idx), aspect=_aspect(_frame(da, 0)), extra_h=0.8)
    on_grid = da.dims[-1] == "x"
    for c, i in enumerate(idx):
        f = _frame(da, i).astype(float)
        f = f.where(f >= 0)
        ax = axes[0, c]
        _panel(ax, f, cmap=cmap, vmin=None, vmax=None, norm=norm, first_col=c == 0)
        overlay_interfaces(ax, _lines_for(interfaces, layer, i) if on_grid else [], color="black",
                            labels=False)
        ax.set_title(frame_title(ds, i))
    handles = [Patch(facecolor=cmap(k), edgecolor="0.3", lw=0.3, label=names[k] if k < len(names) else str(k))
               for k in present]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(6, max(1, len(handles))),
               handlelength=1.0, columnspacing=0.8)
    return fig


def _single_quantity(ds, name, *, frames, max_frames, interfaces, layer, cmap, text, vrange=None):
    if name not in ds:
        return message_figure(f"no {name} map in this session")
    da = ds[name]
    idx = _frames(ds, frames, max_frames)
    lo, hi = vrange if vrange is not None else robust_range(da.values)
    fig, axes = _grid(1, len(idx), aspect=_aspect(_frame(da, 0)))
    on_grid = da.dims[-1] == "x"
    im = None
    for c, i in enumerate(idx):
        ax = axes[0, c]
        im = _panel(ax, _frame(da, i), cmap=cmap, vmin=lo, vmax=hi, first_col=c == 0)
        overlay_interfaces(ax, _lines_for(interfaces, layer, i) if on_grid else [],
                            labels=c == 0)
        ax.set_title(frame_title(ds, i))
    add_colorbar(fig, im, axes[0, :].tolist(), text)
    return fig


@styled
def crystallinity_figure(ds, *, frames=None, max_frames: int = 4, interfaces=None, layer=None):
    """Crystallinity (0–1) per frame, ``cividis``, range fixed to [0, 1]."""
    return _single_quantity(ds, "crystallinity", frames=frames, max_frames=max_frames,
                            interfaces=interfaces, layer=layer, cmap=INTENSIVE_CMAP,
                            text="crystallinity", vrange=(0.0, 1.0))


@styled
def composition_figure(ds, *, frames=None, max_frames: int = 4, interfaces=None, layer=None,
                       elements=None, max_elements: int = 6):
    """Atomic percent of each element and Cl/(Cl+Br), one row per quantity, one column per frame.

    Parameters
    ----------
    ds : xarray.Dataset
        ``grid`` (``atomic_percent`` over ``time, element, y, x``) or ``edx`` (``time, y, x, element``)
        group, optionally with ``cl_fraction``.
    elements : sequence of str, optional
        Elements to show (default: the first ``max_elements`` of the store).

    Returns
    -------
    matplotlib.figure.Figure
        One colour range per row (shared across frames).
    """
    rows = []
    if "atomic_percent" in ds:
        ap = ds["atomic_percent"]
        spatial = [d for d in ap.dims if d not in ("time", "element")]
        ap = ap.transpose(*[d for d in ("time", "element") if d in ap.dims], *spatial)
        els = (list(elements) if elements is not None
               else [str(e) for e in ap["element"].values][:max_elements])
        for el in els:
            rows.append((f"{el} (at.%)", ap.sel(element=el), INTENSIVE_CMAP))
    if "cl_fraction" in ds:
        rows.append(("Cl/(Cl+Br)", ds["cl_fraction"], INTENSIVE_CMAP))
    if not rows:
        return message_figure("no composition maps in this session")
    idx = _frames(ds, frames, max_frames)
    fig, axes = _grid(len(rows), len(idx), aspect=_aspect(_frame(rows[0][1], 0)), panel_in=1.2)
    on_grid = rows[0][1].dims[-1] == "x"
    for r, (text, da, cmap) in enumerate(rows):
        lo, hi = robust_range(da.values)
        im = None
        for c, i in enumerate(idx):
            ax = axes[r, c]
            im = _panel(ax, _frame(da, i), cmap=cmap, vmin=lo, vmax=hi, first_col=c == 0,
                        last_row=r == len(rows) - 1, scale_bar=r == 0)
            overlay_interfaces(ax, _lines_for(interfaces, layer, i) if on_grid else [],
                                labels=False)
            if r == 0:
                ax.set_title(frame_title(ds, i))
        add_colorbar(fig, im, axes[r, :].tolist(), text, aspect=12)
    return fig


_KIND_COLOURS = {"Pb": QUALITATIVE[1], "cluster": QUALITATIVE[4]}


@styled
def haadf_particles_figure(image, *, particles=None, frames=None, max_frames: int = 4, interfaces=None,
                           layer=None):
    """Drift-corrected HAADF per frame with the particles outlined and the interfaces overlaid.

    Parameters
    ----------
    image : xarray.DataArray
        HAADF counts over ``(time, y, x)`` with coordinates in nm (``haadf/aligned`` or ``grid/haadf``).
    particles : xarray.Dataset, optional
        The ``particles`` table (``frame``, ``centroid_y_nm``, ``centroid_x_nm``, ``diameter_nm``,
        ``kind``); a circle of the particle's diameter is drawn at its centroid, coloured by kind.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    if image is None:
        return message_figure("no HAADF images in this session")
    ds = image.to_dataset(name="haadf") if hasattr(image, "to_dataset") else image
    idx = _frames(ds, frames, max_frames)
    lo, hi = robust_range(image.values, percentile=0.5)
    fig, axes = _grid(1, len(idx), aspect=_aspect(_frame(image, 0)), extra_h=0.8)
    ptab = None
    if particles is not None and "frame" in particles and particles.sizes.get("particle", 0):
        ptab = {k: np.asarray(particles[k].values) for k in
                ("frame", "centroid_y_nm", "centroid_x_nm", "diameter_nm") if k in particles}
        ptab["kind"] = (np.asarray(particles["kind"].values).astype(str) if "kind" in particles
                        else np.full(particles.sizes["particle"], "Pb"))
    im = None
    for c, i in enumerate(idx):
        ax = axes[0, c]
        im = _panel(ax, _frame(image, i), cmap=IMAGE_CMAP, vmin=lo, vmax=hi, first_col=c == 0)
        overlay_interfaces(ax, _lines_for(interfaces, layer, i), color=QUALITATIVE[2],
                            labels=c == 0)
        frame_no = int(ds["frame"].values[i]) if "frame" in ds.coords else i
        if ptab is not None:
            sel = ptab["frame"] == frame_no
            for y, x, d, k in zip(ptab["centroid_y_nm"][sel], ptab["centroid_x_nm"][sel],
                                  ptab["diameter_nm"][sel], ptab["kind"][sel], strict=True):
                ax.add_patch(Circle((x, y), d / 2, fill=False, lw=0.7,
                                    edgecolor=_KIND_COLOURS.get(k, QUALITATIVE[5])))
        ax.set_title(frame_title(ds, i))
    add_colorbar(fig, im, axes[0, :].tolist(), f"HAADF ({units_of(image, 'counts') or 'counts'})")
    if ptab is not None:
        kinds = sorted(set(ptab["kind"]))
        handles = [Line2D([], [], ls="none", marker="o", mfc="none", mec=_KIND_COLOURS.get(k, QUALITATIVE[5]),
                          label="metallic Pb" if k == "Pb" else ("Pb-rich cluster" if k == "cluster" else k))
                   for k in kinds]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    return fig
