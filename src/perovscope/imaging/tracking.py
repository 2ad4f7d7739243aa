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
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..errors import InputError
from .particles import particle_table, segment_particles

__all__ = ["particles_per_frame", "link_particles", "track_summary", "count_per_frame",
           "particle_response", "backtrack_nucleation", "count_from_nucleation", "chord_contrast"]


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


def particle_response(stack, *, smooth_px: float = 1.0, background_px: float = 8.0,
                      poisson: bool = True) -> np.ndarray:
    """Background-free map of compact bright features for every frame (n_frames, H, W).

    Each frame is put on a unit-noise scale (Anscombe transform of shot-noise-limited counts when
    ``poisson``), smoothed with a Gaussian of ``smooth_px`` (matched to a small particle) and the
    supremum of line openings of half-length ``background_px`` (longer than the largest particle
    diameter) is subtracted (:func:`perovscope.imaging.particles.line_opening_background`): layers,
    their edges and FIB curtaining stripes go, compact particles stay. For Poisson data the noise sd
    of the result is about ``1 / (2 √π smooth_px)``, so thresholds can be set in noise units.
    """
    from .denoise import anscombe
    from .particles import line_opening_background

    stack = np.asarray(stack, dtype=float)
    if stack.ndim != 3:
        raise InputError(f"particle_response: expected (frame, y, x), got shape {stack.shape}")
    out = np.empty_like(stack)
    for t in range(stack.shape[0]):  # loop over frames
        img = np.nan_to_num(stack[t], nan=float(np.nanmedian(stack[t])))
        img = anscombe(np.maximum(img, 0.0)) if poisson else img
        img = ndimage.gaussian_filter(img, smooth_px) if smooth_px > 0 else img
        out[t] = img - line_opening_background(img, half_length_px=background_px)
    return out


def backtrack_nucleation(summary: pd.DataFrame, response, *, pixel_size_nm: float, level: float,
                         origin_nm=(0.0, 0.0), radius_px: int = 1) -> pd.DataFrame:
    """Move each track's nucleation frame back while its site already shows a weaker signal.

    A growing particle is first *detected* (at a strict threshold, needed to keep false alarms out of
    a whole image) a frame or more after it appears. Once a track is confirmed its site is known, and
    testing one site needs a far lower threshold: hysteresis thresholding in time (as Canny's
    hysteresis in space) [1]_. Going back from the first detection, a frame counts as "particle
    present" while the maximum of ``response`` within ``radius_px`` of the track's mean centroid
    exceeds ``level`` (set between the noise and the signal of a critical nucleus, in the units of
    ``response``).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`track_summary` (``nucleation_frame``, ``centroid_y``, ``centroid_x`` in nm).
    response : array_like (n_frames, H, W)
        E.g. :func:`particle_response` of the aligned frames.
    pixel_size_nm, origin_nm
        Calibration of the centroids.
    level : float
        Lower (site) threshold.
    radius_px : int
        Half-size of the square searched around the site (allows for the centroid error).

    Returns
    -------
    pandas.DataFrame
        A copy with the updated ``nucleation_frame`` and the original one as ``first_detected_frame``.

    References
    ----------
    .. [1] J. Canny, "A computational approach to edge detection", IEEE Trans. Pattern Anal. Mach.
       Intell. 8, 679 (1986) — hysteresis thresholding.
    """
    resp = np.asarray(response, dtype=float)
    out = summary.copy()
    out["first_detected_frame"] = out["nucleation_frame"]
    rows = np.round((out["centroid_y"].to_numpy(float) - origin_nm[0]) / pixel_size_nm).astype(int)
    cols = np.round((out["centroid_x"].to_numpy(float) - origin_nm[1]) / pixel_size_nm).astype(int)
    h, w = resp.shape[-2:]
    nuc = out["nucleation_frame"].to_numpy(int).copy()
    for i in range(len(out)):  # loop over tracks (tens)
        r0, r1 = max(rows[i] - radius_px, 0), min(rows[i] + radius_px + 1, h)
        c0, c1 = max(cols[i] - radius_px, 0), min(cols[i] + radius_px + 1, w)
        t = nuc[i] - 1
        while t >= 0 and r1 > r0 and c1 > c0 and resp[t, r0:r1, c0:c1].max() > level:
            t -= 1
        nuc[i] = t + 1
    out["nucleation_frame"] = nuc
    return out


def count_from_nucleation(summary: pd.DataFrame, n_frames: int) -> np.ndarray:
    """Particles present in each frame, counting every track from its nucleation frame on (particles
    that only grow do not disappear; a track missed in a frame is still counted)."""
    nuc = summary["nucleation_frame"].to_numpy(int)
    return np.array([(nuc <= t).sum() for t in range(int(n_frames))])


def chord_contrast(image, summary: pd.DataFrame, *, pixel_size_nm: float, thickness_nm: float,
                   diameter_col: str = "last_diameter_nm", smooth_px: float = 1.0,
                   background_px: float = 8.0, origin_nm=(0.0, 0.0)) -> np.ndarray:
    """Scattering contrast ``q - 1`` of each particle relative to the matrix around its centre.

    In the thin-specimen (linear) HAADF regime a sphere of diameter ``D`` centred in a lamella of
    thickness ``t`` raises the signal at its centre by the factor ``1 + (q - 1) D / t``, with ``q`` the
    ratio of the particle's and the matrix's ``n Σ c_i Z_i^1.7`` [1]_. So ``q - 1 = R t / D`` with
    ``R`` the relative peak excess over the local background (supremum of line openings of the
    smoothed image) within one pixel of the particle's centroid, and ``D`` its measured diameter. It
    separates metallic Pb (``q - 1 ≈ 2.1`` in CsPb(Br,Cl)₃) from PbX₂ (≈ 0.4) for particles whose
    diameter is measured well (several pixels).

    References
    ----------
    .. [1] S. J. Pennycook and D. E. Jesson, "High-resolution Z-contrast imaging of crystals",
       Ultramicroscopy 37, 14 (1991).
    """
    from .particles import line_opening_background

    img = np.asarray(image, dtype=float)
    img = ndimage.gaussian_filter(img, smooth_px) if smooth_px > 0 else img
    bg = line_opening_background(img, half_length_px=background_px)
    rows = np.round((summary["centroid_y"].to_numpy(float) - origin_nm[0]) / pixel_size_nm).astype(int)
    cols = np.round((summary["centroid_x"].to_numpy(float) - origin_nm[1]) / pixel_size_nm).astype(int)
    h, w = img.shape
    ratio = img / np.where(bg > 0, bg, np.nan)
    out = np.full(len(summary), np.nan)
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):  # loop over particles
        win = ratio[max(r - 1, 0):min(r + 2, h), max(c - 1, 0):min(c + 2, w)]
        if win.size and np.isfinite(win).any():
            out[i] = (np.nanmax(win) - 1.0) * thickness_nm
    return out / summary[diameter_col].to_numpy(float)
