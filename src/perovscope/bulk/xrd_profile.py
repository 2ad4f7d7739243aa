"""Pseudo-Voigt peaks of a powder pattern evaluated on windows of the 2θ axis, for a batch at once.

A powder pattern holds hundreds of peaks whose widths grow with 2θ; evaluating every peak over the
whole axis wastes most of the work, so each peak is evaluated on a window of ``n_fwhm`` FWHMs either
side of its centre. Peaks are grouped into classes of similar window length (powers of two points)
so that one array per class holds every pattern of the batch. The truncated profile has the value at
its window edge subtracted (the model stays continuous as widths change) and is renormalised to the
full area, so scale factors — and Hill–Howard weight fractions — are not biased by the cut tails.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .lineshapes import profile_jac

__all__ = ["PeakBlock", "peak_blocks", "scatter_blocks"]

_LN2 = np.log(2.0)


class PeakBlock(NamedTuple):
    """Peaks ``cols`` (indices into the peak list) on windows ``idx`` ``(N, J_c, M_c)`` of the axis.

    ``value`` is the profile (area included); ``unit`` the profile per unit area and ``dc``, ``dw``,
    ``de`` its derivatives with respect to centre, FWHM and η (area included); all zero outside
    each peak's window. The derivative fields are None unless requested.
    """

    cols: np.ndarray
    idx: np.ndarray
    value: np.ndarray
    unit: np.ndarray | None = None
    dc: np.ndarray | None = None
    dw: np.ndarray | None = None
    de: np.ndarray | None = None


def _truncation(w, e, n_fwhm):
    """Edge value (per unit area), captured fraction of the edge-subtracted profile and d/dη of it."""
    from scipy.special import erf

    n = n_fwhm
    l_edge = 2.0 / (np.pi * w) / (1.0 + 4.0 * n * n)
    g_edge = np.sqrt(4.0 * _LN2 / np.pi) / w * np.exp(-4.0 * _LN2 * n * n)
    lor = (2.0 / np.pi) * np.arctan(2.0 * n) - 4.0 * n / (np.pi * (1.0 + 4.0 * n * n))
    gau = erf(2.0 * np.sqrt(_LN2) * n) - 2.0 * n * g_edge * w
    frac = (1.0 - e) * gau + e * lor
    return e * l_edge + (1.0 - e) * g_edge, l_edge - g_edge, frac, lor - gau


def _block(x, cols, area, centre, fwhm, eta, m, n_fwhm, derivatives):
    n = x.size
    a, c, w, e = (v[:, cols] for v in (area, centre, fwhm, eta))
    half = n_fwhm * w
    start = np.searchsorted(x, c - half)
    raw = start[..., None] + np.arange(m)
    idx = np.minimum(raw, n - 1)
    xw = x[idx]
    a3, c3, w3, e3 = a[..., None], c[..., None], w[..., None], e[..., None]
    keep = (raw < n) & (np.abs(xw - c3) <= half[..., None])
    edge, d_edge, frac, d_frac = _truncation(w3, e3, n_fwhm)
    if not derivatives:
        u = 2.0 * (xw - c3) / w3
        lor = 2.0 / (np.pi * w3) / (1.0 + u * u)
        gau = np.sqrt(4.0 * _LN2 / np.pi) / w3 * np.exp(-_LN2 * u * u)
        value = np.where(keep, a3 * (e3 * lor + (1.0 - e3) * gau - edge) / frac, 0.0)
        return PeakBlock(cols, idx, value)
    _, (unit, dc, dw, de) = profile_jac("pseudo_voigt", xw, 1.0, c3, w3, e3)
    net = unit - edge
    de = np.where(keep, a3 * ((de - d_edge) / frac - net * d_frac / frac**2), 0.0)
    dw = np.where(keep, a3 * (dw + edge / w3) / frac, 0.0)
    dc = np.where(keep, a3 * dc / frac, 0.0)
    unit = np.where(keep, net / frac, 0.0)
    return PeakBlock(cols, idx, a3 * unit, unit, dc, dw, de)


def peak_blocks(x, area, centre, fwhm, eta, *, n_fwhm: float = 12.0, derivatives: bool = False):
    """Profiles of the peaks ``(N, J)`` (area, centre, FWHM, η in the units of ``x``) as blocks.

    Peaks whose windows miss the axis, or whose area is zero, in every pattern are left out.
    """
    x = np.asarray(x, dtype=float)
    step = float(np.min(np.diff(x)))
    half = n_fwhm * fwhm
    live = np.any((area != 0) & (centre + half >= x[0]) & (centre - half <= x[-1]), axis=0)
    need = np.ceil(2.0 * np.max(half, axis=0) / step) + 2.0
    cls = np.ceil(np.log2(np.maximum(need, 8.0))).astype(int)
    blocks = []
    for k in np.unique(cls[live]):
        cols = np.flatnonzero(live & (cls == k))
        m = int(min(x.size, 2**k))
        blocks.append(_block(x, cols, area, centre, fwhm, eta, m, n_fwhm, derivatives))
    return blocks


def scatter_blocks(n: int, blocks, weights=None) -> np.ndarray:
    """Sum windowed values onto the axis: ``(N, n)``.

    ``weights(block) -> (rows (N, J_c, M_c), peak selector (J_c,) bool or None)`` gives what is
    summed for each block (default: the profile values).
    """
    out = None
    for b in blocks:
        vals, sel = (b.value, None) if weights is None else weights(b)
        idx = b.idx if sel is None else b.idx[:, sel]
        if vals is None or idx.size == 0:
            continue
        nrow = idx.shape[0]
        flat = (idx + (np.arange(nrow) * n)[:, None, None]).ravel()
        part = np.bincount(flat, weights=vals.ravel(), minlength=nrow * n).reshape(nrow, n)
        out = part if out is None else out + part
    return out
