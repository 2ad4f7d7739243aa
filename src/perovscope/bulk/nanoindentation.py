"""Nanoindentation by the Oliver–Pharr method: unloading-curve fits, contact depth, hardness and modulus.

Every function works on stacks of indents: ``depth`` and ``load`` are ``(..., n)`` arrays, one
indentation curve per leading index, padded with NaN where a curve is shorter than the longest. The
power-law fit of the unloading curves runs as one batched Levenberg–Marquardt problem over all
indents (no loop over indents), so a 100 × 100 indent map costs about as much as a few indents.

Units: depth in nm, load in mN, stiffness in N/m, area in nm², hardness and moduli in GPa. The tip
area function is the usual series ``A(h_c) = C0 h_c² + C1 h_c + C2 h_c^(1/2) + C3 h_c^(1/4) + …``
with ``A`` in nm² for ``h_c`` in nm (the convention of Keysight/Agilent NanoSuite and Hysitron
TriboScan). With these units ``E_r [GPa] = √π/(2β) · S [N/m] / √A [nm²]`` and
``H [GPa] = 10⁶ · P [mN] / A [nm²]``.

References
----------
.. [1] W. C. Oliver and G. M. Pharr, "An improved technique for determining hardness and elastic
   modulus using load and displacement sensing indentation experiments", J. Mater. Res. 7, 1564
   (1992).
.. [2] W. C. Oliver and G. M. Pharr, "Measurement of hardness and elastic modulus by instrumented
   indentation: advances in understanding and refinements to methodology", J. Mater. Res. 19, 3
   (2004).
.. [3] A. C. Fischer-Cripps, Nanoindentation, 3rd ed., Springer (2011), ch. 1–3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .nanoindentation_unloading import UnloadingFit, fit_unloading

__all__ = ["DIAMOND_MODULUS_GPA", "DIAMOND_POISSON", "BERKOVICH_C0", "tip_area", "reduced_modulus",
           "sample_modulus", "contact_depth", "UnloadingFit", "fit_unloading", "OliverPharr",
           "oliver_pharr", "properties_from_stiffness"]

#: Young's modulus and Poisson's ratio of the diamond indenter (Oliver & Pharr 1992).
DIAMOND_MODULUS_GPA = 1141.0
DIAMOND_POISSON = 0.07
#: Leading area coefficient of an ideal Berkovich tip (A = 24.5 h_c²).
BERKOVICH_C0 = 24.5

_MN_PER_N_M = 1e-6  # 1 N/m = 1e-6 mN/nm


def _poisson(nu, name: str):
    """``nu`` as a float (or an array, one per indent) after checking it is a Poisson's ratio."""
    if nu is None:
        raise InputError(f"{name} is required: Young's modulus follows from the reduced modulus only with "
                         "the sample's Poisson's ratio (e.g. 0.17 for fused silica, 0.3 for most metals)")
    arr = np.asarray(nu, dtype=float)
    if not np.all((arr > -1.0) & (arr < 0.5)):
        bad = arr[~((arr > -1.0) & (arr < 0.5))].ravel()[0]
        raise InputError(f"{name} = {bad:g} is outside (-1, 0.5); give the Poisson's ratio, not a modulus")
    return float(arr) if arr.ndim == 0 else arr


def tip_area(contact_depth, coefficients) -> np.ndarray:
    """Projected contact area of the tip: ``A = Σ_k C_k h_c^(2^(1-k))`` (nm² for ``h_c`` in nm).

    Parameters
    ----------
    contact_depth : array_like
        Contact depth h_c (nm); values ≤ 0 give NaN.
    coefficients : sequence of float
        ``C0, C1, C2, …`` of the calibrated area function (``C0`` = 24.5 for an ideal Berkovich).

    Returns
    -------
    ndarray
        Area in nm², the shape of ``contact_depth``.

    References
    ----------
    Oliver & Pharr (1992), eq. (13).
    """
    c = np.atleast_1d(np.asarray(coefficients, dtype=float))
    if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
        raise InputError("area coefficients must be a finite 1-D sequence C0, C1, …")
    if not np.any(c != 0):
        raise InputError("area coefficients are all zero; give the tip's calibrated C0, C1, … (C0 = 24.5 "
                         "for an ideal Berkovich, C1 = 2πR for a sphere of radius R)")
    hc = np.asarray(contact_depth, dtype=float)
    pos = np.where(hc > 0, hc, np.nan)
    area = np.zeros_like(pos)
    for k, ck in enumerate(c):  # a loop over the few terms of the series
        area = area + ck * pos ** (2.0 ** (1 - k))
    return area


