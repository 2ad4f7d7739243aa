"""The steps that frame the analyses: the clock and the log first; timeline, events, correlations last.

``frames`` and ``bias_log`` store what :mod:`.inputs` read; ``bias`` averages the electrical log over
each frame's window (:func:`perovscope.operando.bias_per_frame`); ``timeline`` joins the per-frame
quantities of the analysis steps into one table; ``events`` decides when each degradation stage
begins; ``correlations`` relates every per-frame quantity to the device's resistance and EL.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .context import Step, StepContext

__all__ = ["LEADING_STEPS", "TRAILING_STEPS"]


def _frames(ctx: StepContext) -> xr.Dataset:
    return ctx.frames


def _bias_log(ctx: StepContext) -> xr.Dataset:
    return ctx.bias_log


def _reference(ctx: StepContext) -> str:
    return ctx.frames.attrs["reference"]


def _bias(ctx: StepContext) -> xr.Dataset:
    from ..operando import bias_per_frame

    f, ref = ctx.upstream["frames"], _reference(ctx)
    if ctx.params["window"] == "all":
        mods = [k[len("t_start_s_"):] for k in f.data_vars if k.startswith("t_start_s_")]
        t0 = np.min([f[f"t_start_s_{m}"].values for m in mods], axis=0)
        t1 = np.max([f[f"t_end_s_{m}"].values for m in mods], axis=0)
    else:
        t0, t1 = f[f"t_start_s_{ref}"].values, f[f"t_end_s_{ref}"].values
    ds = bias_per_frame(ctx.upstream["bias_log"], t0, t1)
    return ds.drop_vars([c for c in ("frame", "time_s") if c in ds.coords])


def _timeline(ctx: StepContext) -> xr.Dataset:
    from ..operando import build_timeline

    f, ref = ctx.upstream["frames"], _reference(ctx)
    base = xr.Dataset({"t_start_s": ("time", f[f"t_start_s_{ref}"].values, {"units": "s"}),
                       "t_end_s": ("time", f[f"t_end_s_{ref}"].values, {"units": "s"})},
                      coords={"frame": ("time", f["frame"].values),
                              "time_s": ("time", f["time_s"].values, {"units": "s"})})
    for name in f.data_vars:
        if str(name).startswith("dose_e_per_A2_"):
            base[name] = f[name].reset_coords(drop=True)      # per frame; the timeline sums them up
    bias = _strip(ctx.upstream["bias"]) if "bias" in ctx.upstream else xr.Dataset()
    parts = [_strip(ctx.upstream["quantities"])] if "quantities" in ctx.upstream else []
    return build_timeline(base, bias, *parts)


def _strip(ds: xr.Dataset) -> xr.Dataset:
    keep = [v for v in ds.data_vars if ds[v].dims == ("time",)]
    return ds[keep].drop_vars([c for c in ("frame", "time_s") if c in ds.coords])


def _column(tl: xr.Dataset, name: str):
    if name not in tl:
        return None, None
    std = tl[f"{name}_std"].values if f"{name}_std" in tl else None
    return tl[name].values.astype(float), std


#: Series searched for change points (the device's state and the degradation quantities only: every
#: extra series searched adds its false-alarm rate, ~15 % per short series, to the events table).
_CHANGE_POINT_SERIES = ("resistance_ohm", "el_intensity", "alcl3_thickness_nm", "cl_cathode_at_percent",
                        "crystallinity_emitter", "pb_particle_count")


def _nucleation_event(nucleation: xr.Dataset | None, t: np.ndarray):
    """Pb nucleation onset from the nucleation sites: the first metallic Pb particle born after frame 0.

    Each site's nucleation frame is backtracked from its track (the ``nucleation`` step), so the onset
    is exact to the frame rather than decided on a noisy count.
    """
    from ..operando import Event

    if nucleation is None or "nucleation_frame" not in nucleation:
        return None
    frames = np.asarray(nucleation["nucleation_frame"].values)
    kind = np.asarray(nucleation["kind"].values).astype(str) if "kind" in nucleation else np.full(
        frames.shape, "Pb")
    born = frames[(kind == "Pb") & (frames > 0)]
    if born.size == 0:
        return Event(name="pb_nucleation_onset", frame=-1, time_s=float("nan"), quantity="nucleation_frame",
                     threshold=0.0, method="nucleation_sites",
                     reason=f"not reached: no metallic Pb particle appears after frame 0 "
                            f"({frames.size} site(s) tracked)")
    k = int(born.min())
    return Event(name="pb_nucleation_onset", frame=k, time_s=float(t[k]), quantity="nucleation_frame",
                 threshold=0.0, method="nucleation_sites",
                 reason=f"frame {k} ({t[k]:g} s): first of {born.size} metallic Pb particle(s) nucleated "
                        "after frame 0 (site contrast backtracked along each track)")


def _events(ctx: StepContext) -> xr.Dataset:
    from ..operando import change_point_event, events_table, onset_event, threshold_event

    tl, p = ctx.upstream["timeline"], ctx.params
    t = tl["time_s"].values
    events = []
    v, s = _column(tl, "cl_cathode_at_percent")
    if v is not None:
        events.append(threshold_event(v, s, threshold=p["cl_cathode_at_percent"], n_sigma=p["n_sigma"],
                                      times=t, name="cl_at_cathode", quantity="cl_cathode_at_percent",
                                      units="at.%"))
    nuc = _nucleation_event(ctx.upstream.get("nucleation"), t)
    if nuc is not None:
        events.append(nuc)
    series = [("alcl3_onset", "alcl3_thickness_nm", "increase"),
              ("lattice_collapse_onset", "crystallinity_emitter", "decrease")]
    if nuc is None:
        series.insert(1, ("pb_nucleation_onset", "pb_particle_count", "increase"))
    for name, quantity, direction in series:
        v, s = _column(tl, quantity)
        if v is None:
            continue
        if quantity == "pb_particle_count" and s is None:
            s = np.sqrt(np.maximum(v, 1.0))
        events.append(onset_event(v, s, n_sigma=p["n_sigma"], direction=direction, times=t, name=name,
                                  quantity=quantity, units=tl[quantity].attrs.get("units", "")))
    if p["change_points"]:
        for name in _CHANGE_POINT_SERIES:
            v, _ = _column(tl, name)
            if v is None or v.size < 4 or not np.all(np.isfinite(v)) or np.ptp(v) == 0:
                continue
            events.append(change_point_event(v, times=t, name=f"change_{name}", quantity=name,
                                             units=tl[name].attrs.get("units", "")))
    return events_table(events)


def _correlations(ctx: StepContext) -> xr.Dataset:
    from ..operando import correlation_table

    # default columns: every per-frame quantity except uncertainties, bookkeeping, V, I, charge, doses
    return correlation_table(ctx.upstream["timeline"], max_lag=ctx.params["max_lag"],
                             n_boot=ctx.params["n_boot"])


LEADING_STEPS = (
    Step("frames", needs=(), defaults={}, run=_frames, description="frame windows of every modality"),
    Step("bias_log", needs=("bias_log",), defaults={}, run=_bias_log, description="the electrical log"),
    Step("bias", needs=("frames", "bias_log"), defaults={"window": "reference"}, run=_bias,
         description="window means of V, I, R and EL per frame; cumulative charge"),
)

TRAILING_STEPS = (
    Step("timeline", needs=("frames", "bias", "quantities"), optional=("bias", "quantities"), defaults={},
         run=_timeline, description="one row per frame"),
    Step("events", needs=("timeline", "nucleation"), optional=("nucleation",), run=_events,
         description="degradation events",
         defaults={"cl_cathode_at_percent": 1.0, "n_sigma": 3.0, "change_points": True}),
    Step("correlations", needs=("timeline",), run=_correlations, defaults={"max_lag": 2, "n_boot": 2000},
         description="Spearman rho, lag and block-bootstrap interval against R and EL"),
)
