"""Continuous-stiffness (CSM) nanoindentation: hardness and modulus at every depth, and their averages.

With a continuous-stiffness measurement the instrument superposes a small oscillation on the load and
records the contact stiffness ``S(h)`` throughout loading. Each point then gives an Oliver–Pharr
hardness and modulus (:func:`perovscope.bulk.nanoindentation.properties_from_stiffness`), and the
value reported for an indent is their mean over a depth range chosen above the tip-rounding and
surface regime (Keysight NanoSuite: "E Average Over Defined Range" between the "Minimum" and
"Maximum Calculation Depth"). All functions take stacks ``(..., n)`` of NaN-padded curves.

References
----------
.. [1] X. Li and B. Bhushan, "A review of nanoindentation continuous stiffness measurement technique
   and its applications", Mater. Charact. 48, 11 (2002).
.. [2] W. C. Oliver and G. M. Pharr, J. Mater. Res. 19, 3 (2004), §4 (continuous stiffness).
.. [3] J. Hay, P. Agee and E. Herbert, "Continuous stiffness measurement during instrumented
   indentation testing", Exp. Tech. 34, 86 (2010).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .nanoindentation import DIAMOND_MODULUS_GPA, DIAMOND_POISSON, Properties, properties_from_stiffness

__all__ = ["csm_properties", "DepthAverage", "depth_average"]


def csm_properties(depth, load, stiffness, *, area_coefficients, poisson_ratio=None, epsilon: float = 0.75,
                   beta: float = 1.0, mask=None, indenter_modulus: float = DIAMOND_MODULUS_GPA,
                   indenter_poisson: float = DIAMOND_POISSON) -> Properties:
    """Hardness and modulus at every point of CSM curves (depth nm, load mN, harmonic stiffness N/m).

    Parameters
    ----------
    depth, load, stiffness : array_like (..., n)
        The loading curves and the harmonic contact stiffness channel (NaN where not measured).
    area_coefficients, poisson_ratio, epsilon, beta, indenter_modulus, indenter_poisson
        As in :func:`perovscope.bulk.nanoindentation.properties_from_stiffness`.
    mask : array_like (..., n) of bool, optional
        Points to evaluate (e.g. the loading segment); others are NaN.

    Returns
    -------
    Properties
        ``hardness``, ``modulus``, ``reduced_modulus`` (GPa), ``contact_depth`` (nm),
        ``contact_area`` (nm²), each ``(..., n)``.
    """
    h = np.asarray(depth, dtype=float)
    p = np.asarray(load, dtype=float)
    s = np.asarray(stiffness, dtype=float)
    if not h.shape == p.shape == s.shape:
        raise InputError(f"depth, load and stiffness must have one shape, got {h.shape}, {p.shape}, "
                         f"{s.shape}")
    keep = np.isfinite(h) & np.isfinite(p) & np.isfinite(s) & (s > 0) & (h > 0)
    if mask is not None:
        keep &= np.broadcast_to(np.asarray(mask, dtype=bool), h.shape)
    if not keep.any():
        raise InputError("no point has a positive depth and a positive CSM stiffness; is the stiffness "
                         "channel (harmonic contact stiffness, N/m) the right one?")
    with np.errstate(invalid="ignore", divide="ignore"):
        props = properties_from_stiffness(np.where(keep, h, np.nan), np.where(keep, p, np.nan),
                                          np.where(keep, s, np.nan), area_coefficients=area_coefficients,
                                          poisson_ratio=poisson_ratio, epsilon=epsilon, beta=beta,
                                          indenter_modulus=indenter_modulus,
                                          indenter_poisson=indenter_poisson)
    return props


class DepthAverage(NamedTuple):
    """Mean, standard deviation and number of points of a quantity over a depth range, ``(...)``."""

    mean: np.ndarray
    std: np.ndarray
    n_points: np.ndarray


def depth_average(values, depth, depth_range, *, tolerance: float = 0.01, mask=None) -> DepthAverage:
    """Average ``values`` over the points whose depth lies in ``depth_range`` (widened by ``tolerance``).

    Parameters
    ----------
    values, depth : array_like (..., n)
        A per-point quantity (hardness, modulus) and the depth (nm); NaNs are ignored.
    depth_range : (float, float)
        Lower and upper depth (nm); each may be an array over the leading axes (one range per indent).
    tolerance : float
        Relative widening of the range, ``[lo (1 - tol), hi (1 + tol)]``. The default 1 % reproduces
        Keysight NanoSuite's "Average Over Defined Range" to the last printed digit on every indent of
        the fused-silica test file (a strict range differs by up to 0.15 GPa); 0 gives a strict range.
    mask : array_like (..., n) of bool, optional
        Points allowed (e.g. the loading segment only).

    Returns
    -------
    DepthAverage
        NaN mean where no point falls in the range.
    """
    v = np.asarray(values, dtype=float)
    h = np.asarray(depth, dtype=float)
    if v.shape != h.shape:
        raise InputError(f"values and depth must have one shape, got {v.shape} and {h.shape}")
    lo, hi = (np.asarray(b, dtype=float)[..., None] for b in depth_range)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all((lo >= 0) & (lo < hi))):
        raise InputError(f"depth_range = {depth_range!r} must be two depths 0 ≤ lo < hi (nm)")
    if not 0 <= tolerance < 0.5:
        raise InputError(f"tolerance = {tolerance!r} must be a small fraction (0.01 = 1 %)")
    sel = np.isfinite(v) & (h >= lo * (1 - tolerance)) & (h <= hi * (1 + tolerance))
    if mask is not None:
        sel &= np.broadcast_to(np.asarray(mask, dtype=bool), v.shape)
    n = sel.sum(axis=-1)
    safe = np.maximum(n, 1)
    mean = np.sum(np.where(sel, v, 0.0), axis=-1) / safe
    var = np.sum(np.where(sel, (v - mean[..., None]) ** 2, 0.0), axis=-1) / np.maximum(n - 1, 1)
    return DepthAverage(np.where(n > 0, mean, np.nan), np.where(n > 1, np.sqrt(var), np.nan), n)
