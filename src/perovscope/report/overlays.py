"""Interfaces drawn over maps: their rows from the ``interfaces`` group or the ``grid/layer`` labels."""

from __future__ import annotations

import json

import numpy as np

__all__ = ["names_attr", "interface_lines", "overlay_interfaces"]


def names_attr(da, key: str) -> list[str]:
    """A list of names stored in ``attrs[key]`` (a list or a JSON string); ``[]`` when absent."""
    raw = da.attrs.get(key)
    if raw is None:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return [s.strip() for s in raw.split(",")]
    if isinstance(raw, dict):
        return [str(raw[k]) for k in sorted(raw, key=lambda k: int(k))]
    return [str(v) for v in raw]


def interface_lines(interfaces=None, layer=None, frame: int = 0) -> list[tuple[str, float]]:
    """(name, row position in nm) of every interface in one frame.

    From ``interfaces/position_nm`` (``time, interface``) when given, else from the boundaries of the
    ``grid/layer`` labels (the median row where the label changes, named after ``layer_names``).
    """
    if interfaces is not None and "position_nm" in interfaces:
        pos = interfaces["position_nm"]
        pos = pos.isel(time=frame) if "time" in pos.dims else pos
        names = (np.asarray(interfaces["interface"].values).astype(str) if "interface" in interfaces.coords
                 else [str(k) for k in range(pos.size)])
        return [(n, float(p)) for n, p in zip(names, np.atleast_1d(pos.values), strict=True)
                if np.isfinite(p)]
    if layer is None:
        return []
    lab = np.asarray((layer.isel(time=frame) if "time" in layer.dims else layer).values)
    ydim = layer.dims[-2]
    yc = np.asarray(layer[ydim].values, dtype=float) if ydim in layer.coords else np.arange(lab.shape[0])
    layer_names = names_attr(layer, "layer_names")
    a, b = lab[:-1], lab[1:]
    out = []
    pairs = {}
    for r, c in zip(*np.nonzero(a != b), strict=True):
        pairs.setdefault((int(a[r, c]), int(b[r, c])), []).append(0.5 * (yc[r] + yc[r + 1]))
    for (la, lb), ys in sorted(pairs.items(), key=lambda kv: np.median(kv[1])):
        if len(ys) < 0.3 * lab.shape[1]:          # isolated pixels, not a boundary across the map
            continue
        na = layer_names[la] if 0 <= la < len(layer_names) else str(la)
        nb = layer_names[lb] if 0 <= lb < len(layer_names) else str(lb)
        out.append((f"{na}/{nb}", float(np.median(ys))))
    return out


def overlay_interfaces(ax, lines, *, color="white", labels=True):
    """Dashed horizontal lines at the interface rows, named inside the axes when ``labels``."""
    import matplotlib.patheffects as pe

    for name, y in lines:
        ax.axhline(y, color=color, lw=0.6, ls=(0, (3, 2)), alpha=0.9)
        if labels:
            t = ax.annotate(name, xy=(0.98, y), xycoords=("axes fraction", "data"), xytext=(0, 1),
                            textcoords="offset points", fontsize=4.5, color="black", va="bottom", ha="right",
                            annotation_clip=True)
            t.set_path_effects([pe.withStroke(linewidth=1.0, foreground="white")])
