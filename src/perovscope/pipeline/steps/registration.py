"""Step ``registration``: every modality of a frame onto the session grid (frame-0 HAADF pixels).

For frame ``t`` each spectroscopic/diffraction modality is registered to the HAADF frame ``t``
acquired with it (:func:`perovscope.imaging.register_modalities`, started from the two calibrations;
``model="translation"`` by default: both pixel sizes are calibrated, and a layer stack leaves the scale
along the layers undetermined), then composed with the drift of HAADF frame ``t`` (content of frame
``t`` = frame 0 moved by ``+shift``), so each affine maps a modality pixel straight onto the grid.

Images compared: EDX total counts and 4D-STEM total counts on the camera. Their contrast *across*
the layers is not HAADF's (X-ray yields, diffraction vs Z^1.7), and a plain normalised cross-correlation
is biased by it (measured 0.25-0.5 px in y on the simulated device, the bar is 0.3 px). So the start
from :func:`perovscope.imaging.register_modalities` is refined (:func:`refine_translation`) on the
structure *along* the layers, which every incoherent signal sees alike because it scales with the
local lamella thickness (FIB curtaining) and follows the rough interfaces and the particles: each
row's mean is removed from both images, and the HAADF frame is sampled as the modality samples the
specimen — averaged over the pixel area for EDX (``sampling="area"``: the probe is rastered over each
spectrum-image pixel), at the probe positions after a 1 px Gaussian for 4D-STEM (``"point"``: one
pattern per position).

Quality ``rms_px``: the predicted one-sd error of the registered position (grid px, both axes in
quadrature), Cramér–Rao for a translation: ``σ_r / sqrt(Σ g²)`` along each axis, with ``g`` the
gradient of the HAADF image brought onto the modality's grid through the fit (scaled to the
modality's intensity by a linear fit) and ``σ_r`` the rms residual of that fit — noise *and* the
contrast mismatch of the two modalities, so it is an upper estimate of the noise-limited error.

Temporal pooling (:func:`finish`, ``temporal="poly"``): a spectrum image's placement on the specimen
changes slowly between frames, while the per-frame offset along the layers is noise-limited (EDX: ~100
counts per pixel, the curtaining texture averaged over 4.8 nm pixels; predicted sd ~0.3 px). So the
per-frame offsets of each modality are fitted in frame index (weighted by ``1/rms²``) by a constant,
or a straight line if the constant does not fit, and replaced by the fit when the scatter about it
is consistent with ``rms_px`` (``χ²/dof ≤ max_chi2``); otherwise (the modality jumped between
frames) the per-frame values stay. ``rms_px`` then becomes the sd of the fitted value at the frame;
``affine_frame`` keeps the per-frame fits, ``pooled`` the order used (-1: not pooled).

The Cramér–Rao sd covers the noise only. What the contrast mismatch leaves (particles, the lattice
collapse and Cl migration change one modality's image and not the other's) is a per-frame error of
~0.1–0.3 px (measured on the simulated device: 4D-STEM per-frame errors up to 0.30 px where the
predicted sd was 0.04–0.09 px), so ``systematic_px`` (0.1 px per axis) is added in quadrature to
each frame's sd before pooling and to the reported ``rms_px``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage, optimize

from ...imaging import compose_affine, register_modalities
from ._common import finish_dataset, read_frame, read_lazy, upstream
from ._stream import pattern_totals

__all__ = ["DEFAULTS", "frame", "finish", "pool_offsets", "translation_precision", "modality_image",
           "refine_translation", "sampled_fixed"]

DEFAULTS = {"model": "translation", "modalities": ["eds", "4dstem"], "refine": True,
            "sampling": {"eds": "area", "4dstem": "point"}, "point_smooth_px": 1.0,
            "temporal": "poly", "max_chi2": 4.0, "systematic_px": 0.1}

MODALITIES = ("haadf", "eds", "4dstem")


def translation_precision(predicted: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Cramér–Rao sd (px of the images, (row, col)) of the shift between two images on one grid.

    ``observed ≈ a·predicted + b`` (least squares over finite pixels); the residual rms and the
    gradient energy of ``a·predicted`` give ``σ_k = σ_r / sqrt(Σ (∂_k a·predicted)²)``.
    """
    ok = np.isfinite(predicted) & np.isfinite(observed)
    if ok.sum() < 10:
        return np.array([np.nan, np.nan])
    design = np.column_stack([predicted[ok], np.ones(ok.sum())])
    (a, b), *_ = np.linalg.lstsq(design, observed[ok], rcond=None)
    resid = observed[ok] - (a * predicted[ok] + b)
    sigma = np.sqrt(np.mean(resid ** 2))
    filled = np.where(ok, predicted, np.nanmean(predicted[ok]))
    grads = np.gradient(a * filled)
    energy = np.array([np.sum(g[ok] ** 2) for g in grads])
    return sigma / np.sqrt(np.maximum(energy, np.finfo(float).tiny))


