"""Time-resolved photoluminescence (TCSPC): multi-exponential reconvolution fits of a batch of decays.

:func:`fit_decays` fits ``μ = IRF ⊛ Σ_i A_i exp(-t/τ_i) + b`` (one to three components, a sub-channel
shift ``s`` of the decay against the measured instrument response, a constant background ``b``) to
every decay of a series at once, with the batched Levenberg–Marquardt of
:func:`perovscope.spectroscopy.fitting.levenberg_marquardt` and the analytic model and Jacobian of
:mod:`.trpl_model`. The default statistic is the Poisson likelihood (TCSPC histograms are counts;
least squares with ``1/y`` weights biases lifetimes at low counts [1]_ [2]_); standard errors are
the inverse Fisher information at the optimum. Without an instrument response the decays' tails are
fitted from one rise time after the peak (a tail fit). Mean lifetimes (amplitude- and
intensity-weighted, and the 1/e effective lifetime) with propagated errors come from
:mod:`.trpl_lifetimes`; :func:`semilog_lifetime` is the classical slope of ``ln(counts)``.

The labelled wrapper :func:`fit_decay_dataarray` and the result table live in :mod:`.trpl_xr`.

References
----------
.. [1] T. A. Laurence and B. A. Chromy, "Efficient maximum likelihood estimator fitting of
   histograms", Nat. Methods 7, 338 (2010).
.. [2] M. Maus et al., "An experimental comparison of the maximum likelihood estimation and
   nonlinear least-squares fluorescence lifetime analysis of single molecules", Anal. Chem. 73,
   2078 (2001).
.. [3] D. V. O'Connor and D. Phillips, Time-Correlated Single Photon Counting, Academic Press (1984).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import levenberg_marquardt
from ._checks import as_spectra, ascending, check_axis, check_min_points, check_positive
from .trpl_lifetimes import Lifetimes, mean_lifetimes
from .trpl_model import ReconvolutionModel
from .trpl_start import align, estimate_irf_background, recorded_mask, start_values, unalign, uniform_step

__all__ = ["DecayFit", "SemilogFit", "fit_decays", "semilog_lifetime", "STATISTICS"]

STATISTICS = ("poisson", "least_squares")
_SPREAD = {1: (1.0,), 2: (0.3, 1.3), 3: (0.1, 0.5, 1.6)}
_BUDGET = 1.5e7  # decay-channel-parameter elements per batched LM call (bounds memory)


class DecayFit(NamedTuple):
    """Result of :func:`fit_decays`; leading shape ``(...)`` of the decays, ``k`` components.

    Attributes
    ----------
    amplitudes, amplitudes_std : ndarray (..., k)
        ``A_i``: counts per channel of each component at ``t = 0`` (components sorted by lifetime).
    taus, taus_std : ndarray (..., k)
        Lifetimes (units of ``t``).
    shift, shift_std : ndarray (...)
        Delay of the decays against the instrument response (units of ``t``; std NaN when fixed).
    background, background_std : ndarray (...)
        Constant background, counts per channel (std NaN when fixed).
    cov : ndarray (..., p, p)
        Covariance of ``[A_1..A_k, τ_1..τ_k, (shift), (background)]`` in the units above.
    lifetimes : Lifetimes
        Fractions, amplitude-/intensity-weighted and effective lifetimes with errors.
    fitted, residuals : ndarray (..., n)
        Model counts, and weighted residuals ``(y - μ)/√μ`` (Poisson) or ``y - μ`` (NaN off the fit).
    mask : ndarray (..., n) of bool
        Channels used by the fit.
    deviance, dof : ndarray (...)
        Poisson deviance (or residual sum of squares) and degrees of freedom; ``deviance/dof ≈ 1`` for
        an adequate model with Poisson data.
    flag, n_iter : ndarray (...)
        Fit flag (0 converged, 1 iteration limit, 2 failed, 3 unusable data) and iterations.
    """

    amplitudes: np.ndarray
    amplitudes_std: np.ndarray
    taus: np.ndarray
    taus_std: np.ndarray
    shift: np.ndarray
    shift_std: np.ndarray
    background: np.ndarray
    background_std: np.ndarray
    cov: np.ndarray
    lifetimes: Lifetimes
    fitted: np.ndarray
    residuals: np.ndarray
    mask: np.ndarray
    deviance: np.ndarray
    dof: np.ndarray
    flag: np.ndarray
    n_iter: np.ndarray


class SemilogFit(NamedTuple):
    """Result of :func:`semilog_lifetime`: ``tau``, ``tau_std``, ``intercept`` (ln counts), ``(...)``."""

    tau: np.ndarray
    tau_std: np.ndarray
    intercept: np.ndarray


def _window_mask(t, window, name="window"):
    if window is None:
        return np.ones(t.size, dtype=bool)
    lo, hi = (float(v) for v in window)
    if not lo < hi:
        raise InputError(f"{name} must be (start, stop) with start < stop, got {window}")
    m = (t >= lo) & (t <= hi)
    if not m.any():
        raise InputError(f"{name} {window} holds no channel of the time axis ({t[0]:g}..{t[-1]:g})")
    return m


def _prepare(decays, t, irf, components, statistic):
    if components not in _SPREAD:
        raise InputError(f"components must be 1, 2 or 3, got {components!r}")
    if statistic not in STATISTICS:
        raise InputError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    t0 = check_axis(t, name="t", min_points=2 * components + 3)
    y = as_spectra(decays, t0.size, name="decays")
    t, y = ascending(t0, y, name="t", min_points=2 * components + 3)
    flipped = bool(t0[0] > t0[-1])
    step = uniform_step(t)
    if irf is not None:
        irf = np.asarray(irf, dtype=float)
        if irf.ndim != 1:
            raise InputError(f"irf must be one response (n,) shared by the decays, got shape {irf.shape}; "
                             "fit the decays of each response separately")
        _, irf = ascending(t0, irf, name="t")
        if not np.all(np.isfinite(irf)):
            raise InputError("irf holds NaN/inf values")
    if statistic == "poisson":
        check_positive(y, name="decays", why="Poisson statistics need counts >= 0 (use "
                       "statistic='least_squares' for background-subtracted data)", allow_zero=True)
    elif not np.all(np.isfinite(y)):
        raise InputError("decays hold NaN/inf values; remove those decays or channels first")
    return t, y, irf, step, flipped


def _normalised_irf(irf, irf_background):
    bg = estimate_irf_background(irf) if irf_background == "auto" else float(irf_background)
    g = np.where(recorded_mask(irf[None, :])[0], irf - bg, 0.0)
    if not np.sum(g) > 0:
        raise InputError("irf holds no counts above its background; check the IRF file")
    return g / np.sum(g)


def fit_decays(decays, t, *, irf=None, components: int = 1, tau0=None, window=None, shift=None,
               fit_shift: bool = True, max_shift=None, background=None, irf_background="auto",
               statistic: str = "poisson", max_iter: int = 200, tol: float = 1e-10) -> DecayFit:
    """Fit one to three exponentials, reconvolved with a measured IRF, to a batch of TCSPC decays.

    Parameters
    ----------
    decays : array_like (..., n)
        Photon counts per channel; a series (ageing, temperature, detectors) along leading axes.
    t : array_like (n,)
        Channel times, uniformly spaced (ns, ps, ... — the lifetimes come out in the same unit).
    irf : array_like (n,), optional
        Measured instrument response on the same channels (counts). Without it, a tail fit from
        one rise time after each decay's peak (``window`` overrides the start).
    components : {1, 2, 3}
        Number of exponentials.
    tau0 : sequence of float, optional
        Start lifetimes (units of ``t``); default from the decays' first moment.
    window : (float, float), optional
        Time range fitted (default: the recorded channels — leading and trailing runs of zeros,
        channels outside the instrument's range, are left out).
    shift : float, optional
        Start value of the decay-minus-IRF shift (fixed value when ``fit_shift`` is False);
        default estimated from the rising edges (0 when fixed).
    fit_shift : bool
        Fit the shift (reconvolution only).
    max_shift : float, optional
        Bound on ``|shift|`` (default 5 % of the time span).
    background : float, optional
        Fixed background in counts per channel; default fitted (``>= 0``).
    irf_background : "auto" or float
        Constant subtracted from the IRF before normalising it ("auto": mean of its recorded
        channels before the rise).
    statistic : {"poisson", "least_squares"}
        Poisson maximum likelihood (default), or unweighted least squares with
        heteroscedasticity-consistent errors (what many packages do; for comparison).
    max_iter, tol : int, float
        Levenberg–Marquardt iteration limit and relative cost tolerance.

    Returns
    -------
    DecayFit

    Raises
    ------
    InputError
        Unsorted/duplicated/non-uniform times, negative counts (Poisson), too few channels for
        the model, an IRF without counts, a window off the axis.

    References
    ----------
    Laurence & Chromy, Nat. Methods 7, 338 (2010); O'Connor & Phillips (1984), ch. 6.
    """
    t, y, irf, step, flipped = _prepare(decays, t, irf, components, statistic)
    lead, n = y.shape[:-1], y.shape[-1]
    yf = y.reshape(-1, n)
    nd = yf.shape[0]
    tail = irf is None
    g = None if tail else _normalised_irf(irf, irf_background)
    st = start_values(yf, recorded_mask(yf) & _window_mask(t, window)[None, :], g, components,
                      spread=_SPREAD[components], tail_window=window is None)
    fit_shift = fit_shift and not tail
    npar = 2 * components + int(fit_shift) + int(background is None)
    check_min_points(int(np.min(np.sum(st.mask, axis=1))), npar + 1,
                     what=f"a {components}-exponential decay fit")
    if tau0 is None:
        tau_start = st.tau
    else:
        tau_start = np.asarray(tau0, dtype=float).reshape(-1) / step
        if tau_start.size != components or np.any(~(tau_start > 0)):
            raise InputError(f"tau0 must hold {components} positive lifetimes, got {tau0!r}")
        tau_start = np.broadcast_to(tau_start, (nd, components))
    cols_p = [st.counts[:, None] / (components * tau_start), tau_start]
    lower = [0.0] * (2 * components)
    lower[components:] = [0.02] * components
    upper = [np.inf] * components + [1e3 * n] * components
    fixed_bg = 0.0 if background is None else float(background)
    if tail:
        ya, ma = align(yf, st.offsets), align(st.mask, st.offsets, fill=False)
        c0, c1 = _crop(ma, None)
        model = ReconvolutionModel(None, components, fit_shift=False, fit_background=background is None,
                                   background=fixed_bg, n_channels=c1 - c0, origin=st.origin - c0)
        fixed_shift = np.nan
    else:
        ya, ma = yf, st.mask
        c0, c1 = _crop(ma, g)
        m_shift = max(2.0, 0.05 * (n - 1)) if max_shift is None else float(max_shift) / step
        if shift is None:
            s_start = st.shift if fit_shift else np.zeros(nd)
        else:
            s_start = np.full(nd, float(shift) / step)
        s_start = np.clip(s_start, -m_shift, m_shift)
        fixed_shift = float(s_start[0]) * step
        model = ReconvolutionModel(g[c0:c1], components, max_negative_shift=int(np.ceil(m_shift)),
                                   fit_shift=fit_shift, fit_background=background is None,
                                   shift=float(s_start[0]), background=fixed_bg)
        if fit_shift:
            cols_p.append(s_start[:, None])
            lower.append(-m_shift)
            upper.append(m_shift)
    if background is None:
        cols_p.append(st.background[:, None])
        lower.append(0.0)
        upper.append(np.inf)
    p0 = np.concatenate(cols_p, axis=1)
    res = _lm_chunks(model, ya[:, c0:c1], p0, ma[:, c0:c1], np.array(lower), np.array(upper), statistic,
                     max_iter, tol)
    mu = np.full(ya.shape, np.nan)
    ok = np.isfinite(res.cost)
    mu[:, c0:c1] = model.model(np.where(np.isfinite(res.params), res.params, 1.0))
    mu[~ok] = np.nan
    if tail:
        mu = unalign(mu, st.offsets, n)
    return _assemble(res, model, yf, mu, st.mask, step, components, flipped, lead, statistic,
                     fixed_shift=fixed_shift, fixed_bg=fixed_bg)


def _crop(mask, g):
    """First and last+1 channel any decay uses (and the start of the response, which feeds them)."""
    cols = np.flatnonzero(mask.any(axis=0))
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    if g is not None:
        c0 = min(c0, int(np.flatnonzero(g)[0]))
    return c0, c1


def _lm_chunks(model, y, p0, mask, lower, upper, statistic, max_iter, tol):
    nd, nc = y.shape
    size = max(1, int(_BUDGET // (nc * p0.shape[1])))
    parts = []
    for i in range(0, nd, size):  # chunks of many decays (memory bound), each fitted in one call
        sl = slice(i, i + size)
        parts.append(levenberg_marquardt(model.model, model.jacobian, y[sl], p0[sl], lower=lower,
                                         upper=upper, poisson=statistic == "poisson", mask=mask[sl],
                                         max_iter=max_iter, tol=tol))
    return type(parts[0])(*(np.concatenate(f, axis=0) for f in zip(*parts, strict=True)))


def _assemble(res, model, yf, mu, mask, step, k, flipped, lead, statistic, *, fixed_shift, fixed_bg):
    nd, n = yf.shape
    params, cov = res.params, res.cov
    npar = params.shape[1]
    order = np.argsort(params[:, k:2 * k], axis=1)
    rest = np.broadcast_to(np.arange(2 * k, npar), (nd, npar - 2 * k))
    perm = np.concatenate([order, order + k, rest], axis=1)
    params = np.take_along_axis(params, perm, axis=1)
    cov = np.take_along_axis(np.take_along_axis(cov, perm[:, :, None], axis=1), perm[:, None, :], axis=2)
    scale = np.ones(npar)
    scale[k:2 * k + int(model.fit_shift)] = step
    pu = params * scale
    cu = cov * scale[:, None] * scale[None, :]
    std = np.where(np.isfinite(pu), np.sqrt(np.maximum(np.einsum("ipp->ip", cu), 0.0)), np.nan)
    nan = np.full(nd, np.nan)
    if model.fit_shift:
        shift, shift_std = pu[:, 2 * k], std[:, 2 * k]
    else:
        shift, shift_std = np.full(nd, fixed_shift), nan
    if model.fit_background:
        bg, bg_std = pu[:, -1], std[:, -1]
    else:
        bg, bg_std = np.full(nd, fixed_bg), nan
    if statistic == "poisson":
        resid = (yf - mu) / np.sqrt(np.maximum(mu, 1e-12))
    else:
        resid = yf - mu
    resid = np.where(mask, resid, np.nan)
    dof = np.sum(mask, axis=1) - npar
    life = mean_lifetimes(pu[:, :k], pu[:, k:2 * k], cu[:, :2 * k, :2 * k])

    def sh(a):
        a = np.asarray(a)
        return a.reshape(lead + a.shape[1:])

    def chan(a):
        return sh(a[:, ::-1] if flipped else a)

    return DecayFit(sh(pu[:, :k]), sh(std[:, :k]), sh(pu[:, k:2 * k]), sh(std[:, k:2 * k]), sh(shift),
                    sh(shift_std), sh(bg), sh(bg_std), sh(cu), Lifetimes(*(sh(f) for f in life)),
                    chan(mu), chan(resid), chan(mask), sh(res.cost), sh(dof), sh(res.flag),
                    sh(res.n_iter))


def semilog_lifetime(decays, t, *, window=None) -> SemilogFit:
    """Lifetime from the slope of ``ln(counts)`` against time (weighted linear regression).

    The classical "semi-log plot" estimate: ``ln y = c - t/τ`` fitted over ``window`` with weights
    ``y`` (the inverse variance of ``ln y`` for Poisson counts). It is exact for one exponential
    without background and a quick apparent lifetime otherwise.

    Parameters
    ----------
    decays : array_like (..., n)
        Counts (every channel in the window must be positive: a logarithm is taken).
    t : array_like (n,)
        Channel times.
    window : (float, float), optional
        Time range; default from the peak of the summed decays to the end.

    Returns
    -------
    SemilogFit

    Raises
    ------
    InputError
        Non-positive counts in the window, unsorted or duplicated times, fewer than 3 channels.
    """
    t = np.asarray(t, dtype=float)
    y = as_spectra(decays, t.size, name="decays")
    t, y = ascending(t, y, name="t", min_points=3)
    if window is None:
        total = np.sum(y.reshape(-1, t.size), axis=0)
        m = t >= t[int(np.argmax(total))]
    else:
        m = _window_mask(t, window)
    check_min_points(int(m.sum()), 3, what="a semi-log lifetime")
    ym = check_positive(y[..., m], name="decays", why="the logarithm of the counts is taken")
    tm = t[m]
    w = ym
    ly = np.log(ym)
    sw, st_ = w.sum(-1), (w * tm).sum(-1)
    stt, sy, sty = (w * tm * tm).sum(-1), (w * ly).sum(-1), (w * tm * ly).sum(-1)
    det = sw * stt - st_ * st_
    slope = (sw * sty - st_ * sy) / det
    icpt = (stt * sy - st_ * sty) / det
    slope_var = sw / det
    return SemilogFit(-1.0 / slope, np.sqrt(slope_var) / (slope * slope), icpt)
