"""Photoluminescence quantum yield from integrating-sphere spectra (de Mello three-measurement method).

Three measurements with the sample in an integrating sphere: **A** the empty sphere, **B** the sample
in the sphere but out of the beam (it sees only light scattered by the sphere wall), **C** the sample
in the beam. ``L`` is the integrated excitation light (the laser window), ``P`` the integrated
emission (the emission window). Then

    absorptance  A = 1 − L_C / L_B
    PLQY         η = (P_C − (1 − A)·P_B) / (L_A · A)

(de Mello, Wittmann and Friend 1997). When the empty sphere is also recorded in the emission window,
``P_A`` (stray light, laser fluorescence of the optics) is subtracted from ``P_B`` and ``P_C``.

The spectra are multiplied by the spectral calibration factor of the detection (interpolated
linearly onto each spectrum's axis) and, because a calibration in power units gives energy per
wavelength interval, by the wavelength (photon number ∝ λ·P(λ)/hc) before integrating over the
windows with the trapezoid rule; ``photon_weighting=False`` skips the λ factor for a calibration that
already gives photon counts. Standard errors follow from the channel noise (scatter of second
differences in each window) propagated through the integrals and the closed form.

References
----------
.. [1] J. C. de Mello, H. F. Wittmann and R. H. Friend, "An improved experimental determination of
   external photoluminescence quantum efficiency", Adv. Mater. 9, 230 (1997).
.. [2] L. Porrès, A. Holland, L.-O. Pålsson et al., "Absolute measurements of photoluminescence
   quantum yields of solutions using an integrating sphere", J. Fluoresc. 16, 267 (2006).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import CalibrationError, InputError
from ._checks import as_spectra, ascending
from .uvvis_lines import noise_sigma

__all__ = ["PLQYResult", "plqy_from_integrals", "window_integral", "plqy_de_mello", "parse_window"]


class PLQYResult(NamedTuple):
    """Absorptance and PLQY ``(...)`` with standard errors, and the five integrals used."""

    absorptance: np.ndarray
    absorptance_std: np.ndarray
    plqy: np.ndarray
    plqy_std: np.ndarray
    la: np.ndarray
    lb: np.ndarray
    lc: np.ndarray
    pb: np.ndarray
    pc: np.ndarray
    pa: np.ndarray


def parse_window(text: str, *, name: str = "window") -> tuple[float, float]:
    """``"315:335"`` (or ``"315-335"``, ``"315,335"``) → ``(315.0, 335.0)``."""
    import re

    parts = [p for p in re.split(r"[:,]|(?<=\d)-(?=\d)", str(text).strip()) if p.strip()]
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"{name}={text!r}: give it as LO:HI, e.g. 315:335") from None
    if not hi > lo:
        raise InputError(f"{name}={text!r}: the upper end must exceed the lower end")
    return lo, hi


def plqy_from_integrals(la, lb, lc, pb, pc, pa=0.0, *, std=None) -> PLQYResult:
    """The de Mello closed form on integrals (arrays broadcast); ``std`` = their standard errors
    ``(la, lb, lc, pb, pc, pa)`` for first-order error propagation."""
    la, lb, lc, pb, pc, pa = (np.asarray(v, dtype=float) for v in (la, lb, lc, pb, pc, pa))
    if np.any(la <= 0) or np.any(lb <= 0):
        raise InputError("the excitation integrals of the empty sphere (A1) and of the sample out of the "
                         "beam (B1) must be positive; check the excitation window")
    a = 1.0 - lc / lb
    pbc, pcc = pb - pa, pc - pa
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = (pcc - (1.0 - a) * pbc) / (la * a)
    if std is None:
        nan = np.full(np.broadcast(a, eta).shape, np.nan)
        return PLQYResult(a, nan, eta, nan, la, lb, lc, pb, pc, pa)
    s_la, s_lb, s_lc, s_pb, s_pc, s_pa = (np.asarray(v, dtype=float) for v in std)
    var_a = (s_lc / lb) ** 2 + (lc * s_lb / lb**2) ** 2
    # η = (P_C − (L_C/L_B)·P_B') / (L_A·(1 − L_C/L_B)) with P' = P − P_A
    num = pcc - (lc / lb) * pbc
    den = la * a
    with np.errstate(divide="ignore", invalid="ignore"):
        d_pc = 1.0 / den
        d_pb = -(lc / lb) / den
        d_pa = (-1.0 + lc / lb) / den
        d_la = -num / (la * den)
        d_lc = (-pbc / lb) / den + num / den**2 * la / lb
        d_lb = (lc * pbc / lb**2) / den - num / den**2 * la * lc / lb**2
    var_eta = ((d_pc * s_pc) ** 2 + (d_pb * s_pb) ** 2 + (d_pa * s_pa) ** 2 + (d_la * s_la) ** 2
               + (d_lc * s_lc) ** 2 + (d_lb * s_lb) ** 2)
    return PLQYResult(a, np.sqrt(var_a), eta, np.sqrt(var_eta), la, lb, lc, pb, pc, pa)


def window_integral(spectra, wavelength, window, *, calibration=None, photon_weighting: bool = True,
                    exclude_below: float | None = None, name: str = "spectrum", source: str | None = None):
    """Calibrated integral of each spectrum over a wavelength window, and its standard error.

    Parameters
    ----------
    spectra : array_like (..., n)
        Counts on the shared axis ``wavelength`` (nm).
    wavelength : array_like (n,)
        Wavelength in nm, either direction.
    window : (float, float)
        Integration range in nm (inclusive).
    calibration : (array_like, array_like), optional
        ``(wavelength_nm, factor)`` of the detection's spectral calibration (multiplied in).
    photon_weighting : bool
        Multiply by λ (photon numbers from a power calibration).
    exclude_below : float, optional
        Drop channels at or below this wavelength (the laser line in an emission window).
    name, source : str
        For error messages.

    Returns
    -------
    integral, integral_std : ndarray (...)
    """
    lam, y = ascending(wavelength, spectra, name=f"{name} wavelength", min_points=3, source=source)
    y = as_spectra(y, lam.size, name=name, source=source)
    lo, hi = window
    sel = (lam >= lo) & (lam <= hi)
    if exclude_below is not None:
        sel &= lam > exclude_below
    where = f"{source}: " if source else ""
    if sel.sum() < 3:
        raise InputError(f"{where}the window {lo:g}–{hi:g} nm holds {int(sel.sum())} channels of {name} "
                         f"({lam[0]:g}–{lam[-1]:g} nm); choose a window inside the recorded range")
    lam_w, y_w = lam[sel], y[..., sel]
    factor = np.ones_like(lam_w)
    if calibration is not None:
        cal_x, cal_y = ascending(calibration[0], calibration[1], name="calibration wavelength", min_points=2)
        if lam_w[0] < cal_x[0] or lam_w[-1] > cal_x[-1]:
            raise CalibrationError(f"{where}the calibration covers {cal_x[0]:g}–{cal_x[-1]:g} nm but "
                                   f"{name} is integrated over {lam_w[0]:g}–{lam_w[-1]:g} nm; use a "
                                   "calibration spanning both windows")
        factor = np.interp(lam_w, cal_x, cal_y)
    if photon_weighting:
        factor = factor * lam_w
    weights = np.zeros_like(lam_w)  # trapezoid weights: ∫ ≈ Σ w_i y_i
    dx = np.diff(lam_w)
    weights[:-1] += 0.5 * dx
    weights[1:] += 0.5 * dx
    coeff = weights * factor
    integral = np.sum(y_w * coeff, axis=-1)
    sigma = noise_sigma(y_w)
    std = np.sqrt(np.sum((sigma * coeff) ** 2, axis=-1))
    return integral, std


def plqy_de_mello(a1, b1, c1, b2, c2, *, wavelength_ex, wavelength_em, excitation, emission, a2=None,
                  calibration=None, photon_weighting: bool = True, sources=None) -> PLQYResult:
    """PLQY of every measurement set from the A/B/C spectra (see the module docstring).

    Parameters
    ----------
    a1, b1, c1 : array_like (..., n_ex)
        Excitation-window spectra (empty sphere, sample off-beam, sample in beam) on ``wavelength_ex``.
    b2, c2 : array_like (..., n_em)
        Emission-window spectra (sample off-beam, in beam) on ``wavelength_em``.
    wavelength_ex, wavelength_em : array_like
        Their wavelength axes (nm); each may be one axis shared by the three/two spectra, or a tuple
        of one axis per spectrum.
    excitation, emission : (float, float)
        Integration windows (nm). Emission channels at or below the excitation window's upper end
        are left out.
    a2 : array_like (..., n_em), optional
        Empty sphere in the emission window, subtracted from B2 and C2.
    calibration : (array_like, array_like), optional
        ``(wavelength_nm, factor)`` spectral calibration.
    photon_weighting : bool
        Multiply by λ before integrating (calibration in power units).
    sources : dict, optional
        ``{"A1": file, ...}`` for error messages.

    Returns
    -------
    PLQYResult
    """
    sources = sources or {}

    def axes(ax, k):
        if isinstance(ax, tuple | list) and len(ax) == k and np.ndim(ax[0]) == 1:
            return list(ax)
        return [ax] * k

    ex_axes, em_axes = axes(wavelength_ex, 3), axes(wavelength_em, 3 if a2 is not None else 2)
    opts = dict(calibration=calibration, photon_weighting=photon_weighting)
    ints = {}
    for key, spec, ax in zip(("A1", "B1", "C1"), (a1, b1, c1), ex_axes, strict=True):
        ints[key] = window_integral(spec, ax, excitation, name=key, source=sources.get(key), **opts)
    em = [("B2", b2), ("C2", c2)] + ([("A2", a2)] if a2 is not None else [])
    for (key, spec), ax in zip(em, em_axes, strict=True):
        ints[key] = window_integral(spec, ax, emission, exclude_below=excitation[1], name=key,
                                    source=sources.get(key), **opts)
    pa = ints.get("A2", (0.0, 0.0))
    keys = ("A1", "B1", "C1", "B2", "C2")
    return plqy_from_integrals(*(ints[k][0] for k in keys), pa[0],
                               std=tuple(ints[k][1] for k in keys) + (pa[1],))
