"""The session timeline: device electrics and interface quantities on one time axis, with events."""

from __future__ import annotations

import numpy as np

from ._style import COLUMN_IN, QUALITATIVE, message_figure, new_figure, styled

__all__ = ["timeline_figure", "TIMELINE_PANELS", "time_values", "scaled_unit"]

#: Panels of the timeline, top to bottom: (axis label, units, [(column or column prefix, legend)]).
#: A column ending in ``*`` is a prefix: every timeline variable starting with it is drawn.
TIMELINE_PANELS = (
    ("R", "Ω", [("resistance_ohm", None)]),
    ("EL", "a.u.", [("el_intensity", None)]),
    ("AlCl₃", "nm", [("alcl3_thickness_nm", None)]),
    ("Cl at cathode", "at.%", [("cl_cathode_at_percent", None)]),
    ("Cl/(Cl+Br)", "", [("cl_fraction_edx", "EDX"), ("cl_fraction_vegard", "Vegard")]),
    ("particles", "", [("pb_particle_count", "Pb"), ("cluster_count", "clusters")]),
    ("crystallinity", "", [("crystallinity_emitter", None)]),
    ("erf width", "nm", [("interdiffusion_width_nm_*", None)]),
)

_PREFIXES = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "µ": 1e-6, "n": 1e-9, "p": 1e-12}


def scaled_unit(values, unit: str) -> tuple[float, str]:
    """(factor, prefixed unit) so that ``values / factor`` lies in [1, 1000) for SI units Ω, V, A, C."""
    if unit not in ("Ω", "V", "A", "C"):
        return 1.0, unit
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return 1.0, unit
    ref = float(np.median(v))
    for prefix, factor in _PREFIXES.items():
        if ref >= factor:
            return factor, prefix + unit
    return 1e-12, "p" + unit


def time_values(ds) -> np.ndarray:
    """Per-frame times (s) of a Dataset along ``time``: ``time_s`` if present, else the ``time`` values."""
    for name in ("time_s", "time"):
        if name in ds.variables:
            return np.asarray(ds[name].values, dtype=float)
    return np.arange(ds.sizes.get("time", 0), dtype=float)


def _columns(ds, spec, names=None) -> list[tuple[str, str | None]]:
    out = []
    names = names or {}
    for col, legend in spec:
        if col.endswith("*"):
            prefix = col[:-1]
            for name in sorted(str(n) for n in ds.data_vars):
                if name.startswith(prefix) and not name.endswith("_std"):
                    slug = name[len(prefix):]
                    out.append((name, names.get(slug, slug.replace("_", "/")) or None))
        elif col in ds.data_vars:
            out.append((col, legend))
    return out


def reached_events(events) -> list[tuple[str, float]]:
    """(name, time_s) of every event that was reached (``frame >= 0``) in an ``events`` Dataset."""
    if events is None or "name" not in events:
        return []
    out = []
    names = np.asarray(events["name"].values).astype(str)
    frames = np.asarray(events["frame"].values) if "frame" in events else np.zeros(len(names))
    times = np.asarray(events["time_s"].values, dtype=float)
    for n, f, t in zip(names, frames, times, strict=True):
        if int(f) >= 0 and np.isfinite(t):
            out.append((n, float(t)))
    return out


@styled
def timeline_figure(timeline, *, events=None, panels=TIMELINE_PANELS, interface_names=None,
                    width_in: float = COLUMN_IN):
    """Stacked panels of the per-frame quantities sharing one time axis.

    Parameters
    ----------
    timeline : xarray.Dataset
        The ``timeline`` group (dim ``time``; ``time_s`` coordinate; one variable per column, ``_std``
        siblings drawn as ±σ bands).
    events : xarray.Dataset, optional
        The ``events`` group; every reached event (``frame >= 0``) is a labelled vertical line.
    panels : sequence
        Which columns to draw, as :data:`TIMELINE_PANELS`; panels whose columns are absent are skipped.
    interface_names : sequence of str, optional
        Interface names (``"HTL/emitter"``) whose slugs (``htl_emitter``) end per-interface columns; used
        in the legends.
    width_in : float
        Figure width (inches); one journal column by default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import MaxNLocator

    t = time_values(timeline)
    slugs = {"".join(c if c.isalnum() else "_" for c in n.lower()).strip("_"): n
             for n in (interface_names or [])}
    rows = [(name, unit, cols) for name, unit, spec in panels if (cols := _columns(timeline, spec, slugs))]
    if not rows or t.size == 0:
        return message_figure("no timeline quantities in this session")
    fig = new_figure(width_in, 0.25 + 0.85 * len(rows))
    axes = fig.subplots(len(rows), 1, sharex=True, squeeze=False)[:, 0]
    # the decided degradation events are drawn; change points of single series stay in the events table
    evts = [(n, te) for n, te in reached_events(events) if not n.startswith("change_")]
    for ax, (name, unit, cols) in zip(axes, rows, strict=True):
        factor, shown = scaled_unit(timeline[cols[0][0]].values, unit)
        for k, (col, legend) in enumerate(cols):
            y = np.asarray(timeline[col].values, dtype=float) / factor
            colour = QUALITATIVE[k % len(QUALITATIVE)]
            ax.plot(t, y, "o-", color=colour, ms=2.0, lw=0.9, label=legend)
            if f"{col}_std" in timeline:
                s = np.asarray(timeline[f"{col}_std"].values, dtype=float) / factor
                ax.fill_between(t, y - s, y + s, color=colour, alpha=0.25, lw=0)
        ax.set_ylabel(f"{name}\n({shown})" if shown else name)
        if any(legend for _, legend in cols):
            if len(cols) > 2:                     # many curves: the legend beside the panel
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.05), handlelength=1.0, fontsize=5,
                          borderaxespad=0.0)
            else:
                ax.legend(loc="best", handlelength=1.2, borderaxespad=0.2)
        if all(c.endswith("_count") for c, _ in cols):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for _, te in evts:
            ax.axvline(te, color="0.35", ls="--", lw=0.6, zorder=0)
    top = axes[0]
    at: dict[float, list[str]] = {}
    for n, te in evts:                          # events of one frame share one stacked label
        at.setdefault(te, []).append(n.replace("_", " ").replace(" onset", ""))
    for k, (te, names) in enumerate(sorted(at.items())):
        top.annotate("\n".join(names), xy=(te, 1.0), xycoords=("data", "axes fraction"),
                     xytext=(1.5, 1.0 + 7.0 * (k % 2)), textcoords="offset points", rotation=0,
                     fontsize=5.5, color="0.2", ha="left", va="bottom", annotation_clip=False)
    axes[-1].set_xlabel("time (s)")
    span = float(np.nanmax(t) - np.nanmin(t)) if t.size > 1 else 1.0
    axes[-1].set_xlim(float(np.nanmin(t)) - 0.03 * span, float(np.nanmax(t)) + 0.03 * span)
    fig.align_ylabels(axes)
    return fig
