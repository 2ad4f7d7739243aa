"""Interface profiles: each quantity against signed distance, one curve per frame coloured by time."""

from __future__ import annotations

import numpy as np

from ._style import COLUMN_IN, PAGE_IN, TIME_CMAP, add_colorbar, message_figure, new_figure, styled
from .timeline import time_values

__all__ = ["interface_profiles_figure", "profile_lines_figure", "FIT_VARIABLES"]

#: Optional erf-fit variables of the ``profiles`` group over ``(time, interface, quantity)``:
#: ``mean = lo + (hi - lo) (1 + erf((d - centre) / (√2 width))) / 2``.
FIT_VARIABLES = ("fit_lo", "fit_hi", "fit_centre_nm", "fit_width_nm")

#: Quantities drawn first when ``quantities`` is not given (the paper's interface observables).
PREFERRED_QUANTITIES = ("cl_fraction", "crystallinity", "exx", "eyy", "at_Cl", "cl_fraction_vegard", "haadf")


def _mean_and_std(profiles):
    if "mean" in profiles:
        name = "mean"
    else:
        names = [str(n) for n in profiles.data_vars if not str(n).endswith("_std") and "distance" in
                 profiles[n].dims]
        if not names:
            return None, None
        name = names[0]
    std = next((profiles[s] for s in (f"{name}_std", "std", "sd") if s in profiles), None)
    return profiles[name], std


def _erf(d, lo, hi, centre, width):
    from ..interfaces import erf_step

    return erf_step(d, lo, hi, centre, width)


def _label_of(quantity: str, units: str) -> str:
    return f"{quantity} ({units})" if units and units != "1" else quantity


