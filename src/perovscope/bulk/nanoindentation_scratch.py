"""Nano-scratch tests: lateral force, friction coefficient and depth profiles along the scratch.

In a scratch test the tip is pressed with a normal force ``F_N`` (constant, or ramped) and dragged
along the surface while the lateral force ``F_L`` and the depth are recorded. A pre-scan at a tiny
load records the surface profile and a post-scan the residual groove, so that

* penetration depth ``d_p(x) = d(x) - d_pre(x)`` (depth under load, from the surface),
* residual depth ``d_r(x) = d_post(x) - d_pre(x)``,
* elastic recovery ``1 - d_r/d_p`` and the friction coefficient ``μ = F_L/F_N``,

and a sudden jump of the lateral force (cracking, delamination, a pile-up breaking off) marks a
critical event. Scratches share one distance axis ``(n,)``; data are ``(..., n)``.

References
----------
.. [1] ASTM G171-03, Standard Test Method for Scratch Hardness of Materials Using a Diamond Stylus
   (2017).
.. [2] B. Bhushan, Nanotribology and Nanomechanics, 4th ed., Springer (2017), ch. 10 (scratch and
   wear).
.. [3] S. J. Bull, "Failure modes in scratch adhesion testing", Surf. Coat. Technol. 50, 25 (1991).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending

__all__ = ["ScratchProfile", "scratch_profile"]


class ScratchProfile(NamedTuple):
    """Profiles ``(..., n)`` and per-scratch summaries ``(...)`` of :func:`scratch_profile`.

    Attributes
    ----------
    distance : ndarray (n,)
        Increasing distance along the scratch.
    friction, penetration_depth, residual_depth : ndarray (..., n)
        μ = F_L/F_N (NaN where F_N is below 1 % of its maximum), depth under load and residual
        depth from the surface (NaN without a pre-/post-scan).
    mean_lateral_force, mean_normal_force, mean_friction, friction_std : ndarray (...)
        Over the analysis window.
    mean_penetration_depth, max_penetration_depth, mean_residual_depth, elastic_recovery : ndarray
        Over the analysis window (elastic recovery ``1 - d_r/d_p`` of the means).
    event_distance : ndarray (...)
        Distance of the first lateral-force jump larger than ``event_threshold`` robust standard
        deviations of the point-to-point changes (NaN when there is none).
    """

    distance: np.ndarray
    friction: np.ndarray
    penetration_depth: np.ndarray
    residual_depth: np.ndarray
    mean_lateral_force: np.ndarray
    mean_normal_force: np.ndarray
    mean_friction: np.ndarray
    friction_std: np.ndarray
    mean_penetration_depth: np.ndarray
    max_penetration_depth: np.ndarray
    mean_residual_depth: np.ndarray
    elastic_recovery: np.ndarray
    event_distance: np.ndarray


def _nanmean(a, sel):
    n = np.sum(sel & np.isfinite(a), axis=-1)
    s = np.sum(np.where(sel & np.isfinite(a), a, 0.0), axis=-1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan), n


def scratch_profile(distance, lateral_force, normal_force, depth, *, pre_scan=None, post_scan=None,
                    window=None, event_threshold: float = 8.0) -> ScratchProfile:
    """Friction, penetration and residual depth along scratches, with per-scratch summaries.

    Parameters
    ----------
    distance : array_like (n,)
        Position along the scratch (µm), either direction.
    lateral_force, normal_force : array_like (..., n)
        Forces in one unit (mN or µN); ``normal_force`` may be ``(n,)`` for a shared load profile.
    depth : array_like (..., n)
        Depth under load, positive into the surface (nm).
    pre_scan, post_scan : array_like (..., n), optional
        Surface profile before and groove profile after the scratch, same depth convention.
    window : (float, float), optional
        Distance range of the summaries (default: all; leave out the start-up and the end).
    event_threshold : float
        Jump detection threshold in robust standard deviations (1.4826 × median absolute deviation)
        of the point-to-point lateral-force changes.

    Returns
    -------
    ScratchProfile
    """
    x, fl = ascending(distance, lateral_force, name="distance", min_points=5)
    flip = np.asarray(distance, dtype=float)[0] > np.asarray(distance, dtype=float)[-1]
    n = x.size

    def prep(a, name):
        if a is None:
            return None
        arr = as_spectra(a, n, name=name)
        return arr[..., ::-1] if flip else arr

    fl = as_spectra(fl, n, name="lateral_force")
    fn = prep(normal_force, "normal_force")
    d = prep(depth, "depth")
    pre, post = prep(pre_scan, "pre_scan"), prep(post_scan, "post_scan")
    shape = np.broadcast_shapes(fl.shape, fn.shape, d.shape)
    fl, fn, d = (np.broadcast_to(a, shape) for a in (fl, fn, d))
    if not event_threshold > 0:
        raise InputError(f"event_threshold = {event_threshold!r} must be positive")
    fn_max = np.nanmax(np.abs(fn), axis=-1, keepdims=True)
    if not np.all(fn_max > 0):
        raise InputError("normal_force is zero everywhere for at least one scratch; give the normal load")
    friction = np.where(np.abs(fn) > 0.01 * fn_max, fl / np.where(fn != 0, fn, np.nan), np.nan)
    pen = d - pre if pre is not None else np.array(d, dtype=float)
    resid = post - pre if (post is not None and pre is not None) else np.full(shape, np.nan)
    if post is not None and pre is None:
        resid = np.broadcast_to(post, shape).astype(float)
    sel = np.ones(n, dtype=bool)
    if window is not None:
        lo, hi = sorted(float(v) for v in window)
        sel = (x >= lo) & (x <= hi)
        if sel.sum() < 2:
            raise InputError(f"window {window!r} holds {int(sel.sum())} points of the distance axis "
                             f"({x[0]:g}–{x[-1]:g}); widen it")
    sel = np.broadcast_to(sel, shape)
    mu_mean, _ = _nanmean(friction, sel)
    mu_var, nmu = _nanmean((friction - mu_mean[..., None]) ** 2, sel)
    pen_mean, _ = _nanmean(pen, sel)
    res_mean, _ = _nanmean(resid, sel)
    step = np.diff(fl, axis=-1)
    dev = np.abs(step - np.median(step, axis=-1, keepdims=True))
    mad = np.median(dev, axis=-1, keepdims=True)
    floor = 1e-9 * np.max(np.abs(fl), axis=-1, keepdims=True)  # noise-free data: any departure counts
    jump = dev > event_threshold * np.maximum(1.4826 * mad, floor)
    jump &= sel[..., 1:]
    first = np.argmax(jump, axis=-1)
    event = np.where(jump.any(axis=-1), x[1:][first], np.nan)
    return ScratchProfile(
        distance=x, friction=friction, penetration_depth=pen, residual_depth=resid,
        mean_lateral_force=_nanmean(fl, sel)[0], mean_normal_force=_nanmean(fn, sel)[0],
        mean_friction=mu_mean, friction_std=np.where(nmu > 1, np.sqrt(mu_var * nmu / np.maximum(nmu - 1, 1)),
                                                     np.nan),
        mean_penetration_depth=pen_mean,
        max_penetration_depth=np.nanmax(np.where(sel, pen, np.nan), axis=-1),
        mean_residual_depth=res_mean, elastic_recovery=1.0 - res_mean / pen_mean, event_distance=event)
