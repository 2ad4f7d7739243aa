"""Thin-foil X-ray generation model behind the theoretical Cliff–Lorimer k-factors of the analysis.

For a thin specimen each beam electron produces, per atom and per steradian of collection,
``σ_s ω_s / 4π`` photons of shell family *s* (K, L, M), shared among the lines of the family in
proportion to their tabulated weights (:mod:`perovscope.physics.xray`), each detected with
efficiency ``ε(E)``:

* σ_s: Bethe's ionisation cross-section ``σ = 6.51e-20 n_s b_s ln(c_s U) / (U E_c²)`` cm²
  (E_c in keV, ``U = E0/E_c``, non-relativistic) with Powell's constants for the whole shell
  (K: n=2, b=0.9, c=0.65; L: 8, 0.5, 1; M: 18, 0.5, 1); the critical energy E_c is the absorption
  edge of the subshell that emits the alpha line (K, L3, M5; Elam et al. 2002 via
  :func:`perovscope.physics.edge_energy_eV`);
* ω_s: the tabulated fluorescence yield of that subshell (:func:`perovscope.physics.fluorescence_yield`);
* ε(E) = ``1 − exp(−(E/E_w)²)``: a window-less/thin-window silicon-drift detector losing soft
  X-rays below E_w (150 eV by default); transparent at all energies above ~0.4 keV.

With this model the Cliff–Lorimer relation is exact for a thin foil: the alpha line of element A
gives ``I_A = N_e n_A t Ω/4π · σ_A ω_A f_A ε(E_A)`` (``f_A`` the alpha line's share of its family),
so ``C_A/C_B = k_AB I_A/I_B`` with ``k_A ∝ M_A / (σ_A ω_A f_A ε(E_A))`` (M: atomic weight) —
absorption and fluorescence in the specimen, which thin lamellae neglect, are the only missing terms.
The EDX simulator (:mod:`perovscope.simulate.xray_emission`) does *not* use this model: it has its own
relativistic cross-section, so that simulated spectra test these k-factors instead of reproducing them.

References
----------
.. [1] C. J. Powell, "Cross sections for ionization of inner-shell electrons by electrons",
   Rev. Mod. Phys. 48, 33 (1976).
.. [2] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 4 (ionisation cross-section, fluorescence yield) and ch. 35 (calculated k-factors).
.. [3] W. T. Elam, B. D. Ravel and J. R. Sieber, Radiat. Phys. Chem. 63, 121 (2002) — ω, edges.
.. [4] G. Cliff and G. W. Lorimer, J. Microsc. 103, 203 (1975).
.. [5] J. I. Goldstein et al., Scanning Electron Microscopy and X-Ray Microanalysis, 4th ed.,
   Springer (2018), ch. 16 and 19 (detector efficiency).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..physics import elements as _elements
from ..physics import xray as _xray
from ..physics.elements import ATOMIC_WEIGHT as ATOMIC_WEIGHTS
from ..physics.xray import LINE_ELEMENTS as ELEMENTS
from ..physics.xray import xray_lines

__all__ = ["ionisation_cross_section_nm2", "fluorescence_yield", "critical_energy_eV",
           "family_yields", "detector_efficiency", "line_sensitivity", "theoretical_k_factors",
           "DEFAULT_EFFICIENCY_EDGE_EV"]

#: Soft-X-ray efficiency scale E_w (eV) of ``ε(E) = 1 − exp(−(E/E_w)²)``.
DEFAULT_EFFICIENCY_EDGE_EV = 150.0

# Powell (1976) / Williams & Carter (2009) Bethe constants: electrons per shell n_s, b_s, c_s.
_SHELL = {"K": (2, 0.9, 0.65), "L": (8, 0.5, 1.0), "M": (18, 0.5, 1.0)}


def ionisation_cross_section_nm2(edge_keV: float, family: str, *, beam_energy_keV: float) -> float:
    """Bethe inner-shell ionisation cross-section (nm²) of one shell family [1]_ [2]_.

    Zero at or below threshold (``U = E0/E_c ≤ 1``).
    """
    if family not in _SHELL:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    n_s, b_s, c_s = _SHELL[family]
    u = beam_energy_keV / edge_keV
    if u <= 1.0:
        return 0.0
    sigma_cm2 = 6.51e-20 * n_s * b_s * np.log(max(c_s * u, 1.0)) / (u * edge_keV ** 2)
    return float(sigma_cm2 * 1e14)


def fluorescence_yield(element, family: str) -> float:
    """Tabulated fluorescence yield of the subshell emitting ``family``'s alpha line (K, L3, M5) [3]_.

    ``element`` is a chemical symbol or an atomic number.
    """
    if family not in _SHELL:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    if not isinstance(element, str):
        element = _SYMBOL_OF_Z.get(int(element), element)
    return _xray.fluorescence_yield(element, _xray.FAMILY_SUBSHELL[family])


_SYMBOL_OF_Z = {z: el for el, z in _elements.ATOMIC_NUMBER.items()}


def detector_efficiency(energy_eV, *, efficiency_edge_eV: float = DEFAULT_EFFICIENCY_EDGE_EV):
    """Detection efficiency ``1 − exp(−(E/E_w)²)`` of the EDX detector (soft-X-ray cut-off) [6]_."""
    e = np.asarray(energy_eV, dtype=float)
    return -np.expm1(-(e / float(efficiency_edge_eV)) ** 2)


def _lines(element: str):
    try:
        return xray_lines(element)
    except InputError:
        return []


def critical_energy_eV(element: str, family: str) -> float:
    """Critical ionisation energy (eV): the absorption edge of the family's alpha subshell [3]_."""
    fl = [ln.energy_eV for ln in _lines(element) if ln.family == family]
    if not fl:
        raise InputError(f"family={family!r}: {element} has no {family} lines in the table")
    return _xray.edge_energy_eV(element, _xray.FAMILY_SUBSHELL[family])


