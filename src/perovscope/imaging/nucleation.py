"""Nucleation and identity of growing particles in a drift-corrected series.

A compact-feature response (Anscombe + line-opening top-hat) finds particles at a strict threshold;
their nucleation frame is found by hysteresis in time at the known site, against the site's own
earlier frames (static texture cancels); the Z-contrast per chord tells metallic Pb from the Pb
halides.

References
----------
.. [1] J. Canny, "A computational approach to edge detection", IEEE Trans. Pattern Anal. Mach.
   Intell. 8, 679 (1986) — hysteresis thresholding.
.. [2] S. J. Pennycook and D. E. Jesson, "High-resolution Z-contrast imaging of crystals",
   Ultramicroscopy 37, 14 (1991).
.. [3] P. Soille, *Morphological Image Analysis*, 2nd ed., Springer (2003) — line openings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from ..errors import InputError

__all__ = ["particle_response", "backtrack_nucleation", "count_from_nucleation", "chord_contrast",
           "site_contrast", "backtrack_nucleation_baseline"]


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


def site_contrast(stack, summary: pd.DataFrame, *, pixel_size_nm: float, origin_nm=(0.0, 0.0),
                  smooth_px: float = 1.0, ring_px=(6.0, 9.0), poisson: bool = True,
                  centre_px: int = 0, refine_px: int = 0, refine_smooth_px: float = 2.0) -> np.ndarray:
    """Contrast of each track's site in every frame: centre minus the mean of an annulus around it.

    Frames are put on a unit-noise scale (Anscombe transform when ``poisson``) and smoothed by
    ``smooth_px``; the value at the site (rounded mean centroid of the track) minus the mean over the
    annulus ``ring_px`` (inner, outer radius in px) removes whatever is uniform around the site
    (a layer, its slow change in time); ``centre_px`` > 0 takes the maximum over the square of that
    half-size around the site instead of its value (allows for the centroid error); ``refine_px`` > 0
    first moves each site to the maximum of the last frame minus the first, smoothed by
    ``refine_smooth_px`` (matched to a small particle; static texture and layers cancel, a
    particle that appeared or grew stays) within that half-size of the centroid — segmentation
    centroids of particles at a layer edge are pulled off the particle. Returns an array
    (n_frames, n_tracks); NaN where the annulus leaves the image.
    """
    from .denoise import anscombe

    img = np.asarray(stack, dtype=float)
    if img.ndim != 3:
        raise InputError(f"site_contrast: expected (frame, y, x), got shape {img.shape}")
    img = np.nan_to_num(img, nan=float(np.nanmedian(img)))
    img = anscombe(np.maximum(img, 0.0)) if poisson else img
    img = ndimage.gaussian_filter(img, (0, smooth_px, smooth_px)) if smooth_px > 0 else img
    r_out = int(np.ceil(ring_px[1]))
    yy, xx = np.mgrid[-r_out:r_out + 1, -r_out:r_out + 1]
    rr = np.hypot(yy, xx)
    ring = (rr >= ring_px[0]) & (rr <= ring_px[1])
    rows = np.round((summary["centroid_y"].to_numpy(float) - origin_nm[0]) / pixel_size_nm).astype(int)
    cols = np.round((summary["centroid_x"].to_numpy(float) - origin_nm[1]) / pixel_size_nm).astype(int)
    h, w = img.shape[-2:]
    out = np.full((img.shape[0], len(rows)), np.nan)
    change = ndimage.gaussian_filter(img[-1] - img[0], refine_smooth_px)
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):  # loop over tracks (tens)
        if refine_px > 0 and refine_px <= r < h - refine_px and refine_px <= c < w - refine_px:
            sub = change[r - refine_px:r + refine_px + 1, c - refine_px:c + refine_px + 1]
            dr, dc = np.unravel_index(int(np.argmax(sub)), sub.shape)
            r, c = r + dr - refine_px, c + dc - refine_px
        if r_out <= r < h - r_out and r_out <= c < w - r_out:
            win = img[:, r - r_out:r + r_out + 1, c - r_out:c + r_out + 1]
            centre = img[:, r - centre_px:r + centre_px + 1, c - centre_px:c + centre_px + 1]
            out[:, i] = centre.max(axis=(1, 2)) - win[:, ring].mean(axis=1)
    return out


def backtrack_nucleation_baseline(summary: pd.DataFrame, contrast, *, level: float) -> pd.DataFrame:
    """Nucleation frame of each track from its site contrast against the site's own earlier frames.

    The site of a confirmed track is static texture (thickness, curtaining) plus, from nucleation on,
    the particle. Going back from the first detection, frame ``t`` counts as "particle present" while
    ``contrast[t]`` exceeds the median of ``contrast[:t]`` (the site before ``t``: the static texture
    cancels) by more than ``level``. Frame 0 has no earlier frame, so a weak signal there cannot be
    told from the static texture: the search stops at frame 1 (a particle present in frame 0 has to
    be detected there at the strict threshold). Hysteresis in time [1]_ with a per-site baseline.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`track_summary` (``nucleation_frame`` = first detected frame).
    contrast : array_like (n_frames, n_tracks)
        From :func:`site_contrast` (same row order as ``summary``).
    level : float
        Lower (site) threshold in the units of ``contrast`` (noise sd ≈ 0.3 for Poisson frames at
        ``smooth_px=1``).

    Returns
    -------
    pandas.DataFrame
        A copy with the updated ``nucleation_frame`` and the original as ``first_detected_frame``.

    References
    ----------
    .. [1] J. Canny, IEEE Trans. Pattern Anal. Mach. Intell. 8, 679 (1986) — hysteresis thresholding.
    """
    con = np.asarray(contrast, dtype=float)
    out = summary.copy()
    out["first_detected_frame"] = out["nucleation_frame"]
    nuc = out["nucleation_frame"].to_numpy(int).copy()
    for i in range(len(out)):  # loop over tracks (tens)
        s = con[:, i]
        if not np.isfinite(s).all():
            continue
        t = nuc[i] - 1
        while t >= 1 and s[t] - np.median(s[:t]) > level:
            t -= 1
        nuc[i] = t + 1
    out["nucleation_frame"] = nuc
    return out


def _chord_fit(excess, rows, cols, *, half_px: int) -> np.ndarray:
    """``A / 2R`` (per px) of the best projected-sphere fit to each site's azimuthal-mean excess."""
    excess = np.pad(excess, half_px, constant_values=np.nan)     # sites near the border: partial rings
    rows, cols = np.asarray(rows) + half_px, np.asarray(cols) + half_px
    h, w = excess.shape
    yy, xx = np.mgrid[-half_px:half_px + 1, -half_px:half_px + 1]
    rr = np.hypot(yy, xx)
    bins = np.minimum((rr / 0.5).astype(int), 2 * half_px)
    nb = 2 * half_px + 1
    radii = (np.arange(nb) + 0.5) * 0.5
    big_r = np.arange(1.0, half_px, 0.05)
    model = np.sqrt(np.clip(1.0 - radii[None, :] ** 2 / big_r[:, None] ** 2, 0.0, None))   # (R, bin)
    out = np.full(len(rows), np.nan)
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):  # loop over particles
        if not (half_px <= r < h - half_px and half_px <= c < w - half_px):
            continue
        win = excess[r - half_px:r + half_px + 1, c - half_px:c + half_px + 1]
        ok = np.isfinite(win)
        cnt = np.bincount(bins[ok], minlength=nb).astype(float)
        prof = np.bincount(bins[ok], weights=win[ok], minlength=nb) / np.maximum(cnt, 1)
        wts = cnt * (radii <= half_px)
        amp = (model * prof * wts).sum(1) / np.maximum((model ** 2 * wts).sum(1), 1e-12)
        sse = ((prof[None] - amp[:, None] * model) ** 2 * wts).sum(1)
        k = int(np.argmin(sse))
        out[i] = amp[k] / (2.0 * big_r[k])
    return out


