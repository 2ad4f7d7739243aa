"""Particles through a time series: per-frame segmentation, frame-to-frame linking, nucleation, growth.

Linking solves, for each pair of consecutive frames, the optimal one-to-one assignment between the
particles of the tracks alive and the new detections that minimises the total squared displacement,
with a gate ``max_displacement_nm`` (Hungarian algorithm on a sparse k-d-tree distance matrix) [1]_.
A detection not assigned to a track starts a new one: its first frame is the track's nucleation frame.

References
----------
.. [1] J. C. Crocker and D. G. Grier, "Methods of digital video microscopy for colloidal studies",
   J. Colloid Interface Sci. 179, 298-310 (1996). :doi:`10.1006/jcis.1996.0217`
.. [2] H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Res. Logist. Q. 2, 83-97
   (1955).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..errors import InputError
from .particles import particle_table, segment_particles

__all__ = ["particles_per_frame", "link_particles", "track_summary", "count_per_frame"]


def particles_per_frame(stack, *, pixel_size_nm: float = 1.0, origin_nm=(0.0, 0.0),
                        moment_shape: str | None = None, **segment_kw):
    """Segment every frame of ``stack`` (n_frames, H, W); return (labels stack, table with ``frame``).

    Keyword arguments go to :func:`segment_particles`; ``moment_shape`` to :func:`particle_table`.
    """
    stack = np.asarray(stack)
    if stack.ndim != 3:
        raise InputError(f"particles_per_frame: expected (frame, y, x), got shape {stack.shape}")
    labels = np.zeros(stack.shape, dtype=np.int32)
    tables = []
    for t in range(stack.shape[0]):  # loop over frames
        labels[t] = segment_particles(stack[t], pixel_size_nm=pixel_size_nm, **segment_kw)
        tab = particle_table(labels[t], pixel_size_nm=pixel_size_nm, origin_nm=origin_nm,
                             intensity=stack[t], moment_shape=moment_shape)
        tab.insert(0, "frame", t)
        tables.append(tab)
    return labels, pd.concat(tables, ignore_index=True)


def link_particles(table: pd.DataFrame, *, max_displacement_nm: float, memory: int = 0) -> pd.DataFrame:
    """Assign a ``track`` id to every detection of a per-frame particle table.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``frame``, ``centroid_y``, ``centroid_x`` (nm), e.g. from :func:`particles_per_frame`.
    max_displacement_nm : float
        Largest distance a particle may move between the frames it is seen in.
    memory : int
        Number of frames a track may be missed and still be continued.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with an integer ``track`` column (0, 1, ... in order of first appearance).

    References
    ----------
    Crocker & Grier (1996); Kuhn (1955).
    """
    for col in ("frame", "centroid_y", "centroid_x"):
        if col not in table.columns:
            raise InputError(f"link_particles: the table needs a {col!r} column")
    if max_displacement_nm <= 0:
        raise InputError(f"max_displacement_nm must be positive, got {max_displacement_nm}")
    out = table.sort_values("frame", kind="stable").reset_index(drop=True)
    track = np.full(len(out), -1, dtype=np.int64)
    pos = out[["centroid_y", "centroid_x"]].to_numpy(float)
    frames = out["frame"].to_numpy()
    last_pos = np.zeros((0, 2))
    last_seen = np.zeros(0, dtype=np.int64)
    n_tracks = 0
    big = 1e12
    for f in np.unique(frames):  # loop over frames
        rows = np.flatnonzero(frames == f)
        alive = np.flatnonzero(f - last_seen <= memory + 1)
        assigned = np.full(rows.size, -1, dtype=np.int64)
        if alive.size and rows.size:
            sparse = cKDTree(last_pos[alive]).sparse_distance_matrix(
                cKDTree(pos[rows]), max_displacement_nm, output_type="coo_matrix")
            if sparse.nnz:
                cost = np.full((alive.size, rows.size), big)
                cost[sparse.row, sparse.col] = sparse.data ** 2
                ti, di = linear_sum_assignment(cost)
                ok = cost[ti, di] < big
                assigned[di[ok]] = alive[ti[ok]]
        new = assigned < 0
        assigned[new] = n_tracks + np.arange(new.sum())
        n_tracks += int(new.sum())
        last_pos = np.vstack([last_pos, np.zeros((int(new.sum()), 2))])
        last_seen = np.concatenate([last_seen, np.zeros(int(new.sum()), dtype=np.int64)])
        last_pos[assigned] = pos[rows]
        last_seen[assigned] = f
        track[rows] = assigned
    out["track"] = track
    return out


def track_summary(tracks: pd.DataFrame) -> pd.DataFrame:
    """Per track: ``nucleation_frame`` (first frame seen), ``last_frame``, ``n_frames``, first and last
    ``diameter_nm`` and the growth rate of the radius (nm per frame, least squares)."""
    g = tracks.groupby("track")
    frame_mean = g["frame"].transform("mean")
    r = tracks["diameter_nm"] / 2
    cov = ((tracks["frame"] - frame_mean) * (r - g["diameter_nm"].transform("mean") / 2)).groupby(
        tracks["track"]).sum()
    var = ((tracks["frame"] - frame_mean) ** 2).groupby(tracks["track"]).sum()
    summary = pd.DataFrame({
        "nucleation_frame": g["frame"].min(),
        "last_frame": g["frame"].max(),
        "n_frames": g.size(),
        "first_diameter_nm": g["diameter_nm"].first(),
        "last_diameter_nm": g["diameter_nm"].last(),
        "radius_growth_nm_per_frame": (cov / var.where(var > 0)),
        "centroid_y": g["centroid_y"].mean(),
        "centroid_x": g["centroid_x"].mean(),
    })
    return summary.reset_index()


def count_per_frame(tracks: pd.DataFrame, n_frames: int | None = None) -> np.ndarray:
    """Number of particles detected in each frame (0 for frames without any)."""
    n = int(n_frames if n_frames is not None else tracks["frame"].max() + 1)
    return np.bincount(tracks["frame"].to_numpy(int), minlength=n)[:n]
