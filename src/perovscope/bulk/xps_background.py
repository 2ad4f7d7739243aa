"""Inelastic backgrounds of XPS spectra: Shirley (iterative) and Tougaard (loss cross-section), batched.

On a binding-energy axis ``E`` (increasing), electrons that lost energy on their way out appear at
higher binding energy than their peak, so the background rises across a peak towards high ``E``.

* Shirley (1972): the background at ``E`` is proportional to the peak area at lower binding energy,
  ``B(E) = I_lo + (I_hi − I_lo)·∫_{E_lo}^{E}(y − B)dE′ / ∫_{E_lo}^{E_hi}(y − B)dE′``, with ``I_lo``,
  ``I_hi`` the mean intensities at the two ends; solved by fixed-point iteration from ``B = I_lo``
  (Proctor & Sherwood 1982), every spectrum of a batch at once, each stopping when the largest change
  is below ``tol`` × its step height.
* Tougaard (1989, 1997): ``B(E) = ∫_{E_lo}^{E} K(E − E′)·(y(E′) − I_lo) dE′`` with the inelastic
  cross-section ``K(T) = B·T/(C + T²)²`` (universal: B = 2866 eV², C = 1643 eV²) or the three-parameter
  form ``K(T) = B·T/((C − T²)² + D·T²)`` (e.g. polymers C = 551 eV², D = 436 eV²), zero below an
  optional gap ``T₀``. The integral is one matrix product (or FFT convolution) for the whole batch;
  ``B`` is fitted so that the background meets the data at the high-binding-energy end, or fixed.

References
----------
.. [1] D. A. Shirley, "High-resolution X-ray photoemission spectrum of the valence bands of gold",
   Phys. Rev. B 5, 4709 (1972).
.. [2] A. Proctor and P. M. A. Sherwood, "Data analysis techniques in X-ray photoelectron
   spectroscopy", Anal. Chem. 54, 13 (1982).
.. [3] S. Tougaard, "Universality classes of inelastic electron scattering cross-sections",
   Surf. Interface Anal. 25, 137 (1997).
.. [4] S. Tougaard, "Practical algorithm for background subtraction", Surf. Sci. 216, 343 (1989).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_min_points

__all__ = ["Background", "shirley_background", "tougaard_background", "loss_cross_section", "CROSS_SECTIONS"]

#: Cross-section classes: (B eV², C eV², D eV² or None for the universal two-parameter form).
CROSS_SECTIONS = {"universal": (2866.0, 1643.0, None), "polymer": (None, 551.0, 436.0)}


class Background(NamedTuple):
    """A background ``(..., n)`` on the input axis order, with ``iterations``/``converged`` (Shirley) or the
    fitted/used cross-section scale ``B`` (Tougaard) per spectrum ``(...)``."""

    background: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    B: np.ndarray


def _prepare(spectra, energy, kind):
    if kind not in ("binding", "kinetic"):
        raise InputError(f"kind must be 'binding' or 'kinetic', got {kind!r}")
    e = np.asarray(energy, dtype=float)
    xa, y = ascending(e, spectra, name="energy", min_points=5)
    y = as_spectra(y, xa.size)
    if not np.all(np.isfinite(y)):
        raise InputError("spectra hold NaN/inf values; remove them before a background")
    flip = (e[0] > e[-1]) != (kind == "kinetic")  # work on increasing binding energy
    if kind == "kinetic":  # increasing kinetic energy is decreasing binding energy
        xa, y = -xa[::-1], y[..., ::-1]
    return xa, y, flip


def _restore(b, flip):
    return b[..., ::-1] if flip else b


def _ends(y, average):
    if int(average) != average or average < 1 or 2 * average > y.shape[-1]:
        raise InputError(f"average must be a whole number of end points, 1 ≤ average ≤ n/2, got {average!r}")
    return y[..., :average].mean(axis=-1), y[..., -average:].mean(axis=-1)


def shirley_background(
    spectra, energy, *, kind: str = "binding", average: int = 1, max_iter: int = 100, tol: float = 1e-6
) -> Background:
    """Iterative Shirley background of every spectrum of a batch at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        Intensities over the region (one spectrum or a series).
    energy : array_like (n,)
        Binding energies (``kind="binding"``) or kinetic energies, either direction.
    kind : {"binding", "kinetic"}
        What ``energy`` is.
    average : int
        End points averaged for the end intensities.
    max_iter : int
        Most iterations.
    tol : float
        Stop when the largest change is below ``tol × |I_hi − I_lo|``.

    Returns
    -------
    Background
    """
    x, y, flip = _prepare(spectra, energy, kind)
    lead = y.shape[:-1]
    flat = y.reshape(-1, x.size)
    lo, hi = _ends(flat, average)
    step = hi - lo
    scale = np.maximum(np.abs(step), 1e-12 * np.maximum(np.abs(flat).max(axis=1), 1e-300))
    dx = np.diff(x)
    b = np.repeat(lo[:, None], x.size, axis=1)
    iters = np.zeros(flat.shape[0], dtype=int)
    active = np.ones(flat.shape[0], dtype=bool)
    for it in range(1, max_iter + 1):  # iterations; all spectra together
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        net = flat[idx] - b[idx]
        cum = np.concatenate(
            [np.zeros((idx.size, 1)), np.cumsum(0.5 * (net[:, 1:] + net[:, :-1]) * dx, 1)], 1
        )
        total = cum[:, -1:]
        frac = cum / np.where(np.abs(total) > 0, total, np.nan)
        new = lo[idx, None] + step[idx, None] * np.nan_to_num(frac)
        change = np.max(np.abs(new - b[idx]), axis=1)
        b[idx] = new
        iters[idx] = it
        active[idx[change < tol * scale[idx]]] = False
    return Background(
        _restore(b.reshape(lead + (x.size,)), flip),
        iters.reshape(lead),
        ~active.reshape(lead),
        np.full(lead, np.nan),
    )


def loss_cross_section(
    T, *, B: float = 2866.0, C: float = 1643.0, D: float | None = None, gap: float = 0.0
) -> np.ndarray:
    """Tougaard inelastic-scattering cross-section ``λK(T)`` (eV⁻¹) at energy losses ``T`` (eV).

    ``B·T/(C + T²)²`` when ``D`` is None (universal), else ``B·T/((C − T²)² + D·T²)``; 0 for ``T ≤ gap``.
    """
    t = np.asarray(T, dtype=float)
    if not C > 0 or (D is not None and D < 0) or gap < 0:
        raise InputError(
            f"cross-section parameters must satisfy C > 0, D ≥ 0, gap ≥ 0 (C={C}, D={D}, gap={gap})"
        )
    den = (C + t * t) ** 2 if D is None else (C - t * t) ** 2 + D * t * t
    return np.where(t > gap, B * t / den, 0.0)


def tougaard_background(
    spectra,
    energy,
    *,
    kind: str = "binding",
    B: float | None = None,
    C: float = 1643.0,
    D: float | None = None,
    gap: float = 0.0,
    average: int = 1,
) -> Background:
    """Tougaard background of every spectrum of a batch at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        Intensities over a region that extends well above the peaks in binding energy.
    energy : array_like (n,)
        Binding (``kind="binding"``) or kinetic energies, either direction; steps should be uniform
        within 1 % (a matrix quadrature handles the rest).
    kind : {"binding", "kinetic"}
        What ``energy`` is.
    B : float, optional
        Cross-section scale (eV²); default: fitted per spectrum so the background equals the mean of
        the ``average`` highest-binding-energy points.
    C, D, gap : float
        Cross-section shape (see :func:`loss_cross_section`; :data:`CROSS_SECTIONS` lists classes).
    average : int
        End points averaged for the end intensities.

    Returns
    -------
    Background
    """
    x, y, flip = _prepare(spectra, energy, kind)
    n = x.size
    check_min_points(n, 5, what="a Tougaard background")
    lead = y.shape[:-1]
    flat = y.reshape(-1, n)
    lo, hi = _ends(flat, average)
    j0 = flat - lo[:, None]
    dx = np.diff(x)
    w = np.empty(n)
    w[1:-1] = 0.5 * (dx[1:] + dx[:-1])
    w[0], w[-1] = 0.5 * dx[0], 0.5 * dx[-1]
    uniform = np.allclose(dx, dx.mean(), rtol=1e-2)
    if uniform and n > 2048:
        from scipy.signal import fftconvolve

        kern = loss_cross_section(np.arange(n) * dx.mean(), B=1.0, C=C, D=D, gap=gap) * dx.mean()
        conv = fftconvolve(j0, kern[None, :], axes=-1)[:, :n]
    else:
        if n > 8192:
            raise InputError(
                f"{n} non-uniform points are too many for a Tougaard background; resample "
                "the region onto a uniform energy grid"
            )
        T = x[:, None] - x[None, :]
        kmat = loss_cross_section(np.maximum(T, 0.0), B=1.0, C=C, D=D, gap=gap) * w[None, :]
        conv = j0 @ kmat.T
    if B is None:
        tail = conv[:, -average:].mean(axis=1)
        scale = np.where(np.abs(tail) > 0, (hi - lo) / np.where(tail == 0, 1.0, tail), 0.0)
    else:
        scale = np.full(flat.shape[0], float(B))
    bg = lo[:, None] + scale[:, None] * conv
    ones = np.ones(flat.shape[0], dtype=bool)
    return Background(
        _restore(bg.reshape(lead + (n,)), flip),
        np.zeros(lead, dtype=int),
        ones.reshape(lead),
        scale.reshape(lead),
    )
