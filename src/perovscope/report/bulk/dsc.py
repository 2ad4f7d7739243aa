"""DSC figure: heat flow against temperature for each scan, with the glass transitions and peaks marked."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, PAGE_IN, QUALITATIVE, message_figure, new_figure, styled

__all__ = ["dsc_figure"]


def _scans(results):
    out = []
    for fkey in sorted(k for k in results.children if k.startswith("file_")):
        node = results[fkey]
        for skey in sorted(node.children):
            out.append(node[skey].to_dataset())
    return out


def _mark_glass(ax, temp, hf, row, colour):
    for key, style in (("onset", "|"), ("midpoint_or_peak", "o"), ("endset", "|")):
        x = float(row[key])
        if np.isfinite(x):
            ax.plot([x], [np.interp(x, temp, hf)], marker=style, ms=4 if style == "o" else 6, mfc="white",
                    color=colour, mew=0.8, zorder=5)
    x = float(row["midpoint_or_peak"])
    if np.isfinite(x):
        ax.annotate(f"Tg {x:.1f} °C", (x, np.interp(x, temp, hf)), xytext=(4, 6), textcoords="offset points",
                    fontsize=5.5, color=colour)


def _mark_peak(ax, temp, hf, row, colour):
    lo, hi = float(row["window_lo"]), float(row["window_hi"])
    sel = (temp >= lo) & (temp <= hi)
    if sel.sum() < 2:
        return
    tw, yw = temp[sel], hf[sel]
    n = max(3, tw.size // 100)
    base = np.interp(tw, [tw[:n].mean(), tw[-n:].mean()], [yw[:n].mean(), yw[-n:].mean()])
    ax.fill_between(tw, yw, base, color=colour, alpha=0.18, lw=0)
    ax.plot(tw, base, "--", lw=0.6, color=colour)
    xp = float(row["midpoint_or_peak"])
    xo = float(row["onset"])
    if np.isfinite(xo):
        ax.axvline(xo, color=colour, lw=0.5, ls=":")
    if np.isfinite(xp):
        yp = np.interp(xp, tw, yw)
        dh = float(row["enthalpy"])
        text = f"{xp:.1f} °C" + (f"\nΔH {dh:.0f} J/g" if np.isfinite(dh) else "")
        ax.annotate(text, (xp, yp), xytext=(6, 0), textcoords="offset points", fontsize=5.5, color=colour,
                    va="center")


def _glass_inset(ax, temp, hf, row, colour, k):
    """A zoom on one glass transition (small steps vanish next to a melting peak)."""
    lo, hi = float(row["window_lo"]), float(row["window_hi"])
    sel = (temp >= lo) & (temp <= hi)
    if sel.sum() < 3 or abs(float(row["step_or_height"])) > 0.2 * float(np.ptp(hf)):
        return 0  # the step is visible on the main axes
    ins = ax.inset_axes([0.04 + 0.31 * k, 0.08, 0.27, 0.36])
    ins.plot(temp[sel], hf[sel], lw=0.7, color=colour)
    for key, style in (("onset", "|"), ("midpoint_or_peak", "o"), ("endset", "|")):
        x = float(row[key])
        if np.isfinite(x):
            ins.plot([x], [np.interp(x, temp, hf)], marker=style, ms=3 if style == "o" else 5, mfc="white",
                     color=colour, mew=0.7)
    ins.set_title(f"Tg {float(row['midpoint_or_peak']):.1f} °C", fontsize=5.0, pad=1.5)
    ins.tick_params(labelsize=4.5, length=1.5, pad=1)
    ins.set_yticks([])
    return 1


@styled
def dsc_figure(results):
    """One panel per scan (heating, cooling), every file overlaid, events from ``results["events"]``.

    Glass transitions: onset and endset ticks and the midpoint circle; peaks: the baseline (dashed),
    the area above it (shaded), the onset (dotted) and the peak temperature with ΔH.
    """
    scans = _scans(results)
    if not scans:
        return message_figure("no DSC scans")
    events = results["events"].to_dataset() if "events" in results.children else None
    kinds = sorted({str(s.attrs["scan"]) for s in scans}, key=lambda k: int(k.split()[0]))[:4]
    width = COLUMN_IN if len(kinds) == 1 else PAGE_IN
    fig = new_figure(width, 2.4)
    axes = np.atleast_1d(fig.subplots(1, len(kinds), squeeze=False)[0])
    files = sorted({str(s.attrs["file"]) for s in scans})
    for ax, kind in zip(axes, kinds, strict=False):
        for s in scans:
            fname = str(s.attrs["file"])
            if str(s.attrs["scan"]) != kind:
                continue
            colour = QUALITATIVE[files.index(fname) % 8]
            temp, hf = s["temperature"].values, s["heat_flow"].values
            order = np.argsort(temp)
            temp, hf = temp[order], hf[order]
            ax.plot(temp, hf, lw=0.8, color=colour, label=fname)
            if events is None or events.sizes.get("row", 0) == 0:
                continue
            n_tg = 0
            for i in range(events.sizes["row"]):
                row = events.isel(row=i)
                if str(row["file"].values) != fname or str(row["scan"].values) != kind:
                    continue
                r = {k: row[k].values for k in events.data_vars}
                if str(r["event"]) == "glass_transition":
                    _mark_glass(ax, temp, hf, r, colour)
                    if n_tg < 3 and len(files) == 1:
                        n_tg += _glass_inset(ax, temp, hf, r, colour, n_tg)
                else:
                    _mark_peak(ax, temp, hf, r, colour)
        exo = scans[0].attrs.get("exotherm", "up")
        ax.set_xlabel("temperature (°C)")
        ax.set_ylabel(f"heat flow (mW), exo {'↑' if exo == 'up' else '↓'}")
        ax.set_title(kind, fontsize=6.5)
    if len(files) > 1:
        axes[0].legend(loc="best", fontsize=5.0)
    return fig