def family_yields(element: str, z: int | None = None, *, beam_energy_keV: float,
                  solid_angle_sr: float = 4 * np.pi):
    """Characteristic photons emitted into ``solid_angle_sr`` per electron per atom (nm²), by family.

    Returns a list of ``(family, yield_nm2, lines)`` with ``lines`` a list of
    ``(energy_eV, share)``, the shares summing to 1 within the family (tabulated weights / their
    sum). Elements without tabulated lines give an empty list. Detector efficiency not included.
    ``z`` is accepted for backward compatibility and ignored (the element symbol fixes the tables).
    """
    lines = _lines(element)
    out = []
    for fam in ("K", "L", "M"):
        fl = [ln for ln in lines if ln.family == fam]
        if not fl:
            continue
        edge_keV = critical_energy_eV(element, fam) / 1e3
        y = (ionisation_cross_section_nm2(edge_keV, fam, beam_energy_keV=beam_energy_keV)
             * fluorescence_yield(element, fam) * solid_angle_sr / (4 * np.pi))
        wsum = sum(ln.weight for ln in fl)
        out.append((fam, y, [(ln.energy_eV, ln.weight / wsum) for ln in fl]))
    return out


def line_sensitivity(element: str, family: str, *, beam_energy_keV: float,
                     efficiency_edge_eV: float = DEFAULT_EFFICIENCY_EDGE_EV) -> float:
    """Detected photons of ``element``'s alpha line of ``family`` per electron per atom per 4π (nm²).

    ``σ_s ω_s f_α ε(E_α)``: the quantity whose ratio between elements the Cliff–Lorimer k-factor
    inverts. Zero when the shell is not excited.
    """
    if element not in ELEMENTS:
        raise InputError(f"element={element!r}: not in the X-ray line table")
    for fam, y, lines in family_yields(element, beam_energy_keV=beam_energy_keV):
        if fam != family:
            continue
        alpha = [ln for ln in xray_lines(element, family=fam) if ln.name[1] == "a"]
        e_alpha = alpha[0].energy_eV
        share = next(s for e, s in lines if e == e_alpha)
        return float(y * share * detector_efficiency(e_alpha, efficiency_edge_eV=efficiency_edge_eV))
    raise InputError(f"family={family!r}: {element} has no {family} lines in the table")


def theoretical_k_factors(elements, *, beam_energy_keV: float, reference: str = "Si",
                          families=None,
                          efficiency_edge_eV: float = DEFAULT_EFFICIENCY_EDGE_EV) -> dict[str, float]:
    """Cliff–Lorimer k-factors ``{element: k}`` (weight-fraction convention) from this model.

    ``k_A = (M_A / s_A) / (M_ref / s_ref)`` with ``s`` the :func:`line_sensitivity` of the
    quantification line and ``M`` the atomic weight, so that ``C_A ∝ k_A I_A`` [5]_ [2]_.

    Parameters
    ----------
    elements : sequence of str
        Element symbols.
    beam_energy_keV : float
        Accelerating voltage.
    reference : str
        Element whose k-factor is 1 (quantified on its K line, or its first excited family).
    families : sequence of str, optional
        Quantification family of each element (K/L/M). Default: K when Kα lies below 20 keV and is
        excited with overvoltage ≥ 1.5, else L, else M (as
        :func:`perovscope.spectroscopy.edx.quantification_family` on a 0–20 keV axis).
    efficiency_edge_eV : float
        Detector soft-X-ray scale E_w.

    Returns
    -------
    dict
        Positive k-factors; ``InputError`` names an element whose line is not excited.
    """
    from .edx import quantification_family

    elements = list(elements)
    if families is None:
        families = [quantification_family(el, 20000.0, beam_energy_keV=beam_energy_keV)
                    for el in elements]
    families = list(families)
    if len(families) != len(elements):
        raise InputError(f"families: {len(families)} given for {len(elements)} elements")
    ref_fam = quantification_family(reference, 20000.0, beam_energy_keV=beam_energy_keV)

    def k_raw(el, fam):
        s = line_sensitivity(el, fam, beam_energy_keV=beam_energy_keV,
                             efficiency_edge_eV=efficiency_edge_eV)
        if s <= 0:
            raise InputError(f"{el} {fam}: not excited at {beam_energy_keV} kV")
        return ATOMIC_WEIGHTS[el] / s

    ref = k_raw(reference, ref_fam)
    return {el: float(k_raw(el, fam) / ref) for el, fam in zip(elements, families, strict=True)}
