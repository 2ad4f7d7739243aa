"""Device stacks: layers from per-pixel features (HAADF + EDX composition), sub-pixel interface lines.

1. **Layer signatures.** The features (e.g. HAADF intensity and element maps, each scaled by its
   pixel noise) of columns of a reference frame, smoothed along the interfaces only, are each cut
   into ``n_layers`` constant segments along the growth direction (rows) by optimal least-squares
   partitioning (dynamic programming, batched over columns) [1]_; the medians over columns of the
   segment medians are the layers' feature vectors, ordered top (0) to bottom. (``"profile"``:
   partition the column-averaged profile instead.) Alternatively (``method="gmm"`` / ``"kmeans"``) the
   layer signatures are the centres of an unsupervised Gaussian-mixture / k-means clustering of the
   pixels [2]_, ordered by their mean row.
2. **Per-pixel layers.** Each column of each frame is labelled by a monotone Viterbi path: rows are
   assigned to layers in stack order (layers may be absent, e.g. a layer that has not grown yet), the
   cost being the squared noise-normalised distance to the layer signature plus a penalty per change.
3. **Sub-pixel interfaces.** Between the layers above and below each boundary, the features are
   projected on the line joining the two signatures (``t = 0`` above, ``1`` below) and the crossing of
   ``t = 1/2`` nearest to the boundary is interpolated between rows: for an error-function interface
   this is its centre. Absent layers get zero thickness.

References
----------
.. [1] R. Bellman, "On the approximation of curves by line segments using dynamic programming",
   Commun. ACM 4, 284 (1961); B. Jackson et al., "An algorithm for optimal partitioning of data on an
   interval", IEEE Signal Process. Lett. 12, 105-108 (2005). :doi:`10.1109/LSP.2001.838216`
.. [2] C. M. Bishop, Pattern Recognition and Machine Learning (Springer, 2006), ch. 9.
.. [3] G. D. Forney, "The Viterbi algorithm", Proc. IEEE 61, 268-278 (1973).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from ..errors import InputError

__all__ = ["LayerModel", "fit_layer_model", "classify_layers", "interface_lines", "optimal_partition"]


class LayerModel(NamedTuple):
    """Ordered layer signatures in noise-normalised feature space."""

    signatures: np.ndarray      # (n_layers, n_feat), standardised
    centre: np.ndarray          # (n_feat,) feature offset
    scale: np.ndarray           # (n_feat,) pixel noise sd of each feature
    contrast: np.ndarray        # (n_layers - 1,) signature distance of neighbours / profile noise


def _check(features):
    f = np.asarray(features, dtype=float)
    if f.ndim < 3:
        raise InputError(f"layer features must have shape (..., n_features, y, x), got {f.shape}")
    return np.where(np.isfinite(f), f, np.nanmedian(f, axis=(-2, -1), keepdims=True))


def _noise_scale(f):
    """Pixel noise sd of each feature from differences of horizontal neighbours (interfaces run
    along x, so these differences are noise)."""
    d = np.diff(f, axis=-1)
    n_feat = f.shape[-3]
    d = np.moveaxis(d.reshape(-1, n_feat, d.shape[-2] * d.shape[-1]), 1, 0).reshape(n_feat, -1)
    s = np.sqrt(np.mean(d ** 2, axis=1) / 2.0)
    fallback = np.moveaxis(f, -3, 0).reshape(n_feat, -1).std(axis=1)
    return np.where(s > 0, s, np.where(fallback > 0, fallback, 1.0))


def optimal_partition(profile, n_segments: int) -> np.ndarray:
    """Boundaries of the least-squares optimal partition of profiles into constant segments.

    Parameters
    ----------
    profile : array_like, shape (n,), (n, d) or (batch, n, d)
        One profile (optionally multivariate) or a batch of profiles, partitioned independently.
    n_segments : int
        Number of segments.

    Returns
    -------
    ndarray of int, shape (n_segments - 1,) or (batch, n_segments - 1)
        Boundary indices ``b`` (segment ``k`` is ``[b[k-1], b[k])``).

    References
    ----------
    Bellman (1961); Jackson et al. (2005).
    """
    p = np.asarray(profile, float)
    single = p.ndim < 3
    p = p[:, None] if p.ndim == 1 else p
    p = p[None] if p.ndim == 2 else p
    nb, n, _ = p.shape
    if not 1 <= n_segments <= n:
        raise InputError(f"cannot cut {n} rows into {n_segments} layers")
    c1 = np.concatenate([np.zeros((nb, 1, p.shape[2])), np.cumsum(p, axis=1)], axis=1)
    c2 = np.concatenate([np.zeros((nb, 1)), np.cumsum((p ** 2).sum(axis=2), axis=1)], axis=1)
    i, j = np.triu_indices(n + 1, k=1)                                    # segment [i, j)
    cost = np.full((nb, n + 1, n + 1), np.inf)
    cost[:, i, j] = c2[:, j] - c2[:, i] - ((c1[:, j] - c1[:, i]) ** 2).sum(axis=2) / (j - i)
    best = cost[:, 0].copy()                                              # 1 segment ending at j
    back = np.zeros((n_segments, nb, n + 1), dtype=int)
    for k in range(1, n_segments):  # loop over segments (dynamic programming)
        total = best[:, :, None] + cost                                   # (batch, i, j)
        back[k] = total.argmin(axis=1)
        best = total.min(axis=1)
    bounds = np.zeros((nb, n_segments - 1), dtype=int)
    j = np.full(nb, n)
    for k in range(n_segments - 1, 0, -1):
        j = back[k, np.arange(nb), j]
        bounds[:, k - 1] = j
    return bounds[0] if single else bounds


def fit_layer_model(features, *, n_layers: int, method: str = "columns", reference_frame: int = -1,
                    smooth_x_px: float = 3.0, max_columns: int = 48, random_state: int = 0) -> LayerModel:
    """Layer signatures of a stack (see the module docstring).

    Parameters
    ----------
    features : array_like, shape (..., n_features, H, W)
        Co-registered feature maps; leading axes (time) are frames.
    n_layers : int
        Number of layers (distinct materials in stack order) in the reference frame.
    method : {"columns", "profile", "gmm", "kmeans"}
        Optimal partition of individual columns (default: rough interfaces stay sharp, thin layers
        are found), of the column-averaged profile (flat interfaces, very low dose), or clustering of
        the pixels.
    reference_frame : int
        Frame whose profile defines the layers (default: last, where grown layers are thickest).
    smooth_x_px : float
        Smoothing along the interfaces of the columns partitioned (``"columns"``).
    max_columns : int
        Number of (evenly spaced) columns partitioned (``"columns"``).
    random_state : int
        Seed of the clustering.
    """
    f = _check(features)
    n_feat, h, w = f.shape[-3:]
    frames = f.reshape(-1, n_feat, h, w)
    centre = np.median(np.moveaxis(frames, 1, 0).reshape(n_feat, -1), axis=1)
    scale = _noise_scale(frames)
    z = (np.moveaxis(frames, 1, -1) - centre) / scale                     # (frames, H, W, F)
    prof = z[reference_frame].mean(axis=1)                                # (H, F)
    if not 2 <= n_layers <= h:
        raise InputError(f"n_layers must be between 2 and the number of rows ({h}), got {n_layers}")
    if method == "profile":
        b = np.concatenate([[0], optimal_partition(prof, n_layers), [h]])
        sig = np.array([np.median(prof[b[k]:b[k + 1]], axis=0) for k in range(n_layers)])
    elif method == "columns":
        # partition individual columns (smoothed along x only, so rough interfaces stay sharp); the
        # signature of layer k is the median over columns of the k-th segment's median
        zc = ndimage.gaussian_filter1d(z[reference_frame], smooth_x_px, axis=1)  # (H, W, F)
        cols = np.linspace(0, w - 1, min(w, max_columns)).round().astype(int)
        colp = np.moveaxis(zc[:, cols], 1, 0)                             # (n_cols, H, F)
        b = optimal_partition(colp, n_layers)                            # (n_cols, n_layers - 1)
        edges = np.concatenate([np.zeros((len(cols), 1), int), b, np.full((len(cols), 1), h)], axis=1)
        rows = np.arange(h)
        seg = (rows[None, :, None] >= edges[:, None, :-1]) & (rows[None, :, None] < edges[:, None, 1:])
        sig = np.array([np.nanmedian(np.where(seg[:, :, k, None], colp, np.nan).reshape(-1, n_feat),
                                     axis=0) for k in range(n_layers)])
    elif method in ("gmm", "kmeans"):
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture

        zs = ndimage.gaussian_filter(z[reference_frame], (1.0, smooth_x_px, 0.0))
        zz = zs.reshape(-1, n_feat)
        rows = np.repeat(np.arange(h, dtype=float), w)
        # fit on layer interiors: pixels on an interface (large change along the rows) are mixtures
        # that a mixture model would otherwise spend a component on
        grad = np.sqrt((np.gradient(zs, axis=0) ** 2).sum(-1)).ravel()
        interior = grad <= np.quantile(grad, 0.75)
        est = (GaussianMixture(n_layers, random_state=random_state, n_init=2) if method == "gmm"
               else KMeans(n_layers, n_init=4, random_state=random_state)).fit(zz[interior])
        lab = est.predict(zz)
        mean_row = np.array([rows[lab == k].mean() if (lab == k).any() else np.inf
                             for k in range(n_layers)])
        order = np.argsort(mean_row)
        sig = np.array([np.median(zz[lab == k], axis=0) for k in order])
    else:
        raise InputError(f"method must be 'columns', 'profile', 'gmm' or 'kmeans', got {method!r}")
    contrast = np.linalg.norm(np.diff(sig, axis=0), axis=1) * np.sqrt(w)  # profile noise = 1/sqrt(W)
    return LayerModel(sig, centre, scale, contrast)


def _standardise(model: LayerModel, features, smooth_x_px: float):
    f = _check(features)
    if smooth_x_px > 0:
        f = ndimage.gaussian_filter1d(f, smooth_x_px, axis=-1)
    return (np.moveaxis(f, -3, -1) - model.centre) / model.scale        # (..., H, W, F)


def classify_layers(model: LayerModel, features, *, smooth_x_px: float = 2.0,
                    change_penalty: float = 4.0) -> np.ndarray:
    """Layer index (0 = top) of every pixel by a monotone Viterbi path down each column.

    Parameters
    ----------
    model : LayerModel
    features : array_like, shape (..., n_features, H, W)
    smooth_x_px : float
        Smoothing along the interfaces (columns) before labelling.
    change_penalty : float
        Cost of a layer change, in units of squared noise sd.

    Returns
    -------
    ndarray of int16, shape (..., H, W)

    References
    ----------
    Forney, Proc. IEEE 61, 268 (1973).
    """
    z = _standardise(model, features, smooth_x_px)
    lead, (h, w, _) = z.shape[:-3], z.shape[-3:]
    zz = z.reshape(-1, h, w, z.shape[-1])
    var = 1.0 / np.sqrt(2 * np.sqrt(np.pi) * smooth_x_px) ** 2 if smooth_x_px > 0 else 1.0
    cost = ((zz[..., None, :] - model.signatures) ** 2).sum(-1) / var     # (n, H, W, K)
    k = cost.shape[-1]
    acc = cost[:, 0].copy()                                               # (n, W, K)
    back = np.zeros(cost.shape, dtype=np.int16)
    layer_idx = np.arange(k)
    for r in range(1, h):  # loop over rows (Viterbi recursion), vectorised over frames and columns
        stay = acc
        jump = np.minimum.accumulate(acc, axis=-1)                        # best j <= k
        jarg = _cumargmin(acc)
        move = np.concatenate([np.full(acc.shape[:-1] + (1,), np.inf), jump[..., :-1]], axis=-1)
        marg = np.concatenate([np.zeros(acc.shape[:-1] + (1,), int), jarg[..., :-1]], axis=-1)
        take_move = move + change_penalty < stay
        back[:, r] = np.where(take_move, marg, layer_idx)
        acc = np.where(take_move, move + change_penalty, stay) + cost[:, r]
    labels = np.empty(zz.shape[:-1], dtype=np.int16)
    cur = acc.argmin(axis=-1)
    for r in range(h - 1, -1, -1):  # loop over rows (backtracking)
        labels[:, r] = cur
        cur = np.take_along_axis(back[:, r], cur[..., None], axis=-1)[..., 0]
    return labels.reshape(lead + (h, w))


def _cumargmin(a):
    """Index of the running minimum along the last axis."""
    k = a.shape[-1]
    idx = np.broadcast_to(np.arange(k), a.shape)
    is_new = a <= np.minimum.accumulate(a, axis=-1)
    return np.maximum.accumulate(np.where(is_new, idx, 0), axis=-1)


def interface_lines(model: LayerModel, features, labels, *, smooth_x_px: float = 2.0,
                    search_px: int = 4) -> np.ndarray:
    """Sub-pixel row of every interface in every column.

    Parameters
    ----------
    model : LayerModel
    features : array_like, shape (..., n_features, H, W)
    labels : array_like of int, shape (..., H, W)
        From :func:`classify_layers`.
    smooth_x_px : float
        Smoothing of the features along the interfaces only (rows are not smoothed: thin layers keep
        their contrast and positions are unbiased).
    search_px : int
        Half-height (rows) of the search window around the label boundary.

    Returns
    -------
    ndarray, shape (..., n_layers - 1, W)
        Row (px, pixel centres at integers) of interface ``k`` (between layer ``k`` and ``k + 1``);
        equal rows mean an absent layer; NaN where the interface lies outside the image.
    """
    z = _standardise(model, features, smooth_x_px)                       # (..., H, W, F)
    labels = np.asarray(labels)
    h, w = labels.shape[-2:]
    n_if = len(model.signatures) - 1
    out = np.full(labels.shape[:-2] + (n_if, w), np.nan)
    rows = np.arange(h)
    for k in range(n_if):  # loop over interfaces; each is vectorised over frames and columns
        boundary = (labels <= k).sum(axis=-2)                             # first row below layer <= k
        inside = (boundary > 0) & (boundary < h)
        bc = np.clip(boundary, 1, h - 1)
        above = np.take_along_axis(labels, (bc - 1)[..., None, :], axis=-2)[..., 0, :]
        below = np.take_along_axis(labels, bc[..., None, :], axis=-2)[..., 0, :]
        a, b = model.signatures[above], model.signatures[below]          # (..., W, F)
        delta = b - a
        t = (((z - a[..., None, :, :]) * delta[..., None, :, :]).sum(-1)
             / np.maximum((delta ** 2).sum(-1), 1e-12)[..., None, :])     # (..., H, W)
        s = t - 0.5
        cross = (s[..., :-1, :] < 0) & (s[..., 1:, :] >= 0)
        dist = np.abs(rows[:-1, None] + 0.5 - boundary[..., None, :])
        dist = np.where(cross & (dist <= search_px), dist, np.inf)
        j = dist.argmin(axis=-2)
        found = np.isfinite(np.take_along_axis(dist, j[..., None, :], axis=-2)[..., 0, :])
        t0 = np.take_along_axis(t, j[..., None, :], axis=-2)[..., 0, :]
        t1 = np.take_along_axis(t, j[..., None, :] + 1, axis=-2)[..., 0, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            pos = np.where(found, j + (0.5 - t0) / (t1 - t0), boundary - 0.5)
        out[..., k, :] = np.where(inside, pos, np.nan)
    return out
