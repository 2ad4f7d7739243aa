"""Cliff–Lorimer quantification of EDX net counts, with a documented theoretical k-factor model.

Thin-foil (no absorption/fluorescence correction) quantification: weight fractions
``C_A ∝ k_A I_A`` normalised to 100 wt%, converted to atomic % with the atomic weights. The default
k-factors (relative to Si Kα = 1) come from a first-principles model, not from standards:

``k_A ∝ A_A / (Q_A ω_A a_A)``, with the Bethe ionisation cross-section ``Q ∝ n_s b_s ln(E0/E_c)/E_c``
(E0 beam energy, E_c critical ionisation energy of the shell), fluorescence yield
``ω = Z⁴/(a_s + Z⁴)`` (a_K = 7.5e5, a_L = 9.6e7, a_M = 1.46e9, fitted to Bambynek's tabulated yields
for Si/Cu, I/Pb and Pb) and ``a_A`` the fraction of the emission from the alpha line's subshell
(K, L3, M5) that goes into the alpha line (weights from :mod:`perovscope.spectroscopy.xray_lines`);
L3 and M5 cross-sections are doubled for Coster–Kronig transfer. Detector efficiency is taken as 1
(no window absorption). The model gives e.g. Cl Kα 1.08, Br Kα 2.76, Cs Lα 3.8, Pb Lα 5.4 at 300 kV;
it has **not** been validated against measured k-factors, so expect errors of tens of percent
(more below 1 keV: C, N, O, F, Na Kα; Zn/Cu L). Calibrated k-factors
from standards should be passed as ``k_factors={"Cl": ..., "Br": ...}``; they override the model.

References
----------
.. [1] G. Cliff and G. W. Lorimer, "The quantitative analysis of thin specimens", J. Microsc. 103,
   203 (1975).
.. [2] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 35 (k-factors: experimental and calculated).
.. [3] C. J. Powell, "Cross sections for ionization of inner-shell electrons by electrons",
   Rev. Mod. Phys. 48, 33 (1976) — Bethe form and n_s b_s.
.. [4] W. Bambynek et al., "X-ray fluorescence yields, Auger, and Coster-Kronig transition
   probabilities", Rev. Mod. Phys. 44, 716 (1972).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .eels_edges import EDGES
from .xray_lines import ATOMIC_WEIGHTS, ELEMENTS, xray_lines

__all__ = ["k_factor", "default_k_factors", "cliff_lorimer", "Quantification", "halide_ratio",
           "k_factors_from_standards"]

# n_s b_s (Powell 1976): K 2×0.35; L3 4×0.25 and M5 6×0.25, doubled for the vacancies that
# Coster–Kronig transitions move into L3/M5 from the inner subshells (Bambynek et al. 1972).
_NB = {"K": 0.7, "L": 2.0, "M": 3.0}
# lines fed by the alpha line's subshell (K; L3: La, Lb2, Ll; M5: Ma, Mz)
_SAME_SUBSHELL = {"K": ("Ka", "Kb"), "L": ("La", "Lb2", "Ll"), "M": ("Ma", "Mz")}
_A_OMEGA = {"K": 7.5e5, "L": 9.6e7, "M": 1.46e9}
_EDGE_KEY = {"K": "K", "L": "L23", "M": "M45"}


def _critical_energy_eV(element: str, family: str) -> float:
    edge = EDGES.get(f"{element}_{_EDGE_KEY[family]}")
    if edge is not None:
        return edge.onset_eV
    lines = {ln.name: ln.energy_eV for ln in xray_lines(element, family=family)}
    if family == "K":
        return lines["Kb"] * 1.005 if "Kb" in lines else lines["Ka"] * 1.02
    if family == "L":
        return lines["Lb2"] * 1.02 if "Lb2" in lines else lines["La"] * 1.005
    return lines["Ma"] * 1.06


def k_factor(element: str, family: str, *, beam_energy_keV: float = 200.0) -> float:
    """Theoretical Cliff–Lorimer k-factor of ``element``'s alpha line of ``family``, relative to
    Si Kα (``k_Si = 1``), for a thin foil at ``beam_energy_keV`` (see the module docstring).

    References
    ----------
    Cliff & Lorimer (1975); Powell (1976); Bambynek et al. (1972); Williams & Carter (2009) ch. 35.
    """
    if element not in ELEMENTS:
        raise InputError(f"element={element!r}: not in the X-ray line table")
    if family not in _NB:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    if not xray_lines(element, family=family):
        raise InputError(f"family={family!r}: {element} has no {family} lines in the table")

    def sensitivity(el, fam):
        e0 = 1000.0 * beam_energy_keV
        ec = _critical_energy_eV(el, fam)
        if ec >= e0:
            return 0.0
        q = _NB[fam] * np.log(e0 / ec) / ec
        z4 = float(ELEMENTS[el]) ** 4
        omega = z4 / (_A_OMEGA[fam] + z4)
        alpha_fraction = 1.0 / sum(ln.weight for ln in xray_lines(el, family=fam)
                                   if ln.name in _SAME_SUBSHELL[fam])
        return q * omega * alpha_fraction / ATOMIC_WEIGHTS[el]

    s = sensitivity(element, family)
    if s <= 0:
        raise InputError(f"{element} {family}: not excited at {beam_energy_keV} kV")
    return float(sensitivity("Si", "K") / s)


def default_k_factors(elements, families, *, beam_energy_keV: float = 200.0) -> dict[str, float]:
    """Model k-factors ``{element: k}`` for the given elements and their quantification families."""
    return {el: k_factor(el, fam, beam_energy_keV=beam_energy_keV)
            for el, fam in zip(elements, families, strict=True)}


class Quantification(NamedTuple):
    """Cliff–Lorimer result: ``weight_percent``/``atomic_percent`` ``(..., n_elements)``,
    ``k_factors`` used (dict), ``elements`` (tuple)."""

    weight_percent: np.ndarray
    atomic_percent: np.ndarray
    k_factors: dict
    elements: tuple


def cliff_lorimer(net_counts, elements, *, families=None, k_factors=None,
                  beam_energy_keV: float = 200.0) -> Quantification:
    """Weight and atomic percent from net line counts with the Cliff–Lorimer ratio method.

    Parameters
    ----------
    net_counts : array_like (..., n_elements)
        Background-subtracted counts of each element's quantification line (e.g. from
        :func:`perovscope.spectroscopy.edx.fit_edx`).
    elements : sequence of str
        Element of each last-axis entry.
    families : sequence of str, optional
        Family (K/L/M) of each line, needed for the default k-factors (default: ``"K"``).
    k_factors : dict, optional
        ``{element: k}`` overrides (relative to any common reference); missing elements use the model.
    beam_energy_keV : float
        For the model k-factors.

    Returns
    -------
    Quantification
        Pixels with non-finite counts or a non-positive weighted total are NaN.

    References
    ----------
    Cliff & Lorimer (1975); Williams & Carter (2009) ch. 35.
    """
    counts = np.asarray(net_counts, dtype=float)
    elements = tuple(elements)
    if counts.shape[-1] != len(elements):
        raise InputError(f"elements: {len(elements)} names for {counts.shape[-1]} count columns")
    fams = tuple(families) if families is not None else ("K",) * len(elements)
    k = default_k_factors(elements, fams, beam_energy_keV=beam_energy_keV) \
        if k_factors is None or set(elements) - set(k_factors) else {}
    for el, val in (k_factors or {}).items():
        if el in elements:
            if not np.isfinite(val) or val <= 0:
                raise InputError(f"k_factors[{el!r}]={val!r}: must be a positive number")
            k[el] = float(val)
    kv = np.array([k[el] for el in elements])
    weighted = np.clip(counts, 0, None) * kv
    total = np.sum(weighted, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        wt = np.where(total > 0, 100.0 * weighted / total, np.nan)
        molar = wt / np.array([ATOMIC_WEIGHTS[el] for el in elements])
        at = 100.0 * molar / np.sum(molar, axis=-1, keepdims=True)
    return Quantification(wt, at, {el: k[el] for el in elements}, elements)


def halide_ratio(atomic_percent, elements, numerator=("Cl",), denominator=("Cl", "Br")):
    """Ratio map such as Cl/(Cl+Br) from atomic percent ``(..., n_elements)``."""
    elements = list(elements)
    for el in set(numerator) | set(denominator):
        if el not in elements:
            raise InputError(f"elements: {el} is needed for the ratio but not quantified")
    at = np.asarray(atomic_percent, dtype=float)
    num = sum(at[..., elements.index(el)] for el in numerator)
    den = sum(at[..., elements.index(el)] for el in denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def k_factors_from_standards(spectra, energy, elements, *, atoms_per_nm2=1.0, reference: str = "Si",
                             beam_energy_keV: float = 200.0, **model_kwargs) -> dict[str, float]:
    """Cliff–Lorimer k-factors measured on thin pure-element standards.

    Each standard ``i`` (a spectrum of element ``elements[i]`` alone, recorded with the same dose,
    detector and fit settings) gives the net alpha-line counts per atom, ``s_i = I_i / n_i``; the
    k-factor is ``k_i ∝ A_i / s_i`` (weight-fraction convention), normalised to ``reference``
    (or to the first element when the reference is not among the standards).

    Parameters
    ----------
    spectra : array_like (n_elements, n)
        One standard spectrum per element, in the order of ``elements``.
    energy : array_like (n,)
        Channel energies (eV).
    elements : sequence of str
        The element of each standard.
    atoms_per_nm2 : float or array_like (n_elements,)
        Areal density of each standard (times its relative dose if doses differ).
    reference : str
        Element whose k-factor is 1.
    **model_kwargs
        Passed to :func:`perovscope.spectroscopy.edx.edx_model` (``fwhm_mn_ka``, ``background``...).

    References
    ----------
    Cliff & Lorimer (1975); Williams & Carter (2009) ch. 35 (experimental k-factors from standards).
    """
    from .edx import edx_model, fit_edx

    elements = list(elements)
    y = np.asarray(spectra, dtype=float)
    if y.ndim != 2 or y.shape[0] != len(elements):
        raise InputError(f"spectra: need one standard spectrum per element ({len(elements)}), got "
                         f"shape {y.shape}")
    m = edx_model(energy, elements, beam_energy_keV=beam_energy_keV, **model_kwargs)
    net = np.diag(fit_edx(y, energy, elements, model=m).net_counts)
    sens = net / np.broadcast_to(np.asarray(atoms_per_nm2, dtype=float), net.shape)
    if np.any(~np.isfinite(sens) | (sens <= 0)):
        bad = [el for el, v in zip(elements, sens, strict=True) if not (np.isfinite(v) and v > 0)]
        raise InputError(f"spectra: no net counts for the standard(s) of {', '.join(bad)}")
    k = {el: ATOMIC_WEIGHTS[el] / v for el, v in zip(elements, sens, strict=True)}
    ref = k[reference] if reference in k else k[elements[0]]
    return {el: float(v / ref) for el, v in k.items()}
