"""Bright (high-Z) particles in a lighter matrix: segmentation, sizes, per-particle tables.

Segmentation: Gaussian smoothing, a global threshold (Otsu by default) separating particles from the
matrix, hole filling and removal of objects below a minimum size, then a marker-controlled watershed
on the Euclidean distance transform that splits touching particles (markers are the h-maxima of the
distance map, so a neck narrower than the particles separates them) [1]_ [2]_.

Sizes: the equivalent circular diameter ``d = 2 sqrt(A / pi)`` from the pixel area ``A`` in nm^2.
The size distribution is summarised by mean and standard deviation and a log-normal maximum-likelihood
fit (the usual model for nucleation-and-growth size distributions) [3]_.

References
----------
.. [1] N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. Syst. Man
   Cybern. 9, 62-66 (1979). :doi:`10.1109/TSMC.1979.4310076`
.. [2] S. Beucher and F. Meyer, "The morphological approach to segmentation: the watershed
   transformation", in Mathematical Morphology in Image Processing, 433-481 (1993).
.. [3] C. G. Granqvist and R. A. Buhrman, "Ultrafine metal particles", J. Appl. Phys. 47, 2200-2219
   (1976). :doi:`10.1063/1.322870`
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import ndimage

from ..errors import InputError

__all__ = ["line_opening_background", "segment_particles", "particle_table", "moment_diameters",
           "SizeDistribution", "size_distribution", "mean_per_label"]


def line_opening_background(image, *, half_length_px: float) -> np.ndarray:
    """Supremum of grey-level openings by line segments at 0°, 45°, 90° and 135°.

    A structure survives an opening by a segment only if the segment fits inside it, so the supremum
    keeps everything that is long in at least one direction (layers, their edges, curtaining
    stripes) and removes compact features shorter than ``2 half_length_px + 1`` in every direction
    (particles); ``image - result`` is their white top-hat [1]_.

    References
    ----------
    .. [1] P. Soille, Morphological Image Analysis, 2nd ed., Springer (2003), §4.4 and §5.4
       (openings by line segments and their supremum; top-hats).
    """
    img = np.asarray(image, dtype=float)
    n = int(np.ceil(half_length_px))
    size = 2 * n + 1
    eye = np.eye(size, dtype=bool)
    lines = [np.ones((1, size), bool), np.ones((size, 1), bool), eye, eye[::-1]]
    return np.maximum.reduce([ndimage.grey_opening(img, footprint=fp) for fp in lines])


def segment_particles(image, *, pixel_size_nm: float = 1.0, smooth_px: float = 1.0,
                      threshold: str | float = "otsu", min_diameter_nm: float = 0.0,
                      split_touching: bool = True, h_px: float = 1.0,
                      exclude_border: bool = False, background_px: float = 0.0,
                      background: str = "gaussian", poisson: bool = False,
                      half_max: bool = False) -> np.ndarray:
    """Label bright particles in an image.

    Parameters
    ----------
    image : array_like, shape (H, W)
        HAADF/ADF (particles bright) image, any dtype; NaNs are treated as matrix.
    pixel_size_nm : float
        Pixel size (nm), used for ``min_diameter_nm``.
    smooth_px : float
        Gaussian smoothing before thresholding (px); 0 disables it.
    threshold : {"otsu", "li", "triangle", "noise"} or float
        Threshold method (scikit-image), ``"noise"`` (median + 5 robust standard deviations of the
        smoothed, background-subtracted image: for a few small particles in a large field), or an
        absolute intensity level.
    min_diameter_nm : float
        Objects with a smaller equivalent diameter are discarded (noise).
    split_touching : bool
        Separate touching particles with a distance-transform watershed.
    h_px : float
        Depth (px) of the distance-map maxima used as watershed markers; larger merges more.
    exclude_border : bool
        Drop particles touching the image border (their size is unknown).
    background_px : float
        If > 0, subtract a background before thresholding (particles on an uneven support or inside
        a bright layer): see ``background``.
    half_max : bool
        Re-threshold every particle at half-way between its own plateau (median of its core) and the
        matrix level (median outside all particles), within the region it owns (watershed of the
        whole image): unbiased edges for flat-topped particles of different brightness seen through
        a blur. Not for spheres seen in projection (their edges have no plateau).
    poisson : bool
        The image is shot-noise-limited counts: segment its Anscombe transform, whose noise is the
        same (sd 1) in dark and bright regions, so one threshold suits particles in every layer.
    background : {"gaussian", "tophat", "lines"}
        ``"gaussian"``: the image smoothed with sigma ``background_px`` (slowly varying support);
        ``"tophat"``: a grey-level opening with a disc of radius ``background_px`` (white top-hat:
        keeps bright features narrower than the disc, follows sharp layer boundaries; choose about
        twice the largest particle radius); ``"lines"``: the supremum of openings by line segments of
        half-length ``background_px`` in four orientations (:func:`line_opening_background`): keeps
        compact particles but also removes thin *elongated* bright features — FIB curtaining stripes,
        layer edges — that a disc top-hat would leave.

    Returns
    -------
    ndarray of int32, shape (H, W)
        0 = matrix, 1..n = particles (consecutive).

    References
    ----------
    Otsu (1979); Beucher & Meyer (1993).
    """
    from skimage import filters, morphology, segmentation

    img = np.asarray(image, dtype=float)
    if img.ndim != 2:
        raise InputError(f"segment_particles: expected a 2-D image, got shape {img.shape}")
    finite = np.isfinite(img)
    if not finite.any():
        raise InputError("segment_particles: the image has no finite pixels")
    img = np.where(finite, img, np.nanmin(img))
    if poisson:
        from .denoise import anscombe

        img = anscombe(np.maximum(img, 0.0))
    if smooth_px > 0:
        img = ndimage.gaussian_filter(img, smooth_px)
    if background_px > 0:
        if background == "gaussian":
            img = img - ndimage.gaussian_filter(img, background_px)
        elif background == "tophat":
            r = int(np.ceil(background_px))
            yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
            img = img - ndimage.grey_opening(img, footprint=yy ** 2 + xx ** 2 <= background_px ** 2)
        elif background == "lines":
            img = img - line_opening_background(img, half_length_px=background_px)
        else:
            raise InputError(f"background must be 'gaussian', 'tophat' or 'lines', got {background!r}")
    if isinstance(threshold, str):
        methods = {"otsu": filters.threshold_otsu, "li": filters.threshold_li,
                   "triangle": filters.threshold_triangle, "noise": _noise_threshold}
        if threshold not in methods:
            raise InputError(f"threshold must be one of {sorted(methods)} or a number, got {threshold!r}")
        level = methods[threshold](img)
    else:
        level = float(threshold)
    mask = ndimage.binary_fill_holes(img > level)
    if split_touching and mask.any():
        dist = ndimage.distance_transform_edt(mask)
        markers = ndimage.label(morphology.h_maxima(dist, h_px))[0]
        labels = segmentation.watershed(-dist, markers, mask=mask)
    else:
        labels = ndimage.label(mask)[0]
    if half_max and labels.max() > 0:
        labels = _half_max_labels(img, labels)
    if exclude_border:
        labels = segmentation.clear_border(labels)
    min_area_px = np.pi / 4 * (min_diameter_nm / pixel_size_nm) ** 2
    if min_area_px > 0 and labels.max() > 0:
        areas = np.bincount(labels.ravel())
        small = areas < min_area_px
        small[0] = False
        labels[small[labels]] = 0
    return segmentation.relabel_sequential(labels)[0].astype(np.int32)


def _half_max_labels(img, labels):
    """Per-particle half-maximum re-thresholding inside each particle's watershed region."""
    from skimage import segmentation

    index = np.arange(1, labels.max() + 1)
    core = np.where(ndimage.binary_erosion(labels > 0, iterations=2), labels, 0)
    use = np.where(np.isin(index, np.unique(core)), index, 0)
    plateau = np.where(use > 0, ndimage.median(img, np.where(core > 0, core, labels), index), 0.0)
    matrix = np.median(img[ndimage.binary_dilation(labels > 0, iterations=3) == 0]) \
        if (labels == 0).any() else img.min()
    region = segmentation.watershed(-img, labels)                       # every pixel -> a particle
    level = np.concatenate([[np.inf], 0.5 * (plateau + matrix)])
    return np.where(img > level[region], region, 0)


