"""EXAFS: the background spline (AUTOBK), χ(k), its Fourier transform |χ(R)| and the first-shell peak.

Spectra ``(..., n)`` share an energy axis; after the edge each is put on one common photoelectron
wavenumber grid ``k = √((E − E₀)/(ħ²/2mₑ))`` (0.05 Å⁻¹ steps from k = 0), so every later step is a
matrix product over the whole batch.

**Background** (the AUTOBK idea of Newville et al. 1993): the atomic absorption μ₀(k) is a cubic
B-spline over [kmin, kmax] with ``1 + ⌊2 R_bkg (kmax − kmin)/π⌋`` coefficients — one per π/(2 R_bkg),
too few to follow any structure beyond ``R_bkg`` in χ(R) — whose coefficients minimise the part of
the Fourier transform of ``χ(k) kʷ`` below ``R_bkg`` (real and imaginary parts), plus a small penalty
("clamp") on χ at the ends of the range. Because χ = (μ − μ₀)/Δμ₀ is linear in the coefficients this
is a linear least-squares problem whose operator is shared by all spectra: one pseudo-inverse, one
matrix product for the batch.

**Fourier transform**: ``χ̃(R) = δk/√π Σ χ(kₙ) kₙʷ W(kₙ) e^{2ikₙR}`` with a Hanning-tapered window W,
zero-padded to 2048 points (δR ≈ 0.031 Å), as in IFEFFIT/Larch. Peaks of |χ(R)| sit below the real
distances by the scattering phase shift (≈ 0.3–0.5 Å).

References
----------
.. [1] M. Newville, P. Līviņš, Y. Yacoby, J. J. Rehr and E. A. Stern, "Near-edge x-ray-absorption
   fine structure of Pb: a comparison of theory and experiment", Phys. Rev. B 47, 14126 (1993)
   — the AUTOBK background.
.. [2] M. Newville, "IFEFFIT: interactive XAFS analysis and FEFF fitting", J. Synchrotron Rad. 8,
   322 (2001).
.. [3] D. C. Koningsberger and R. Prins (eds.), X-ray Absorption, Wiley (1988), ch. 6 (EXAFS
   equation and Fourier analysis).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .xas import _prepare

__all__ = ["KTOE", "energy_to_k", "hanning_window", "Background", "autobk", "ChiR", "xftf",
           "first_shell_peak"]

#: ħ²/(2 mₑ) in eV Å² (CODATA 2018): E − E₀ = KTOE · k².
KTOE = 3.8099821161548593


def energy_to_k(energy_minus_e0) -> np.ndarray:
    """Photoelectron wavenumber k (Å⁻¹) for energies above the edge (0 below)."""
    return np.sqrt(np.clip(np.asarray(energy_minus_e0, dtype=float), 0.0, None) / KTOE)


def _interp_shared(x, y, xq):
    """Linear interpolation of ``y (..., n)`` on the shared increasing ``x (n,)`` at ``xq (..., m)``."""
    n = x.size
    i = np.clip(np.searchsorted(x, xq), 1, n - 1)
    x0, x1 = x[i - 1], x[i]
    t = np.clip((xq - x0) / (x1 - x0), 0.0, 1.0)
    lead = np.broadcast_shapes(y.shape[:-1], xq.shape[:-1])
    yy = np.broadcast_to(y, lead + y.shape[-1:])
    ii = np.broadcast_to(i, lead + i.shape[-1:])
    return (np.take_along_axis(yy, ii - 1, axis=-1) * (1 - t) + np.take_along_axis(yy, ii, axis=-1) * t)


def hanning_window(k, kmin: float, kmax: float, dk: float) -> np.ndarray:
    """Window that is 1 on [kmin + dk/2, kmax − dk/2], 0 outside [kmin − dk/2, kmax + dk/2], with
    sin² tapers of width ``dk`` centred on ``kmin`` and ``kmax`` (IFEFFIT's "hanning")."""
    k = np.asarray(k, dtype=float)
    if dk <= 0:
        return ((k >= kmin) & (k <= kmax)).astype(float)
    up = np.clip((k - kmin + dk / 2) / dk, 0.0, 1.0)
    down = np.clip((kmax + dk / 2 - k) / dk, 0.0, 1.0)
    return np.sin(np.pi / 2 * up) ** 2 * np.sin(np.pi / 2 * down) ** 2


def _ft_matrix(k, r, weight):
    """Rows ``δk/√π · weight(kₙ) · e^{2ikₙR_j}`` for each R_j: (len(r), len(k)) complex."""
    dk = k[1] - k[0]
    return dk / np.sqrt(np.pi) * weight[None, :] * np.exp(2j * np.outer(r, k))


class Background(NamedTuple):
    """Result of :func:`autobk`.

    ``k`` (nk,) the common grid; ``chi``, ``mu_k``, ``bkg_k`` (..., nk) on it (χ is 0 outside
    [kmin, kmax]); ``bkg`` (..., n) μ₀ on the energy axis (NaN below E₀); ``energy`` (n,) that
    axis; ``n_spline``: the number of spline coefficients; ``kmax``: the upper end used.
    """

    k: np.ndarray
    chi: np.ndarray
    mu_k: np.ndarray
    bkg_k: np.ndarray
    bkg: np.ndarray
    energy: np.ndarray
    n_spline: int
    kmax: float


def autobk(energy, mu, *, e0, edge_step, rbkg: float = 1.0, kweight: float = 1.0, kmin: float = 0.0,
           kmax: float | None = None, kstep: float = 0.05, dk: float = 0.1, nfft: int = 2048,
           clamp_lo: float = 0.0, clamp_hi: float = 1.0, nclamp: int = 3, units: str | None = None
           ) -> Background:
    """Spline background μ₀ and EXAFS χ(k) = (μ − μ₀)/Δμ₀ of every spectrum (AUTOBK).

    Parameters
    ----------
    energy : array_like (n,)
        Photon energy (eV), either direction.
    mu : array_like (..., n)
        Absorption spectra.
    e0, edge_step : float or array_like (...)
        Edge energies and edge steps (from :func:`perovscope.bulk.xas.normalize`).
    rbkg : float
        Distance (Å) below which χ(R) is minimised; about half the first-shell distance.
    kweight : float
        k-weight of χ in the minimised transform.
    kmin, kmax : float
        Spline range in k (Å⁻¹); ``kmax`` defaults to the end of the shortest scan.
    kstep : float
        Spacing of the k grid (Å⁻¹).
    dk : float
        Taper width of the background's Fourier window.
    nfft : int
        Length of the zero-padded transform (sets the R grid, π/(nfft δk)).
    clamp_lo, clamp_hi : float
        Weights of the penalty on χ kʷ at the first and last ``nclamp`` points of the range.
    units : str, optional
        Units of ``energy``; a wavelength raises :class:`InputError`.

    Returns
    -------
    Background

    References
    ----------
    Newville et al. (1993); Newville (2001).
    """
    from scipy.interpolate import BSpline

    e, y = _prepare(energy, mu, units=units)
    lead = y.shape[:-1]
    e0 = np.broadcast_to(np.asarray(e0, dtype=float), lead)
    step = np.broadcast_to(np.asarray(edge_step, dtype=float), lead)
    if not np.all(np.isfinite(e0) & (e0 > e[0]) & (e0 < e[-1])):
        raise InputError("e0 must be finite and inside the scan for every spectrum")
    if not np.all(np.isfinite(step) & (step > 0)):
        raise InputError("edge_step must be positive for every spectrum (normalise first; drop spectra "
                         "without an edge)")
    if not rbkg > 0 or not kstep > 0 or nfft < 256:
        raise InputError(f"rbkg = {rbkg!r} and kstep = {kstep!r} must be positive and nfft ≥ 256")
    k_end = float(np.min(energy_to_k(e[-1] - e0)))
    kmax = k_end if kmax is None else min(float(kmax), k_end)
    if not kmax - kmin > 2 * np.pi / (2 * rbkg):
        raise InputError(f"the k range {kmin:g}–{kmax:.3g} Å⁻¹ is too short for a background with rbkg = "
                         f"{rbkg:g} Å; the scan must extend further above the edge")
    k = np.arange(0.0, kmax + 0.5 * kstep, kstep)
    if k.size * kstep * 2 > nfft * kstep:
        raise InputError(f"nfft = {nfft} is too small for {k.size} k points; use at least {4 * k.size}")
    mu_k = _interp_shared(e, y, e0[..., None] + KTOE * k**2)
    in_range = (k >= kmin) & (k <= kmax)
    ks = k[in_range]
    n_spline = max(4, 1 + int(2 * rbkg * (kmax - kmin) / np.pi))
    knots = np.concatenate([[ks[0]] * 3, np.linspace(ks[0], ks[-1], n_spline - 2), [ks[-1]] * 3])
    basis = BSpline.design_matrix(ks, knots, 3).toarray()  # (nk_range, n_spline)
    r = np.arange(nfft // 2) * np.pi / (nfft * kstep)
    r_low = r[r < rbkg]
    weight = ks**kweight * hanning_window(ks, kmin, kmax, dk)
    ft = _ft_matrix(ks, r_low, weight)
    rows = [ft.real, ft.imag]
    scale = kstep / np.sqrt(np.pi) * np.sqrt(ks.size)
    nc = min(nclamp, ks.size // 4)
    for weight_c, idx in ((clamp_lo, np.arange(nc)), (clamp_hi, np.arange(ks.size - nc, ks.size))):
        if weight_c > 0:
            c = np.zeros((nc, ks.size))
            c[np.arange(nc), idx] = weight_c * scale * np.maximum(ks[idx], kstep) ** kweight
            rows.append(c)
    g = np.concatenate(rows, axis=0)  # (rows, nk_range): the residual operator on μ − μ₀
    project = np.linalg.pinv(g @ basis, rcond=1e-10) @ g  # (n_spline, nk_range), shared by the batch
    coefs = mu_k[..., in_range] @ project.T
    bkg_range = coefs @ basis.T
    bkg_k = mu_k.copy()
    bkg_k[..., in_range] = bkg_range
    chi = np.where(in_range, (mu_k - bkg_k) / step[..., None], 0.0)
    k_of_e = energy_to_k(e - e0[..., None])
    above = (e >= e0[..., None] + KTOE * kmin**2) & (k_of_e <= kmax)
    bkg = np.where(above, _interp_shared(k, bkg_k, k_of_e), np.nan)
    return Background(k, chi, mu_k, bkg_k, bkg, e, n_spline, kmax)


class ChiR(NamedTuple):
    """Result of :func:`xftf`: ``r`` (nr,), complex ``chir`` and ``magnitude`` (..., nr), the window
    (nk,) and the k-weight used."""

    r: np.ndarray
    chir: np.ndarray
    magnitude: np.ndarray
    window: np.ndarray
    kweight: float


def xftf(k, chi, *, kweight: float = 2.0, kmin: float = 3.0, kmax: float | None = None, dk: float = 1.0,
         nfft: int = 2048, rmax: float = 10.0) -> ChiR:
    """Fourier transform of ``χ(k) kʷ`` with a Hanning window: χ̃(R) of every spectrum at once.

    Parameters
    ----------
    k : array_like (nk,)
        Uniform k grid (Å⁻¹) that is a multiple of its step (e.g. from :func:`autobk`).
    chi : array_like (..., nk)
        χ(k).
    kweight : float
        Power of k multiplying χ.
    kmin, kmax : float
        Window range (Å⁻¹); ``kmax`` defaults to the end of the grid minus ``dk/2``.
    dk : float
        Window taper width (Å⁻¹).
    nfft : int
        Zero-padded length; R spacing π/(nfft δk).
    rmax : float
        Largest R returned (Å).

    Returns
    -------
    ChiR
        ``magnitude`` in Å^-(kweight+1).

    References
    ----------
    Newville (2001); Koningsberger & Prins (1988), ch. 6.
    """
    k = np.asarray(k, dtype=float)
    chi = np.asarray(chi, dtype=float)
    if k.ndim != 1 or k.size < 8 or chi.shape[-1] != k.size:
        raise InputError(f"k must be a 1-D grid matching chi's last axis, got {k.shape} and {chi.shape}")
    kstep = k[1] - k[0]
    if not (kstep > 0 and np.allclose(np.diff(k), kstep, rtol=1e-6, atol=1e-9)):
        raise InputError("k must be a uniform increasing grid; interpolate χ(k) onto one (e.g. 0.05 Å⁻¹)")
    n0 = int(round(k[0] / kstep))
    if abs(n0 * kstep - k[0]) > 1e-6 * kstep or n0 < 0:
        raise InputError("the k grid must be a multiple of its step (k = n δk); interpolate it onto one")
    if n0 + k.size > nfft // 2:
        raise InputError(f"nfft = {nfft} is too small for the k grid; use ≥ {4 * (n0 + k.size)}")
    kmax = float(k[-1] - dk / 2) if kmax is None else float(kmax)
    if not kmax > kmin:
        raise InputError(f"k window {kmin:g}–{kmax:g} Å⁻¹ is empty")
    win = hanning_window(k, kmin, kmax, dk)
    x = np.zeros(chi.shape[:-1] + (nfft,))
    x[..., n0:n0 + k.size] = chi * k**kweight * win
    chir = kstep / np.sqrt(np.pi) * np.fft.ifft(x, axis=-1) * nfft  # Σ xₙ e^{+2πi nj/nfft} = e^{2ikR}
    r = np.arange(nfft) * np.pi / (nfft * kstep)
    keep = r <= rmax
    chir = chir[..., keep]
    return ChiR(r[keep], chir, np.abs(chir), win, float(kweight))


def first_shell_peak(r, magnitude, *, rmin: float = 1.0, rmax: float = 6.0, fraction: float = 0.5):
    """R and height of the first peak of |χ(R)| above ``rmin`` that reaches ``fraction`` of the largest.

    The peak position is refined by a parabola through the three highest grid points. Returns
    ``(r_peak, height)``, each ``(...)`` (NaN when there is no peak in [rmin, rmax]).
    """
    r = np.asarray(r, dtype=float)
    m = np.asarray(magnitude, dtype=float)
    sel = (r >= rmin) & (r <= rmax)
    if sel.sum() < 3:
        raise InputError(f"R range {rmin:g}–{rmax:g} Å holds {int(sel.sum())} points of the transform")
    top = np.max(np.where(sel, m, -np.inf), axis=-1, keepdims=True)
    inner = np.zeros_like(m, dtype=bool)
    inner[..., 1:-1] = (m[..., 1:-1] > m[..., :-2]) & (m[..., 1:-1] >= m[..., 2:])
    cand = inner & sel & (m >= fraction * top)
    has = cand.any(axis=-1)
    i = np.clip(np.argmax(cand, axis=-1), 1, r.size - 2)
    f0, f1, f2 = (np.take_along_axis(m, (i + d)[..., None], axis=-1)[..., 0] for d in (-1, 0, 1))
    den = f0 - 2 * f1 + f2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den < 0, 0.5 * (f0 - f2) / den, 0.0)
    h = r[1] - r[0]
    rpk = r[i] + np.clip(shift, -0.5, 0.5) * h
    height = f1 - 0.25 * (f0 - f2) * np.clip(shift, -0.5, 0.5)
    return np.where(has, rpk, np.nan), np.where(has, height, np.nan)
