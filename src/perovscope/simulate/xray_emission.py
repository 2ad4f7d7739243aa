"""X-ray emission of a thin specimen under the electron beam: the simulator's own generation model.

Written from the physics independently of the analysis' k-factor model
(:mod:`perovscope.spectroscopy.xray_generation`, non-relativistic Bethe/Powell); the two share only
reference tables from :mod:`perovscope.physics`. Per atom and per beam electron, the alpha line of a
family (Kα, Lα, Mα) is emitted into the solid angle Ω with the yield

``Y_α = σ_s(E0) · ω_s · p_α · Ω / 4π``

* σ_s: the ionisation cross-section of the subshell whose vacancy emits the alpha line (K, L3, M5),
  from the semi-empirical formula of Casnati, Tartari & Baraldi (1982) with its relativistic factor
  (valid for beam energies far above threshold, as in the TEM):
  ``σ = n_s a0² (R_y/E_c)² ψ φ R ln(U)/U`` with ``U = E0/E_c``,
  ``ψ = (E_c/R_y)^(-0.0318 + 0.3160/U - 0.1135/U²)``, ``φ = 10.57 exp(-1.736/U + 0.317/U²)`` and
  ``R`` the relativistic factor of the paper (J = m_e c²/E_c); n_s is the subshell occupancy and E_c
  the edge energy (Elam et al. 2002). The formula was fitted to K-shell data; applying it to the L3
  and M5 subshells is an approximation (Llovet et al. 2014 review its accuracy: ~10 % for K shells,
  tens of percent for L and M);
* ω_s: the tabulated fluorescence yield of that subshell;
* p_α: the share of the subshell's radiative decays that produce the alpha line (Scofield's
  transition probabilities in the Elam database).

The other lines of the family follow the tabulated weights relative to the alpha line
(:func:`perovscope.physics.xray_lines`). The continuum is Kramers' thin-target cross-section
``dσ/dE = (16π / 3√3) α r_e² m_e c² Z² / (E0 E)`` per atom, and the detector loses soft X-rays as
``ε(E) = 1 − exp(−(E/E_w)²)``.

References
----------
.. [1] E. Casnati, A. Tartari and C. Baraldi, "An empirical approach to K-shell ionisation cross
   section by electrons", J. Phys. B 15, 155 (1982).
.. [2] X. Llovet, C. J. Powell, F. Salvat and A. Jablonski, "Cross sections for inner-shell
   ionization by electron impact", J. Phys. Chem. Ref. Data 43, 013102 (2014).
.. [3] W. T. Elam, B. D. Ravel and J. R. Sieber, Radiat. Phys. Chem. 63, 121 (2002).
.. [4] H. A. Kramers, Phil. Mag. 46, 836 (1923).
.. [5] J. I. Goldstein et al., Scanning Electron Microscopy and X-Ray Microanalysis, 4th ed.,
   Springer (2018), ch. 19 (detector efficiency).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..physics import xray as px
from ..physics.elements import ATOMIC_NUMBER

__all__ = ["casnati_cross_section_nm2", "ionisation_cross_section_nm2", "fluorescence_yield",
           "alpha_line_yield", "family_yields", "detector_efficiency", "bremsstrahlung_cross_section"]

_A0_NM = 0.052917721          # Bohr radius
_RYDBERG_EV = 13.605693
_MEC2_EV = 510998.95
_ALPHA_FS = 1.0 / 137.035999
_RE_NM = 2.8179403e-6         # classical electron radius


def casnati_cross_section_nm2(edge_eV, electrons, *, beam_energy_keV: float):
    """Casnati et al. (1982) ionisation cross-section (nm²) of a subshell [1]_, vectorised over edges.

    Parameters
    ----------
    edge_eV : float or array_like
        Ionisation (edge) energy E_c of the subshell, eV.
    electrons : float or array_like
        Electrons in the subshell.
    beam_energy_keV : float
        Beam kinetic energy.

    Returns
    -------
    float or numpy.ndarray
        Zero at or below threshold (``U ≤ 1``).
    """
    ec = np.asarray(edge_eV, dtype=float)
    u = 1e3 * float(beam_energy_keV) / ec
    up = np.maximum(u, 1.0)
    j = _MEC2_EV / ec
    psi = (ec / _RYDBERG_EV) ** (-0.0318 + 0.3160 / up - 0.1135 / up ** 2)
    phi = 10.57 * np.exp(-1.736 / up + 0.317 / up ** 2)
    rel = ((1 + 2 * j) / (up + 2 * j) * ((up + j) / (1 + j)) ** 2
           * ((1 + up) * (up + 2 * j) * (1 + j) ** 2
              / (j ** 2 * (1 + 2 * j) + up * (up + 2 * j) * (1 + j) ** 2)) ** 1.5)
    sigma = (np.asarray(electrons, dtype=float) * _A0_NM ** 2 * (_RYDBERG_EV / ec) ** 2 * psi * phi
             * rel * np.log(up) / up)
    out = np.where(u > 1.0, sigma, 0.0)
    return float(out) if out.ndim == 0 else out


def ionisation_cross_section_nm2(element: str, shell: str, *, beam_energy_keV: float) -> float:
    """Casnati cross-section (nm²) of ``element``'s subshell ``shell`` (``"K"``, ``"L3"``, ``"M5"``...)."""
    return casnati_cross_section_nm2(px.edge_energy_eV(element, shell), px.subshell_occupancy(shell),
                                     beam_energy_keV=beam_energy_keV)


