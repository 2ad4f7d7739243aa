"""XPS core levels: background, multi-component fits with spin–orbit constraints, charge referencing.

:func:`fit_components` removes a Shirley or Tougaard background (:mod:`.xps_background`) from a
region and fits ``k`` components (pseudo-Voigt by default: a Gaussian–Lorentzian sum of common
FWHM, CasaXPS's ``SGL``) to every spectrum of a batch at once with
:func:`perovscope.bulk.peak_fit.fit_peaks`. Spin–orbit doublets are linear ties (:class:`Doublet`):
the second line sits ``separation`` eV above the first, with ``ratio`` × its area (0.5 for p, 2/3 for
d, 3/4 for f levels: (2j+1) degeneracies) and, by default, the same width and shape. With
``refine`` the Shirley background is recomputed from the fitted components (the "active" Shirley)
and the fit repeated. :func:`binding_energy` converts kinetic energies; :func:`c1s_shift` measures
the adventitious C 1s peak and returns the shift to a reference (284.8 eV by default) that
:func:`reference_energy` applies to every region of the sample.

References
----------
.. [1] D. A. Shirley, Phys. Rev. B 5, 4709 (1972); S. Tougaard, Surf. Interface Anal. 25, 137 (1997).
.. [2] N. Fairley et al., "Systematic and collaborative approach to problem solving using X-ray
   photoelectron spectroscopy", Appl. Surf. Sci. Adv. 5, 100112 (2021) (CasaXPS line shapes).
.. [3] T. L. Barr and S. Seal, "Nature of the use of adventitious carbon as a binding energy standard",
   J. Vac. Sci. Technol. A 13, 1239 (1995).
.. [4] G. Greczynski and L. Hultman, "X-ray photoelectron spectroscopy: towards reliable binding energy
   referencing", Prog. Mater. Sci. 107, 100591 (2020).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_min_points
from .components import ComponentFields, component_fields
from .lineshapes import PARAMETERS
from .peak_fit import PeakFit, Tie, fit_peaks, peak_components
from .xps_background import CROSS_SECTIONS, shirley_background, tougaard_background

__all__ = [
    "Doublet",
    "XPSFit",
    "doublet_ties",
    "fit_components",
    "binding_energy",
    "c1s_shift",
    "reference_energy",
    "BACKGROUNDS",
    "C1S_REFERENCE_EV",
]

#: Background methods of :func:`fit_components`.
BACKGROUNDS = ("shirley", "tougaard", "linear", "none")
#: Conventional binding energy of adventitious C 1s (C–C/C–H), eV.
C1S_REFERENCE_EV = 284.8


class Doublet(NamedTuple):
    """Spin–orbit pair: component ``second`` at ``first`` + ``separation`` eV with ``ratio`` × its area."""

    first: int
    second: int
    separation: float
    ratio: float = 0.5
    equal_width: bool = True


@dataclass(frozen=True, eq=False)
class XPSFit(ComponentFields):
    """Result of :func:`fit_components`: component fields ``(..., k)``; ``energy (m,)`` the region
    (increasing binding energy); ``data``, ``background``, ``fitted`` ``(..., m)``; ``components
    (..., k, m)``; ``background_B`` the Tougaard scale (NaN for others), ``background_converged``."""

    energy: np.ndarray
    data: np.ndarray
    background: np.ndarray
    fitted: np.ndarray
    components: np.ndarray
    background_B: np.ndarray
    background_converged: np.ndarray
    peak_fit: PeakFit


def binding_energy(kinetic, *, photon_energy: float, work_function: float = 0.0):
    """``E_B = hν − E_K − φ`` (eV)."""
    if not photon_energy > 0:
        raise InputError(f"photon_energy must be > 0 eV, got {photon_energy!r}")
    return float(photon_energy) - np.asarray(kinetic, dtype=float) - float(work_function)


def doublet_ties(doublets, shapes) -> list[Tie]:
    """The :class:`Tie` list of spin–orbit doublets: centre offset, area ratio, equal width and shape."""
    ties = []
    k = len(shapes)
    for d in doublets:
        if not (0 <= d.first < k and 0 <= d.second < k) or d.first == d.second:
            raise InputError(f"doublet {tuple(d)}: components must be two different indices below {k}")
        if not d.ratio > 0:
            raise InputError(f"doublet {tuple(d)}: the area ratio must be > 0")
        ties += [
            Tie(d.second, "centre", d.first, 1.0, float(d.separation)),
            Tie(d.second, "area", d.first, float(d.ratio), 0.0),
        ]
        if d.equal_width:
            if shapes[d.first] != shapes[d.second]:
                raise InputError(f"doublet {tuple(d)}: equal widths need the same line shape for both lines")
            for par in PARAMETERS[shapes[d.first]][2:]:
                ties.append(Tie(d.second, par, d.first, 1.0, 0.0))
    return ties


def _background(method, y, e, options):
    n_lead = y.shape[:-1]
    nan = np.full(n_lead, np.nan)
    if method == "shirley":
        b = shirley_background(y, e, average=options.get("average", 1))
        return b.background, nan, b.converged
    if method == "tougaard":
        cls = options.get("cross_section", "universal")
        if cls not in CROSS_SECTIONS:
            raise InputError(f"cross_section must be one of {', '.join(CROSS_SECTIONS)}, got {cls!r}")
        b0, c0, d0 = CROSS_SECTIONS[cls]
        b = tougaard_background(
            y,
            e,
            B=options.get("B", None if b0 is None or options.get("fit_B", True) else b0),
            C=options.get("C", c0),
            D=options.get("D", d0),
            gap=options.get("gap", 0.0),
            average=options.get("average", 1),
        )
        return b.background, b.B, b.converged
    ones = np.ones(n_lead, dtype=bool)
    if method == "linear":
        m = max(int(options.get("average", 1)), 1)
        lo, hi = y[..., :m].mean(-1), y[..., -m:].mean(-1)
        t = (e - e[0]) / (e[-1] - e[0])
        return lo[..., None] + (hi - lo)[..., None] * t, nan, ones
    return np.zeros_like(y), nan, ones


def fit_components(
    spectra,
    energy,
    *,
    centres,
    shape="pseudo_voigt",
    fwhm=None,
    background: str = "shirley",
    region=None,
    doublets=(),
    ties=(),
    centre_range=None,
    weights=None,
    refine: int = 0,
    background_options=None,
    max_iter: int = 300,
) -> XPSFit:
    """Background-subtract and fit ``k`` components to a core-level region of every spectrum at once.

    Parameters
    ----------
    spectra : array_like (..., n)
        Intensities (counts) over binding energy.
    energy : array_like (n,)
        Binding energies (eV), either direction.
    centres : array_like (k,)
        Start binding energies of the components.
    shape : str or sequence of str
        Line shape(s) (:data:`~perovscope.bulk.lineshapes.PARAMETERS`); default pseudo-Voigt.
    fwhm : float or array_like (k,), optional
        Start widths (eV).
    background : {"shirley", "tougaard", "linear", "none"}
        Background removed before the fit.
    region : (lo, hi), optional
        Binding-energy range analysed (default: all).
    doublets : sequence of Doublet
        Spin–orbit constraints.
    ties : sequence of Tie
        Further constraints (fixed positions, equal widths...).
    centre_range : float, optional
        Keep each centre within ± this of its start (eV).
    weights : None or "poisson"
        Unweighted, or σ = √max(counts, 1) of the recorded counts.
    refine : int
        Active-Shirley refinements: recompute the Shirley step from the fitted components and refit.
    background_options : dict, optional
        ``average`` (end points), and for Tougaard ``cross_section`` (``"universal"``/``"polymer"``),
        ``B`` (fixed scale; default fitted to the high-energy end), ``C``, ``D``, ``gap``.
    max_iter : int
        Levenberg–Marquardt iteration limit.

    Returns
    -------
    XPSFit
    """
    if background not in BACKGROUNDS:
        raise InputError(f"background must be one of {', '.join(BACKGROUNDS)}, got {background!r}")
    opts = dict(background_options or {})
    e, y = ascending(energy, spectra, name="binding energy", min_points=5)
    y = as_spectra(y, e.size)
    if region is not None:
        lo, hi = sorted(float(v) for v in region)
        sel = (e >= lo) & (e <= hi)
        if sel.sum() < 5:
            raise InputError(
                f"region {lo:g}–{hi:g} eV holds {int(sel.sum())} points of the axis {e[0]:g}–{e[-1]:g} eV"
            )
        e, y = e[sel], y[..., sel]
    check_min_points(e.size, 8, what="an XPS component fit")
    k = np.asarray(centres, dtype=float).reshape(-1).size
    shapes = (shape,) * k if isinstance(shape, str) else tuple(shape)
    all_ties = list(ties) + doublet_ties(doublets, shapes)
    bg, b_scale, converged = _background(background, y, e, opts)
    sigma = None
    if weights == "poisson":
        sigma = np.sqrt(np.maximum(y, 1.0))
    elif weights is not None:
        raise InputError(f"weights must be None or 'poisson', got {weights!r}")
    fit = None
    for step in range(int(refine) + 1):
        fit = fit_peaks(
            y - bg,
            e,
            centres=centres if fit is None else fit.centre,
            shape=shapes,
            fwhm=fwhm if fit is None else np.nanmean(fit.fwhm.reshape(-1, k), axis=0),
            baseline_order=-1,
            ties=all_ties,
            centre_range=centre_range,
            sigma=sigma,
            max_iter=max_iter,
        )
        if step < refine and background == "shirley":
            comps = peak_components(fit, e)[0].sum(axis=-2)
            m = max(int(opts.get("average", 1)), 1)
            lo_i, hi_i = y[..., :m].mean(-1), y[..., -m:].mean(-1)
            cum = np.concatenate(
                [
                    np.zeros(comps.shape[:-1] + (1,)),
                    np.cumsum(0.5 * (comps[..., 1:] + comps[..., :-1]) * np.diff(e), -1),
                ],
                -1,
            )
            frac = cum / np.where(cum[..., -1:] > 0, cum[..., -1:], np.nan)
            bg = lo_i[..., None] + (hi_i - lo_i)[..., None] * np.nan_to_num(frac)
    comps = peak_components(fit, e)[0]
    return XPSFit(
        **component_fields(fit),
        energy=e,
        data=y,
        background=bg,
        fitted=bg + comps.sum(axis=-2),
        components=comps,
        background_B=b_scale,
        background_converged=converged,
        peak_fit=fit,
    )


def c1s_shift(spectra, energy, *, reference: float = C1S_REFERENCE_EV, window: float = 3.0):
    """Shift that puts the main (C–C) C 1s peak at ``reference``: ``reference − measured``, per spectrum.

    The main peak is found at the maximum of the Shirley-corrected region, then fitted by one
    pseudo-Voigt within ± ``window`` eV of it. Returns ``(shift, shift_std, measured)`` ``(...)``.
    """
    e, y = ascending(energy, spectra, name="binding energy", min_points=8)
    y = as_spectra(y, e.size)
    if not 270.0 < reference < 300.0:
        raise InputError(f"C 1s reference must be near 284.8 eV, got {reference!r}")
    corrected = y - shirley_background(y, e).background
    mean = np.nanmean(corrected.reshape(-1, e.size), axis=0)
    peak = float(e[int(np.nanargmax(mean))])
    sel = (e >= peak - window) & (e <= peak + window)
    check_min_points(int(sel.sum()), 6, what="the C 1s fit window")
    fit = fit_peaks(corrected[..., sel], e[sel], centres=[peak], shape="pseudo_voigt", baseline_order=0)
    measured = fit.centre[..., 0]
    return reference - measured, fit.centre_std[..., 0], measured


def reference_energy(energy, shift):
    """Binding energies after a charge-referencing shift (``energy + shift``, shift in eV)."""
    return np.asarray(energy, dtype=float) + np.asarray(shift, dtype=float)
