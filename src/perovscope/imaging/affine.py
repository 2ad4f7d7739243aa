"""Affine transforms between pixel grids: apply (counts vs intensive), fit from points or intensities.

Convention: an affine ``matrix`` is a 2x3 array mapping a *source* pixel position ``(row, col)`` to a
*target* pixel position, ``[row_t, col_t] = matrix[:, :2] @ [row_s, col_s] + matrix[:, 2]``, pixel
centres at integer positions. This is the convention of ``truth/affine`` in the simulator.

Resampling is different for the two kinds of map:

* **intensive** quantities (intensities normalised per pixel, strain, composition in at.%, peak
  positions) are interpolated (cubic spline) at the source position of each target pixel centre;
* **counts** (detector counts per pixel) are an integral over the pixel area: each target pixel is
  divided into ``supersample`` x ``supersample`` sub-samples, every source pixel's counts are shared
  equally among the sub-samples that fall inside it, and the shares are summed per target pixel. The
  total is conserved exactly (for the part of the source inside the target field), values stay
  non-negative, and the result is the area-weighted (piecewise-constant density) rebinning.

References
----------
.. [1] B. Zitova and J. Flusser, "Image registration methods: a survey", Image Vis. Comput. 21,
   977-1000 (2003). :doi:`10.1016/S0262-8856(03)00137-9`
.. [2] J. P. Lewis, "Fast normalized cross-correlation", Vision Interface 95, 120-123 (1995).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage, optimize

from ..errors import FitError, InputError
from .registration import phase_correlation_shifts

__all__ = ["AffineFit", "affine_from_points", "invert_affine", "compose_affine", "warp_affine",
           "fit_affine"]


def _as3(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=float)
    if m.shape != (2, 3):
        raise InputError(f"affine matrix must have shape (2, 3), got {m.shape}")
    return np.vstack([m, [0.0, 0.0, 1.0]])


def invert_affine(matrix) -> np.ndarray:
    """Inverse of a 2x3 affine matrix (maps target back to source)."""
    return np.linalg.inv(_as3(matrix))[:2]


def compose_affine(first, second) -> np.ndarray:
    """The 2x3 matrix of applying ``first`` then ``second``."""
    return (_as3(second) @ _as3(first))[:2]


def affine_from_points(src, dst) -> np.ndarray:
    """Least-squares affine matrix mapping points ``src`` (n, 2) (row, col) onto ``dst`` (n, 2)."""
    src = np.asarray(src, float)
    dst = np.asarray(dst, float)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 3:
        raise FitError(f"affine_from_points: need >= 3 matching (row, col) points, got {src.shape} "
                       f"and {dst.shape}")
    design = np.column_stack([src, np.ones(len(src))])
    sol, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return sol.T


def _target_grid(shape, supersample: int) -> np.ndarray:
    s = supersample
    sub = (np.arange(s) + 0.5) / s - 0.5
    rows = (np.arange(shape[0])[:, None] + sub[None, :]).ravel()
    cols = (np.arange(shape[1])[:, None] + sub[None, :]).ravel()
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.stack([rr, cc])                                         # (2, H*s, W*s)


def warp_affine(image, matrix, *, output_shape: tuple[int, int], kind: str = "intensive",
                fill: float = np.nan, supersample: int | None = None) -> np.ndarray:
    """Resample a map (``(..., h, w)``) onto a target grid through an affine transform.

    Parameters
    ----------
    image : array_like, shape (..., h, w)
        Source map; leading axes (time, energy channels, elements) are carried along.
    matrix : array_like, shape (2, 3)
        Source (row, col) -> target (row, col), see the module docstring.
    output_shape : (int, int)
        Target grid shape.
    kind : {"intensive", "counts"}
        Interpolate values, or rebin counts over each target pixel (total conserved).
    fill : float
        Value of target pixels outside the source field of view.
    supersample : int, optional
        Sub-samples per target-pixel side for ``kind="counts"``; default covers the largest source
        pixel per target pixel at least twice.

    Returns
    -------
    ndarray of float, shape (..., *output_shape)
    """
    if kind not in ("intensive", "counts"):
        raise InputError(f"kind must be 'intensive' or 'counts', got {kind!r}")
    image = np.asarray(image, dtype=float)
    inv = invert_affine(matrix)
    lin = inv[:, :2]
    if kind == "counts":
        stretch = np.linalg.svd(lin, compute_uv=False).max()
        s = supersample or max(2, int(np.ceil(2 * stretch)))
    else:
        s = 1
    grid = _target_grid(output_shape, s)
    src = np.einsum("ij,jyx->iyx", lin, grid) + inv[:, 2, None, None]
    h, w = image.shape[-2:]
    inside = (src[0] >= -0.5) & (src[0] < h - 0.5) & (src[1] >= -0.5) & (src[1] < w - 0.5)
    flat = image.reshape(-1, h, w)
    out = np.empty((flat.shape[0],) + tuple(output_shape))
    if kind == "counts":
        # every sub-sample takes an equal share of the source pixel it falls in: exact conservation
        idx = (np.clip(np.rint(src[0]), 0, h - 1).astype(np.intp) * w
               + np.clip(np.rint(src[1]), 0, w - 1).astype(np.intp))
        idx = np.where(inside, idx, h * w)                            # h*w collects the outside
        share = np.bincount(idx.ravel(), minlength=h * w + 1).astype(float)
        weight = np.where(inside, 1.0 / share[idx], 0.0)
        padded = np.concatenate([np.nan_to_num(flat.reshape(flat.shape[0], -1)),
                                 np.zeros((flat.shape[0], 1))], axis=1)
        for i in range(flat.shape[0]):  # loop over channels; each is one vectorised gather
            vals = padded[i][idx] * weight
            out[i] = vals.reshape(output_shape[0], s, output_shape[1], s).sum(axis=(1, 3))
        covered = inside.reshape(output_shape[0], s, output_shape[1], s).any(axis=(1, 3))
    else:
        for i, plane in enumerate(flat):  # loop over channels; each is one vectorised interpolation
            valid = np.isfinite(plane)
            out[i] = ndimage.map_coordinates(np.where(valid, plane, 0.0), src, order=3,
                                             mode="nearest")
        covered = inside
    out[:, ~covered] = fill
    return out.reshape(image.shape[:-2] + tuple(output_shape))


class AffineFit(NamedTuple):
    """Result of :func:`fit_affine`: ``matrix`` maps moving (row, col) to fixed (row, col)."""

    matrix: np.ndarray
    ncc: float
    n_iterations: int


def _normalise(img, sigma):
    img = np.nan_to_num(np.asarray(img, float))
    if sigma > 0:
        img = ndimage.gaussian_filter(img, sigma)
    return (img - img.mean()) / max(img.std(), np.finfo(float).tiny)


def _ncc_and_grad(params, fixed, moving, grads, xt):
    inv = params.reshape(2, 3)
    coords = np.einsum("ij,jn->in", inv, xt)
    h, w = moving.shape
    ok = (coords[0] >= 0) & (coords[0] <= h - 1) & (coords[1] >= 0) & (coords[1] <= w - 1)
    n = ok.sum()
    if n < 0.1 * xt.shape[1]:
        return 1.0, np.zeros_like(params)
    c = coords[:, ok]
    m = ndimage.map_coordinates(moving, c, order=1, prefilter=False)
    f = fixed[ok]
    fm, mm = f - f.mean(), m - m.mean()
    sf, sm = np.sqrt((fm ** 2).sum()), np.sqrt((mm ** 2).sum())
    ncc = (fm * mm).sum() / (sf * sm)
    dn_dm = (fm / sf - ncc * mm / sm) / sm                           # d NCC / d m_k
    gy = ndimage.map_coordinates(grads[0], c, order=1, prefilter=False)
    gx = ndimage.map_coordinates(grads[1], c, order=1, prefilter=False)
    x = xt[:, ok]
    grad = np.stack([(dn_dm * gy) @ x.T, (dn_dm * gx) @ x.T])
    return -ncc, -grad.ravel()


#: Allowed parameter directions of each transform model, as 2x3 variations of the inverse map.
_MODELS = {
    "translation": [[[0, 0, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 1]]],
    "similarity": [[[0, 0, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 0]],
                   [[0, -1, 0], [1, 0, 0]]],
    "affine": [np.eye(6)[i].reshape(2, 3).tolist() for i in range(6)],
}


def fit_affine(fixed, moving, *, initial=None, smooth_sigmas: tuple[float, ...] = (4.0, 1.5, 0.0),
               model: str = "affine", contrast: str = "auto", max_iter: int = 300) -> AffineFit:
    """Fit the affine transform that best overlays ``moving`` on ``fixed`` (normalised cross-correlation).

    Coarse-to-fine: the images are compared after Gaussian smoothing with each of ``smooth_sigmas`` in
    turn (px of the fixed grid), starting from ``initial`` refined by a phase-correlation translation;
    at each level the six parameters are optimised with L-BFGS-B using the analytic gradient of the
    normalised cross-correlation over the overlap.

    Parameters
    ----------
    fixed : array_like, shape (H, W)
        Image on the common (target) grid.
    moving : array_like, shape (h, w)
        Image of the other modality (may have another pixel size and shape).
    initial : array_like (2, 3), optional
        Start transform, moving -> fixed, e.g. from the two pixel calibrations. Default: identity.
    smooth_sigmas : tuple of float
        Smoothing schedule (px).
    model : {"affine", "similarity", "translation"}
        Degrees of freedom fitted around ``initial``: all six; translation + rotation + uniform
        scale; or translation only (use when both calibrations are trusted, or when the specimen has
        structure along one direction only, e.g. a layer stack, which leaves the scale along the
        layers undetermined).
    contrast : {"auto", "same", "inverted"}
        Whether the modalities have the same or inverted contrast (e.g. HAADF vs a bright-field-like
        virtual image from a 4D-STEM detector); ``"auto"`` takes the sign of the correlation at the
        start transform.
    max_iter : int
        Iterations per level.

    Returns
    -------
    AffineFit
        ``matrix`` (moving -> fixed), the final ``ncc`` (1 = perfect), iterations used.

    References
    ----------
    Zitova & Flusser, Image Vis. Comput. 21, 977 (2003); Lewis (1995).
    """
    fixed = np.asarray(fixed, float)
    moving = np.asarray(moving, float)
    if fixed.ndim != 2 or moving.ndim != 2:
        raise InputError(f"fit_affine: expected two 2-D images, got {fixed.shape} and {moving.shape}")
    if model not in _MODELS:
        raise InputError(f"model must be one of {sorted(_MODELS)}, got {model!r}")
    init = np.asarray(initial, float) if initial is not None else np.eye(2, 3)
    warped = warp_affine(moving, init, output_shape=fixed.shape, fill=np.nan)
    ok = np.isfinite(warped)
    if contrast == "auto":
        contrast = "inverted" if ok.sum() > 2 and np.corrcoef(warped[ok], fixed[ok])[0, 1] < 0 else "same"
    if contrast == "inverted":
        moving, warped = -moving, -warped
    elif contrast != "same":
        raise InputError(f"contrast must be 'auto', 'same' or 'inverted', got {contrast!r}")
    # translation refinement: moving warped onto the fixed grid, then phase correlation
    warped = np.where(ok, warped, np.nanmean(warped))
    shift = phase_correlation_shifts(warped, fixed, upsample=20)
    init = init.copy()
    init[:, 2] -= [shift.shift_y, shift.shift_x]
    hh, ww = fixed.shape
    rr, cc = np.meshgrid(np.arange(hh, dtype=float), np.arange(ww, dtype=float), indexing="ij")
    centre = np.array([(hh - 1) / 2, (ww - 1) / 2])
    half = max(hh, ww) / 2
    xt = np.stack([(rr.ravel() - centre[0]) / half, (cc.ravel() - centre[1]) / half, np.ones(rr.size)])
    to_norm = np.array([[half, 0, centre[0]], [0, half, centre[1]]])   # normalised -> fixed px
    inv_px = invert_affine(init)
    params = compose_affine(to_norm, inv_px)                           # normalised fixed -> moving px
    basis = np.array(_MODELS[model], dtype=float).reshape(-1, 6)          # (n_dof, 6)
    p0 = params.ravel().copy()
    q = np.zeros(len(basis))
    nit, ncc = 0, np.nan
    for sigma in smooth_sigmas:
        stretch = np.linalg.svd(params[:, :2] / half, compute_uv=False).mean()  # moving px / fixed px
        # a coarser moving pixel integrates a box of 1/stretch fixed px (sd 0.29/stretch): blur the
        # fixed image alike so both are compared at the same resolution
        box = 0.29 / stretch if stretch < 1 else 0.0
        f = _normalise(fixed, float(np.hypot(sigma, box))).ravel()
        m = _normalise(moving, sigma * stretch)
        grads = np.gradient(m)
        def cost(qq, f=f, m=m, grads=grads):
            val, grad = _ncc_and_grad(p0 + qq @ basis, f, m, grads, xt)
            return val, basis @ grad

        res = optimize.minimize(cost, q, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
        q, nit, ncc = res.x, nit + res.nit, -res.fun
        params = (p0 + q @ basis).reshape(2, 3)
    inv_px = compose_affine(invert_affine(to_norm), params)           # fixed px -> moving px
    return AffineFit(invert_affine(inv_px), float(ncc), int(nit))
