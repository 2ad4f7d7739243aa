"""Mean lifetimes of a multi-exponential decay, with uncertainties propagated from the fit covariance.

For ``I(t) = Σ_i A_i exp(-t/τ_i)`` (amplitudes ``A_i ≥ 0``):

* amplitude fractions ``α_i = A_i / Σ A_j`` and intensity fractions ``f_i = A_i τ_i / Σ A_j τ_j`` (the
  share of the photons emitted by component ``i``);
* the amplitude-weighted mean lifetime ``τ_amp = Σ α_i τ_i = ∫ I dt / I(0)`` (proportional to the
  quantum yield at a fixed radiative rate) [1]_ [2]_;
* the intensity-weighted mean lifetime ``τ_int = Σ f_i τ_i = Σ A_i τ_i² / Σ A_i τ_i = ∫ t I dt / ∫ I dt``,
  the average time a photon spends in the excited state (Lakowicz's "average lifetime") [1]_ [2]_;
* the effective (1/e) lifetime ``τ_e``, the time at which ``I(t)`` has fallen to ``I(0)/e`` (the
  single number often quoted for perovskite decays [3]_), from ``Σ A_i exp(-τ_e/τ_i) = Σ A_i / e``.

Every quantity is a smooth function ``q(A, τ)``; its standard error is ``sqrt(∇q · C · ∇q)`` with the
``2k × 2k`` covariance ``C`` of the amplitudes and lifetimes (first-order propagation; ``τ_e`` through
the implicit-function theorem).

References
----------
.. [1] J. R. Lakowicz, Principles of Fluorescence Spectroscopy, 3rd ed., Springer (2006), §4.10–4.11.
.. [2] A. Sillen and Y. Engelborghs, "The correct use of 'average' fluorescence parameters",
   Photochem. Photobiol. 67, 475 (1998).
.. [3] M. He, Q. Zhang, F. Carulli et al., "Ultra-stable, solution-processable CsPbBr3-SiO2
   nanospheres for highly efficient color conversion in micro light-emitting diodes", ACS Energy
   Lett. 8, 151 (2023) — the effective lifetime as the time for the PL to fall by a factor e.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Lifetimes", "mean_lifetimes", "effective_lifetime"]


class Lifetimes(NamedTuple):
    """Fractions and mean lifetimes; ``(..., k)`` for fractions, ``(...)`` for the rest (time units of τ).

    Attributes
    ----------
    amplitude_fractions, amplitude_fractions_std : ndarray (..., k)
    intensity_fractions, intensity_fractions_std : ndarray (..., k)
    tau_amplitude, tau_amplitude_std : ndarray (...)
        ``Σ α_i τ_i``.
    tau_intensity, tau_intensity_std : ndarray (...)
        ``Σ f_i τ_i = Σ A_i τ_i² / Σ A_i τ_i``.
    tau_effective, tau_effective_std : ndarray (...)
        Time for ``I(t)`` to fall by a factor e.
    """

    amplitude_fractions: np.ndarray
    amplitude_fractions_std: np.ndarray
    intensity_fractions: np.ndarray
    intensity_fractions_std: np.ndarray
    tau_amplitude: np.ndarray
    tau_amplitude_std: np.ndarray
    tau_intensity: np.ndarray
    tau_intensity_std: np.ndarray
    tau_effective: np.ndarray
    tau_effective_std: np.ndarray


def effective_lifetime(amplitudes, taus, *, n_bisect: int = 64):
    """Time at which ``Σ A_i exp(-t/τ_i)`` has fallen to ``1/e`` of its value at ``t = 0``.

    Parameters
    ----------
    amplitudes, taus : array_like (..., k)
        Non-negative amplitudes and positive lifetimes.
    n_bisect : int
        Bisection steps between ``min τ`` and ``max τ`` (where the root always lies).

    Returns
    -------
    ndarray (...)
    """
    amp = np.asarray(amplitudes, dtype=float)
    tau = np.asarray(taus, dtype=float)
    frac = amp / np.sum(amp, axis=-1, keepdims=True)
    lo, hi = np.min(tau, axis=-1), np.max(tau, axis=-1)
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        above = np.sum(frac * np.exp(-mid[..., None] / tau), axis=-1) > np.exp(-1.0)
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def _propagate(grad_a, grad_t, cov):
    g = np.concatenate([grad_a, grad_t], axis=-1)
    var = np.einsum("...i,...ij,...j->...", g, cov, g)
    return np.sqrt(np.where(var >= 0, var, np.nan))


def mean_lifetimes(amplitudes, taus, cov=None) -> Lifetimes:
    """Amplitude and intensity fractions, ``τ_amp``, ``τ_int`` and ``τ_e`` with standard errors.

    Parameters
    ----------
    amplitudes, taus : array_like (..., k)
        Amplitudes (any linear unit) and lifetimes.
    cov : array_like (..., 2k, 2k), optional
        Covariance of ``[A_1..A_k, τ_1..τ_k]``; without it the standard errors are NaN.

    Returns
    -------
    Lifetimes

    References
    ----------
    Lakowicz (2006) §4.10–4.11; Sillen & Engelborghs, Photochem. Photobiol. 67, 475 (1998).
    """
    a = np.asarray(amplitudes, dtype=float)
    t = np.asarray(taus, dtype=float)
    k = a.shape[-1]
    if cov is None:
        cov = np.full(a.shape[:-1] + (2 * k, 2 * k), np.nan)
    cov = np.asarray(cov, dtype=float)
    s0 = np.sum(a, axis=-1, keepdims=True)
    s1 = np.sum(a * t, axis=-1, keepdims=True)
    s2 = np.sum(a * t * t, axis=-1, keepdims=True)
    alpha, f = a / s0, a * t / s1
    t_amp, t_int = s1 / s0, s2 / s1
    eye = np.eye(k)
    zeros = np.zeros(a.shape[:-1] + (k, k))
    # fractions: d alpha_i / d A_j = (δ_ij - α_i)/S0 ; d f_i/dA_j = (δ_ij τ_i - f_i τ_j)/S1
    da_alpha = (eye - alpha[..., :, None]) / s0[..., None]
    da_f = (eye * t[..., :, None] - f[..., :, None] * t[..., None, :]) / s1[..., None]
    dt_f = (eye * a[..., :, None] - f[..., :, None] * a[..., None, :]) / s1[..., None]
    alpha_std = _propagate(da_alpha, zeros, cov[..., None, :, :])
    f_std = _propagate(da_f, dt_f, cov[..., None, :, :])
    amp_std = _propagate((t - t_amp) / s0, a / s0, cov)
    int_std = _propagate((t * t - t_int * t) / s1, (2.0 * a * t - t_int * a) / s1, cov)
    t_eff = effective_lifetime(a, t)
    e = np.exp(-t_eff[..., None] / t)
    d_time = -np.sum(a / t * e, axis=-1, keepdims=True)  # ∂F/∂t of F = Σ A e^{-t/τ} - Σ A / e
    eff_std = _propagate(-(e - np.exp(-1.0)) / d_time, -(a * t_eff[..., None] / (t * t) * e) / d_time, cov)
    return Lifetimes(alpha, alpha_std, f, f_std, t_amp[..., 0], amp_std, t_int[..., 0], int_std, t_eff,
                     eff_std)
