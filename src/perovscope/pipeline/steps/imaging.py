"""Steps ``drift``, ``particles`` and ``nucleation``: the HAADF series, drift-corrected, and its particles.

``drift`` (whole series): rigid drift of the HAADF frames by
:func:`perovscope.imaging.drift_correct` with the cross-section settings (periodic window, overlap
refinement, 1 px smoothing, all-pairs reference, rows weighted by how little they change), and the
aligned stack — the session's reference grid (frame-0 HAADF pixels). One step writes both, so the
``drift`` group holds ``shift_y_px``, ``shift_x_px`` **and** ``aligned`` (there is no separate
``haadf`` group: a step named ``haadf`` could not be told from the modality in ``Step.needs``).

``particles`` (whole series) follows the nucleation recipe of the imaging area: a compact-feature
response (Anscombe + line-opening top-hat), strict per-frame detection (``threshold`` in response
units, noise sd 0.28 at 1 px smoothing), linking, tracks kept when seen in ≥ 2 frames (or born in
the last), nucleation frame by hysteresis in time against each site's own earlier frames, and the
Z-contrast per chord ``q - 1`` of the last frame classifying metallic Pb (``q - 1 > pb_contrast``)
from Pb-rich halide clusters. ``nucleation`` is the per-site (track) table of the same result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ...imaging import (
    backtrack_nucleation_baseline,
    chord_contrast,
    drift_correct,
    link_particles,
    particle_response,
    particles_per_frame,
    site_contrast,
    track_summary,
)
from ...imaging.labelled import _nm, _origin_nm
from ._common import finish_dataset, read_frame, upstream

__all__ = ["DRIFT_DEFAULTS", "PARTICLE_DEFAULTS", "run_drift", "run_particles", "run_nucleation"]

DRIFT_DEFAULTS = {"window": "periodic", "refine_overlap": True, "smooth_sigma": 1.0, "reference": "all",
                  "weight_rows": True, "upsample": 100}

PARTICLE_DEFAULTS = {"smooth_px": 1.0, "background_px": 8.0, "threshold": 1.8, "min_diameter_nm": 1.0,
                     "max_displacement_nm": 2.5, "memory": 1, "min_track_frames": 2, "refine_px": 2,
                     "site_level": 0.85, "pb_contrast": 1.25, "thickness_nm": 50.0}


def _frame_coords(ctx) -> dict:
    return {"frame": ("time", ctx.frames["frame"].values), "time_s": ("time", ctx.frames["time_s"].values)}


def run_drift(ctx) -> xr.Dataset:
    """Drift of every HAADF frame and the aligned (drift-corrected) stack.

    Returns
    -------
    xarray.Dataset
        ``shift_y_px``, ``shift_x_px`` (time; content displacement of frame t relative to the
        reference frame 0: a feature at (r, c) in frame 0 is at (r + sy, c + sx) in frame t),
        ``peak`` (correlation height) and ``aligned`` (time, y, x; counts, NaN outside the field).
    """
    frames = [read_frame(ctx, "haadf", i) for i in range(ctx.n_frames)]
    series = xr.concat([f.astype(float) for f in frames], dim="time").assign_attrs(frames[0].attrs)
    p = ctx.params
    ds = drift_correct(series, window=p["window"], refine_overlap=bool(p["refine_overlap"]),
                       smooth_sigma=float(p["smooth_sigma"]), reference=p["reference"],
                       weight_rows=bool(p["weight_rows"]), upsample=int(p["upsample"]))
    out = xr.Dataset({"shift_y_px": ("time", ds["shift_y"].values, {"units": "px"}),
                      "shift_x_px": ("time", ds["shift_x"].values, {"units": "px"}),
                      "peak": ("time", ds["peak"].values, {"units": "1"}),
                      "aligned": (("time", "y", "x"), ds["aligned"].values,
                                  {"units": frames[0].attrs.get("units", "counts"),
                                   "long_name": "drift-corrected HAADF (reference grid)"})},
                     coords={"y": frames[0]["y"], "x": frames[0]["x"], **_frame_coords(ctx)})
    return finish_dataset(out, step="drift")


def _tracks(frames: np.ndarray, px: float, origin, p) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-frame detections in confirmed tracks and the per-track summary with nucleation frames."""
    nf = frames.shape[0]
    resp = particle_response(frames, smooth_px=float(p["smooth_px"]),
                             background_px=float(p["background_px"]))
    _, table = particles_per_frame(resp, pixel_size_nm=px, origin_nm=origin, threshold=float(p["threshold"]),
                                   smooth_px=0, min_diameter_nm=float(p["min_diameter_nm"]),
                                   exclude_border=True)
    if table.empty:
        return table.assign(track=[]), pd.DataFrame(columns=["track", "nucleation_frame", "centroid_y",
                                                             "centroid_x", "first_detected_frame"])
    tracks = link_particles(table, max_displacement_nm=float(p["max_displacement_nm"]),
                            memory=int(p["memory"]))
    summary = track_summary(tracks)
    keep = (summary["n_frames"] >= int(p["min_track_frames"])) | (summary["nucleation_frame"] == nf - 1)
    summary = summary[keep].reset_index(drop=True)
    contrast = site_contrast(frames, summary, pixel_size_nm=px, origin_nm=origin,
                             refine_px=int(p["refine_px"]))
    summary = backtrack_nucleation_baseline(summary, contrast, level=float(p["site_level"]))
    summary["q_minus_1"] = chord_contrast(frames[-1], summary, pixel_size_nm=px, origin_nm=origin,
                                          thickness_nm=float(p["thickness_nm"]), diameter="chord_fit")
    summary["kind"] = np.where(summary["q_minus_1"] > float(p["pb_contrast"]), "Pb", "cluster")
    return tracks[tracks["track"].isin(summary["track"])], summary


