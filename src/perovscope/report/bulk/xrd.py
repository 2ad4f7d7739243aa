"""Powder-XRD figure: observed, calculated and difference patterns with tick marks per phase."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, PAGE_IN, QUALITATIVE, message_figure, new_figure, styled

__all__ = ["xrd_figure"]

_MAX_PANELS = 4


def _ticks(ax, ds):
    """One row of tick marks per phase at the calculated Kα1 positions of its lines."""
    from ...bulk.xrd_phases import get_phase
    from ...bulk.xrd_reflections import inverse_d2, reflection_set

    lam = float(ds.attrs.get("wavelengths_A", [1.540593])[0])
    x = ds["two_theta"].values
    zero = float(ds["zero"].values)
    names = [str(n) for n in ds["phase"].values]
    for j, name in enumerate(names):
        try:
            ph = get_phase(name)
        except Exception:  # noqa: BLE001  (a CIF phase no longer on disk: no ticks)
            continue
        cell = ds["cell"].values[j]
        d_min = lam / (2.0 * np.sin(np.radians(min(float(x[-1]), 170.0) / 2.0)))
        refl = reflection_set(ph.with_cell(cell), d_min, margin=1.0)
        tt = 2.0 * np.degrees(np.arcsin(np.minimum(lam * np.sqrt(inverse_d2(refl.hkl, cell)) / 2.0, 1.0)))
        tt = tt[(tt + zero >= x[0]) & (tt + zero <= x[-1])] + zero
        ax.vlines(tt, -j - 0.85, -j - 0.15, color=QUALITATIVE[j % 8], lw=0.5)
        ax.text(1.0, -j - 0.5, f" {name} {float(ds['weight_fraction'].values[j]):.1f} wt%", fontsize=5.0,
                color=QUALITATIVE[j % 8], va="center", ha="left", transform=ax.get_yaxis_transform())
    ax.set_ylim(-len(names), 0)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)


def _pattern(axes, ds, scale):
    top, tick, bottom = axes
    x = ds["two_theta"].values
    obs, calc, bkg = ds["observed"].values, ds["calculated"].values, ds["background"].values
    view = {"sqrt": np.sqrt, "log": lambda v: v}.get(scale, lambda v: v)
    dense = x.size > 3000  # rasterise the data layers of long patterns (light SVG files)
    top.plot(x, view(np.maximum(obs, 0) if scale == "sqrt" else obs), ".", ms=1.0, color="0.2",
             label="observed", zorder=1, rasterized=dense)
    top.plot(x, view(np.maximum(calc, 0) if scale == "sqrt" else calc), lw=0.6, color=QUALITATIVE[5],
             label="calculated", zorder=2)
    top.plot(x, view(np.maximum(bkg, 0) if scale == "sqrt" else bkg), lw=0.5, color="0.6",
             label="background", zorder=2)
    if scale == "log":
        top.set_yscale("log")
    top.set_ylabel("√intensity (√counts)" if scale == "sqrt" else "intensity (counts)")
    top.set_title(f"{ds.attrs.get('file', '')}   Rwp {float(ds['rwp'].values):.2f} %, "
                  f"GOF {float(ds['gof'].values):.2f}", loc="left")
    top.legend(loc="upper right", fontsize=5.0)
    _ticks(tick, ds)
    bottom.plot(x, obs - calc, lw=0.5, color="0.35", rasterized=dense)
    bottom.axhline(0.0, color="0.8", lw=0.4, zorder=0)
    bottom.set_ylabel("obs − calc (counts)")
    for ax in axes:
        ax.set_xlim(x[0], x[-1])


@styled
def xrd_figure(results, *, scale: str = "linear"):
    """Observed (points), calculated and background (lines) and difference of each refined pattern.

    Under each pattern, one row of tick marks per phase marks its lines (with the Hill–Howard weight
    fraction). Series of more than four patterns show the first and last patterns and the weight
    fractions against temperature (or pattern index). ``scale``: ``linear``, ``sqrt`` or ``log``.
    """
    nodes = [results[k].to_dataset() for k in sorted(results.children) if k.startswith("file_")]
    if not nodes:
        return message_figure("no refined patterns")
    series = len(nodes) > _MAX_PANELS
    shown = [nodes[0], nodes[-1]] if series else nodes
    nph = max(ds.sizes["phase"] for ds in shown)
    ratios = []
    for _ in shown:
        ratios += [3.0, 0.28 * nph, 0.9]
    if series:
        ratios.append(2.2)
    width = PAGE_IN if len(shown) > 1 or series else COLUMN_IN * 1.7
    fig = new_figure(width, 0.55 * sum(ratios) + 0.4)
    axes = fig.subplots(len(ratios), 1, height_ratios=ratios)
    axes = np.atleast_1d(axes)
    for k, ds in enumerate(shown):
        trio = axes[3 * k:3 * k + 3]
        for ax in trio[1:]:
            ax.sharex(trio[0])
        _pattern(trio, ds, scale)
        for ax in trio[:2]:
            ax.tick_params(labelbottom=False)
        trio[2].set_xlabel("2θ (deg)")
    if series:
        ax = axes[-1]
        t = [ds.attrs.get("temperature_C") for ds in nodes]
        has_t = all(v is not None for v in t)
        xs = np.array(t, float) if has_t else np.arange(len(nodes))
        wf = np.array([ds["weight_fraction"].values for ds in nodes])
        err = np.array([ds["weight_fraction_std"].values for ds in nodes])
        for j, name in enumerate(nodes[0]["phase"].values):
            ax.errorbar(xs, wf[:, j], yerr=err[:, j], marker="o", ms=2.5, lw=0.8, capsize=1.5,
                        color=QUALITATIVE[j % 8], label=str(name))
        ax.set_xlabel("temperature (°C)" if has_t else "pattern")
        ax.set_ylabel("weight fraction (wt%)")
        ax.legend(fontsize=5.0)
    fig.align_ylabels(axes)
    return fig
