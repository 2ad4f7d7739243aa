"""X-ray reference data: characteristic lines, fluorescence yields, edge energies, detector resolution.

Line energies are the standard emission energies of Bearden (1967), as reproduced in the X-ray Data
Booklet (Thompson et al., LBNL, 2009), rounded to 0.1 eV. Relative weights inside a family are
approximate emission-rate ratios normalised to the alpha line of that family (= 1), assembled from the
tabulations of Scofield (1974) and Salem et al. (1974) as summarised in Goldstein et al. (2018).

Fluorescence yields ω and absorption-edge (ionisation) energies of the K, L1–L3 and M1–M5
subshells come from the Elam, Ravel & Sieber (2002) database as distributed with ``xraydb``
(Newville); they are looked up once per (element, subshell) and cached.

References
----------
.. [1] J. A. Bearden, "X-ray wavelengths", Rev. Mod. Phys. 39, 78 (1967).
.. [2] A. C. Thompson et al., X-ray Data Booklet, Lawrence Berkeley National Laboratory (2009).
.. [3] J. H. Scofield, "Exchange corrections of K X-ray emission rates", Phys. Rev. A 9, 1041 (1974).
.. [4] J. I. Goldstein et al., Scanning Electron Microscopy and X-Ray Microanalysis, 4th ed.,
   Springer (2018), ch. 4 and 16.
.. [5] W. T. Elam, B. D. Ravel and J. R. Sieber, "A new atomic database for X-ray spectroscopic
   calculations", Radiat. Phys. Chem. 63, 121 (2002).
.. [6] M. O. Krause, "Atomic radiative and radiationless yields for K and L shells",
   J. Phys. Chem. Ref. Data 8, 307 (1979).
.. [7] C. E. Fiori and D. E. Newbury, "Artifacts observed in energy-dispersive X-ray spectrometry in
   the scanning electron microscope", Scanning Electron Microscopy 1, 401 (1978).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .elements import ATOMIC_NUMBER

__all__ = ["XrayLine", "LINE_ELEMENTS", "xray_lines", "lines_in_range", "detector_fwhm_eV", "MN_KA_EV",
           "SUBSHELLS", "FAMILY_SUBSHELL", "edge_energy_eV", "fluorescence_yield", "fluorescence_yields",
           "subshell_occupancy", "alpha_line_fraction"]

#: Mn Kα energy (eV), the reference energy at which EDX detector resolution is quoted.
MN_KA_EV = 5898.8

#: Subshells with tabulated yields and edge energies.
SUBSHELLS = ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5")
#: Subshell whose vacancy emits the alpha line of each family (Kα: K, Lα: L3, Mα: M5).
FAMILY_SUBSHELL = {"K": "K", "L": "L3", "M": "M5"}
# electrons in the closed subshell (2j + 1)
_OCCUPANCY = {"K": 2, "L1": 2, "L2": 2, "L3": 4, "M1": 2, "M2": 2, "M3": 4, "M4": 4, "M5": 6}


class XrayLine(NamedTuple):
    """One characteristic X-ray line.

    Attributes
    ----------
    name : str
        Siegbahn name, e.g. ``"Ka"``, ``"Lb1"``, ``"Ma"``.
    energy_eV : float
        Emission energy in eV.
    weight : float
        Relative intensity inside its family (alpha line = 1).
    family : str
        ``"K"``, ``"L"`` or ``"M"``.
    """

    name: str
    energy_eV: float
    weight: float
    family: str


_LINE_SYMBOLS = (
    "Be B C N O F Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Rb Sr Y Zr Nb "
    "Mo Ru Rh Pd Ag Cd In Sn Sb Te I Cs Ba La Ce Nd Sm Eu Gd Hf Ta W Pt Au Hg Tl Pb Bi Th U"
).split()
#: Element symbol → Z for every element in the line table.
LINE_ELEMENTS: dict[str, int] = {el: ATOMIC_NUMBER[el] for el in _LINE_SYMBOLS}

# Energies in keV (Bearden 1967 / X-ray Data Booklet), weights relative to the family's alpha line.
_K_LIGHT = {  # K lines of light elements: Kb is weak or unresolved below Na
    "Be": (0.1085,), "B": (0.1833,), "C": (0.2774,), "N": (0.3924,), "O": (0.5249,),
    "F": (0.6768,),
}
_KAB = {  # element: (Ka, Kb1, Kb/Ka weight)
    "Na": (1.0410, 1.0711, 0.01), "Mg": (1.2536, 1.3022, 0.02), "Al": (1.4867, 1.5575, 0.03),
    "Si": (1.7400, 1.8359, 0.04), "P": (2.0137, 2.1391, 0.05), "S": (2.3078, 2.4640, 0.07),
    "Cl": (2.6224, 2.8156, 0.09), "Ar": (2.9577, 3.1905, 0.10), "K": (3.3138, 3.5896, 0.11),
    "Ca": (3.6917, 4.0127, 0.12), "Sc": (4.0906, 4.4605, 0.12), "Ti": (4.5108, 4.9318, 0.13),
    "V": (4.9522, 5.4273, 0.13), "Cr": (5.4147, 5.9467, 0.13), "Mn": (5.8988, 6.4905, 0.13),
    "Fe": (6.4038, 7.0580, 0.13), "Co": (6.9303, 7.6494, 0.13), "Ni": (7.4782, 8.2647, 0.13),
    "Cu": (8.0478, 8.9053, 0.13), "Zn": (8.6389, 9.5720, 0.14), "Ga": (9.2517, 10.2642, 0.14),
    "Ge": (9.8864, 10.9821, 0.14), "As": (10.5437, 11.7262, 0.15), "Se": (11.2224, 12.4959, 0.15),
    "Br": (11.9242, 13.2914, 0.16), "Rb": (13.3953, 14.9613, 0.16), "Sr": (14.1650, 15.8357, 0.17),
    "Y": (14.9584, 16.7378, 0.17), "Zr": (15.7751, 17.6678, 0.17), "Nb": (16.6151, 18.6225, 0.17),
    "Mo": (17.4793, 19.6083, 0.18), "Ru": (19.2792, 21.6568, 0.18), "Rh": (20.2161, 22.7236, 0.18),
    "Pd": (21.1771, 23.8188, 0.18), "Ag": (22.1629, 24.9424, 0.19), "Cd": (23.1736, 26.0955, 0.19),
    "In": (24.2097, 27.2759, 0.19), "Sn": (25.2713, 28.4860, 0.19), "Sb": (26.3591, 29.7256, 0.19),
    "Te": (27.4723, 30.9957, 0.19), "I": (28.6120, 32.2947, 0.20), "Cs": (30.9728, 34.9869, 0.20),
    "Ba": (32.1936, 36.3784, 0.20), "La": (33.4418, 37.8010, 0.20), "Ce": (34.7197, 39.2573, 0.20),
}
# L family: La1, Lb1, Lb2, Lg1, Ll (keV)
_L = {
    "Ca": (0.3413, 0.3449, None, None, 0.3027), "Ti": (0.4522, 0.4584, None, None, 0.3952),
    "V": (0.5113, 0.5192, None, None, 0.4464), "Cr": (0.5728, 0.5828, None, None, 0.5003),
    "Mn": (0.6374, 0.6488, None, None, 0.5563), "Fe": (0.7048, 0.7185, None, None, 0.6152),
    "Co": (0.7762, 0.7914, None, None, 0.6778), "Ni": (0.8515, 0.8688, None, None, 0.7429),
    "Cu": (0.9297, 0.9498, None, None, 0.8111), "Zn": (1.0117, 1.0347, None, None, 0.8840),
    "Ga": (1.0980, 1.1249, None, None, 0.9573), "Ge": (1.1880, 1.2185, None, None, 1.0368),
    "As": (1.2819, 1.3170, None, None, 1.1198), "Se": (1.3791, 1.4192, None, None, 1.2043),
    "Br": (1.4804, 1.5259, None, None, 1.2934), "Rb": (1.6941, 1.7521, None, None, 1.4823),
    "Sr": (1.8066, 1.8718, None, None, 1.5823), "Y": (1.9226, 1.9958, None, None, 1.6860),
    "Zr": (2.0424, 2.1244, 2.2194, 2.3027, 1.7920), "Nb": (2.1659, 2.2574, 2.3670, 2.4618, 1.9021),
    "Mo": (2.2932, 2.3948, 2.5184, 2.6232, 2.0156), "Ru": (2.5585, 2.6833, 2.8360, 2.9645, 2.2529),
    "Rh": (2.6968, 2.8344, 3.0013, 3.1438, 2.3767), "Pd": (2.8386, 2.9902, 3.1718, 3.3287, 2.5034),
    "Ag": (2.9843, 3.1509, 3.3478, 3.5196, 2.6336), "Cd": (3.1337, 3.3165, 3.5282, 3.7174, 2.7673),
    "In": (3.2869, 3.4872, 3.7139, 3.9207, 2.9045), "Sn": (3.4440, 3.6628, 3.9049, 4.1310, 3.0449),
    "Sb": (3.6047, 3.8435, 4.1008, 4.3474, 3.1885), "Te": (3.7693, 4.0295, 4.3017, 4.5710, 3.3354),
    "I": (3.9377, 4.2208, 4.5075, 4.8009, 3.4851), "Cs": (4.2865, 4.6198, 4.9359, 5.2804, 3.7950),
    "Ba": (4.4663, 4.8275, 5.1565, 5.5311, 3.9541), "La": (4.6510, 5.0421, 5.3838, 5.7885, 4.1214),
    "Ce": (4.8402, 5.2622, 5.6134, 6.0526, 4.2888), "Nd": (5.2304, 5.7216, 6.0904, 6.6021, 4.6330),
    "Sm": (5.6361, 6.2051, 6.5872, 7.1803, 4.9934), "Eu": (5.8457, 6.4564, 6.8432, 7.4803, 5.1769),
    "Gd": (6.0572, 6.7132, 7.1028, 7.7858, 5.3621), "Hf": (7.8990, 9.0227, 9.3473, 10.5158, 6.9598),
    "Ta": (8.1461, 9.3431, 9.6518, 10.8952, 7.1731), "W": (8.3976, 9.6724, 9.9615, 11.2859, 7.3872),
    "Pt": (9.4423, 11.0707, 11.2505, 12.9418, 8.2680), "Au": (9.7133, 11.4423, 11.5847, 13.3817, 8.4939),
    "Hg": (9.9888, 11.8226, 11.9241, 13.8301, 8.7223), "Tl": (10.2685, 12.2133, 12.2715, 14.2915, 8.9530),
    "Pb": (10.5515, 12.6137, 12.6226, 14.7644, 9.1845), "Bi": (10.8388, 13.0235, 12.9799, 15.2477, 9.4195),
    "Th": (12.9682, 16.2024, 15.6239, 18.9825, 11.1183), "U": (13.6147, 17.2200, 16.4283, 20.1671, 11.6183),
}
# M family: Ma, Mb, Mz, Mg (keV)
_M = {
    "La": (0.8330, 0.8550, None, None), "Ce": (0.8830, 0.9040, None, None),
    "Nd": (0.9780, 0.9950, None, None), "Sm": (1.0810, 1.1000, None, None),
    "Eu": (1.1310, 1.1520, None, None), "Gd": (1.1850, 1.2090, None, None),
    "Hf": (1.6446, 1.6993, 1.2807, 1.8946), "Ta": (1.7101, 1.7655, 1.3322, 1.9712),
    "W": (1.7754, 1.8349, 1.3835, 2.0355), "Pt": (2.0505, 2.1276, 1.6026, 2.3321),
    "Au": (2.1229, 2.2047, 1.6603, 2.4094), "Hg": (2.1953, 2.2825, 1.7163, 2.4873),
    "Tl": (2.2706, 2.3621, 1.7795, 2.5700), "Pb": (2.3455, 2.4427, 1.8395, 2.6535),
    "Bi": (2.4226, 2.5255, 1.9019, 2.7393), "Th": (2.9968, 3.1458, 2.3621, 3.3354),
    "U": (3.1708, 3.3360, 2.5068, 3.5627),
}
# Relative weights of the L and M lines (alpha = 1); light elements' L lines are dominated by La/Lb.
_L_WEIGHTS = (1.0, 0.55, 0.20, 0.08, 0.05)
_L_WEIGHTS_LIGHT = (1.0, 0.20, None, None, 0.10)
_M_WEIGHTS = (1.0, 0.60, 0.06, 0.05)


def _build_table() -> dict[str, tuple[XrayLine, ...]]:
    table: dict[str, list[XrayLine]] = {el: [] for el in LINE_ELEMENTS}
    for el, (ka,) in _K_LIGHT.items():
        table[el].append(XrayLine("Ka", ka * 1e3, 1.0, "K"))
    for el, (ka, kb, w) in _KAB.items():
        table[el].append(XrayLine("Ka", ka * 1e3, 1.0, "K"))
        table[el].append(XrayLine("Kb", kb * 1e3, w, "K"))
    names_l = ("La", "Lb1", "Lb2", "Lg1", "Ll")
    for el, energies in _L.items():
        weights = _L_WEIGHTS if energies[2] is not None else _L_WEIGHTS_LIGHT
        for name, e, w in zip(names_l, energies, weights, strict=True):
            if e is not None and w is not None:
                table[el].append(XrayLine(name, e * 1e3, w, "L"))
    for el, energies in _M.items():
        for name, e, w in zip(("Ma", "Mb", "Mz", "Mg"), energies, _M_WEIGHTS, strict=True):
            if e is not None:
                table[el].append(XrayLine(name, e * 1e3, w, "M"))
    return {el: tuple(lines) for el, lines in table.items()}


_TABLE = _build_table()



def _check_element(element: str) -> str:
    if not isinstance(element, str) or element not in LINE_ELEMENTS:
        raise InputError(f"element={element!r}: not in the X-ray line table; known elements: "
                         f"{', '.join(sorted(LINE_ELEMENTS, key=LINE_ELEMENTS.get))}")
    return element


def xray_lines(element: str, *, family: str | None = None) -> list[XrayLine]:
    """Characteristic X-ray lines of one element.

    Parameters
    ----------
    element : str
        Chemical symbol (case-sensitive, e.g. ``"Cs"``, ``"Pb"``, ``"Br"``).
    family : {"K", "L", "M"}, optional
        Only the lines of this family.

    Returns
    -------
    list of XrayLine
        Sorted by energy; weights relative to the alpha line of each family.

    Raises
    ------
    InputError
        If the element is not tabulated or ``family`` is not K, L or M.

    References
    ----------
    Bearden (1967); X-ray Data Booklet (2009) for energies; Scofield (1974) for K ratios.
    """
    lines = _TABLE[_check_element(element)]
    if family is not None:
        if family not in ("K", "L", "M"):
            raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
        lines = tuple(ln for ln in lines if ln.family == family)
    return sorted(lines, key=lambda ln: ln.energy_eV)


def lines_in_range(element: str, e_min_eV: float, e_max_eV: float) -> list[XrayLine]:
    """Lines of ``element`` whose energy lies within ``[e_min_eV, e_max_eV]``."""
    return [ln for ln in xray_lines(element) if e_min_eV <= ln.energy_eV <= e_max_eV]


def _check_subshell(shell: str) -> str:
    if shell not in SUBSHELLS:
        raise InputError(f"shell={shell!r}: use one of {', '.join(SUBSHELLS)}")
    return shell


@cache
def _edge(element: str, shell: str):
    import xraydb

    if element not in ATOMIC_NUMBER:
        raise InputError(f"element={element!r}: not a chemical symbol from H to U")
    edge = xraydb.xray_edge(element, _check_subshell(shell))
    if edge is None:
        raise InputError(f"shell={shell!r}: {element} has no tabulated {shell} subshell")
    return float(edge.energy), float(edge.fyield)


def edge_energy_eV(element: str, shell: str) -> float:
    """Absorption-edge (ionisation threshold) energy of a subshell in eV, from Elam et al. (2002) [5]_."""
    return _edge(element, shell)[0]


def fluorescence_yield(element: str, shell: str) -> float:
    """Fluorescence yield ω of a subshell vacancy (``"K"``, ``"L3"``, ``"M5"``...), Elam et al. [5]_.

    The K-shell values agree with Krause (1979) [6]_ within 3.3 % from Z = 26 up and lie 9–15 % below
    them for 13 ≤ Z ≤ 20 (Al–Ca), where the compilations differ.
    """
    return _edge(element, shell)[1]


def fluorescence_yields(elements, shell: str) -> np.ndarray:
    """:func:`fluorescence_yield` of several elements for one subshell, as an array."""
    return np.array([fluorescence_yield(el, shell) for el in elements], dtype=float)


_ALPHA_NAMES = {"K": ("Ka1", "Ka2", "Ka3"), "L": ("La1", "La2"), "M": ("Ma",)}


@cache
def alpha_line_fraction(element: str, family: str) -> float:
    """Share of the radiative decays of the alpha subshell (K, L3, M5) that emit the alpha line.

    From the radiative transition probabilities of the Elam et al. (2002) database [5]_ (Scofield's
    calculations): e.g. (Kα1 + Kα2) / all K lines, (Lα1 + Lα2) / all L3 lines. Where the database
    lists no alpha transition for the subshell (the L3 shell of Ca–Sc), the whole subshell emission is
    assigned to the alpha line.
    """
    import xraydb

    if family not in FAMILY_SUBSHELL:
        raise InputError(f"family={family!r}: use 'K', 'L' or 'M'")
    if element not in ATOMIC_NUMBER:
        raise InputError(f"element={element!r}: not a chemical symbol from H to U")
    lines = xraydb.xray_lines(element, FAMILY_SUBSHELL[family])
    total = sum(ln.intensity for ln in lines.values())
    alpha = sum(ln.intensity for name, ln in lines.items() if name in _ALPHA_NAMES[family])
    return float(alpha / total) if alpha > 0 and total > 0 else 1.0


def subshell_occupancy(shell: str) -> int:
    """Electrons in a closed subshell (2j + 1): K 2, L3 4, M5 6..."""
    return _OCCUPANCY[_check_subshell(shell)]


def detector_fwhm_eV(energy_eV, *, fwhm_mn_ka: float = 130.0):
    """Energy resolution (FWHM, eV) of an energy-dispersive X-ray detector at ``energy_eV``.

    The electronic-noise term is fixed by the resolution quoted at Mn Kα and the Fano-statistics term
    grows linearly with energy: ``FWHM(E)^2 = FWHM(MnKa)^2 + 2.5 (E - E_MnKa)`` (all in eV), the
    scaling of Fiori & Newbury (1978) used throughout EDX practice (Goldstein et al. 2018).

    Parameters
    ----------
    energy_eV : float or array_like
        Photon energy in eV.
    fwhm_mn_ka : float
        Detector FWHM at Mn Kα (5898.8 eV) in eV; 120–140 eV for silicon drift detectors.

    Returns
    -------
    float or numpy.ndarray
        FWHM in eV (same shape as ``energy_eV``); never below 20 % of ``fwhm_mn_ka``.

    References
    ----------
    Fiori & Newbury (1978); Goldstein et al. (2018), ch. 16.
    """
    if not np.isfinite(fwhm_mn_ka) or fwhm_mn_ka <= 0:
        raise InputError(f"fwhm_mn_ka={fwhm_mn_ka!r}: must be a positive resolution in eV")
    e = np.asarray(energy_eV, dtype=float)
    sq = fwhm_mn_ka ** 2 + 2.5 * (e - MN_KA_EV)
    out = np.sqrt(np.maximum(sq, (0.2 * fwhm_mn_ka) ** 2))
    return float(out) if out.ndim == 0 else out