def _area_slope(contact_depth, coefficients) -> np.ndarray:
    """dA/dh_c of :func:`tip_area` (nm)."""
    c = np.atleast_1d(np.asarray(coefficients, dtype=float))
    hc = np.where(np.asarray(contact_depth, dtype=float) > 0, contact_depth, np.nan)
    expo = 2.0 ** (1 - np.arange(c.size))
    return sum(ck * ek * hc ** (ek - 1.0) for ck, ek in zip(c, expo, strict=True))


def reduced_modulus(stiffness, area, *, beta: float = 1.0) -> np.ndarray:
    """``E_r = √π/(2β) · S/√A`` in GPa for ``S`` in N/m and ``A`` in nm² (Oliver & Pharr 1992, eq. 2)."""
    s = np.asarray(stiffness, dtype=float)
    a = np.asarray(area, dtype=float)
    return np.sqrt(np.pi) / (2.0 * beta) * s / np.sqrt(np.where(a > 0, a, np.nan))


def sample_modulus(reduced, *, poisson_ratio=None, indenter_modulus: float = DIAMOND_MODULUS_GPA,
                   indenter_poisson: float = DIAMOND_POISSON) -> np.ndarray:
    """Young's modulus of the sample from ``1/E_r = (1-ν²)/E + (1-ν_i²)/E_i`` (GPa).

    Parameters
    ----------
    reduced : array_like
        Reduced modulus E_r (GPa).
    poisson_ratio : float or array_like
        Poisson's ratio ν of the sample (required; an array broadcasts against ``reduced``).
    indenter_modulus, indenter_poisson : float
        E_i (GPa) and ν_i of the indenter; diamond by default (1141 GPa, 0.07).

    Returns
    -------
    ndarray
        E in GPa (NaN where ``E_r`` is not below the indenter's own term).
    """
    nu = _poisson(poisson_ratio, "poisson_ratio")
    nu_i = _poisson(indenter_poisson, "indenter_poisson")
    if not indenter_modulus > 0:
        raise InputError(f"indenter_modulus = {indenter_modulus!r} must be positive (GPa)")
    er = np.asarray(reduced, dtype=float)
    inv = 1.0 / np.where(er > 0, er, np.nan) - (1.0 - nu_i**2) / indenter_modulus
    return (1.0 - nu**2) / np.where(inv > 0, inv, np.nan)


def contact_depth(depth, load, stiffness, *, epsilon: float = 0.75) -> np.ndarray:
    """``h_c = h - ε P/S`` (nm) for depth in nm, load in mN and stiffness in N/m (ε = 0.75: paraboloid)."""
    s = np.asarray(stiffness, dtype=float)
    return np.asarray(depth, dtype=float) - epsilon * np.asarray(load, dtype=float) / (
        np.where(s > 0, s, np.nan) * _MN_PER_N_M)


class Properties(NamedTuple):
    """Hardness and moduli at given (depth, load, stiffness); every field has their broadcast shape."""

    hardness: np.ndarray
    modulus: np.ndarray
    reduced_modulus: np.ndarray
    contact_depth: np.ndarray
    contact_area: np.ndarray


def properties_from_stiffness(depth, load, stiffness, *, area_coefficients, poisson_ratio=None,
                              epsilon: float = 0.75, beta: float = 1.0,
                              indenter_modulus: float = DIAMOND_MODULUS_GPA,
                              indenter_poisson: float = DIAMOND_POISSON) -> Properties:
    """Oliver–Pharr hardness and modulus from depth (nm), load (mN) and contact stiffness (N/m).

    Used with the peak values and the unloading stiffness (:func:`oliver_pharr`) and, point by
    point, with a continuous-stiffness (CSM) channel (:mod:`perovscope.bulk.nanoindentation_csm`).
    Returns :class:`Properties` (GPa, nm, nm²).
    """
    _poisson(poisson_ratio, "poisson_ratio")
    if not 0 < epsilon <= 1:
        raise InputError(f"epsilon = {epsilon!r} must be in (0, 1] (0.75 for a Berkovich tip)")
    if not beta > 0:
        raise InputError(f"beta = {beta!r} must be positive (1.0, or 1.034 for a Berkovich tip)")
    hc = contact_depth(depth, load, stiffness, epsilon=epsilon)
    area = tip_area(hc, area_coefficients)
    er = reduced_modulus(stiffness, area, beta=beta)
    e = sample_modulus(er, poisson_ratio=poisson_ratio, indenter_modulus=indenter_modulus,
                       indenter_poisson=indenter_poisson)
    hardness = 1e6 * np.asarray(load, dtype=float) / area
    return Properties(hardness, e, er, hc, area)