def run_particles(ctx) -> xr.Dataset:
    """Particles of the aligned HAADF series: one row per detection of a confirmed track.

    Returns
    -------
    xarray.Dataset over ``particle``
        ``frame``, ``centroid_y_nm``, ``centroid_x_nm``, ``diameter_nm``, ``area_nm2``, ``kind``
        (``"Pb"`` / ``"cluster"``), ``track``, and per track ``nucleation_frame``,
        ``first_detected_frame``, ``q_minus_1`` (Z-contrast per chord).
    """
    aligned = upstream(ctx, "drift")["aligned"]
    px, origin = _nm(aligned), _origin_nm(aligned)
    vals = np.asarray(aligned.values, float)
    frames = np.nan_to_num(vals, nan=float(np.nanmedian(vals)))
    tracks, summary = _tracks(frames, px, origin, ctx.params)
    per_track = summary.set_index("track")
    t = tracks.reset_index(drop=True)
    cols = {"frame": (t["frame"].to_numpy(np.int64), "1"),
            "centroid_y_nm": (t["centroid_y"].to_numpy(float), "nm"),
            "centroid_x_nm": (t["centroid_x"].to_numpy(float), "nm"),
            "diameter_nm": (t["diameter_nm"].to_numpy(float), "nm"),
            "area_nm2": (t["area_nm2"].to_numpy(float), "nm2"),
            "track": (t["track"].to_numpy(np.int64), "1")}
    for name in ("nucleation_frame", "first_detected_frame", "q_minus_1", "kind"):
        cols[name] = (per_track.loc[t["track"], name].to_numpy(), "1")
    out = xr.Dataset({k: ("particle", np.asarray(v), {"units": u}) for k, (v, u) in cols.items()},
                     coords={"particle": np.arange(len(t))})
    out["kind"] = out["kind"].astype(str)
    out["nucleation_frame"] = out["nucleation_frame"].astype(np.int64)
    out["first_detected_frame"] = out["first_detected_frame"].astype(np.int64)
    out["q_minus_1"] = out["q_minus_1"].astype(float)
    out.attrs.update(pixel_size_nm=px, n_frames=int(frames.shape[0]))
    return finish_dataset(out, step="particles")


def run_nucleation(ctx) -> xr.Dataset:
    """Nucleation sites: one row per confirmed track.

    Returns
    -------
    xarray.Dataset over ``site``
        ``track``, ``nucleation_frame``, ``nucleation_time_s`` (mid-point of that frame; the particle
        appeared after the previous frame), ``centroid_y_nm``, ``centroid_x_nm`` (track mean),
        ``kind``, ``first_detected_frame``, ``q_minus_1``.
    """
    parts = upstream(ctx, "particles").to_dataframe()
    g = parts.groupby("track", sort=True)
    site = pd.DataFrame({"nucleation_frame": g["nucleation_frame"].first(),
                         "first_detected_frame": g["first_detected_frame"].first(),
                         "centroid_y_nm": g["centroid_y_nm"].mean(),
                         "centroid_x_nm": g["centroid_x_nm"].mean(),
                         "kind": g["kind"].first(), "q_minus_1": g["q_minus_1"].first()}).reset_index()
    times = ctx.frames["time_s"].values
    site["nucleation_time_s"] = times[site["nucleation_frame"].to_numpy(int)] if len(site) else []
    units = {"track": "1", "nucleation_frame": "1", "first_detected_frame": "1", "centroid_y_nm": "nm",
             "centroid_x_nm": "nm", "kind": "1", "q_minus_1": "1", "nucleation_time_s": "s"}
    out = xr.Dataset({k: ("site", site[k].to_numpy(), {"units": u}) for k, u in units.items()},
                     coords={"site": np.arange(len(site))})
    out["kind"] = out["kind"].astype(str)
    return finish_dataset(out, step="nucleation")
