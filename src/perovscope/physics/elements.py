"""The element table: chemical symbol, atomic number Z and standard atomic weight.

Atomic numbers cover H–U. Atomic weights are the IUPAC 2013 abridged standard atomic weights
(Meija et al. 2016), used for weight % ↔ atomic % conversion; they are given for the elements that
the X-ray line table and the phase library use.

References
----------
.. [1] J. Meija et al., "Atomic weights of the elements 2013 (IUPAC Technical Report)",
   Pure Appl. Chem. 88, 265 (2016).
"""

from __future__ import annotations

from ..errors import InputError

__all__ = ["ATOMIC_NUMBER", "ATOMIC_WEIGHT", "atomic_number", "atomic_weight"]

_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm "
    "Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U"
).split()

#: Element symbol → atomic number Z, H (1) to U (92).
ATOMIC_NUMBER: dict[str, int] = {sym: z for z, sym in enumerate(_SYMBOLS, start=1)}

#: Standard atomic weights (g/mol), IUPAC 2013 abridged values [1]_.
ATOMIC_WEIGHT: dict[str, float] = {
    "H": 1.008, "He": 4.0026, "Li": 6.94, "Be": 9.012, "B": 10.81, "C": 12.011, "N": 14.007,
    "O": 15.999, "F": 18.998, "Na": 22.990, "Mg": 24.305, "Al": 26.982, "Si": 28.085, "P": 30.974,
    "S": 32.06, "Cl": 35.45, "Ar": 39.948, "K": 39.098, "Ca": 40.078, "Sc": 44.956, "Ti": 47.867,
    "V": 50.942, "Cr": 51.996, "Mn": 54.938, "Fe": 55.845, "Co": 58.933, "Ni": 58.693, "Cu": 63.546,
    "Zn": 65.38, "Ga": 69.723, "Ge": 72.63, "As": 74.922, "Se": 78.971, "Br": 79.904, "Rb": 85.468,
    "Sr": 87.62, "Y": 88.906, "Zr": 91.224, "Nb": 92.906, "Mo": 95.95, "Ru": 101.07, "Rh": 102.91,
    "Pd": 106.42, "Ag": 107.87, "Cd": 112.41, "In": 114.82, "Sn": 118.71, "Sb": 121.76, "Te": 127.60,
    "I": 126.90, "Cs": 132.91, "Ba": 137.33, "La": 138.91, "Ce": 140.12, "Nd": 144.24, "Sm": 150.36,
    "Eu": 151.96, "Gd": 157.25, "Hf": 178.49, "Ta": 180.95, "W": 183.84, "Pt": 195.08, "Au": 196.97,
    "Hg": 200.59, "Tl": 204.38, "Pb": 207.2, "Bi": 208.98, "Th": 232.04, "U": 238.03,
}


def atomic_number(symbol: str) -> int:
    """Atomic number Z of a chemical symbol (case-sensitive, e.g. ``"Pb"`` → 82)."""
    if not isinstance(symbol, str) or symbol not in ATOMIC_NUMBER:
        raise InputError(f"element={symbol!r}: not a chemical symbol from H to U (write e.g. 'Pb', 'Cl')")
    return ATOMIC_NUMBER[symbol]


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight (g/mol) of a chemical symbol [1]_."""
    if not isinstance(symbol, str) or symbol not in ATOMIC_WEIGHT:
        raise InputError(f"element={symbol!r}: no tabulated atomic weight; known: "
                         f"{', '.join(sorted(ATOMIC_WEIGHT, key=ATOMIC_NUMBER.get))}")
    return ATOMIC_WEIGHT[symbol]