@styled
def interface_profiles_figure(profiles, *, fits=None, interfaces=None, quantities=None,
                              quantity_units=None, max_quantities: int = 4):
    """Profiles across every interface: rows = interfaces, columns = quantities, curves = frames.

    Parameters
    ----------
    profiles : xarray.Dataset
        The ``profiles`` group: ``mean`` (+ ``mean_std``) over ``(time, interface, quantity, distance)``
        (``distance`` in nm, positive towards the later layer); ``time`` may be absent.
    fits : xarray.Dataset, optional
        Variables :data:`FIT_VARIABLES` over ``(time, interface, quantity)``; drawn as dashed erf
        curves. Taken from ``profiles`` itself when it holds them.
    interfaces, quantities : sequence of str, optional
        Subsets to draw (default: every interface with data, and up to ``max_quantities`` quantities,
        :data:`PREFERRED_QUANTITIES` first).
    quantity_units : dict, optional
        Units of each quantity for the titles (default: ``attrs["quantity_units"]``, or a ``units``
        coordinate along ``quantity``).

    Returns
    -------
    matplotlib.figure.Figure
        Curves coloured by time (``viridis``) with a colour bar of the frame time in s.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    mean, std = _mean_and_std(profiles)
    if mean is None or "distance" not in mean.dims:
        return message_figure("no interface profiles in this session")
    if fits is None and all(v in profiles for v in FIT_VARIABLES):
        fits = profiles
    for dim in ("time", "interface", "quantity"):
        if dim not in mean.dims:
            mean = mean.expand_dims(dim)
            std = std.expand_dims(dim) if std is not None else None
    order = ("time", "interface", "quantity", "distance")
    mean = mean.transpose(*order)
    std = std.transpose(*order) if std is not None else None
    iface_names = ([str(v) for v in profiles["interface"].values] if "interface" in profiles.coords
                   else [str(k) for k in range(mean.sizes["interface"])])
    q_names = ([str(v) for v in profiles["quantity"].values] if "quantity" in profiles.coords
               else [str(k) for k in range(mean.sizes["quantity"])])
    if quantities is None:
        quantities = [q for q in PREFERRED_QUANTITIES if q in q_names] + \
            [q for q in q_names if q not in PREFERRED_QUANTITIES]
        quantities = quantities[:max_quantities]
    cols = [q_names.index(q) for q in quantities if q in q_names]
    vals = np.asarray(mean.values, dtype=float)
    has = np.isfinite(vals).any(axis=(0, 3))                        # (interface, quantity)
    rows = [k for k, n in enumerate(iface_names) if (interfaces is None or n in interfaces)
            and has[k, cols].any()]
    if not rows or not cols:
        return message_figure("no interface profiles in this session")
    units = dict(quantity_units or {})
    raw_units = profiles.attrs.get("quantity_units")
    if not units and isinstance(raw_units, dict):
        units = {str(k): str(v) for k, v in raw_units.items()}
    if not units and "units" in profiles.coords and profiles["units"].dims == ("quantity",):
        units = dict(zip(q_names, (str(u) for u in profiles["units"].values), strict=True))
    t = time_values(profiles) if "time" in profiles.dims else np.zeros(1)
    if t.size != mean.sizes["time"]:
        t = np.arange(mean.sizes["time"], dtype=float)
    norm = Normalize(vmin=float(np.nanmin(t)), vmax=float(np.nanmax(t)) if np.nanmax(t) > np.nanmin(t)
                     else float(np.nanmin(t)) + 1.0)
    from matplotlib import colormaps

    cmap = colormaps[TIME_CMAP]
    width = min(PAGE_IN, COLUMN_IN * max(1.0, 0.62 * len(cols) + 0.3))
    fig = new_figure(width, 0.4 + 1.35 * len(rows))
    axes = fig.subplots(len(rows), len(cols), squeeze=False, sharex=True)
    d = np.asarray(mean["distance"].values, dtype=float)
    for r, ki in enumerate(rows):
        for c, kq in enumerate(cols):
            ax = axes[r, c]
            if not has[ki, kq]:
                ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")
                ax.set_yticks([])
            for kt in range(mean.sizes["time"] if has[ki, kq] else 0):
                colour = cmap(norm(t[kt]))
                m = np.asarray(mean.values[kt, ki, kq], dtype=float)
                ax.plot(d, m, color=colour, lw=0.8)
                if std is not None and kt in (0, mean.sizes["time"] - 1):  # bands: first, last
                    s = np.asarray(std.values[kt, ki, kq], dtype=float)
                    ax.fill_between(d, m - s, m + s, color=colour, alpha=0.12, lw=0)
                if fits is not None:
                    sel = {"interface": ki, "quantity": kq}
                    vals = []
                    for v in FIT_VARIABLES:
                        fv = fits[v]
                        fv = fv.isel({k: i for k, i in sel.items() if k in fv.dims})
                        fv = fv.isel(time=kt) if "time" in fv.dims else fv
                        vals.append(float(fv.values))
                    if all(np.isfinite(vals)) and vals[3] > 0:
                        ax.plot(d, _erf(d, *vals), color=colour, lw=0.7, ls=(0, (2, 1.5)))
            ax.axvline(0.0, color="0.5", lw=0.5, ls=":")
            if r == 0:
                ax.set_title(q_names[kq])
            if c == 0:
                ax.set_ylabel(iface_names[ki])
            if r == len(rows) - 1:
                ax.set_xlabel("distance (nm)")
            qu = units.get(q_names[kq], "")
            if qu and qu != "1" and r == 0:
                ax.set_title(_label_of(q_names[kq], qu))
    if "time" in profiles.dims and mean.sizes["time"] > 1:
        sm = ScalarMappable(norm=norm, cmap=cmap)
        add_colorbar(fig, sm, axes.ravel().tolist(), "time (s)", aspect=25)
    return fig


@styled
def profile_lines_figure(profiles: dict, *, fits=None, ylabel: str = "", max_lines: int = 12):
    """Mean ± sd profiles of several interfaces on one axes (the ``perovscope profile`` plot).

    Parameters
    ----------
    profiles : dict
        Interface key → Dataset with ``mean`` and ``sd`` over ``(..., distance)``; every 1-D profile
        along the leading dimensions is one curve.
    fits : dict, optional
        ``(key, index) → {"lo", "hi", "centre", "width"}`` erf fits (``index`` the leading-dims index).
    ylabel : str
        Label of the profiled quantity.
    max_lines : int
        At most this many curves (keeps the plot legible).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fits = fits or {}
    fig = new_figure(COLUMN_IN * 1.6, 2.6)
    ax = fig.add_subplot()
    n = 0
    for key, prof in profiles.items():
        d = np.asarray(prof["distance"].values, dtype=float)
        mean, sd = np.asarray(prof["mean"].values), np.asarray(prof["sd"].values)
        lead = prof["mean"].dims[:-1]
        for idx in np.ndindex(mean.shape[:-1]):
            if n >= max_lines:
                break
            n += 1
            suffix = ", ".join(f"{dim} {prof[dim].values[i] if dim in prof.coords else i}"
                               for dim, i in zip(lead, idx, strict=True))
            m, s = mean[idx], sd[idx]
            line = ax.plot(d, m, label=f"interface {key}" + (f" ({suffix})" if suffix else ""))[0]
            ax.fill_between(d, m - s, m + s, color=line.get_color(), alpha=0.18, lw=0)
            fit = fits.get((key, idx))
            if fit is not None:
                ax.plot(d, _erf(d, fit["lo"], fit["hi"], fit["centre"], fit["width"]), "--",
                        color=line.get_color(), lw=0.8)
    ax.set_xlabel("distance to interface (nm)")
    ax.set_ylabel(ylabel)
    if n:
        ax.legend()
    return fig