class OliverPharr(NamedTuple):
    """Oliver–Pharr results per indent (every field has the leading shape of the curves).

    ``hardness``, ``modulus`` (sample, from ν), ``reduced_modulus`` (GPa); ``hardness_std`` and
    ``modulus_std``, first-order standard errors from the stiffness (through E_r and the contact
    area); ``contact_depth`` (nm), ``contact_area`` (nm²); ``unloading``: the :class:`UnloadingFit`.
    """

    hardness: np.ndarray
    hardness_std: np.ndarray
    modulus: np.ndarray
    modulus_std: np.ndarray
    reduced_modulus: np.ndarray
    contact_depth: np.ndarray
    contact_area: np.ndarray
    unloading: UnloadingFit


def oliver_pharr(depth, load, *, area_coefficients, poisson_ratio=None, epsilon: float = 0.75,
                 beta: float = 1.0, fit_range=(0.5, 0.98), mask=None, bad: str = "raise",
                 indenter_modulus: float = DIAMOND_MODULUS_GPA,
                 indenter_poisson: float = DIAMOND_POISSON) -> OliverPharr:
    """Hardness and Young's modulus of every indent from its unloading curve (Oliver & Pharr 1992).

    Parameters
    ----------
    depth, load : array_like (..., n)
        Indentation curves (nm, mN), NaN-padded; see :func:`fit_unloading`.
    area_coefficients : sequence of float
        Tip area function ``C0, C1, …`` (nm² for nm); see :func:`tip_area`.
    poisson_ratio : float
        Poisson's ratio of the sample (required).
    epsilon : float
        Geometry constant of the contact depth (0.75 for a Berkovich or paraboloid, 0.72 cone,
        1 flat punch).
    beta : float
        Correction factor of the stiffness equation (1.0 as NanoSuite; 1.034 often used for a
        Berkovich tip).
    fit_range, mask, bad
        Passed to :func:`fit_unloading`.
    indenter_modulus, indenter_poisson : float
        E_i (GPa) and ν_i of the tip (diamond by default).

    Returns
    -------
    OliverPharr

    References
    ----------
    Oliver & Pharr (1992) eqs. (1)–(2), (13)–(14); Oliver & Pharr (2004) §3.
    """
    _poisson(poisson_ratio, "poisson_ratio")
    fit = fit_unloading(depth, load, fit_range=fit_range, mask=mask, bad=bad)
    props = properties_from_stiffness(fit.h_max, fit.p_max, fit.stiffness,
                                      area_coefficients=area_coefficients,
                                      poisson_ratio=poisson_ratio, epsilon=epsilon, beta=beta,
                                      indenter_modulus=indenter_modulus, indenter_poisson=indenter_poisson)
    # first-order errors from the stiffness, the dominant uncertainty of the fit: S enters E_r
    # directly and through the contact depth (h_c = h_max − εP/S), i.e. through the area
    dadh = _area_slope(props.contact_depth, area_coefficients)
    dhc_ds = (fit.h_max - props.contact_depth) / fit.stiffness
    dlner = 1.0 / fit.stiffness - 0.5 * dadh / props.contact_area * dhc_ds
    nu = _poisson(poisson_ratio, "poisson_ratio")
    dedr = props.modulus**2 / (props.reduced_modulus**2 * (1.0 - np.asarray(nu) ** 2))
    modulus_std = np.abs(dedr * props.reduced_modulus * dlner) * fit.stiffness_std
    hardness_std = np.abs(props.hardness / props.contact_area * dadh * dhc_ds) * fit.stiffness_std
    return OliverPharr(props.hardness, hardness_std, props.modulus, modulus_std, props.reduced_modulus,
                       props.contact_depth, props.contact_area, fit)
