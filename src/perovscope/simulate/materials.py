"""Material constants of the simulated perovskite-LED stack that are not in the shared physics tables.

Compositions are atomic fractions of the non-hydrogen atoms (hydrogen is invisible to EDX and adds
almost nothing to HAADF contrast). Atom number densities (atoms per nm³, hydrogen excluded) follow from
the bulk densities and formula masses quoted next to each entry. Lattice parameters are room-temperature
values from the crystallographic literature; the mixed-halide emitter's lattice parameter follows
Vegard's law between cubic CsPbBr₃ and CsPbCl₃ [1]_ [2]_ [3]_ (:func:`emitter_lattice_parameter_nm`,
the simulator's own, from the end members tabulated in :mod:`perovscope.physics.lattices`; the
analysis' Vegard law in :mod:`perovscope.diffraction.phases` is a separate implementation).

References
----------
.. [1] M. Rodová, J. Brožek, K. Knížek, K. Nitsch, "Phase transitions in ternary caesium lead bromide",
   J. Therm. Anal. Calorim. 71, 667 (2003) — CsPbBr₃ pseudo-cubic a ≈ 0.587 nm.
.. [2] C. K. Møller, "Crystal structure and photoconductivity of caesium plumbohalides", Nature 182,
   1436 (1958) — CsPbCl₃ a ≈ 0.561 nm.
.. [3] L. Vegard, "Die Konstitution der Mischkristalle", Z. Phys. 5, 17 (1921).
.. [4] W. M. Haynes (ed.), CRC Handbook of Chemistry and Physics, 97th ed. (2016): densities of Al
   (2.70 g/cm³), Pb (11.34), LiF (2.64), AlCl₃ (2.48), PbBr₂ (6.66), SiO₂ glass (2.20), In₂O₃ (7.18);
   lattice parameters of Al (0.40495 nm), Pb (0.49502 nm), LiF (0.4027 nm).
.. [5] M. Marezio, "Refinement of the crystal structure of In₂O₃", Acta Cryst. 20, 723 (1966) —
   bixbyite a = 1.0117 nm.
.. [6] "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
   doi:10.1038/s41586-026-10238-8: the sky-blue ITO / HTL / CsPb(Br,Cl)₃ / ETL / LiF / Al device.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..physics import lattices
from ..physics.elements import ATOMIC_NUMBER as _ATOMIC_NUMBER

__all__ = [
    "ELEMENTS", "ATOMIC_NUMBER", "LAYER_NAMES", "PHASE_NAMES", "PHASE", "perovskite_composition",
    "layer_compositions", "ATOM_DENSITY_NM3",
    "PARTICLE_PHASES", "particle_composition", "check_fraction", "emitter_lattice_parameter_nm",
]

#: Elements carried by every composition array of the device sample, in this order.
ELEMENTS: tuple[str, ...] = ("Li", "C", "N", "O", "F", "Al", "Si", "Cl", "Br", "In", "Sn", "Cs", "Pb")

#: Atomic numbers (Z) of :data:`ELEMENTS`.
ATOMIC_NUMBER: dict[str, int] = {el: _ATOMIC_NUMBER[el] for el in ELEMENTS}

#: Layers of the stack along the growth direction (image rows, top to bottom).
LAYER_NAMES: tuple[str, ...] = ("glass", "ITO", "HTL", "emitter", "ETL", "LiF", "AlCl3", "Al")

#: Phase labels used by the truth maps (``phase`` variable); the index is the integer label.
PHASE_NAMES: tuple[str, ...] = (
    "glass", "ITO", "HTL", "perovskite", "ETL", "LiF", "AlCl3", "Al", "Pb", "PbX2", "CsPb2X5",
    "amorphous_perovskite",
)
PHASE = {name: i for i, name in enumerate(PHASE_NAMES)}

#: Atom number density (non-H atoms per nm³) of each layer / product phase, from density ρ and
#: formula mass M as n = ρ N_A / M × (atoms per formula) [4]_ [5]_.
ATOM_DENSITY_NM3: dict[str, float] = {
    "glass": 66.3,    # SiO2, 2.20 g/cm3, 60.08 g/mol, 3 atoms
    "ITO": 77.9,      # In2O3:Sn, 7.18 g/cm3, 277.6 g/mol, 5 atoms
    "HTL": 56.2,      # PVK (C14H11N)n, 1.20 g/cm3, 193.2 g/mol, 15 non-H atoms
    "emitter": 25.8,  # CsPbX3: 5 atoms per cell of a = 0.579 nm (fields use (2 + 3 occ) / a(x)^3)
    "ETL": 56.2,      # TPBi C45H30N6, 1.20 g/cm3, 654.8 g/mol, 51 non-H atoms
    "LiF": 122.6,     # 2.64 g/cm3, 25.94 g/mol, 2 atoms
    "AlCl3": 44.8,    # 2.48 g/cm3, 133.3 g/mol, 4 atoms
    "Al": 60.3,       # 2.70 g/cm3, 26.98 g/mol
    "Pb": 33.0,       # 11.34 g/cm3, 207.2 g/mol
    "PbX2": 32.8,     # PbBr2, 6.66 g/cm3, 367.0 g/mol, 3 atoms
    "CsPb2X5": 23.9,  # CsPb2Br5, ~4.96 g/cm3, 1000 g/mol, 8 atoms
}


def emitter_lattice_parameter_nm(x_cl):
    """Pseudo-cubic lattice parameter (nm) of the CsPb(Br₁₋ₓClₓ)₃ emitter, linear in x (Vegard [3]_).

    Interpolates between the tabulated end members (:mod:`perovscope.physics.lattices`); elementwise.
    """
    x = np.asarray(x_cl, dtype=float)
    a = lattices.CSPBBR3_A_NM + x * (lattices.CSPBCL3_A_NM - lattices.CSPBBR3_A_NM)
    return a if a.ndim else float(a)


def check_fraction(name: str, value: float) -> float:
    """Return ``value`` as float or raise :class:`InputError` naming ``name`` if outside [0, 1]."""
    v = float(value)
    if not np.isfinite(v) or v < 0.0 or v > 1.0:
        raise InputError(f"{name}={value!r}: a composition fraction must lie in [0, 1]")
    return v


def _vec(**fractions: float) -> np.ndarray:
    out = np.zeros(len(ELEMENTS))
    for el, f in fractions.items():
        out[ELEMENTS.index(el)] = f
    return out / out.sum()


def perovskite_composition(x_cl, halide_occupancy=1.0) -> np.ndarray:
    """Atomic fractions (..., element) of CsPb(Br₁₋ₓClₓ)₃ with a fraction of halide sites occupied.

    ``x_cl`` is the Cl fraction of the *occupied* halide sites; ``halide_occupancy`` < 1 describes
    halide vacancies left behind by migrating Cl⁻. Broadcasts over the shapes of both arguments.
    """
    x = np.asarray(x_cl, dtype=float)[..., None]
    occ = np.asarray(halide_occupancy, dtype=float)[..., None]
    cs = _vec(Cs=1.0)
    pb = _vec(Pb=1.0)
    br = _vec(Br=1.0)
    cl = _vec(Cl=1.0)
    n = cs + pb + 3.0 * occ * ((1.0 - x) * br + x * cl)
    return n / n.sum(axis=-1, keepdims=True)


def layer_compositions(x_cl: float) -> dict[str, np.ndarray]:
    """Nominal atomic fractions of every layer (emitter with Cl fraction ``x_cl``) [6]_."""
    return {
        "glass": _vec(Si=1, O=2),
        "ITO": _vec(In=1.8, Sn=0.2, O=3.0),      # In2O3 with 10 % Sn on In sites
        "HTL": _vec(C=14, N=1),                  # PVK, poly(9-vinylcarbazole)
        "emitter": perovskite_composition(x_cl),
        "ETL": _vec(C=45, N=6),                  # TPBi
        "LiF": _vec(Li=1, F=1),
        "AlCl3": _vec(Al=1, Cl=3),
        "Al": _vec(Al=1),
    }


def particle_composition(phase: str, x_cl: float) -> np.ndarray:
    """Atomic fractions of a Pb-rich product phase (halide split as in the emitter)."""
    if phase == "Pb":
        return _vec(Pb=1)
    if phase == "PbX2":
        return _vec(Pb=1, Br=2 * (1 - x_cl), Cl=2 * x_cl)
    if phase == "CsPb2X5":
        return _vec(Cs=1, Pb=2, Br=5 * (1 - x_cl), Cl=5 * x_cl)
    raise InputError(f"particle phase {phase!r}: use 'Pb', 'PbX2' or 'CsPb2X5'")


#: Names of the Pb-rich product phases a particle can have.
PARTICLE_PHASES = ("Pb", "PbX2", "CsPb2X5")
