"""Total scattering to pair distribution function: S(Q) → F(Q) → G(r), and the differential PDF.

Conventions (those of PDFgetX and PDFgui): the total-scattering structure factor ``S(Q)`` (→ 1 at high
Q), the reduced structure function ``F(Q) = Q [S(Q) − 1]`` (Å⁻¹) and the reduced PDF

    G(r) = (2/π) ∫_{Qmin}^{Qmax} F(Q) M(Q) sin(Qr) dQ = 4πr [ρ(r) − ρ₀]      (Å⁻²),

which is Keen's ``D(r)``. ``M(Q)`` is 1, or the Lorch (1969) window ``sin(πQ/Qmax)/(πQ/Qmax)`` that
trades resolution (peaks broadened by ≈ 1.2·π/Qmax) for suppressed termination ripples. The integral is
the trapezoidal rule on the measured Q points, done as one matrix product for a whole series of
patterns; :func:`reduced_structure_function_from_pdf` is the inverse transform
``F(Q) = ∫ G(r) sin(Qr) dr``.

The differential PDF (Keen 2001; used in composite glasses to expose correlations between the two
components) is the composite's function minus the weighted sum of its end members,

    ΔX = X_composite − Σ_k w_k X_k,   X = S(Q) − 1, F(Q) or G(r),

with weights given (the scattering fractions) or fitted by least squares over a chosen range. It is
linear, so the transform of ΔF equals the difference of the G(r)s.

References
----------
.. [1] T. Egami and S. J. L. Billinge, *Underneath the Bragg Peaks: Structural Analysis of Complex
   Materials*, 2nd ed., Pergamon (2012), ch. 3 and 5.
.. [2] E. Lorch, "Neutron diffraction by germania, silica and radiation-damaged silica glasses",
   J. Phys. C 2, 229–237 (1969).
.. [3] D. A. Keen, "A comparison of various commonly used correlation functions for describing total
   scattering", J. Appl. Cryst. 34, 172–177 (2001).
.. [4] P. Juhás, T. Davis, C. L. Farrow and S. J. L. Billinge, "PDFgetX3: a rapid and highly automatable
   program for processing powder diffraction data into total scattering pair distribution functions",
   J. Appl. Cryst. 46, 560–566 (2013).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, check_axis, check_min_points

__all__ = ["reduced_structure_function", "lorch_window", "pdf_from_structure_factor",
           "reduced_structure_function_from_pdf", "Differential", "differential", "r_grid"]


def _q_axis(q, y, name="q", source=None):
    qq = check_axis(q, name=name, min_points=4, source=source)
    yy = as_spectra(y, qq.size, name="values", source=source)
    if qq[0] > qq[-1]:
        qq, yy = qq[::-1].copy(), yy[..., ::-1]
    if qq[0] < 0:
        raise InputError(f"{source + ': ' if source else ''}{name} has negative values")
    return qq, yy


def reduced_structure_function(sq, q):
    """``F(Q) = Q [S(Q) − 1]`` for structure factors ``(..., n)`` on ``q`` (Å⁻¹)."""
    qq, s = _q_axis(q, sq)
    return qq * (s - 1.0)


def lorch_window(q, qmax: float):
    """Lorch's modification function ``sin(πQ/Qmax)/(πQ/Qmax)`` (0 beyond Qmax)."""
    x = np.asarray(q, dtype=float) / float(qmax)
    return np.where(x <= 1.0, np.sinc(x), 0.0)


def r_grid(r_max: float = 30.0, dr: float = 0.01, r_min: float | None = None):
    """The r points ``r_min, r_min + dr, …, r_max`` (default from ``dr``)."""
    if not (dr > 0 and r_max > 0):
        raise InputError(f"need dr > 0 and r_max > 0, got dr={dr}, r_max={r_max}")
    start = dr if r_min is None else float(r_min)
    return start + dr * np.arange(int(np.floor((r_max - start) / dr + 1e-9)) + 1)


def _trapezoid_weights(x):
    w = np.zeros_like(x)
    d = np.diff(x)
    w[:-1] += d / 2
    w[1:] += d / 2
    return w


def pdf_from_structure_factor(values, q, *, kind: str = "S", r=None, r_max: float = 30.0,
                              dr: float = 0.01, qmin: float | None = None, qmax: float | None = None,
                              lorch: bool = False, source: str | None = None):
    """Reduced PDF G(r) from S(Q) or F(Q), for one pattern or a series.

    Parameters
    ----------
    values : array_like (..., n)
        ``S(Q)`` (``kind="S"``) or ``F(Q)`` (``kind="F"``, Å⁻¹).
    q : array_like (n,)
        Q (Å⁻¹), either direction.
    kind : {"S", "F"}
    r : array_like (m,), optional
        Where G is computed (Å); default :func:`r_grid` (``dr`` … ``r_max``).
    qmin, qmax : float, optional
        Integration limits (default: the data's range). Qmax sets the real-space resolution
        (ripples of period ≈ 2π/Qmax) and is the ``qmax`` a model fit must use.
    lorch : bool
        Apply the Lorch window.
    source : str, optional
        File name for error messages.

    Returns
    -------
    (r, G) : ndarray (m,), ndarray (..., m)
    """
    if kind not in ("S", "F"):
        raise InputError(f"kind must be 'S' or 'F', got {kind!r}")
    qq, y = _q_axis(q, values, source=source)
    f = qq * (y - 1.0) if kind == "S" else y
    lo = qq[0] if qmin is None else float(qmin)
    hi = qq[-1] if qmax is None else float(qmax)
    sel = (qq >= lo - 1e-12) & (qq <= hi + 1e-12)
    check_min_points(int(sel.sum()), 4, what=f"a Fourier transform over Q {lo:g}–{hi:g} Å⁻¹", source=source)
    qs, fs = qq[sel], f[..., sel]
    rr = r_grid(r_max, dr) if r is None else check_axis(r, name="r", min_points=2, source=source)
    w = _trapezoid_weights(qs) * (lorch_window(qs, hi) if lorch else 1.0)
    kernel = (2.0 / np.pi) * w[:, None] * np.sin(qs[:, None] * rr[None, :])
    return rr, np.where(np.isfinite(fs), fs, 0.0) @ kernel