def _row_highpass(img: np.ndarray) -> np.ndarray:
    """Each row minus its mean over the finite pixels (rows without any stay NaN)."""
    ok = np.isfinite(img)
    n = ok.sum(axis=1, keepdims=True)
    mean = np.where(ok, img, 0.0).sum(axis=1, keepdims=True) / np.maximum(n, 1)
    return np.where(n > 0, img - mean, np.nan)


def sampled_fixed(fixed: np.ndarray, matrix, shape, *, sampling: str, smooth_px: float = 1.0) -> np.ndarray:
    """The fixed image as a modality of ``shape`` would record it through ``matrix`` (moving → fixed).

    ``"area"``: mean over each moving pixel's area (box of the pixel size); ``"point"``: value at the
    pixel centre after a Gaussian of ``smooth_px``.
    """
    m = np.asarray(matrix, float)
    if sampling == "area":
        size = max(1, int(round(float(np.linalg.norm(m[:, 0])))))
        img = ndimage.uniform_filter(np.asarray(fixed, float), size, mode="nearest")
        off = 0.5 if size % 2 == 0 else 0.0             # an even box is centred half a pixel up-left
    elif sampling == "point":
        img = ndimage.gaussian_filter(np.asarray(fixed, float), smooth_px) if smooth_px > 0 else fixed
        off = 0.0
    else:
        raise ValueError(f"sampling must be 'area' or 'point', got {sampling!r}")
    r, c = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    pos = [m[0, 0] * r + m[0, 1] * c + m[0, 2] + off, m[1, 0] * r + m[1, 1] * c + m[1, 2] + off]
    return ndimage.map_coordinates(img, pos, order=1, mode="constant", cval=np.nan)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return 0.0
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def refine_translation(fixed: np.ndarray, moving: np.ndarray, matrix, *, sampling: str,
                       smooth_px: float = 1.0, step_px: float = 0.5) -> np.ndarray:
    """Refine the offset of ``matrix`` (moving → fixed) on the row-high-passed images.

    Maximises ``|NCC|`` (contrast may be inverted) between the moving image and the fixed image
    sampled as the moving modality samples it (:func:`sampled_fixed`), both with each row's mean
    removed, by Nelder–Mead over the two offsets (start simplex ``step_px``).
    """
    m0 = np.asarray(matrix, float)
    obs = _row_highpass(np.asarray(moving, float))

    def cost(d):
        m = m0.copy()
        m[:, 2] += d
        return -abs(_ncc(_row_highpass(sampled_fixed(fixed, m, obs.shape, sampling=sampling,
                                                      smooth_px=smooth_px)), obs))

    simplex = [[0.0, 0.0], [step_px, 0.0], [0.0, step_px]]
    res = optimize.minimize(cost, np.zeros(2), method="Nelder-Mead",
                            options={"xatol": 1e-3, "fatol": 1e-10, "initial_simplex": simplex})
    out = m0.copy()
    out[:, 2] += res.x
    return out


def modality_image(ctx, modality: str, index: int) -> xr.DataArray:
    """The (y, x) image of a modality that is compared with HAADF (total counts)."""
    if modality == "4dstem":
        da = read_lazy(ctx, modality, index)
        plan = ctx.stream_plan(da)
        with ctx.compute_scope(plan.threads):
            total = pattern_totals(da, chunk_bytes=plan.chunk_bytes)
        return total.rename(scan_y="y", scan_x="x").assign_attrs(units="counts")
    da = read_frame(ctx, modality, index).astype(float)
    if modality == "eds":
        return da.sum("energy").assign_attrs(units="counts")
    return da


def _register(haadf_t: xr.DataArray, moving: xr.DataArray, drift_affine: np.ndarray, p, name):
    fit = register_modalities(haadf_t, moving, model=p["model"])
    matrix, ncc = fit.matrix, float(fit.ncc)
    sampling = dict(DEFAULTS["sampling"], **dict(p.get("sampling") or {})).get(name, "area")
    if p["refine"]:
        matrix = refine_translation(haadf_t.values, moving.values, matrix, sampling=sampling,
                                    smooth_px=float(p["point_smooth_px"]))
    pred = sampled_fixed(haadf_t.values, matrix, moving.shape, sampling=sampling,
                         smooth_px=float(p["point_smooth_px"]))
    if p["refine"]:
        pred, obs = _row_highpass(pred), _row_highpass(moving.values)
        ncc = abs(_ncc(pred, obs))
    else:
        obs = moving.values
    sd = translation_precision(pred, obs)                                  # modality px
    scale = np.linalg.norm(matrix[:, :2], axis=0)                          # grid px per modality px
    return compose_affine(matrix, drift_affine), float(np.hypot(*(sd * scale))), ncc


def frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """Affines of every modality of frame ``index`` onto the grid and their quality.

    Returns
    -------
    xarray.Dataset
        ``affine`` (modality, row, col): 2×3, modality pixel (row, col, 1) → grid pixel; ``rms_px``
        (modality; predicted sd of the registered position, grid px); ``ncc`` (modality);
        ``model`` (modality; ``"drift"`` for HAADF). Absent modalities are NaN.
    """
    drift = upstream(ctx, "drift")
    sy, sx = float(drift["shift_y_px"].values[index]), float(drift["shift_x_px"].values[index])
    to_grid = np.array([[1.0, 0.0, -sy], [0.0, 1.0, -sx]])
    haadf_t = read_frame(ctx, "haadf", index).astype(float)
    affine = np.full((len(MODALITIES), 2, 3), np.nan)
    rms = np.full(len(MODALITIES), np.nan)
    ncc = np.full(len(MODALITIES), np.nan)
    model = np.array(["drift", "", ""], dtype=object)
    affine[0] = to_grid
    ref = read_frame(ctx, "haadf", 0).astype(float).values
    pred = ndimage.shift(ref, (sy, sx), order=3, mode="nearest")
    rms[0] = float(np.hypot(*translation_precision(pred, haadf_t.values)))
    ncc[0] = float(drift["peak"].values[index]) if "peak" in drift else np.nan
    for k, name in enumerate(MODALITIES[1:], start=1):
        if name not in ctx.params["modalities"] or not ctx.has(name):
            continue
        affine[k], rms[k], ncc[k] = _register(haadf_t, modality_image(ctx, name, index), to_grid,
                                              ctx.params, name)
        model[k] = ctx.params["model"]
    out = xr.Dataset({"affine": (("modality", "row", "col"), affine, {"units": "px"}),
                      "rms_px": ("modality", rms, {"units": "px"}),
                      "ncc": ("modality", ncc, {"units": "1"}),
                      "model": ("modality", model.astype(str), {"units": "1"})},
                     coords={"modality": list(MODALITIES), "row": [0, 1], "col": [0, 1, 2]})
    out.attrs["convention"] = "[row_grid, col_grid] = affine @ [row, col, 1]; grid = frame-0 HAADF pixels"
    return finish_dataset(out, step="registration")


def pool_offsets(offsets: np.ndarray, sd: np.ndarray, *, max_chi2: float):
    """Weighted polynomial fit in frame index of per-frame offsets ``(n_frames, 2)`` (sds ``(n_frames,)``).

    The lowest order, constant then straight line, whose scatter is consistent with ``sd``
    (``χ²/dof ≤ max_chi2``) is kept. Returns ``(fitted (n_frames, 2), sd of the fitted value per axis
    (n_frames,), χ²/dof, order)`` (both axes share the weights), or ``None`` when there are fewer
    than 3 frames, an sd is not finite or neither order fits.
    """
    n = offsets.shape[0]
    if n < 3 or not (np.isfinite(sd).all() and np.isfinite(offsets).all()) or (sd <= 0).any():
        return None
    t = np.arange(n, dtype=float)
    for order in (0, 1):
        x = np.vander(t, order + 1, increasing=True)
        design = x / sd[:, None]
        coef, *_ = np.linalg.lstsq(design, offsets / sd[:, None], rcond=None)
        fit = x @ coef
        chi2 = float(np.sum(((offsets - fit) / sd[:, None]) ** 2) / (2 * (n - order - 1)))
        if chi2 <= max_chi2:
            cov = np.linalg.inv(design.T @ design)
            return fit, np.sqrt(np.einsum("ij,jk,ik->i", x, cov, x)), chi2, order
    return None


def finish(ctx, stacked: xr.Dataset) -> xr.Dataset:
    """Pool the per-frame offsets of each registered modality in time (see the module docstring)."""
    out = stacked.copy()
    out["affine_frame"] = stacked["affine"].copy()
    pooled = np.full(stacked.sizes["modality"], -1, dtype=np.int64)
    if ctx.params.get("temporal", "none") == "poly":
        aff, rms = out["affine"].values.copy(), out["rms_px"].values.copy()
        floor = float(ctx.params.get("systematic_px", 0.0))
        mods = list(stacked["modality"].values)
        for k, name in enumerate(mods):
            if name == "haadf" or not np.isfinite(aff[:, k]).all():
                continue
            # rms_px is both axes in quadrature: per-axis sd = rms / sqrt(2), plus the systematic floor
            sd = np.sqrt(rms[:, k] ** 2 / 2 + floor ** 2)
            rms[:, k] = sd * np.sqrt(2)
            res = pool_offsets(aff[:, k, :, 2], sd, max_chi2=float(ctx.params["max_chi2"]))
            if res is None:
                continue
            aff[:, k, :, 2] = res[0]
            rms[:, k] = res[1] * np.sqrt(2)
            pooled[k] = res[3]
        out["affine"].values[:] = aff
        out["rms_px"].values[:] = rms
    out["pooled"] = ("modality", pooled, {"units": "1"})
    return out
