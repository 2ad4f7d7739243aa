"""Batched multi-peak fits: several profiles on a polynomial baseline, with ties, over a series at once.

One model — ``k`` peaks (each Gaussian, Lorentzian, pseudo-Voigt or Voigt, :mod:`.lineshapes`) on a
polynomial baseline — is fitted to every spectrum of a batch ``(..., n)`` simultaneously by the
batched Levenberg–Marquardt of :func:`perovscope.spectroscopy.fitting.levenberg_marquardt`, with
analytic Jacobians. Constraints are linear ties between parameters (:class:`Tie`): a spin–orbit
doublet's separation (``centre₂ = centre₁ + Δ``) and area ratio (``area₂ = r·area₁``), equal widths,
or a parameter fixed at a value. Internally the full parameter vector is ``M·free + b``, so the fit,
its covariance and the standard errors of tied parameters (``M·C·Mᵀ``) follow from one linear map.

Start values come from the data: the baseline through the window's end channels, widths from the
half-maximum width of the mean spectrum at each start centre, areas from height × width.

References
----------
.. [1] D. W. Marquardt, "An algorithm for least-squares estimation of nonlinear parameters",
   J. Soc. Ind. Appl. Math. 11, 431 (1963).
.. [2] W. H. Press et al., Numerical Recipes, 3rd ed., CUP (2007), §15.5–15.6 (errors of fitted
   parameters; propagation through linear constraints).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import levenberg_marquardt
from ._checks import as_spectra, ascending, check_min_points
from .lineshapes import PARAMETERS, peak_height, profile_jac, voigt_fwhm

__all__ = ["Tie", "PeakFit", "fit_peaks", "peak_components", "find_start_centres"]


class Tie(NamedTuple):
    """``peaks[peak].parameter = ratio · peaks[to].parameter + offset``; ``to=None`` fixes it."""

    peak: int
    parameter: str
    to: int | None = None
    ratio: float = 1.0
    offset: float = 0.0


class PeakFit(NamedTuple):
    """Result of :func:`fit_peaks`; peak fields are ``(..., k)``, the rest ``(...)`` unless noted.

    ``params``/``std`` ``(..., P)`` hold every parameter in the order of ``names`` (peak parameters,
    then the baseline coefficients ``b0, b1, ...`` in the scaled abscissa ``t = (x − x_mid)/x_half``).
    ``share`` is each peak's fraction of the summed area; ``redchi`` the reduced χ² (with ``sigma``)
    or the residual variance; ``flag`` the fit flags of :mod:`perovscope.spectroscopy.fitting`.
    """

    shapes: tuple
    names: tuple
    params: np.ndarray
    std: np.ndarray
    area: np.ndarray
    area_std: np.ndarray
    centre: np.ndarray
    centre_std: np.ndarray
    fwhm: np.ndarray
    fwhm_std: np.ndarray
    height: np.ndarray
    share: np.ndarray
    share_std: np.ndarray
    redchi: np.ndarray
    flag: np.ndarray
    x_mid: float
    x_half: float


def _layout(shapes, order):
    names, slices, start = [], [], 0
    for k, shape in enumerate(shapes):
        pars = PARAMETERS[shape]
        names += [f"peak{k}.{p}" for p in pars]
        slices.append(slice(start, start + len(pars)))
        start += len(pars)
    names += [f"b{j}" for j in range(order + 1)]
    return tuple(names), slices


def _tie_map(names, ties):
    """``M (P, F)`` and ``b (P,)`` with ``full = free @ M.T + b``, and the free indices."""
    index = {n: i for i, n in enumerate(names)}
    tied = {}
    for tie in ties:
        key = f"peak{tie.peak}.{tie.parameter}"
        if key not in index:
            raise InputError(f"tie on {key!r}: no such parameter; parameters are {', '.join(names)}")
        if tie.to is not None and f"peak{tie.to}.{tie.parameter}" not in index:
            raise InputError(f"tie of {key!r} to peak {tie.to}: that peak has no {tie.parameter!r}")
        tied[index[key]] = tie
    free = [i for i in range(len(names)) if i not in tied]
    m = np.zeros((len(names), len(free)))
    b = np.zeros(len(names))
    m[free, np.arange(len(free))] = 1.0
    resolved = set(free)
    while len(resolved) < len(names):
        progress = False
        for i, tie in tied.items():
            if i in resolved:
                continue
            j = None if tie.to is None else index[f"peak{tie.to}.{tie.parameter}"]
            if j is None or j in resolved:
                m[i] = 0.0 if j is None else tie.ratio * m[j]
                b[i] = tie.offset + (0.0 if j is None else tie.ratio * b[j])
                resolved.add(i)
                progress = True
        if not progress:
            raise InputError("the ties form a cycle; tie every parameter to a free one")
    return m, b, np.array(free, dtype=int)


def find_start_centres(y, x, n_peaks: int) -> np.ndarray:
    """The ``n_peaks`` most prominent maxima of the mean spectrum, in increasing ``x``."""
    from scipy.signal import find_peaks

    mean = np.nanmean(np.asarray(y, dtype=float).reshape(-1, len(x)), axis=0)
    idx, props = find_peaks(mean, prominence=0)
    if idx.size < n_peaks:
        raise InputError(f"only {idx.size} maxima found for {n_peaks} peaks; give start centres")
    best = idx[np.argsort(props["prominences"])[::-1][:n_peaks]]
    return np.sort(x[best])


def _start_widths(y, x, centres):
    """Twice the smaller half-width at half maximum of the mean spectrum around each start centre."""
    mean = np.nanmean(y.reshape(-1, len(x)), axis=0)
    mean = mean - np.nanmin(mean)
    dx = float(np.median(np.diff(x)))
    idx = np.clip(np.searchsorted(x, np.nanmean(centres.reshape(-1, centres.shape[-1]), axis=0)), 0,
                  len(x) - 1)
    widths = np.empty(idx.size)
    chan = np.arange(len(x))
    for k, i in enumerate(idx):  # a loop over peaks, not spectra
        below = mean < 0.5 * mean[i]
        left = chan[:i][below[:i]]
        right = chan[i:][below[i:]]
        half = [i - left[-1] if left.size else np.inf, right[0] - i if right.size else np.inf]
        widths[k] = 2.0 * min(half) * dx
    widths = np.where(np.isfinite(widths), widths, 5 * dx)
    return np.clip(widths, 3 * dx, 0.5 * (x[-1] - x[0]))


def _start(y, x, t, shapes, centres, fwhm, order, layout):
    lead = y.shape[:-1]
    n_edge = max(order + 1, len(x) // 20, 1)
    edge = np.r_[0:n_edge, len(x) - n_edge:len(x)]
    if order >= 0:
        design = t[edge, None] ** np.arange(order + 1)
        base = np.linalg.lstsq(design, y[..., edge].reshape(-1, edge.size).T, rcond=None)[0].T
        base = base.reshape(lead + (order + 1,))
    else:
        base = np.zeros(lead + (0,))
    centres = np.broadcast_to(centres, lead + (len(shapes),))
    fwhm = np.broadcast_to(fwhm, (len(shapes),))
    idx = np.clip(np.searchsorted(x, centres), 0, len(x) - 1)
    bline = np.sum(base[..., None, :] * t[idx][..., None] ** np.arange(order + 1), axis=-1)
    height = np.maximum(np.take_along_axis(y, idx, axis=-1) - bline, 1e-12 * np.nanmax(np.abs(y)) + 1e-30)
    p0 = np.zeros(lead + (len(layout[0]),))
    for k, shape in enumerate(shapes):
        sl = layout[1][k]
        w = fwhm[k]
        p0[..., sl.start + 1] = centres[..., k]
        if shape == "voigt":
            p0[..., sl.start] = height[..., k] * w * 1.2
            p0[..., sl.start + 2] = w / 3.6
            p0[..., sl.start + 3] = w / 4.0
        else:
            p0[..., sl.start] = height[..., k] * w * (1.0645 if shape == "gaussian" else 1.3)
            p0[..., sl.start + 2] = w
            if shape == "pseudo_voigt":
                p0[..., sl.start + 3] = 0.5
    if order >= 0:
        p0[..., -(order + 1):] = base
    return p0


def _bounds(shapes, x, centres, centre_range, order, names):
    dx = float(np.min(np.abs(np.diff(x))))
    span = float(x[-1] - x[0])
    lo, hi = [], []
    shared = np.ndim(centres) == 1
    for k, shape in enumerate(shapes):
        c_lo = centres[k] - centre_range if shared and centre_range is not None else x[0]
        c_hi = centres[k] + centre_range if shared and centre_range is not None else x[-1]
        for par in PARAMETERS[shape]:
            lo.append({"area": 0.0, "centre": c_lo, "eta": 0.0}.get(par, dx / 4))
            hi.append({"area": np.inf, "centre": c_hi, "eta": 1.0}.get(par, span))
    lo += [-np.inf] * (order + 1)
    hi += [np.inf] * (order + 1)
    return np.array(lo), np.array(hi)


def fit_peaks(spectra, x, *, centres=None, n_peaks: int | None = None, shape="gaussian", fwhm=None,
              baseline_order: int = 1, ties=(), centre_range: float | None = None, sigma=None,
              poisson: bool = False, max_iter: int = 200) -> PeakFit:
    """Fit ``k`` peaks on a polynomial baseline to every spectrum of a batch at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        One spectrum or a batch (series, map) sharing the axis ``x``.
    x : array_like (n,)
        Strictly monotonic abscissa (either direction; a decreasing one is flipped).
    centres : array_like (k,) or (..., k), optional
        Start centres (per spectrum or shared); default: the ``n_peaks`` most prominent maxima.
    n_peaks : int, optional
        Number of peaks when ``centres`` is not given.
    shape : str or sequence of str
        ``"gaussian"``, ``"lorentzian"``, ``"pseudo_voigt"`` or ``"voigt"``, one for all or one per peak.
    fwhm : float or array_like (k,), optional
        Start widths; default from the half-maximum widths of the mean spectrum.
    baseline_order : int
        Degree of the polynomial baseline (0 = constant); ``-1`` for none.
    ties : sequence of Tie
        Linear constraints between parameters, or fixed values.
    centre_range : float, optional
        Keep each centre within ± this of its (shared) start value.
    sigma : array_like (..., n), optional
        Standard deviations of the data (weighted fit, absolute errors).
    poisson : bool
        Maximum-likelihood fit of counts (Poisson deviance).
    max_iter : int
        Iteration limit of Levenberg–Marquardt.

    Returns
    -------
    PeakFit
    """
    xa, y = ascending(x, spectra, name="x", min_points=3)
    y = as_spectra(y, xa.size)
    if centres is None:
        if n_peaks is None:
            raise InputError("fit_peaks: give start `centres` or the number of peaks `n_peaks`")
        centres = find_start_centres(y, xa, n_peaks)
    centres = np.asarray(centres, dtype=float)
    k = centres.shape[-1] if centres.ndim else 1
    centres = centres.reshape(centres.shape if centres.ndim else (1,))
    shapes = (shape,) * k if isinstance(shape, str) else tuple(shape)
    if len(shapes) != k:
        raise InputError(f"fit_peaks: {len(shapes)} shapes given for {k} peaks")
    for shp in shapes:
        if shp not in PARAMETERS:
            raise InputError(f"fit_peaks: unknown peak shape {shp!r}; choose one of {', '.join(PARAMETERS)}")
    order = int(baseline_order)
    names, slices = _layout(shapes, order)
    m, b, free = _tie_map(names, ties)
    check_min_points(xa.size, free.size + 1, what=f"a fit of {free.size} free parameters")
    x_mid, x_half = 0.5 * (xa[0] + xa[-1]), 0.5 * (xa[-1] - xa[0])
    t = (xa - x_mid) / x_half
    fw = _start_widths(y, xa, centres) if fwhm is None else np.broadcast_to(np.asarray(fwhm, float), (k,))
    p0 = _start(y, xa, t, shapes, centres, fw, order, (names, slices))
    lo, hi = _bounds(shapes, xa, centres, centre_range, order, names)
    powers = t[None, :] ** np.arange(order + 1)[:, None]  # (order+1, n)

    def full_of(pf):
        return pf @ m.T + b

    def model_jac(pf, want_jac):
        p = full_of(pf)
        value = p[:, -(order + 1):] @ powers if order >= 0 else np.zeros((p.shape[0], xa.size))
        jac = np.empty((p.shape[0], xa.size, len(names))) if want_jac else None
        for kk, shp in enumerate(shapes):
            sl = slices[kk]
            pars = [p[:, j, None] for j in range(sl.start, sl.stop)]
            val, ders = profile_jac(shp, xa[None, :], *pars)
            value = value + val
            if want_jac:
                for j, d in zip(range(sl.start, sl.stop), ders, strict=True):
                    jac[:, :, j] = d
        if want_jac:
            jac[:, :, len(names) - order - 1:] = powers.T[None]
            return value, jac @ m
        return value

    res = levenberg_marquardt(lambda pf: model_jac(pf, False), lambda pf: model_jac(pf, True)[1], y,
                              p0[..., free], lower=lo[free], upper=hi[free], sigma=sigma, poisson=poisson,
                              max_iter=max_iter)
    return _assemble(res, m, b, names, slices, shapes, order, y, xa.size, free.size, sigma, poisson,
                     x_mid, x_half)


def _assemble(res, m, b, names, slices, shapes, order, y, n, n_free, sigma, poisson, x_mid, x_half):
    params = res.params @ m.T + b
    cov = m @ res.cov @ m.T  # (..., P, P)
    std = np.sqrt(np.maximum(np.einsum("...ii->...i", cov), 0.0))
    std = np.where(np.isfinite(params), std, np.nan)
    a_idx = np.array([s.start for s in slices])
    area, area_std = params[..., a_idx], std[..., a_idx]
    centre, centre_std = params[..., a_idx + 1], std[..., a_idx + 1]
    fwhm = np.empty_like(area)
    fwhm_std = np.empty_like(area)
    height = np.empty_like(area)
    for kk, shp in enumerate(shapes):
        sl = slices[kk]
        pars = [params[..., j] for j in range(sl.start, sl.stop)]
        height[..., kk] = peak_height(shp, *pars)
        if shp == "voigt":
            fwhm[..., kk] = voigt_fwhm(pars[2], pars[3])
            fwhm_std[..., kk] = np.nan
        else:
            fwhm[..., kk], fwhm_std[..., kk] = pars[2], std[..., sl.start + 2]
    total = np.sum(area, axis=-1, keepdims=True)
    share = area / np.where(total > 0, total, np.nan)
    # error of a share from the full covariance of the areas: J = (δ_ij − s_i)/A
    cov_a = cov[..., a_idx[:, None], a_idx[None, :]]
    eye = np.eye(len(shapes))
    jac = (eye - share[..., :, None]) / np.where(total > 0, total, np.nan)[..., None]
    share_var = np.einsum("...ij,...jl,...il->...i", jac, cov_a, jac)
    dof = max(n - n_free, 1)
    return PeakFit(tuple(shapes), names, params, std, area, area_std, centre, centre_std, fwhm, fwhm_std,
                   height, share, np.sqrt(np.maximum(share_var, 0.0)), res.cost / dof, res.flag,
                   float(x_mid), float(x_half))


def peak_components(fit: PeakFit, x):
    """Each fitted peak and the baseline on the axis ``x``: ``(peaks (..., k, n), baseline (..., n))``."""
    x = np.asarray(x, dtype=float)
    order = sum(1 for nm in fit.names if not nm.startswith("peak")) - 1
    t = (x - fit.x_mid) / fit.x_half
    p = fit.params
    baseline = (p[..., -(order + 1):] @ (t[None, :] ** np.arange(order + 1)[:, None])) if order >= 0 \
        else np.zeros(p.shape[:-1] + x.shape)
    peaks, start = [], 0
    for shp in fit.shapes:
        npar = len(PARAMETERS[shp])
        pars = [p[..., j, None] for j in range(start, start + npar)]
        peaks.append(profile_jac(shp, x, *pars)[0])
        start += npar
    return np.stack(peaks, axis=-2), baseline
