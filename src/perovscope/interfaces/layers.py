"""Device stacks: layers from per-pixel features (HAADF + EDX composition), sub-pixel interface lines.

Segmentation: every pixel's feature vector (e.g. HAADF intensity and element fractions), smoothed and
standardised, is clustered without supervision by a Gaussian mixture (or k-means) fitted to a
deterministic subsample of pixels of all frames together, so the labels mean the same material in
every frame [1]_ [2]_. Clusters are ordered along the growth direction (image rows, top = 0) by their
mean row.

Interfaces: the boundary between layer ``k`` and ``k+1`` in each column is where the features,
projected on the line joining the two layers' median feature vectors (``t = 0`` in layer ``k``, ``1`` in
layer ``k+1``), cross ``t = 1/2``, located by linear interpolation between rows, searched near the
label boundary. For an error-function interface profile this is its centre, without the bias a
threshold on the posterior probabilities would have.

References
----------
.. [1] C. M. Bishop, Pattern Recognition and Machine Learning (Springer, 2006), ch. 9.
.. [2] P. Kotula, M. Keenan and J. Michael, "Automated analysis of SEM X-ray spectral images: a
   powerful new microanalysis tool", Microsc. Microanal. 9, 1-17 (2003).
   :doi:`10.1017/S1431927603030058`
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from ..errors import InputError

__all__ = ["LayerModel", "fit_layer_model", "classify_layers", "interface_lines"]


class LayerModel(NamedTuple):
    """A fitted clustering of feature space into ordered layers."""

    estimator: object           # fitted sklearn GaussianMixture/KMeans
    order: np.ndarray           # cluster index -> layer index (0 = top)
    centre: np.ndarray          # feature standardisation (n_feat,)
    scale: np.ndarray
    smooth_px: float
    medians: np.ndarray         # (n_layers, n_feat) median standardised feature vector per layer


def _smooth(features, sigma_yx):
    if not any(sigma_yx):
        return np.asarray(features, float)
    f = np.asarray(features, float)
    return ndimage.gaussian_filter(f, (0,) * (f.ndim - 2) + tuple(sigma_yx))


def _check(features):
    f = np.asarray(features, dtype=float)
    if f.ndim < 3:
        raise InputError(f"layer features must have shape (..., n_features, y, x), got {f.shape}")
    return np.where(np.isfinite(f), f, np.nanmedian(f, axis=(-2, -1), keepdims=True))


def fit_layer_model(features, *, n_layers: int, method: str = "gmm", smooth_px: float = 1.0,
                    max_samples: int = 50_000, random_state: int = 0) -> LayerModel:
    """Fit the clustering of per-pixel features into ``n_layers`` materials, ordered top to bottom.

    Parameters
    ----------
    features : array_like, shape (..., n_features, H, W)
        Feature maps (leading axes, e.g. time, are pooled for the fit).
    n_layers : int
        Number of distinct materials in the stack.
    method : {"gmm", "kmeans"}
        Gaussian mixture (full covariance) or k-means.
    smooth_px : float
        Gaussian smoothing of each feature map before clustering (px).
    max_samples : int
        Pixels used for the fit (a regular stride through all pixels: deterministic).
    random_state : int
        Seed of the estimator's initialisation.

    References
    ----------
    Bishop (2006), ch. 9.
    """
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    f = _smooth(_check(features), (smooth_px, smooth_px))
    n_feat, h, w = f.shape[-3:]
    lead = int(np.prod(f.shape[:-3], dtype=int))
    x = np.moveaxis(f.reshape(lead, n_feat, h * w), 1, 2).reshape(-1, n_feat)
    rows = np.tile(np.repeat(np.arange(h, dtype=float), w), lead)
    centre = np.median(x, axis=0)
    scale = np.maximum(x.std(axis=0), np.finfo(float).tiny)
    z = (x - centre) / scale
    step = max(1, len(z) // max_samples)
    sample = z[::step]
    if n_layers < 2 or n_layers > len(sample):
        raise InputError(f"n_layers must be between 2 and the number of pixels, got {n_layers}")
    if method == "gmm":
        est = GaussianMixture(n_layers, covariance_type="full", random_state=random_state, n_init=2,
                              reg_covar=1e-4).fit(sample)
    elif method == "kmeans":
        est = KMeans(n_layers, n_init=4, random_state=random_state).fit(sample)
    else:
        raise InputError(f"method must be 'gmm' or 'kmeans', got {method!r}")
    lab = est.predict(z)
    mean_row = np.array([rows[lab == k].mean() if (lab == k).any() else np.inf for k in range(n_layers)])
    order = np.empty(n_layers, dtype=int)
    order[np.argsort(mean_row)] = np.arange(n_layers)
    layer = order[lab]
    medians = np.array([np.median(z[layer == k], axis=0) if (layer == k).any() else np.full(n_feat, np.nan)
                        for k in range(n_layers)])
    return LayerModel(est, order, centre, scale, float(smooth_px), medians)


def _standardise(model: LayerModel, features, sigma_yx):
    f = _smooth(_check(features), sigma_yx)
    z = (np.moveaxis(f, -3, -1) - model.centre) / model.scale            # (..., H, W, n_feat)
    return z


def classify_layers(model: LayerModel, features) -> np.ndarray:
    """Layer index (0 = top) of every pixel, shape ``(..., H, W)`` for features ``(..., n_feat, H, W)``."""
    z = _standardise(model, features, (model.smooth_px, model.smooth_px))
    flat = z.reshape(-1, z.shape[-1])
    return model.order[model.estimator.predict(flat)].reshape(z.shape[:-1]).astype(np.int16)


def interface_lines(model: LayerModel, features, labels, *, smooth_x_px: float = 2.0,
                    search_px: int = 6) -> np.ndarray:
    """Sub-pixel row position of every interface in every column.

    Parameters
    ----------
    model : LayerModel
    features : array_like, shape (..., n_features, H, W)
    labels : array_like of int, shape (..., H, W)
        From :func:`classify_layers`.
    smooth_x_px : float
        Smoothing of the features along the interface (columns) only; rows are not smoothed, so thin
        layers keep their contrast and positions are not biased.
    search_px : int
        Half-height (rows) of the search window around the label boundary.

    Returns
    -------
    ndarray, shape (..., n_layers - 1, W)
        Row (px, pixel centres at integers) of interface ``k`` (between layer ``k`` and ``k + 1``);
        NaN in columns where it is not found.
    """
    z = _standardise(model, features, (0.0, smooth_x_px))                 # (..., H, W, F)
    labels = np.asarray(labels)
    h, w = labels.shape[-2:]
    n_if = len(model.medians) - 1
    out = np.full(labels.shape[:-2] + (n_if, w), np.nan)
    rows = np.arange(h)
    for k in range(n_if):  # loop over interfaces; each is vectorised over frames and columns
        a, b = model.medians[k], model.medians[k + 1]
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        delta = b - a
        t = ((z - a) @ delta) / (delta @ delta)                           # (..., H, W)
        boundary = (labels <= k).sum(axis=-2)                             # first row below layer k
        present = (labels <= k).any(axis=-2) & (labels > k).any(axis=-2)
        s = t - 0.5
        cross = (s[..., :-1, :] < 0) & (s[..., 1:, :] >= 0)               # rising crossings, row j..j+1
        dist = np.abs(rows[:-1, None] + 0.5 - boundary[..., None, :])
        dist = np.where(cross & (dist <= search_px), dist, np.inf)
        j = dist.argmin(axis=-2)                                          # (..., W)
        ok = np.isfinite(np.take_along_axis(dist, j[..., None, :], axis=-2)[..., 0, :]) & present
        t0 = np.take_along_axis(t, j[..., None, :], axis=-2)[..., 0, :]
        t1 = np.take_along_axis(t, j[..., None, :] + 1, axis=-2)[..., 0, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            pos = j + (0.5 - t0) / (t1 - t0)
        out[..., k, :] = np.where(ok, pos, np.nan)
    return out
