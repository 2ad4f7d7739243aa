"""Porod's law and its deviations, the Porod plot and the scattering invariant of SAXS curves.

Inputs as in :mod:`perovscope.bulk.saxs`: a shared ``q`` ``(n,)`` and curves ``(..., n)``; a series goes
through in one vectorised pass (closed-form weighted normal equations for the sharp model, one batched
Levenberg–Marquardt fit for Ruland's).

* :func:`porod_fit`: ``I = K q⁻⁴ + B`` (sharp interface) or Ruland's ``I = K q⁻⁴ exp(−σ²q²) + B``
  (a sigmoidal — Gaussian-smoothed — interface profile of width σ) over the Porod range, and the
  power-law exponent. ``σ² < 0`` in the Ruland form is a *positive* deviation from Porod's law
  (electron-density fluctuations inside the phases, a diffuse layer of intermediate density).
* :func:`porod_plot`: ``q⁴I(q)`` and the relative deviation ``q⁴(I − B)/K − 1`` against q.
* :func:`invariant`: ``Q* = ∫ q² I dq`` over the data plus the Guinier (q < q_min) and Porod
  (``K/q_max``) extrapolations, and ``πK/Q*`` (the specific surface ``S/V`` divided by ``φ(1 − φ)``).

References
----------
.. [1] G. Porod, "Die Röntgenkleinwinkelstreuung von dichtgepackten kolloiden Systemen I",
   Kolloid-Z. 124, 83–114 (1951).
.. [2] W. Ruland, "Small-angle scattering of two-phase systems: determination and significance of
   systematic deviations from Porod's law", J. Appl. Cryst. 4, 70–73 (1971).
.. [3] J. T. Koberstein, B. Morra and R. S. Stein, "The determination of diffuse-boundary thicknesses
   of polymers by small-angle X-ray scattering", J. Appl. Cryst. 13, 34–45 (1980).
.. [4] O. Glatter and O. Kratky (eds.), *Small Angle X-ray Scattering*, Academic Press (1982), ch. 2.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import check_min_points
from .saxs import prepare_curves, q_window, weighted_line

__all__ = ["PorodFit", "porod_fit", "porod_plot", "Invariant", "invariant"]


class PorodFit(NamedTuple):
    """Result of :func:`porod_fit` (fields ``(...)``).

    ``sigma2`` is Ruland's σ² (0 for the sharp model): > 0 a graded interface of width
    ``interface_width = √σ²`` (a negative deviation of q⁴I), < 0 a positive deviation (density
    fluctuations, a diffuse layer of different density). ``exponent`` is the slope α of
    ``I − B ∝ q^−α`` (4 for a sharp interface); ``deviation`` the relative change of ``q⁴(I − B)``
    across the range, ``exp(−σ²(q_max² − q_min²)) − 1``.
    """

    porod_constant: np.ndarray
    porod_constant_std: np.ndarray
    background: np.ndarray
    background_std: np.ndarray
    sigma2: np.ndarray
    sigma2_std: np.ndarray
    interface_width: np.ndarray
    exponent: np.ndarray
    exponent_std: np.ndarray
    deviation: np.ndarray
    reduced_chi2: np.ndarray
    q_min: float
    q_max: float


def _porod_range(q, q_range):
    if q_range is None:  # default: the upper half of the measured q span
        q_range = (0.5 * q[-1], None)
    return q_window(q, q_range[0], q_range[1], "Porod")


def porod_fit(intensity, q, *, sigma=None, q_range=None, model: str = "ruland", background: bool = True,
              max_iter: int = 60, source: str | None = None) -> PorodFit:
    """Porod constant, flat background and interface width from the high-q end of the curves.

    Parameters
    ----------
    intensity : array_like (..., n)
        Scattering curves.
    q : array_like (n,)
        Scattering vector.
    sigma : array_like (..., n), optional
        Standard deviations (weights ``1/σ²``); otherwise equal weights.
    q_range : (float or None, float or None), optional
        The Porod range (default: ``q ≥ q_max/2`` of the data).
    model : {"ruland", "sharp"}
        ``"sharp"``: ``I = K q⁻⁴ + B``; ``"ruland"``: ``I = K q⁻⁴ exp(−σ²q²) + B``.
    background : bool
        Fit the flat background ``B`` (otherwise ``B = 0``).
    max_iter : int
        Levenberg–Marquardt iterations of the Ruland fit.
    source : str, optional
        File name for error messages.

    Returns
    -------
    PorodFit

    References
    ----------
    Porod (1951); Ruland (1971); Koberstein, Morra & Stein, J. Appl. Cryst. 13, 34–45 (1980).
    """
    from ..spectroscopy.fitting import levenberg_marquardt

    if model not in ("ruland", "sharp"):
        raise InputError(f"model must be 'ruland' or 'sharp', got {model!r}")
    qq, y, s = prepare_curves(q, intensity, sigma, source=source)
    m = _porod_range(qq, q_range)
    npar = 1 + int(background) + int(model == "ruland")
    check_min_points(int(m.sum()), npar + 2, what=f"a {model} Porod fit", source=source)
    qw, yw = qq[m], y[..., m]
    sw = None if s is None else s[..., m]
    lead = yw.shape[:-1]
    yf = yw.reshape(-1, qw.size)
    sf = None if sw is None else sw.reshape(yf.shape)
    u = qw ** -4.0
    # sharp model: linear in (K, B) — closed-form weighted normal equations for every curve
    w = np.ones_like(yf) if sf is None else 1.0 / np.where(sf > 0, sf * sf, np.inf)
    cols = [np.broadcast_to(u, yf.shape)] + ([np.ones_like(yf)] if background else [])
    design = np.stack(cols, axis=-1)
    gram = np.einsum("inp,in,inr->ipr", design, w, design)
    rhs = np.einsum("inp,in,in->ip", design, w, yf)
    lin = np.linalg.solve(gram + 1e-300, rhs[..., None])[..., 0]
    k0 = lin[:, 0]
    b0 = lin[:, 1] if background else np.zeros(yf.shape[0])
    if model == "sharp":
        p = lin
        res = yf - np.einsum("inp,ip->in", design, p)
        chi2 = (w * res * res).sum(-1)
        cov = np.linalg.inv(gram)
        s2 = s2s = np.zeros(yf.shape[0])
    else:
        # start (K, σ²) from the line ln(q⁴(I − B)) = ln K − σ²q²; the fit runs on curves scaled
        # by |K_sharp| so that every parameter is O(1)
        z = (yf - b0[:, None]) / u
        ok = z > 0
        lz = np.log(np.where(ok, z, 1.0))
        qsq = qw * qw
        icpt, slope, *_ = weighted_line(np.broadcast_to(qsq, yf.shape), lz, ok.astype(float))
        scale_k = np.where(np.isfinite(k0) & (np.abs(k0) > 0), np.abs(k0), 1.0)
        good = np.isfinite(slope) & np.isfinite(icpt)
        s2_0 = np.where(good, -slope, 0.0)
        kk0 = np.where(good, np.exp(icpt) / scale_k, k0 / scale_k)

        def model_fn(p):
            out = p[:, :1] * u * np.exp(-p[:, 1:2] * qsq)
            return out + p[:, 2:3] if background else out

        def jac_fn(p):
            e = u * np.exp(-p[:, 1:2] * qsq)
            cols = [e, -p[:, :1] * e * qsq] + ([np.ones_like(e)] if background else [])
            return np.stack(cols, axis=-1)

        p0 = np.stack([kk0, s2_0] + ([b0 / scale_k] if background else []), axis=-1)
        fit = levenberg_marquardt(model_fn, jac_fn, yf / scale_k[:, None], p0,
                                  sigma=None if sf is None else sf / scale_k[:, None], max_iter=max_iter)
        res = yf / scale_k[:, None] - model_fn(fit.params)
        chi2 = ((w * scale_k[:, None] ** 2) * res * res).sum(-1)
        unit = np.ones((yf.shape[0], npar))
        unit[:, 0] = scale_k
        if background:
            unit[:, 2] = scale_k
        pr = fit.params * unit
        cov = fit.cov * unit[:, :, None] * unit[:, None, :]
        if sf is None:  # LM gave sandwich errors from the residuals already: undo the later scaling
            cov = cov / np.maximum(chi2 / max(qw.size - npar, 1), 1e-300)[:, None, None]
        s2 = pr[:, 1]
        s2s = np.sqrt(np.maximum(cov[:, 1, 1], 0.0))
        keep = [0] + ([2] if background else [])
        p = pr[:, keep]
        cov = cov[:, keep][:, :, keep]
    dof = max(qw.size - npar, 1)
    red = chi2 / dof
    if sf is None:  # no σ: errors from the residual scatter
        cov = cov * red[:, None, None]
    kstd = np.sqrt(np.maximum(cov[:, 0, 0], 0.0))
    bb = p[:, 1] if background else np.zeros(yf.shape[0])
    bstd = np.sqrt(np.maximum(cov[:, 1, 1], 0.0)) if background else np.zeros(yf.shape[0])
    # power-law exponent of I − B over the range
    net = yf - bb[:, None]
    ok = net > 0
    lnet = np.log(np.where(ok, net, 1.0))
    wl = ok * (1.0 if sf is None else (net / np.where(sf > 0, sf, np.inf)) ** 2)
    _, slope, _, vslope, _, chi2l, nl = weighted_line(np.broadcast_to(np.log(qw), yf.shape), lnet, wl)
    vslope = vslope * (chi2l / np.maximum(nl - 2, 1) if sf is None else 1.0)
    dev = np.exp(-s2 * (qw[-1] ** 2 - qw[0] ** 2)) - 1.0
    width = np.where(s2 > 0, np.sqrt(np.abs(s2)), np.nan)

    def shaped(a):
        return np.asarray(a, dtype=float).reshape(lead)

    return PorodFit(shaped(p[:, 0]), shaped(kstd), shaped(bb), shaped(bstd), shaped(s2), shaped(s2s),
                    shaped(width), shaped(-slope), shaped(np.sqrt(vslope)), shaped(dev), shaped(red),
                    float(qw[0]), float(qw[-1]))


def porod_plot(intensity, q, *, porod_constant=None, background=None):
    """``q⁴I(q)`` and the relative deviation from Porod's law against q.

    Parameters
    ----------
    intensity : array_like (..., n)
    q : array_like (n,)
    porod_constant, background : array_like (...), optional
        From :func:`porod_fit`; the deviation ``q⁴(I − B)/K − 1`` is NaN without ``K``.

    Returns
    -------
    (q4i, deviation) : ndarray (..., n) each
        ``q⁴ I`` (background not subtracted, as Porod plots are drawn) and the deviation.
    """
    qq, y, _ = prepare_curves(q, intensity)
    q4 = qq ** 4
    q4i = y * q4
    if porod_constant is None:
        return q4i, np.full_like(q4i, np.nan)
    k = np.asarray(porod_constant, dtype=float)[..., None]
    b = 0.0 if background is None else np.asarray(background, dtype=float)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return q4i, (y - b) * q4 / k - 1.0


class Invariant(NamedTuple):
    """Result of :func:`invariant` (fields ``(...)``): ``total = measured + low_q + high_q``."""

    total: np.ndarray
    measured: np.ndarray
    low_q: np.ndarray
    high_q: np.ndarray
    surface_to_invariant: np.ndarray


def invariant(intensity, q, *, rg=None, i0=None, porod_constant=None, background=None) -> Invariant:
    """The scattering invariant ``Q* = ∫₀^∞ q² I(q) dq`` with low- and high-q extrapolations.

    The measured part is the trapezoidal integral of ``q²(I − B)``; below ``q_min`` the Guinier law
    ``I₀ exp(−q²Rg²/3)`` is integrated exactly (error functions); above ``q_max`` the Porod tail
    gives ``K/q_max``. For a two-phase system ``Q* = 2π² Δρ² φ(1 − φ)``; ``πK/Q* = (S/V)/(φ(1 − φ))``.

    Parameters
    ----------
    intensity : array_like (..., n)
    q : array_like (n,)
    rg, i0 : array_like (...), optional
        Guinier parameters for the low-q extrapolation (omitted when not given).
    porod_constant, background : array_like (...), optional
        Porod constant for the high-q tail and the flat background to subtract.

    Returns
    -------
    Invariant
    """
    from scipy.special import erf

    qq, y, _ = prepare_curves(q, intensity)
    b = 0.0 if background is None else np.asarray(background, dtype=float)[..., None]
    net = y - b
    integrand = np.where(np.isfinite(net), qq * qq * net, 0.0)
    measured = np.sum(0.5 * (integrand[..., 1:] + integrand[..., :-1]) * np.diff(qq), axis=-1)
    low = np.zeros(measured.shape)
    if rg is not None and i0 is not None:
        rg_a = np.asarray(rg, dtype=float)
        a = rg_a / np.sqrt(3.0)
        q0 = qq[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            # ∫_0^q0 q² exp(−a²q²) dq = √π erf(a q0)/(4a³) − q0 exp(−a²q0²)/(2a²)
            low = np.asarray(i0, dtype=float) * (np.sqrt(np.pi) * erf(a * q0) / (4 * a ** 3)
                                                  - q0 * np.exp(-(a * q0) ** 2) / (2 * a * a))
        low = np.where(np.isfinite(low), low, 0.0)
    high = np.zeros(measured.shape)
    if porod_constant is not None:
        high = np.asarray(porod_constant, dtype=float) / qq[-1] + np.zeros(measured.shape)
    total = measured + low + high
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.pi * (np.asarray(porod_constant, dtype=float) if porod_constant is not None
                         else np.nan) / total
    return Invariant(total, measured, low, high, ratio + np.zeros(measured.shape))
