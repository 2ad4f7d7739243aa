"""X-ray absorption near the edge: E₀ from the derivative, pre-/post-edge normalisation and flattening.

All functions take absorption spectra ``mu`` of shape ``(..., n)`` on one shared energy axis ``(n,)``
(eV, either direction): a series (temperature, ageing, operando) is normalised in one pass, with the
per-spectrum edge energies and fit ranges handled by masks, never by a loop over spectra.

* **E₀** is the energy of the largest derivative dμ/dE, refined to a fraction of a step by a parabola
  through the derivative's three highest points (the "first inflection point" convention of Athena
  and Larch).
* **Normalisation**: a line fitted to the pre-edge range and a polynomial (quadratic by default) to
  the post-edge range, both relative to E₀; the edge step is their difference at E₀ and
  ``norm = (μ − pre)/step``. **Flattening** additionally removes the post-edge curvature above E₀:
  ``flat = norm − (post − pre − step)/step`` for E ≥ E₀.

References
----------
.. [1] B. Ravel and M. Newville, "ATHENA, ARTEMIS, HEPHAESTUS: data analysis for X-ray absorption
   spectroscopy using IFEFFIT", J. Synchrotron Rad. 12, 537 (2005).
.. [2] M. Newville, "Larch: an analysis package for XAFS and related spectroscopies", J. Phys.: Conf.
   Ser. 430, 012007 (2013).
.. [3] G. Bunker, Introduction to XAFS, Cambridge University Press (2010), ch. 6.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_axis_kind

__all__ = ["find_e0", "Normalization", "normalize", "polynomial_fit"]


def _prepare(energy, mu, *, min_points=10, units=None):
    check_axis_kind(units, required="energy", name="energy")
    e, y = ascending(energy, mu, name="energy", min_points=min_points)
    y = as_spectra(y, e.size, name="mu")
    if not np.all(np.isfinite(y)):
        raise InputError(f"mu holds {int(np.sum(~np.isfinite(y)))} NaN/inf values; drop those energies "
                         "(e.g. where I0 or It was zero)")
    return e, y


def find_e0(energy, mu, *, search=None, units: str | None = None) -> np.ndarray:
    """Edge energy E₀ of every spectrum: the maximum of dμ/dE, refined between grid points.

    Parameters
    ----------
    energy : array_like (n,)
        Photon energy (eV), increasing or decreasing.
    mu : array_like (..., n)
        Absorption spectra.
    search : (float, float), optional
        Energy range searched (eV); default: the whole scan except its first and last 3 %.
    units : str, optional
        Units of ``energy`` when known; a wavelength raises :class:`InputError`.

    Returns
    -------
    ndarray (...)
        E₀ in eV.

    References
    ----------
    Ravel & Newville (2005); Bunker (2010) §6.3.
    """
    e, y = _prepare(energy, mu, units=units)
    d = np.gradient(y, e, axis=-1)
    if search is None:
        span = e[-1] - e[0]
        sel = (e >= e[0] + 0.03 * span) & (e <= e[-1] - 0.03 * span)
    else:
        lo, hi = sorted(float(v) for v in search)
        sel = (e >= lo) & (e <= hi)
        if sel.sum() < 3:
            raise InputError(f"search = {search!r} holds {int(sel.sum())} energies of the scan "
                             f"({e[0]:g}–{e[-1]:g} eV); widen it")
    dd = np.where(sel, d, -np.inf)
    i = np.clip(np.argmax(dd, axis=-1), 1, e.size - 2)
    x = np.stack([e[i - 1], e[i], e[i + 1]], axis=-1)
    f = np.take_along_axis(d, np.stack([i - 1, i, i + 1], axis=-1), axis=-1)
    # vertex of the parabola through three (possibly unevenly spaced) points
    den = (x[..., 0] - x[..., 1]) * (x[..., 0] - x[..., 2]) * (x[..., 1] - x[..., 2])
    a = (x[..., 2] * (f[..., 1] - f[..., 0]) + x[..., 1] * (f[..., 0] - f[..., 2])
         + x[..., 0] * (f[..., 2] - f[..., 1])) / den
    b = (x[..., 2] ** 2 * (f[..., 0] - f[..., 1]) + x[..., 1] ** 2 * (f[..., 2] - f[..., 0])
         + x[..., 0] ** 2 * (f[..., 1] - f[..., 2])) / den
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = -b / (2 * a)
    ok = (a < 0) & (vertex >= x[..., 0]) & (vertex <= x[..., 2])
    return np.where(ok, vertex, x[..., 1])


def polynomial_fit(x, y, mask, order: int):
    """Weighted polynomial fits of every row of ``y`` over the points of its ``mask`` (batched).

    ``x`` is ``(n,)`` or ``(..., n)`` (already centred/scaled), ``y`` and ``mask`` ``(..., n)``. Returns
    the coefficients ``(..., order + 1)`` (lowest power first) and the count of points per row.
    """
    xx = np.broadcast_to(x, y.shape)
    powers = xx[..., None] ** np.arange(order + 1)
    w = mask.astype(float)
    a = np.einsum("...ni,...n,...nj->...ij", powers, w, powers)
    b = np.einsum("...ni,...n,...n->...i", powers, w, np.where(mask, y, 0.0))
    n = mask.sum(axis=-1)
    ok = n > order
    eye = np.eye(order + 1)
    a = np.where(ok[..., None, None], a, eye)
    coef = np.linalg.solve(a, b[..., None])[..., 0]
    return np.where(ok[..., None], coef, np.nan), n


class Normalization(NamedTuple):
    """Result of :func:`normalize`: per-spectrum ``(...)`` values and ``(..., n)`` curves.

    ``energy`` is the increasing axis the curves refer to; ``pre_range`` and ``post_range`` are the
    absolute energy ranges used ``(..., 2)``.
    """

    energy: np.ndarray
    e0: np.ndarray
    edge_step: np.ndarray
    pre_edge: np.ndarray
    post_edge: np.ndarray
    norm: np.ndarray
    flat: np.ndarray
    pre_range: np.ndarray
    post_range: np.ndarray


def normalize(energy, mu, *, e0=None, pre_range=(-150.0, -30.0), post_range=(150.0, None),
              post_order: int = 2, search=None, units: str | None = None) -> Normalization:
    """Pre-edge line, post-edge polynomial, edge step, normalised and flattened μ(E) of every spectrum.

    Parameters
    ----------
    energy : array_like (n,)
        Photon energy (eV), either direction.
    mu : array_like (..., n)
        Absorption spectra on that axis.
    e0 : float or array_like (...), optional
        Edge energies; default :func:`find_e0` (with ``search``).
    pre_range, post_range : (float, float or None)
        Ranges relative to E₀ (eV); ``None`` is the end of the scan. Each is clipped to the scan and
        must keep enough points for its polynomial.
    post_order : int
        Degree of the post-edge polynomial (0 constant, 1 line, 2 quadratic — Athena's default).
    search : (float, float), optional
        Passed to :func:`find_e0`.
    units : str, optional
        Units of ``energy``; a wavelength raises :class:`InputError`.

    Returns
    -------
    Normalization
        NaN for a spectrum whose edge step is not positive.

    References
    ----------
    Ravel & Newville (2005); Newville (2013).
    """
    e, y = _prepare(energy, mu, units=units)
    if post_order not in (0, 1, 2, 3):
        raise InputError(f"post_order = {post_order!r} must be 0, 1, 2 or 3")
    e0 = find_e0(e, y, search=search) if e0 is None else np.broadcast_to(
        np.asarray(e0, dtype=float), y.shape[:-1]).copy()
    if not np.all((e0 > e[0]) & (e0 < e[-1])):
        raise InputError(f"e0 lies outside the scan ({e[0]:g}–{e[-1]:g} eV)")
    rel = e - e0[..., None]
    ranges = []
    for name, (lo, hi), order in (("pre_range", pre_range, 1), ("post_range", post_range, post_order)):
        lo_a = np.maximum(e0 + (-np.inf if lo is None else float(lo)), e[0])
        hi_a = np.minimum(e0 + (np.inf if hi is None else float(hi)), e[-1])
        mask = (rel >= (lo_a - e0)[..., None]) & (rel <= (hi_a - e0)[..., None])
        if np.any(mask.sum(axis=-1) < order + 2):
            raise InputError(f"{name} = {(lo, hi)!r} eV around E0 holds {int(mask.sum(axis=-1).min())} "
                             f"points of the scan ({e[0]:g}–{e[-1]:g} eV); at least {order + 2} are "
                             "needed: widen it")
        ranges.append((mask, np.stack([lo_a, hi_a], axis=-1), order))
    scale = max(e[-1] - e[0], 1.0)
    x = rel / scale
    (pre_mask, pre_abs, _), (post_mask, post_abs, order) = ranges
    pre_c, _ = polynomial_fit(x, y, pre_mask, 1)
    post_c, _ = polynomial_fit(x, y, post_mask, order)
    powers = x[..., None] ** np.arange(order + 1)
    pre = pre_c[..., :1] + pre_c[..., 1:2] * x
    post = np.einsum("...ni,...i->...n", powers, post_c)
    step = post_c[..., 0] - pre_c[..., 0]  # both evaluated at E0 (x = 0)
    good = step > 0
    if not good.any():
        raise InputError("no absorption edge: the post-edge lies below the pre-edge in every spectrum "
                         "(is μ = ln(I0/It), not ln(It/I0)? is E0 right?)")
    safe = np.where(good, step, np.nan)[..., None]
    norm = (y - pre) / safe
    flat = np.where(rel >= 0, norm - (post - pre - safe) / safe, norm)
    nan = np.where(good, 1.0, np.nan)
    return Normalization(e, e0, step * nan, pre * nan[..., None], post * nan[..., None], norm, flat,
                         pre_abs, post_abs)