def reduced_structure_function_from_pdf(g, r, *, q):
    """``F(Q) = ∫ G(r) sin(Qr) dr`` (trapezoidal on ``r``), the inverse of
    :func:`pdf_from_structure_factor`."""
    rr = check_axis(r, name="r", min_points=4)
    gg = as_spectra(g, rr.size, name="G(r)")
    if rr[0] > rr[-1]:
        rr, gg = rr[::-1].copy(), gg[..., ::-1]
    qq = np.asarray(q, dtype=float)
    kernel = _trapezoid_weights(rr)[:, None] * np.sin(rr[:, None] * qq[None, :])
    return gg @ kernel


class Differential(NamedTuple):
    """Result of :func:`differential`: ``difference`` ``(..., n)``, ``weights``/``weights_std``
    ``(..., k)`` (std 0 when given), ``offset`` ``(...)`` (0 unless fitted) and the weighted
    ``mixture`` ``(..., n)`` that was subtracted."""

    difference: np.ndarray
    weights: np.ndarray
    weights_std: np.ndarray
    offset: np.ndarray
    mixture: np.ndarray


def differential(composite, end_members, x, *, weights=None, fit_range=None, offset: bool = False,
                 source: str | None = None) -> Differential:
    """The differential function of a composite: ``composite − Σ_k w_k end_member_k``.

    Parameters
    ----------
    composite : array_like (..., n)
        The composite's S(Q) − 1, F(Q) or G(r) (one or a series), on the axis ``x``.
    end_members : array_like (k, n)
        The pure components' functions on the same axis (same quantity).
    x : array_like (n,)
        Q or r.
    weights : array_like (k,) or (..., k), optional
        The scattering fractions of the end members (e.g. ``c_k ⟨f_k⟩² / ⟨f⟩²``); default: fitted by
        least squares over ``fit_range`` (a mixture of non-interacting components is then the best one).
    fit_range : (float, float), optional
        Range of ``x`` for fitted weights (default all).
    offset : bool
        Fit a constant offset too (for S(Q) normalisation errors).
    source : str, optional
        Name for error messages.

    Returns
    -------
    Differential
    """
    xx = check_axis(x, name="x", min_points=3, source=source)
    comp = as_spectra(composite, xx.size, name="composite", source=source)
    ends = np.asarray(end_members, dtype=float)
    if ends.ndim == 1:
        ends = ends[None]
    if ends.ndim != 2 or ends.shape[1] != xx.size:
        raise InputError(f"end_members must be (k, {xx.size}), got shape {ends.shape}")
    k = ends.shape[0]
    lead = comp.shape[:-1]
    if weights is not None:
        w = np.broadcast_to(np.asarray(weights, dtype=float), lead + (k,))
        wstd = np.zeros_like(w)
        off = np.zeros(lead)
    else:
        sel = np.ones(xx.size, dtype=bool)
        if fit_range is not None:
            sel = (xx >= min(fit_range)) & (xx <= max(fit_range))
        cols = [ends[:, sel].T] + ([np.ones((int(sel.sum()), 1))] if offset else [])
        design = np.concatenate(cols, axis=1)
        check_min_points(int(sel.sum()), design.shape[1] + 2, what="fitting the end-member weights",
                         source=source)
        yy = np.where(np.isfinite(comp[..., sel]), comp[..., sel], 0.0)
        coef, *_ = np.linalg.lstsq(design, yy.reshape(-1, design.shape[0]).T, rcond=None)
        coef = coef.T
        res = yy.reshape(-1, design.shape[0]) - coef @ design.T
        dof = max(design.shape[0] - design.shape[1], 1)
        cov = np.linalg.pinv(design.T @ design)
        s2 = (res * res).sum(-1) / dof
        std = np.sqrt(np.maximum(np.diag(cov)[None, :] * s2[:, None], 0.0))
        w = coef[:, :k].reshape(lead + (k,))
        wstd = std[:, :k].reshape(lead + (k,))
        off = (coef[:, k] if offset else np.zeros(coef.shape[0])).reshape(lead)
    mixture = w @ ends + off[..., None]
    return Differential(comp - mixture, w, wstd, off, mixture)