def _noise_threshold(img, k: float = 5.0) -> float:
    med = np.median(img)
    return float(med + k * 1.4826 * np.median(np.abs(img - med)))


def mean_per_label(labels, values) -> np.ndarray:
    """Mean of ``values`` over each label, vectorised over leading axes.

    Parameters
    ----------
    labels : array_like of int, shape (H, W)
        0 = background, 1..n = objects.
    values : array_like, shape (..., H, W)
        Map(s) to average (NaN pixels are ignored).

    Returns
    -------
    ndarray, shape (..., n)
        Mean of each map over each object (NaN for an object with no finite pixel).
    """
    labels = np.asarray(labels)
    values = np.asarray(values, dtype=float)
    n = int(labels.max())
    lead = values.shape[:-2]
    flat = values.reshape(-1, labels.size)
    ok = np.isfinite(flat)
    k = flat.shape[0]
    idx = (np.arange(k)[:, None] * (n + 1) + labels.ravel()[None, :]).ravel()
    sums = np.bincount(idx, weights=np.where(ok, flat, 0.0).ravel(), minlength=k * (n + 1))
    cnts = np.bincount(idx, weights=ok.ravel().astype(float), minlength=k * (n + 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (sums / cnts).reshape(k, n + 1)[:, 1:]
    return mean.reshape(lead + (n,))


def moment_diameters(labels, intensity, *, shape: str = "sphere", grow_px: float = 3.0,
                     blur_px: float = 0.0) -> np.ndarray:
    """Particle diameters (px) from the intensity-weighted second moment of each particle.

    Each particle's region is its label grown by ``grow_px`` (so faint edges are included); the
    matrix level (median outside all grown regions) is subtracted. For a projected sphere (intensity
    proportional to thickness ``sqrt(R^2 - r^2)``) ``<r^2> = 2 R^2 / 5``; for a flat disc
    ``<r^2> = R^2 / 2``. A Gaussian blur of ``blur_px`` adds ``2 blur_px^2`` and is removed. Unlike a
    threshold, this does not lose the thin edges of spheres.

    Returns
    -------
    ndarray, shape (n_labels,)
        Diameter in px (NaN where the moment is not positive).
    """
    from skimage.segmentation import expand_labels

    factor = {"sphere": 2.5, "disc": 2.0}
    if shape not in factor:
        raise InputError(f"shape must be 'sphere' or 'disc', got {shape!r}")
    labels = np.asarray(labels)
    img = np.asarray(intensity, dtype=float)
    grown = expand_labels(labels, grow_px) if grow_px > 0 else labels
    matrix = np.median(img[grown == 0]) if (grown == 0).any() else 0.0
    w = np.clip(np.nan_to_num(img - matrix), 0.0, None)
    n = int(labels.max())
    rr, cc = np.indices(labels.shape, dtype=float)
    lab = grown.ravel()
    sums = [np.bincount(lab, weights=(w * q).ravel(), minlength=n + 1)[1:]
            for q in (np.ones_like(rr), rr, cc, rr ** 2, cc ** 2)]
    with np.errstate(invalid="ignore", divide="ignore"):
        m0, my, mx, myy, mxx = sums
        r2 = (myy / m0 - (my / m0) ** 2) + (mxx / m0 - (mx / m0) ** 2) - 2 * blur_px ** 2
        return np.where(r2 > 0, 2.0 * np.sqrt(factor[shape] * r2), np.nan)


def particle_table(labels, *, pixel_size_nm: float = 1.0, origin_nm: tuple[float, float] = (0.0, 0.0),
                   intensity=None, maps: dict | None = None, moment_shape: str | None = None,
                   blur_px: float = 0.0, grow_px: float = 3.0) -> pd.DataFrame:
    """One row per particle: geometry in nm plus the mean of any map over the particle.

    Parameters
    ----------
    labels : array_like of int, shape (H, W)
        From :func:`segment_particles`.
    pixel_size_nm : float
        Pixel size (nm).
    origin_nm : (float, float)
        Physical position (nm) of pixel (0, 0), so centroids match the image coordinates.
    intensity : array_like, optional
        Image whose mean per particle is reported as ``mean_intensity``.
    maps : dict of str -> array_like (H, W), optional
        Further maps on the same grid (e.g. a CL centre-wavelength map): column ``<name>`` holds each
        particle's mean. This is how particle tables join with other modalities.
    moment_shape : {"sphere", "disc"}, optional
        Also report ``diameter_moment_nm`` from :func:`moment_diameters` of ``intensity`` (needs
        ``intensity``); ``blur_px`` is the Gaussian blur to remove, ``grow_px`` how far beyond the
        segmented edge each particle's moment region reaches (about 3x the blur).

    Returns
    -------
    pandas.DataFrame
        Columns ``label, area_nm2, diameter_nm, centroid_y, centroid_x`` (nm), ``centroid_row,
        centroid_col`` (px), ``eccentricity, solidity, bbox_*`` and one column per map.
    """
    from skimage.measure import regionprops_table

    labels = np.asarray(labels).astype(np.int32)
    props = regionprops_table(labels, properties=("label", "area", "centroid", "eccentricity",
                                                  "solidity", "bbox"))
    df = pd.DataFrame(props).rename(columns={"centroid-0": "centroid_row", "centroid-1": "centroid_col",
                                             "bbox-0": "bbox_row0", "bbox-1": "bbox_col0",
                                             "bbox-2": "bbox_row1", "bbox-3": "bbox_col1"})
    df["area_nm2"] = df.pop("area").astype(float) * pixel_size_nm ** 2
    df["diameter_nm"] = 2.0 * np.sqrt(df["area_nm2"] / np.pi)
    df["centroid_y"] = origin_nm[0] + df["centroid_row"] * pixel_size_nm
    df["centroid_x"] = origin_nm[1] + df["centroid_col"] * pixel_size_nm
    if moment_shape is not None:
        if intensity is None:
            raise InputError("particle_table: moment_shape needs the intensity image")
        dm = moment_diameters(labels, intensity, shape=moment_shape, blur_px=blur_px,
                              grow_px=grow_px) * pixel_size_nm
        df["diameter_moment_nm"] = dm[df["label"].to_numpy() - 1] if len(df) else []
    extra = dict(maps or {})
    if intensity is not None:
        extra["mean_intensity"] = intensity
    for name, values in extra.items():
        means = mean_per_label(labels, values)
        df[name] = means[df["label"].to_numpy() - 1] if len(df) else []
    first = ["label", "diameter_nm", "area_nm2", "centroid_y", "centroid_x", "centroid_row",
             "centroid_col"]
    return df[first + [c for c in df.columns if c not in first]]


class SizeDistribution(NamedTuple):
    """Summary of particle sizes (all in nm)."""

    n: int
    mean: float
    sd: float
    sem: float
    median: float
    lognormal_mu: float
    lognormal_sigma: float
    hist_counts: np.ndarray
    hist_edges: np.ndarray


def size_distribution(diameters_nm, *, bins: int | str = "auto") -> SizeDistribution:
    """Mean ± sd, log-normal maximum-likelihood fit and histogram of particle diameters.

    The log-normal parameters are ``mu = mean(ln d)`` and ``sigma = sd(ln d)`` (maximum likelihood);
    its median is ``exp(mu)`` and its mean ``exp(mu + sigma^2 / 2)``.

    References
    ----------
    Granqvist & Buhrman, J. Appl. Phys. 47, 2200 (1976).
    """
    d = np.asarray(diameters_nm, dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    n = d.size
    if n == 0:
        empty = np.zeros(0)
        return SizeDistribution(0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, empty, empty)
    ln = np.log(d)
    counts, edges = np.histogram(d, bins=bins)
    sd = float(d.std(ddof=1)) if n > 1 else np.nan
    return SizeDistribution(n, float(d.mean()), sd, sd / np.sqrt(n) if n > 1 else np.nan,
                            float(np.median(d)), float(ln.mean()),
                            float(ln.std(ddof=1)) if n > 1 else np.nan, counts, edges)
