"""The shared look of every report figure: fonts, sizes, colour maps, scale bars, colour bars, saving.

Figures are built on :class:`matplotlib.figure.Figure` directly (never ``pyplot``), so nothing is
registered in pyplot's global figure manager and nothing leaks between calls. Every figure function
of :mod:`perovscope.report` runs inside :func:`styled`, a :func:`matplotlib.rc_context` holding the
journal style below; the global ``rcParams`` are left as they were.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from pathlib import Path

import numpy as np

#: Width of one journal column and of the full page (inches).
COLUMN_IN = 3.4
PAGE_IN = 7.0

#: Colour maps: intensive maps, strain-like signed maps, HAADF images, time colouring.
INTENSIVE_CMAP = "cividis"
DIVERGING_CMAP = "RdBu_r"
IMAGE_CMAP = "gray"
TIME_CMAP = "viridis"

#: Okabe & Ito (2008) colour-blind-safe qualitative palette, then Paul Tol's "muted" colours.
QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
               "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#882255", "#AA4499", "#DDDDDD")

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 7.0,
    "axes.titlesize": 7.0,
    "axes.labelsize": 7.0,
    "xtick.labelsize": 6.0,
    "ytick.labelsize": 6.0,
    "legend.fontsize": 6.0,
    "figure.titlesize": 8.0,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.0,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.03,
    "svg.fonttype": "none",
    "image.interpolation": "nearest",
}


def _style_dict() -> dict:
    """:data:`STYLE` plus the qualitative colour cycle."""
    from cycler import cycler

    out = dict(STYLE)
    out["axes.prop_cycle"] = cycler(color=list(QUALITATIVE[:8]))
    return out


def styled(func):
    """Run a figure function inside the report's :func:`matplotlib.rc_context`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_style_dict()):
            return func(*args, **kwargs)

    return wrapper


def new_figure(width_in: float = COLUMN_IN, height_in: float = 2.4, **kwargs):
    """A fresh :class:`~matplotlib.figure.Figure` (no pyplot) with constrained layout."""
    from matplotlib.figure import Figure

    kwargs.setdefault("layout", "constrained")
    return Figure(figsize=(width_in, height_in), **kwargs)


def units_of(da, default: str = "") -> str:
    """The ``units`` attribute of a variable, ``""`` for dimensionless (``"1"``)."""
    u = str(getattr(da, "attrs", {}).get("units", default))
    return "" if u in ("1", "") else u


def label(name: str, units: str = "") -> str:
    """``"name (units)"`` or ``"name"`` when dimensionless."""
    return f"{name} ({units})" if units else name


def nice_length(span: float, fraction: float = 0.2) -> float:
    """A round length (1, 2 or 5 × 10ⁿ) close to ``fraction`` of ``span``."""
    target = abs(span) * fraction
    if not math.isfinite(target) or target <= 0:
        return 1.0
    exp = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return m * 10**exp
    return 10**exp


def add_scale_bar(ax, extent, *, units: str = "nm", color: str = "white") -> None:
    """Draw a scale bar of a round length in the lower-left corner of an image axes.

    ``extent`` is the image's ``(left, right, bottom, top)`` in physical units.
    """
    from matplotlib.patches import Rectangle

    left, right, bottom, top = extent
    width, height = abs(right - left), abs(top - bottom)
    length = nice_length(width)
    x0 = min(left, right) + 0.05 * width
    ybar = max(top, bottom) - 0.06 * height  # images are shown with y increasing downwards
    thick = 0.025 * height
    ax.add_patch(Rectangle((x0, ybar - thick), length, thick, facecolor=color, edgecolor="black",
                           linewidth=0.3, zorder=5))
    import matplotlib.patheffects as pe

    t = ax.annotate(f"{length:g} {units}", xy=(x0 + length / 2, ybar - thick), xycoords="data",
                    xytext=(0, 1), textcoords="offset points", color=color, ha="center", va="bottom",
                    fontsize=5.5, zorder=5)
    t.set_path_effects([pe.withStroke(linewidth=1.2, foreground="black")])


