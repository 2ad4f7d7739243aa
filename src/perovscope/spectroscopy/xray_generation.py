"""Thin-foil X-ray generation: ionisation, fluorescence, line shares, detector efficiency, k-factors.

One physical model serves both the EDX simulator (:mod:`perovscope.simulate.eds` renders spectra
with it) and Cliff–Lorimer quantification (:func:`theoretical_k_factors`, the default k-factors of
:func:`perovscope.spectroscopy.quantification.cliff_lorimer`). For a thin specimen each beam
electron produces, per atom and per steradian of collection, ``σ_s ω_s / 4π`` photons of shell
family *s* (K, L, M), shared among the lines of the family in proportion to their tabulated weights
(:mod:`perovscope.spectroscopy.xray_lines`), each detected with efficiency ``ε(E)``:

* σ_s: Bethe's ionisation cross-section ``σ = 6.51e-20 n_s b_s ln(c_s U) / (U E_c²)`` cm²
  (E_c in keV, ``U = E0/E_c``) with Powell's constants (K: n=2, b=0.9, c=0.65; L: 8, 0.5, 1;
  M: 18, 0.5, 1); the critical energy is taken as 1.02 × the family's highest tabulated line;
* ω_s: the fluorescence yield in Burhop's form ``Z⁴ / (a_s + Z⁴)`` with a_K = 1.12e6,
  a_L = 8.4e7, a_M = 2.2e9 (ω_K(Cl) ≈ 0.07, ω_L(Pb) ≈ 0.35, ω_M(Pb) ≈ 0.02);
* ε(E) = ``1 − exp(−(E/E_w)²)``: a window-less/thin-window silicon-drift detector losing soft
  X-rays below E_w (150 eV by default); transparent at all energies above ~0.4 keV.

Bremsstrahlung follows Kramers' thin-target cross-section
``dσ/dE = (16π / 3√3) α r_e² m_e c² Z² / (E0 E)`` per atom.

With this model the Cliff–Lorimer relation is exact for a thin foil: the alpha line of element A
gives ``I_A = N_e n_A t Ω/4π · σ_A ω_A f_A ε(E_A)`` (``f_A`` the alpha line's share of its family),
so ``C_A/C_B = k_AB I_A/I_B`` with ``k_A ∝ M_A / (σ_A ω_A f_A ε(E_A))`` (M: atomic weight) —
absorption and fluorescence in the specimen, which thin lamellae neglect, are the only missing terms.

References
----------
.. [1] C. J. Powell, "Cross sections for ionization of inner-shell electrons by electrons",
   Rev. Mod. Phys. 48, 33 (1976).
.. [2] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 4 (ionisation cross-section, fluorescence yield) and ch. 35 (calculated k-factors).
.. [3] E. H. S. Burhop, The Auger Effect and Other Radiationless Transitions, CUP (1952).
.. [4] H. A. Kramers, Phil. Mag. 46, 836 (1923).
.. [5] G. Cliff and G. W. Lorimer, J. Microsc. 103, 203 (1975).
.. [6] J. I. Goldstein et al., Scanning Electron Microscopy and X-Ray Microanalysis, 4th ed.,
   Springer (2018), ch. 16 and 19 (detector efficiency).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .xray_lines import ATOMIC_WEIGHTS, ELEMENTS, xray_lines

__all__ = ["ionisation_cross_section_nm2", "fluorescence_yield", "critical_energy_eV",
           "family_yields", "detector_efficiency", "bremsstrahlung_cross_section",
           "line_sensitivity", "theoretical_k_factors", "DEFAULT_EFFICIENCY_EDGE_EV"]

#: Soft-X-ray efficiency scale E_w (eV) of ``ε(E) = 1 − exp(−(E/E_w)²)``.
DEFAULT_EFFICIENCY_EDGE_EV = 150.0

# Powell (1976) / Williams & Carter (2009) Bethe constants: electrons per shell n_s, b_s, c_s.
_SHELL = {"K": (2, 0.9, 0.65), "L": (8, 0.5, 1.0), "M": (18, 0.5, 1.0)}
# Burhop constants a_s of ω = Z⁴/(a_s + Z⁴).
_OMEGA_A = {"K": 1.12e6, "L": 8.4e7, "M": 2.2e9}
_ALPHA = 1.0 / 137.036
_RE2_NM2 = (2.8179403e-6) ** 2      # classical electron radius squared, nm²
_MEC2_KEV = 510.999


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


def fluorescence_yield(z: int, family: str) -> float:
    """Fluorescence yield ``ω = Z⁴ / (a + Z⁴)`` of a shell family [3]_."""
    if family not in _OMEGA_A:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    z4 = float(z) ** 4
    return z4 / (_OMEGA_A[family] + z4)


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
    """Critical ionisation energy used by the model: 1.02 × the family's highest tabulated line."""
    fl = [ln.energy_eV for ln in _lines(element) if ln.family == family]
    if not fl:
        raise InputError(f"family={family!r}: {element} has no {family} lines in the table")
    return 1.02 * max(fl)


def family_yields(element: str, z: int | None = None, *, beam_energy_keV: float,
                  solid_angle_sr: float = 4 * np.pi):
    """Characteristic photons emitted into ``solid_angle_sr`` per electron per atom (nm²), by family.

    Returns a list of ``(family, yield_nm2, lines)`` with ``lines`` a list of
    ``(energy_eV, share)``, the shares summing to 1 within the family (tabulated weights / their
    sum). Elements without tabulated lines give an empty list. Detector efficiency not included.
    """
    z = ELEMENTS.get(element) if z is None else z
    lines = _lines(element)
    out = []
    for fam in ("K", "L", "M"):
        fl = [ln for ln in lines if ln.family == fam]
        if not fl:
            continue
        edge_keV = 1.02 * max(ln.energy_eV for ln in fl) / 1e3
        y = (ionisation_cross_section_nm2(edge_keV, fam, beam_energy_keV=beam_energy_keV)
             * fluorescence_yield(z, fam) * solid_angle_sr / (4 * np.pi))
        wsum = sum(ln.weight for ln in fl)
        out.append((fam, y, [(ln.energy_eV, ln.weight / wsum) for ln in fl]))
    return out


def bremsstrahlung_cross_section(energy_eV, z: int, *, beam_energy_keV: float):
    """Kramers thin-target bremsstrahlung cross-section dσ/dE (nm² per eV) per atom [4]_."""
    e_kev = np.asarray(energy_eV, dtype=float) / 1e3
    pref = 16 * np.pi / (3 * np.sqrt(3)) * _ALPHA * _RE2_NM2 * _MEC2_KEV * float(z) ** 2
    with np.errstate(divide="ignore"):
        per_kev = np.where((e_kev > 0) & (e_kev < beam_energy_keV),
                           pref / (beam_energy_keV * np.maximum(e_kev, 1e-12)), 0.0)
    return per_kev / 1e3


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