def fluorescence_yield(element: str, shell: str) -> float:
    """Tabulated fluorescence yield of a subshell (:func:`perovscope.physics.fluorescence_yield`)."""
    return px.fluorescence_yield(element, shell)


def _family_lines(element: str):
    try:
        return px.xray_lines(element)
    except InputError:
        return []


def alpha_line_yield(element: str, family: str, *, beam_energy_keV: float,
                     solid_angle_sr: float = 4 * np.pi) -> float:
    """Alpha-line photons of ``family`` emitted into ``solid_angle_sr`` per electron per atom (nm²).

    ``σ_s ω_s p_α Ω/4π`` for the alpha subshell s (K, L3, M5); detector efficiency not included.
    """
    if family not in px.FAMILY_SUBSHELL:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    shell = px.FAMILY_SUBSHELL[family]
    sigma = ionisation_cross_section_nm2(element, shell, beam_energy_keV=beam_energy_keV)
    return float(sigma * fluorescence_yield(element, shell) * px.alpha_line_fraction(element, family)
                 * solid_angle_sr / (4 * np.pi))


def family_yields(element: str, z: int | None = None, *, beam_energy_keV: float,
                  solid_angle_sr: float = 4 * np.pi):
    """Characteristic photons emitted per electron per atom (nm²) by family, with their line shares.

    Returns a list of ``(family, yield_nm2, lines)`` with ``lines`` a list of ``(energy_eV, share)``,
    the shares (tabulated weights / their sum) summing to 1; the family yield is the
    :func:`alpha_line_yield` divided by the alpha line's share. Elements without tabulated lines (Li)
    give an empty list. ``z`` is accepted for symmetry with the bremsstrahlung call and not used.
    """
    lines = _family_lines(element)
    out = []
    for fam in ("K", "L", "M"):
        fl = [ln for ln in lines if ln.family == fam]
        if not fl:
            continue
        alpha = [ln for ln in fl if ln.name[1] == "a"]
        if not alpha:
            continue
        wsum = sum(ln.weight for ln in fl)
        y_alpha = alpha_line_yield(element, fam, beam_energy_keV=beam_energy_keV,
                                   solid_angle_sr=solid_angle_sr)
        out.append((fam, y_alpha * wsum / alpha[0].weight, [(ln.energy_eV, ln.weight / wsum) for ln in fl]))
    return out


def detector_efficiency(energy_eV, *, efficiency_edge_eV: float = 150.0):
    """Simulated detector's efficiency ``1 − exp(−(E/E_w)²)`` (soft-X-ray loss below E_w) [5]_."""
    if not np.isfinite(efficiency_edge_eV) or efficiency_edge_eV <= 0:
        raise InputError(f"efficiency_edge_eV={efficiency_edge_eV!r}: must be a positive energy in eV")
    e = np.asarray(energy_eV, dtype=float)
    return -np.expm1(-(e / float(efficiency_edge_eV)) ** 2)


def bremsstrahlung_cross_section(energy_eV, z, *, beam_energy_keV: float):
    """Kramers thin-target bremsstrahlung cross-section dσ/dE (nm² per eV) per atom of charge ``z`` [4]_.

    ``z`` may be an atomic number or a chemical symbol.
    """
    if isinstance(z, str):
        z = ATOMIC_NUMBER[z]
    e = np.asarray(energy_eV, dtype=float)
    e0 = 1e3 * float(beam_energy_keV)
    pref = 16 * np.pi / (3 * np.sqrt(3)) * _ALPHA_FS * _RE_NM ** 2 * _MEC2_EV * float(z) ** 2
    with np.errstate(divide="ignore"):
        return np.where((e > 0) & (e < e0), pref / (e0 * np.maximum(e, 1e-9)), 0.0)