def image_extent(da, ydim: str | None = None, xdim: str | None = None):
    """``imshow`` extent (left, right, bottom, top) of a 2-D map from its coordinates, pixel edges."""
    ydim = ydim or da.dims[-2]
    xdim = xdim or da.dims[-1]
    ext = []
    for dim in (xdim, ydim):
        n = da.sizes[dim]
        c = np.asarray(da[dim].values, dtype=float) if dim in da.coords else np.arange(n, dtype=float)
        step = float(c[1] - c[0]) if n > 1 else 1.0
        ext.append((float(c[0]) - step / 2, float(c[-1]) + step / 2))
    (x0, x1), (y0, y1) = ext
    return (x0, x1, y1, y0)


def coord_units(da, dim: str) -> str:
    """Units of a coordinate (``"px"`` when it has none)."""
    if dim in da.coords:
        return str(da[dim].attrs.get("units", "nm"))
    return "px"


def add_colorbar(fig, mappable, ax, text: str, **kwargs):
    """A labelled colour bar beside ``ax`` (or a list of axes)."""
    kwargs.setdefault("shrink", 0.9)
    kwargs.setdefault("pad", 0.02)
    cb = fig.colorbar(mappable, ax=ax, **kwargs)
    cb.set_label(text)
    cb.ax.tick_params(labelsize=5.5)
    cb.outline.set_linewidth(0.4)
    return cb


def symmetric_limit(values, *, percentile: float = 99.5) -> float:
    """A positive limit ±L covering ``percentile`` of ``|values|`` (NaN ignored); 1e-12 if empty."""
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 1e-12
    lim = float(np.percentile(v, percentile))
    return lim if lim > 0 else (float(v.max()) or 1e-12)


def robust_range(values, *, percentile: float = 0.5) -> tuple[float, float]:
    """(lo, hi) between the ``percentile`` and ``100 - percentile`` percentiles (NaN ignored)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(v, [percentile, 100 - percentile])
    if hi <= lo:
        lo, hi = float(v.min()), float(v.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
    return float(lo), float(hi)


def message_figure(text: str):
    """A small figure holding only a message (used when a panel has nothing to show)."""
    fig = new_figure(COLUMN_IN, 0.8)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    return fig


def _save_kwargs(fmt: str) -> dict:
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    return {"format": fmt, "metadata": meta}


@styled
def save_figure(fig, path, *, formats=("png", "svg"), dpi: float | None = None) -> dict:
    """Write ``fig`` to ``path`` with each suffix in ``formats``.

    ``path`` may carry a suffix (it is replaced). PNG files carry no software metadata. The layout is
    computed once, by the first format, and kept for the others.

    Returns
    -------
    dict
        ``{format: path}`` of the files written, plus ``"png_bytes"`` when a PNG was written (the same
        bytes as the file, for embedding).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, fmt in enumerate(formats):
        p = path.with_suffix(f".{fmt}")
        kw = _save_kwargs(fmt)
        if dpi is not None:
            kw["dpi"] = dpi
        if fmt == "png":
            buf = io.BytesIO()
            fig.savefig(buf, **kw)
            out["png_bytes"] = buf.getvalue()
            p.write_bytes(out["png_bytes"])
        else:
            fig.savefig(p, **kw)
        out[fmt] = p
        if k == 0 and fig.get_layout_engine() is not None:
            fig.set_layout_engine("none")  # keep the positions just computed; skip recomputing them
    return out


@styled
def png_base64(fig, *, dpi: float = 150) -> str:
    """The figure as a base64 PNG string, for ``<img src="data:image/png;base64,...">``."""
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, **_save_kwargs("png"))
    return base64.b64encode(buf.getvalue()).decode("ascii")


def to_base64(data: bytes) -> str:
    """Base64 text of PNG bytes."""
    return base64.b64encode(data).decode("ascii")


def frame_indices(n_frames: int, max_frames: int) -> list[int]:
    """Up to ``max_frames`` evenly spread frame indices, always the first and the last."""
    if n_frames <= max_frames:
        return list(range(n_frames))
    return sorted({int(round(v)) for v in np.linspace(0, n_frames - 1, max_frames)})


def frame_title(ds, i: int) -> str:
    """``"frame i · t = 12 s"`` from a Dataset/DataArray with a ``time_s`` coordinate along ``time``."""
    frame = int(ds["frame"].values[i]) if "frame" in ds.coords else i
    if "time_s" in ds.coords:
        return f"frame {frame} · {float(ds['time_s'].values[i]):.4g} s"
    return f"frame {frame}"
