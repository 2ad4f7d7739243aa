"""Core-loss EELS: power-law background, edge signals, normalisation, zero-loss centring.

The pre-edge background is modelled as ``A E^-r`` (Egerton 2011, §4.4). For every pixel at once a
log-linear least-squares estimate (closed form) in the user's window starts a batched nonlinear fit of
``(ln A, r)`` — least squares, or Poisson maximum likelihood for raw counts — which is then
extrapolated under the edge and subtracted. Edge signals are the background-subtracted counts summed
over an integration window above the onset.

References
----------
.. [1] R. F. Egerton, Electron Energy-Loss Spectroscopy in the Electron Microscope, 3rd ed.,
   Springer (2011), §4.4.2 (power-law background, least-squares and two-area fits), §4.5.
.. [2] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6: power law fitted 580–620 eV before the I M4,5 edge (619 eV), spectra
   cropped from 580 eV, normalised by the integrated core-loss intensity; ZLP centring checked.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._common import bad_pixel_mask, window_slice
from ._powerlaw_eval import single_thread_blas
from .eels_edges import EDGES, canonical_edge_name
from .fitting import FLAG_FAILED, FLAG_MASKED, levenberg_marquardt

__all__ = ["PowerLawFit", "power_law_background", "power_law_evaluate", "subtract_background",
           "edge_signal", "normalise_core_loss", "zero_loss_centre"]


class PowerLawFit(NamedTuple):
    """Per-pixel power law ``A E^-r``: every field has the leading shape of the spectra."""

    A: np.ndarray
    r: np.ndarray
    A_std: np.ndarray
    r_std: np.ndarray
    flag: np.ndarray


def power_law_background(spectra, energy, *, window, poisson: bool = False, refine="auto",
                         max_iter: int = 30) -> PowerLawFit:
    """Fit ``A E^-r`` to every spectrum inside ``window`` (eV).

    Parameters
    ----------
    spectra : array_like (..., n)
        Counts (or counts per channel) on ``energy``.
    energy : array_like (n,)
        Energy-loss axis in eV (positive inside the window).
    window : (float, float)
        Fitting window in eV, e.g. ``(580, 620)`` before the I M4,5 edge.
    poisson : bool
        Refine by Poisson maximum likelihood (raw counts) instead of least squares.
    refine : {"auto", True, False}
        Refine the weighted log-linear estimate by Gauss–Newton (least squares, or Poisson ML).
        ``False`` keeps the log-linear estimate (fast; its relative bias is about ``0.7/μ`` for ``μ``
        counts per channel, so it overestimates the background at low counts). ``"auto"`` (default)
        refines only the pixels where that bias could matter: where the smallest window count
        ``y_min`` is below ``10 sqrt(S)`` (``S`` the window's total counts, ``1/sqrt(S)`` a lower
        bound of the relative noise of the extrapolation), i.e. the skipped pixels' bias is below a
        tenth of their statistical error. ``True`` refines every pixel.
    max_iter : int
        Iteration limit of the nonlinear refinement.

    Returns
    -------
    PowerLawFit
        Failed or masked pixels (NaN, all-zero, negative totals, non-positive window counts) are NaN
        with flag 2 or 3.

    Raises
    ------
    InputError
        If ``window`` lies outside the axis, covers fewer than 3 channels, or has non-positive energy.

    References
    ----------
    Egerton (2011) §4.4.2.
    """
    y = np.asarray(spectra)  # only the window is converted to float below
    e = np.asarray(energy, dtype=float)
    sl = window_slice(e, window, name="window")
    ew = e[sl]
    if ew[0] <= 0:
        raise InputError(f"window={tuple(window)}: a power law needs positive energy losses")
    lead = y.shape[:-1]
    yf = y.reshape(-1, y.shape[-1])
    if refine not in ("auto", True, False):
        raise InputError(f"refine={refine!r}: use 'auto', True or False")
    bad = bad_pixel_mask(yf) > 0  # (a window without positive counts is caught below)
    e0 = float(ew[0])
    lx = np.log(ew / e0)
    # log-linear estimate: least squares of ln y on ln(E/E0) weighted by y (Var ln y ≈ 1/y for
    # counts), channels with y > 0 only — close to the optimum, so the refinement takes 1–3 steps.
    # Few full-size temporaries, weighted sums as two small matrix products.
    w = np.fmax(np.asarray(yf[:, sl], dtype=float), 0.0)  # weights: counts; 0 if ≤ 0 or NaN
    pos = w > 0
    wy = np.zeros_like(w)
    np.log(w, out=wy, where=pos)
    wy *= w
    with single_thread_blas():
        sw, sx, sxx = (w @ np.stack([np.ones_like(lx), lx, lx * lx], axis=1)).T
        sy, sxy = (wy @ np.stack([np.ones_like(lx), lx], axis=1)).T
    den = sw * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (sw * sxy - sx * sy) / den
        icpt = (sy - slope * sx) / sw
    bad |= (np.count_nonzero(pos, axis=1) < 3) | ~np.isfinite(slope)
    p0 = np.stack([np.where(bad, 0.0, icpt), np.where(bad, 3.0, -slope)], axis=-1)
    lna, r = p0[:, 0].copy(), p0[:, 1].copy()
    # weights y are inverse variances of ln y: covariance (X^T W X)^-1 without rescaling
    with np.errstate(divide="ignore", invalid="ignore"):
        r_sd = np.sqrt(sw / den)
        lna_sd = np.sqrt(sxx / den)
        cov_ar = sx / den
    flag = np.zeros(lna.shape, dtype=np.int8)
    if refine == "auto":
        with np.errstate(invalid="ignore"):
            todo = np.flatnonzero(~bad & ~(w.min(axis=1) >= 10.0 * np.sqrt(sw)))
    else:
        todo = np.flatnonzero(~bad) if refine else np.zeros(0, dtype=np.intp)
    if todo.size:
        sub = slice(None) if todo.size == lna.size else todo
        yw = np.asarray(yf[sub, sl], dtype=float)  # the counts as they are (negatives kept)
        lna_t, r_t, cov, flag_t = _refine_power_law(yw, lx, p0[sub], bad[sub], poisson, max_iter)
        lna[sub], r[sub], flag[sub] = lna_t, r_t, flag_t
        lna_sd[sub], r_sd[sub], cov_ar[sub] = (np.sqrt(cov[:, 0, 0]), np.sqrt(cov[:, 1, 1]),
                                               cov[:, 0, 1])
    flag[bad] = FLAG_MASKED
    bad_fit = flag >= FLAG_FAILED
    a = np.exp(lna) * e0 ** r  # A in the convention A E^-r with E in eV
    # ln A = ln A0 + r ln E0: propagate with the (ln A0, r) covariance
    a_var = lna_sd ** 2 + (np.log(e0) * r_sd) ** 2 + 2 * np.log(e0) * cov_ar
    a_sd = a * np.sqrt(np.clip(a_var, 0, None))
    for arr in (a, r, a_sd, r_sd):
        arr[bad_fit] = np.nan
    return PowerLawFit(a.reshape(lead), r.reshape(lead), a_sd.reshape(lead), r_sd.reshape(lead),
                       flag.astype(np.int8).reshape(lead))


def _refine_power_law(yw, lx, p0, bad, poisson, max_iter):
    """Gauss–Newton refinement of ``y = exp(a - r lx)`` for all pixels (closed-form 2×2 solves).

    The weighted log-linear start is already close to the optimum, so a few undamped steps with a
    step-halving safeguard converge; pixels that do not converge in 6 steps fall back to the general
    batched Levenberg–Marquardt. Returns ``a, r, cov (N, 2, 2), flag``.
    """
    a, r = p0[:, 0].copy(), p0[:, 1].copy()
    lx2 = lx * lx

    def cost_of_rows(mu_rows, rows):
        y = yw[rows]
        if poisson:
            mu_rows = np.maximum(mu_rows, 1e-12)
            return 2 * np.sum(mu_rows - y + np.where(y > 0, y * np.log(np.maximum(y, 1e-300) / mu_rows),
                                                     0), axis=1)
        return np.sum((y - mu_rows) ** 2, axis=1)

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mu = np.exp(a[:, None] - r[:, None] * lx)
        cost = cost_of_rows(mu, slice(None))
        done = bad.copy()
        for _ in range(6):
            todo = np.flatnonzero(~done)
            rows = slice(None) if todo.size == a.size else todo  # views while all pixels move
            mu_a = mu[rows]
            wm = mu_a / np.maximum(mu_a, 1e-3) if poisson else mu_a
            wmm = wm * mu_a
            wr = wm * (yw[rows] - mu_a)
            s00, s01, s11 = wmm.sum(1), -(wmm @ lx), wmm @ lx2  # matrix-vector products (BLAS)
            g0, g1 = wr.sum(1), -(wr @ lx)
            det = s00 * s11 - s01 * s01
            da = np.zeros_like(a)
            dr = np.zeros_like(r)
            da[todo] = (s11 * g0 - s01 * g1) / det
            dr[todo] = (s00 * g1 - s01 * g0) / det
            step = 1.0
            for _half in range(4):  # step halving until the cost decreases
                rows = slice(None) if todo.size == a.size else todo
                at, rt = a[rows] + step * da[rows], r[rows] + step * dr[rows]
                mu_t = np.exp(at[:, None] - rt[:, None] * lx)
                cost_t = cost_of_rows(mu_t, rows)
                ok = np.isfinite(cost_t) & (cost_t <= cost[rows])
                acc = todo[ok]
                rel = (cost[acc] - cost_t[ok]) / np.maximum(cost[acc], 1e-300)
                a[acc], r[acc], mu[acc], cost[acc] = at[ok], rt[ok], mu_t[ok], cost_t[ok]
                done[acc[(rel < 1e-9) | (np.abs(step * dr[acc]) < 1e-9)]] = True
                todo = todo[~ok]
                if todo.size == 0:
                    break
                step *= 0.5
            done[todo] = True  # no decrease possible along the Gauss–Newton direction: at the minimum
            if done.all():
                break
        wmm = mu / np.maximum(mu, 1e-3) * mu if poisson else mu * mu
        s00, s01, s11 = wmm.sum(1), -(wmm @ lx), wmm @ lx2
        det = s00 * s11 - s01 * s01
        inv = np.stack([np.stack([s11, -s01], -1), np.stack([-s01, s00], -1)], -2) / det[:, None, None]
        if not poisson:  # sandwich covariance: least squares on heteroscedastic counts
            r2mm = (yw - mu) ** 2 * wmm
            m00, m01, m11 = r2mm.sum(1), -(r2mm @ lx), r2mm @ lx2
            meat = np.stack([np.stack([m00, m01], -1), np.stack([m01, m11], -1)], -2)
            n = lx.size
            inv = inv @ meat @ inv * (n / max(n - 2, 1))
    flag = np.zeros(a.shape, dtype=np.int8)
    slow = ~done & ~bad
    if slow.any():  # rare: hand the stubborn pixels to the general damped solver
        def model(p):
            return np.exp(p[:, :1] - p[:, 1:2] * lx)

        def jac(p):
            m = model(p)
            return np.stack([m, -lx * m], axis=-1)

        lm = levenberg_marquardt(model, jac, yw[slow], np.stack([a[slow], r[slow]], -1),
                                 lower=[-np.inf, -20.0], upper=[np.inf, 20.0], poisson=poisson,
                                 max_iter=max_iter)
        a[slow], r[slow] = lm.params[:, 0], lm.params[:, 1]
        inv[slow] = lm.cov
        flag[slow] = lm.flag
    bad_num = ~np.isfinite(a) | ~np.isfinite(r)
    flag[bad_num & ~bad] = FLAG_FAILED
    return a, r, inv, flag


def power_law_evaluate(fit: PowerLawFit, energy):
    """The background ``A E^-r`` of every pixel on ``energy``: shape ``fit.A.shape + (n,)``."""
    e = np.asarray(energy, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return fit.A[..., None] * np.power(e, -fit.r[..., None])


def subtract_background(spectra, energy, *, window, crop: bool = True, poisson: bool = False
                        ) -> tuple[np.ndarray, np.ndarray, PowerLawFit]:
    """Fit the power law in ``window`` and subtract it; optionally crop from the window start.

    Returns
    -------
    subtracted : ndarray (..., m)
        Spectra minus background (channels from the window start when ``crop``).
    energy_out : ndarray (m,)
        The matching energy axis.
    fit : PowerLawFit

    References
    ----------
    Egerton (2011) §4.4; CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering,
    Nat. Commun. 14 (2023), doi:10.1038/s41467-023-43247-6 (crop from 580 eV).
    """
    e = np.asarray(energy, dtype=float)
    fit = power_law_background(spectra, e, window=window, poisson=poisson)
    start = window_slice(e, window, name="window").start if crop else 0
    e_out = e[start:]
    sub = np.asarray(spectra, dtype=float)[..., start:] - power_law_evaluate(fit, e_out)
    return sub, e_out, fit


def _edge_window(edge, width):
    if isinstance(edge, str):
        on = EDGES[canonical_edge_name(edge)].onset_eV
        return on, on + width
    try:
        lo, hi = (float(v) for v in edge)
    except (TypeError, ValueError):
        raise InputError(f"edges: {edge!r} is neither an edge name nor (start, end) in eV") from None
    return lo, hi


def edge_signal(spectra, energy, *, edges, background_window, width: float = 50.0,
                poisson: bool = False) -> tuple[np.ndarray, PowerLawFit]:
    """Background-subtracted counts integrated above each edge, for every pixel.

    Parameters
    ----------
    spectra : array_like (..., n)
        Core-loss counts per channel.
    energy : array_like (n,)
        Energy-loss axis in eV.
    edges : sequence of str or (float, float)
        Edge names (``"I_M45"``: integrated from the tabulated onset over ``width`` eV) or explicit
        integration windows in eV.
    background_window : (float, float)
        Power-law fitting window (eV), below the first edge.
    width : float
        Integration width (eV) for named edges.

    Returns
    -------
    signal : ndarray (..., n_edges)
        Sum over the channels of each window of (counts − background).
    fit : PowerLawFit

    References
    ----------
    Egerton (2011) §4.5 (integrated edge intensities, ratio quantification).
    """
    e = np.asarray(energy, dtype=float)
    y = np.asarray(spectra, dtype=float)
    fit = power_law_background(y, e, window=background_window, poisson=poisson)
    out = []
    for i, edge in enumerate(edges):
        sl = window_slice(e, _edge_window(edge, width), name=f"edges[{i}]")
        bg = power_law_evaluate(fit, e[sl])
        out.append(np.sum(y[..., sl] - bg, axis=-1))
    return np.stack(out, axis=-1), fit


def normalise_core_loss(spectra, energy, *, start: float | None = None, end: float | None = None):
    """Divide each spectrum by its integrated core-loss intensity between ``start`` and ``end`` (eV).

    Removes pixel-to-pixel changes of the total inelastic scattering (thickness, beam current), as in the
    CsPbI₃/ZIF-62 study (Nat. Commun. 2023) [2]_. Pixels with zero or negative integrated intensity
    become NaN.
    """
    e = np.asarray(energy, dtype=float)
    y = np.asarray(spectra, dtype=float)
    lo = e.min() if start is None else start
    hi = e.max() if end is None else end
    sl = window_slice(e, (lo, hi), name="start/end")
    total = np.sum(y[..., sl], axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, y / total, np.nan)


def zero_loss_centre(spectra, energy, *, window=(-10.0, 10.0)):
    """Centre (eV) of the zero-loss peak of every spectrum: parabolic interpolation of the maximum.

    Parameters
    ----------
    window : (float, float)
        Range searched for the peak (eV).

    Returns
    -------
    ndarray (...)
        Peak centre per pixel (NaN for bad pixels). ``abs(centre) < channel width`` means centred.

    References
    ----------
    Egerton (2011) §4.1 (zero-loss alignment); CsPbI₃/ZIF-62 glass composites: interfacial alloying
    during sintering, Nat. Commun. 14 (2023), doi:10.1038/s41467-023-43247-6 (ZLP centring at 0 eV
    checked).
    """
    e = np.asarray(energy, dtype=float)
    y = np.asarray(spectra, dtype=float)
    sl = window_slice(e, window, name="window")
    ew, yw = e[sl], y[..., sl]
    bad = bad_pixel_mask(yw) > 0
    yw = np.nan_to_num(yw)
    i = np.clip(np.argmax(yw, axis=-1), 1, ew.size - 2)
    ym = np.take_along_axis(yw, (i - 1)[..., None], -1)[..., 0]
    y0 = np.take_along_axis(yw, i[..., None], -1)[..., 0]
    yp = np.take_along_axis(yw, (i + 1)[..., None], -1)[..., 0]
    den = ym - 2 * y0 + yp
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(den < 0, 0.5 * (ym - yp) / den, 0.0)
    step = ew[1] - ew[0]
    centre = ew[i] + np.clip(frac, -0.5, 0.5) * step
    return np.where(bad, np.nan, centre)
