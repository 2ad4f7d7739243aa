"""TGA figure: mass and DTG, with the mass-loss steps shaded and labelled."""

from __future__ import annotations

import numpy as np

from .._style import COLUMN_IN, QUALITATIVE, message_figure, new_figure, styled

__all__ = ["tga_figure"]


def _monotonic(temp) -> bool:
    t = temp[np.isfinite(temp)]
    if t.size < 3:
        return False
    d = np.diff(t)
    return bool(np.mean(d > 0) > 0.98 and np.ptp(t) > 0)


@styled
def tga_figure(results):
    """Mass (top) and DTG −dm/dt (bottom) of every file; steps shaded with their mass loss.

    The abscissa is the temperature for a plain ramp and the time (with the temperature on a second
    axis) when the programme has holds.
    """
    traces = [results[k].to_dataset() for k in sorted(results.children) if k.startswith("file_")]
    if not traces:
        return message_figure("no TGA traces")
    by_temp = all(_monotonic(ds["temperature"].values) for ds in traces)
    fig = new_figure(COLUMN_IN * 1.3, 3.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.4, 1])
    for i, ds in enumerate(traces):
        col = QUALITATIVE[i % 8]
        t_min = ds["time"].values / 60.0
        temp = ds["temperature"].values
        x = temp if by_temp else t_min
        top.plot(x, ds["mass"].values, lw=0.9, color=col, label=str(ds.attrs.get("file", "")))
        bottom.plot(x, ds["dtg"].values, lw=0.8, color=col)
        steps = zip(ds["step_start"].values, ds["step_end"].values, ds["step_loss"].values, strict=True)
        for a, b, loss in steps:
            xa, xb = (np.interp([a, b], ds["time"].values, temp) if by_temp else (a / 60.0, b / 60.0))
            for ax in (top, bottom):
                ax.axvspan(xa, xb, color=col, alpha=0.10, lw=0)
            ym = np.interp(0.5 * (a + b), ds["time"].values, ds["mass"].values)
            top.annotate(f"−{loss:.1f} %", (0.5 * (xa + xb), ym), xytext=(3, 3), textcoords="offset points",
                         fontsize=5.5, color=col)
        if not by_temp and i == 0:
            twin = top.twinx()
            twin.plot(t_min, temp, "--", lw=0.6, color="0.55")
            twin.set_ylabel("temperature (°C)", color="0.45")
            twin.tick_params(axis="y", colors="0.45")
            twin.spines["right"].set_visible(True)
    top.set_ylabel(f"mass ({traces[0]['mass'].attrs.get('units', '%')})")
    bottom.set_ylabel("DTG −dm/dt (%/min)")
    bottom.set_xlabel("temperature (°C)" if by_temp else "time (min)")
    bottom.axhline(0.0, color="0.7", lw=0.5, zorder=0)
    if len(traces) > 1:
        top.legend(loc="lower left", fontsize=5.0)
    return fig