def count_from_nucleation(summary: pd.DataFrame, n_frames: int) -> np.ndarray:
    """Particles present in each frame, counting every track from its nucleation frame on (particles
    that only grow do not disappear; a track missed in a frame is still counted)."""
    nuc = summary["nucleation_frame"].to_numpy(int)
    return np.array([(nuc <= t).sum() for t in range(int(n_frames))])


def chord_contrast(image, summary: pd.DataFrame, *, pixel_size_nm: float, thickness_nm: float,
                   diameter_col: str = "last_diameter_nm", smooth_px: float = 1.0,
                   background_px: float = 8.0, origin_nm=(0.0, 0.0),
                   diameter: str = "table") -> np.ndarray:
    """Scattering contrast ``q - 1`` of each particle relative to the matrix around its centre.

    In the thin-specimen (linear) HAADF regime a sphere of diameter ``D`` centred in a lamella of
    thickness ``t`` raises the signal at its centre by the factor ``1 + (q - 1) D / t``, with ``q`` the
    ratio of the particle's and the matrix's ``n Σ c_i Z_i^1.7`` [1]_. So ``q - 1 = R t / D`` with
    ``R`` the relative peak excess over the local background (supremum of line openings of the
    smoothed image) within one pixel of the particle's centroid, and ``D`` its measured diameter. It
    separates metallic Pb (``q - 1 ≈ 2.1`` in CsPb(Br,Cl)₃) from PbX₂ (≈ 0.4) for particles whose
    diameter is measured well (several pixels).

    ``diameter="table"`` uses ``summary[diameter_col]`` (a thresholded size: a weak particle, e.g.
    PbX₂, is segmented small and its ``q - 1`` overestimated); ``diameter="half_maximum"`` measures
    ``D`` threshold-free from the same excess map: the area ``A`` of the connected region above half
    the peak excess gives the full width at half maximum ``2√(A/π)``, corrected in quadrature for
    the smoothing (FWHM 2.355 ``smooth_px``); the projected chord of a sphere is at half maximum at
    ``r = (√3/2) R``, so ``D = FWHM / (√3/2)``. ``diameter="chord_fit"`` fits the azimuthal mean
    of the unsmoothed excess around the centre (0.5 px bins out to 1.5 ``background_px``) with the
    projected-sphere profile ``A √(1 - r²/R²)`` (``A`` by linear least squares for every ``R`` on a
    0.05 px grid, the best ``R`` kept): both ``A = (q - 1) 2R / t`` and ``R`` come from all pixels of
    the particle, so ``q - 1 = A t / 2R`` is not biased by noise maxima or a fragmented threshold.

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
    excess = img / np.where(bg > 0, bg, np.nan) - 1.0
    if diameter not in ("table", "half_maximum", "chord_fit"):
        raise InputError(f"diameter must be 'table', 'half_maximum' or 'chord_fit', got {diameter!r}")
    if diameter == "chord_fit":
        raw = np.asarray(image, dtype=float) / np.where(bg > 0, bg, np.nan) - 1.0
        return _chord_fit(raw, rows, cols, half_px=int(np.ceil(1.5 * background_px))) * thickness_nm / (
            pixel_size_nm)
    peak = np.full(len(summary), np.nan)
    dia = (summary[diameter_col].to_numpy(float) if diameter == "table"
           else np.full(len(summary), np.nan))
    half = int(np.ceil(1.5 * background_px))
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):  # loop over particles
        win = excess[max(r - 1, 0):min(r + 2, h), max(c - 1, 0):min(c + 2, w)]
        if not (win.size and np.isfinite(win).any()):
            continue
        peak[i] = np.nanmax(win)
        if diameter == "half_maximum" and peak[i] > 0:
            r0, c0 = max(r - half, 0), max(c - half, 0)
            sub = np.nan_to_num(excess[r0:r + half + 1, c0:c + half + 1], nan=0.0) > peak[i] / 2
            lab, _ = ndimage.label(sub)
            pr, pc = np.unravel_index(np.nanargmax(np.where(np.isfinite(win), win, -np.inf)), win.shape)
            k = lab[max(r - 1, 0) - r0 + pr, max(c - 1, 0) - c0 + pc]
            fwhm2 = 4.0 * (lab == k).sum() / np.pi - (2.3548 * smooth_px) ** 2
            dia[i] = np.sqrt(max(fwhm2, 1.0)) / (np.sqrt(3.0) / 2.0) * pixel_size_nm
    return peak * thickness_nm / dia
