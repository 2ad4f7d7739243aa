"""Phase library of the perovskite-LED materials and their zone-axis reciprocal lattices.

A :class:`Phase` holds the lattice parameters (nm, degrees), the space group and the atoms of the unit
cell. Allowed reflections and their relative intensities follow from a kinematic structure factor with
screened-Coulomb electron scattering factors (:mod:`.crystallography`), so systematic absences of
centred lattices, glides and screws come out without hand-written rules. Atomic positions are rounded
literature values: adequate to say which reflections are allowed and roughly how strong they are, not
for quantitative intensity refinement.

References
----------
.. [1] C. C. Stoumpos et al., "Crystal growth of the perovskite semiconductor CsPbBr3", Cryst. Growth
   Des. 13, 2722 (2013) — cubic (a = 0.5874 nm, >130 °C) and orthorhombic Pnma CsPbBr3.
.. [2] C. K. Møller, "The structure of perovskite-like caesium plumbo trihalides", Mat. Fys. Medd.
   Dan. Vid. Selsk. 32, 1 (1959) — cubic CsPbCl3, a = 0.5605 nm.
.. [3] M. R. Linaburg et al., "Cs1-xRbxPbCl3 and Cs1-xRbxPbBr3 solid solutions", Chem. Mater. 29, 3507
   (2017) — orthorhombic CsPbCl3.
.. [4] A. M. Sutton et al., "Cubic or orthorhombic? Revealing the crystal structure of metastable
   black-phase CsPbI3", ACS Energy Lett. 3, 1787 (2018) — γ-CsPbI3.
.. [5] D. M. Trots and S. V. Myagkota, "High-temperature structural evolution of caesium and rubidium
   triiodoplumbates", J. Phys. Chem. Solids 69, 2520 (2008) — δ-CsPbI3.
.. [6] H. Sass, E. B. Brackett and T. E. Brackett, "The crystal structure of lead chloride", J. Phys.
   Chem. 67, 2863 (1963) — PbCl2 (cotunnite); PbBr2 is isostructural.
.. [7] R. W. G. Wyckoff, *Crystal Structures*, Vol. 1, Interscience (1963) — PbI2 (CdI2 type), Pb, Al.
.. [8] G. M. Cola et al., "CsPb2Br5" (I4/mcm), Acta Cryst. B 27 (1971); also Powell & Tasker (1957).
.. [9] J. A. A. Ketelaar, C. H. MacGillavry and P. A. Renes, "The crystal structure of aluminium
   chloride", Recl. Trav. Chim. Pays-Bas 66, 501 (1947).
.. [10] L. Vegard, "Die Konstitution der Mischkristalle", Z. Phys. 5, 17 (1921).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..physics import lattices as _lattices
from .crystallography import (
    ATOMIC_NUMBER,
    SPACE_GROUP_GENERATORS,
    Site,
    crystal_system_of,
    direct_basis,
    electron_scattering_factor,
    expand_sites,
    reciprocal_basis,
)

__all__ = [
    "Phase",
    "Site",
    "ReciprocalLattice",
    "PHASE_LIBRARY",
    "CSPBBR3_A_NM",
    "CSPBCL3_A_NM",
    "vegard_lattice_parameter_nm",
    "vegard_cl_fraction",
    "mixed_halide_perovskite",
    "phase_from_lattice",
    "reciprocal_lattice",
]

#: Pseudo-cubic lattice parameters of the end members used for Vegard's law [1]_, [2]_
#: (:mod:`perovscope.physics.lattices`).
CSPBBR3_A_NM = _lattices.CSPBBR3_A_NM
CSPBCL3_A_NM = _lattices.CSPBCL3_A_NM

#: Relative |F|² below which a reflection counts as (systematically) absent.
_ABSENT = 1e-8


@dataclass(frozen=True, eq=False)
class Phase:
    """A crystalline phase: lattice (nm, degrees), space group and unit-cell contents.

    Parameters
    ----------
    name : str
        Library key, e.g. ``"CsPbBr3_cubic"``.
    formula : str
        Chemical formula.
    a, b, c : float
        Lattice parameters in nm.
    alpha, beta, gamma : float
        Lattice angles in degrees.
    crystal_system : str
        ``cubic``, ``tetragonal``, ``orthorhombic``, ``hexagonal``/``trigonal``, ``monoclinic``, ...
    space_group : str
        Hermann–Mauguin symbol, a key of ``SPACE_GROUP_GENERATORS`` (``"P1"`` when unknown).
    sites : tuple of Site
        Asymmetric unit; expanded by the space group to the full cell.
    pseudocubic_a_nm : float or None
        Perovskite pseudo-cubic lattice parameter (for Vegard's law); None for non-perovskites.
    reference : str
        Where the numbers come from.
    debye_waller_nm2 : float
        Isotropic Debye–Waller B (nm²): |F|² is damped by ``exp(-B g²/2)``.
    """

    name: str
    formula: str
    a: float
    b: float
    c: float
    alpha: float = 90.0
    beta: float = 90.0
    gamma: float = 90.0
    crystal_system: str = "triclinic"
    space_group: str = "P1"
    sites: tuple[Site, ...] = field(default=(Site("Pb", 0.0, 0.0, 0.0),))
    pseudocubic_a_nm: float | None = None
    reference: str = ""
    debye_waller_nm2: float = 0.02

    def __post_init__(self):
        if min(self.a, self.b, self.c) <= 0:
            raise InputError(f"phase {self.name!r}: lattice parameters a, b, c must be > 0 nm")
        if self.space_group not in SPACE_GROUP_GENERATORS:
            raise InputError(f"phase {self.name!r}: unknown space group {self.space_group!r}; use one of "
                             f"{sorted(SPACE_GROUP_GENERATORS)} or 'P1' with the full cell in sites")
        for s in self.sites:
            if s.element not in ATOMIC_NUMBER:
                raise InputError(f"phase {self.name!r}: unknown element {s.element!r}")

    @cached_property
    def direct(self) -> np.ndarray:
        """Direct-lattice vectors (rows a, b, c), Cartesian, nm."""
        return direct_basis(self.a, self.b, self.c, self.alpha, self.beta, self.gamma)

    @cached_property
    def reciprocal(self) -> np.ndarray:
        """Reciprocal-lattice vectors (rows a*, b*, c*), Cartesian, 1/nm (no 2π)."""
        return reciprocal_basis(self.direct)

    @cached_property
    def cell_sites(self) -> tuple[Site, ...]:
        """All atoms of the unit cell (asymmetric unit expanded by the space group)."""
        return expand_sites(self.space_group, self.sites)

    def g_vector(self, hkl) -> np.ndarray:
        """Cartesian reciprocal vectors ``(..., 3)`` (1/nm) of Miller indices ``hkl`` ``(..., 3)``."""
        return np.asarray(hkl, dtype=float) @ self.reciprocal

    def d_spacing(self, hkl) -> np.ndarray:
        """Interplanar spacing in nm of ``hkl`` ``(..., 3)``."""
        return 1.0 / np.linalg.norm(self.g_vector(hkl), axis=-1)

    def structure_factor(self, hkl) -> np.ndarray:
        """Kinematic structure factor ``(...)`` (complex, nm) of reflections ``hkl`` ``(..., 3)``."""
        hkl = np.asarray(hkl, dtype=float)
        g = np.linalg.norm(self.g_vector(hkl), axis=-1)
        sites = self.cell_sites
        xyz = np.array([[s.x, s.y, s.z] for s in sites])
        occ = np.array([s.occupancy for s in sites])
        z = np.array([ATOMIC_NUMBER[s.element] for s in sites], dtype=float)
        f = electron_scattering_factor(z, g[..., None]) * occ
        phase = np.exp(2j * np.pi * (hkl @ xyz.T))
        return (f * phase).sum(-1) * np.exp(-self.debye_waller_nm2 * g**2 / 4.0)

    def intensity(self, hkl) -> np.ndarray:
        """Kinematic intensity ``|F|²`` of ``hkl`` (absolute, nm²)."""
        return np.abs(self.structure_factor(hkl)) ** 2

    def allowed(self, hkl) -> np.ndarray:
        """Boolean ``(...)``: the reflection is not systematically absent (and is not 000)."""
        hkl = np.asarray(hkl, dtype=float)
        g = np.linalg.norm(self.g_vector(hkl), axis=-1)
        sites = self.cell_sites
        z = np.array([ATOMIC_NUMBER[s.element] for s in sites], dtype=float)
        occ = np.array([s.occupancy for s in sites])
        scale = (electron_scattering_factor(z, g[..., None]) * occ).sum(-1) ** 2
        scale = scale * np.exp(-self.debye_waller_nm2 * g**2 / 2.0)
        return (self.intensity(hkl) > _ABSENT * scale) & (g > 0)

    def strained(self, scale: float) -> Phase:
        """The same phase with all lengths multiplied by ``scale`` (isotropic expansion)."""
        return phase_from_lattice(self.name, self.a * scale, self.b * scale, self.c * scale, self.alpha,
                                  self.beta, self.gamma, formula=self.formula,
                                  crystal_system=self.crystal_system, space_group=self.space_group,
                                  sites=self.sites, reference=self.reference,
                                  pseudocubic_a_nm=None if self.pseudocubic_a_nm is None
                                  else self.pseudocubic_a_nm * scale)

    def __repr__(self) -> str:
        return f"Phase({self.name!r}, {self.space_group}, a,b,c={self.a:.4f},{self.b:.4f},{self.c:.4f} nm)"


def phase_from_lattice(name: str, a: float, b: float | None = None, c: float | None = None,
                       alpha: float = 90.0, beta: float = 90.0, gamma: float = 90.0, *,
                       formula: str | None = None, crystal_system: str | None = None,
                       space_group: str = "P1", sites=None, centering: str = "P",
                       reference: str = "user", pseudocubic_a_nm: float | None = None) -> Phase:
    """A user phase from lattice parameters (nm, degrees).

    Without ``sites`` one scattering atom per lattice point is assumed, so only the lattice-centring
    extinctions (``centering`` ``P``, ``I``, ``F``, ``C``, ``A``, ``B``) apply, all allowed reflections
    having similar intensity.

    Examples
    --------
    >>> ni = phase_from_lattice("Ni", 0.3524, centering="F")
    >>> bool(ni.allowed([1, 0, 0])), bool(ni.allowed([1, 1, 1]))
    (False, True)
    """
    b = a if b is None else b
    c = a if c is None else c
    if sites is None:
        trans = {"P": [(0, 0, 0)], "I": [(0, 0, 0), (0.5, 0.5, 0.5)], "C": [(0, 0, 0), (0.5, 0.5, 0)],
                 "A": [(0, 0, 0), (0, 0.5, 0.5)], "B": [(0, 0, 0), (0.5, 0, 0.5)],
                 "F": [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)]}
        if centering not in trans:
            raise InputError(f"phase {name!r}: centering must be one of {sorted(trans)}, got {centering!r}")
        sites = tuple(Site("Pb", *t) for t in trans[centering])
        space_group = "P1"
    if crystal_system is None:
        crystal_system = crystal_system_of(a, b, c, alpha, beta, gamma)
    return Phase(name, formula or name, float(a), float(b), float(c), float(alpha), float(beta),
                 float(gamma), crystal_system, space_group, tuple(Site(*s) for s in sites),
                 pseudocubic_a_nm, reference)


def vegard_lattice_parameter_nm(x_cl):
    """Pseudo-cubic lattice parameter (nm) of CsPb(Br₁₋ₓClₓ)₃ by Vegard's law [10]_.

    ``a(x) = (1 - x) a(CsPbBr3) + x a(CsPbCl3)`` with the cubic end members 0.5874 nm [1]_ and
    0.5605 nm [2]_. Works elementwise on arrays.
    """
    x = np.asarray(x_cl, dtype=float)
    out = (1.0 - x) * CSPBBR3_A_NM + x * CSPBCL3_A_NM
    return out if out.ndim else float(out)


def vegard_cl_fraction(a_nm):
    """Inverse of :func:`vegard_lattice_parameter_nm`: Cl fraction x from the pseudo-cubic a (nm).

    Not clipped: values outside [0, 1] flag a lattice parameter outside the Br–Cl range.
    """
    a = np.asarray(a_nm, dtype=float)
    out = (CSPBBR3_A_NM - a) / (CSPBBR3_A_NM - CSPBCL3_A_NM)
    return out if out.ndim else float(out)


def mixed_halide_perovskite(x_cl: float, *, name: str | None = None) -> Phase:
    """Cubic CsPb(Br₁₋ₓClₓ)₃ with the Vegard lattice parameter and a mixed halide site (virtual crystal)."""
    x = float(x_cl)
    if not 0.0 <= x <= 1.0:
        raise InputError(f"mixed_halide_perovskite: x_cl must be within [0, 1], got {x}")
    a = vegard_lattice_parameter_nm(x)
    sites = [Site("Pb", 0, 0, 0), Site("Cs", 0.5, 0.5, 0.5)]
    if x < 1.0:
        sites.append(Site("Br", 0.5, 0, 0, 1.0 - x))
    if x > 0.0:
        sites.append(Site("Cl", 0.5, 0, 0, x))
    return Phase(name or f"CsPb(Br{1 - x:.2g}Cl{x:.2g})3", f"CsPb(Br{1 - x:.2g}Cl{x:.2g})3", a, a, a,
                 crystal_system="cubic", space_group="Pm-3m", sites=tuple(sites), pseudocubic_a_nm=a,
                 reference="Vegard's law between refs [1] and [2]")


def _pnma_perovskite(name, formula, a, b, c, cation, metal, halide, tilt, ref) -> Phase:
    # GdFeO3-type Pnma (a ≈ c ≈ √2 a_pc, b ≈ 2 a_pc); ``tilt`` scales the octahedral-tilt displacements.
    t = tilt
    sites = (Site(cation, 0.0 + 0.45 * t, 0.25, 1.0 - 0.1 * t), Site(metal, 0.0, 0.0, 0.5),
             Site(halide, 0.5 - 0.06 * t, 0.25, 0.6 * t), Site(halide, 0.25 + 0.45 * t, 0.3 * t,
                                                                   0.75 - 0.45 * t))
    apc = (a * b * c / 4.0) ** (1.0 / 3.0)
    return Phase(name, formula, a, b, c, crystal_system="orthorhombic", space_group="Pnma", sites=sites,
                 pseudocubic_a_nm=apc, reference=ref)


def _cubic_perovskite(name, formula, a, halide, ref) -> Phase:
    sites = (Site("Pb", 0, 0, 0), Site("Cs", 0.5, 0.5, 0.5), Site(halide, 0.5, 0, 0))
    return Phase(name, formula, a, a, a, crystal_system="cubic", space_group="Pm-3m", sites=sites,
                 pseudocubic_a_nm=a, reference=ref)


def _cotunnite(name, formula, a, b, c, halide, ref) -> Phase:
    sites = (Site("Pb", 0.2617, 0.25, 0.0955), Site(halide, 0.8617, 0.25, 0.0733),
             Site(halide, 0.4769, 0.25, 0.8333))
    return Phase(name, formula, a, b, c, crystal_system="orthorhombic", space_group="Pnma", sites=sites,
                 reference=ref)


def _build_library() -> dict[str, Phase]:
    lib = [
        _cubic_perovskite("CsPbBr3_cubic", "CsPbBr3", CSPBBR3_A_NM, "Br", "[1] Stoumpos 2013"),
        _pnma_perovskite("CsPbBr3_orthorhombic", "CsPbBr3", 0.8207, 1.1759, 0.8255, "Cs", "Pb", "Br",
                         0.1, "[1] Stoumpos 2013"),
        _cubic_perovskite("CsPbCl3_cubic", "CsPbCl3", CSPBCL3_A_NM, "Cl", "[2] Møller 1959"),
        _pnma_perovskite("CsPbCl3_orthorhombic", "CsPbCl3", 0.7902, 1.1248, 0.7899, "Cs", "Pb", "Cl",
                         0.1, "[3] Linaburg 2017"),
        mixed_halide_perovskite(0.5, name="CsPb(Br,Cl)3"),
        _pnma_perovskite("CsPbI3_gamma", "CsPbI3", 0.8856, 1.2472, 0.8577, "Cs", "Pb", "I", 0.15,
                         "[4] Sutton 2018"),
        Phase("CsPbI3_delta", "CsPbI3", 1.0458, 0.4801, 1.7776, crystal_system="orthorhombic",
              space_group="Pnma", sites=(Site("Cs", 0.4154, 0.25, 0.1718), Site("Pb", 0.1604, 0.25, 0.4394),
                                         Site("I", 0.2914, 0.25, 0.0067), Site("I", 0.0290, 0.75, 0.3888),
                                         Site("I", 0.3374, 0.75, 0.2819)),
              reference="[5] Trots & Myagkota 2008"),
        _cotunnite("PbBr2", "PbBr2", 0.8060, 0.4760, 0.9530, "Br", "[6] isostructural with PbCl2"),
        _cotunnite("PbCl2", "PbCl2", 0.7622, 0.4535, 0.9045, "Cl", "[6] Sass 1963"),
        Phase("PbI2", "PbI2", 0.4557, 0.4557, 0.6979, 90, 90, 120, "hexagonal", "P-3m1",
              (Site("Pb", 0, 0, 0), Site("I", 1 / 3, 2 / 3, 0.265)), reference="[7] Wyckoff (2H-PbI2)"),
        Phase("CsPb2Br5", "CsPb2Br5", 0.8483, 0.8483, 1.5201, crystal_system="tetragonal",
              space_group="I4/mcm", sites=(Site("Cs", 0, 0, 0.25), Site("Pb", 0.1617, 0.6617, 0),
                                           Site("Br", 0, 0, 0), Site("Br", 0.1666, 0.6666, 0.1364)),
              reference="[8] Cola 1971"),
        Phase("Pb", "Pb", 0.49502, 0.49502, 0.49502, crystal_system="cubic", space_group="Fm-3m",
              sites=(Site("Pb", 0, 0, 0),), reference="[7] Wyckoff"),
        Phase("AlCl3", "AlCl3", 0.5920, 1.0240, 0.6170, 90, 108.2, 90, "monoclinic", "C2/m",
              (Site("Al", 0, 0.166, 0), Site("Cl", 0.226, 0, 0.219), Site("Cl", 0.252, 0.32, 0.223)),
              reference="[9] Ketelaar 1947"),
        Phase("Al", "Al", 0.40495, 0.40495, 0.40495, crystal_system="cubic", space_group="Fm-3m",
              sites=(Site("Al", 0, 0, 0),), reference="[7] Wyckoff"),
    ]
    return {p.name: p for p in lib}


#: The built-in phases by name. Treat as read-only; add user phases to a copy (``dict(PHASE_LIBRARY)``).
PHASE_LIBRARY: dict[str, Phase] = _build_library()


class ReciprocalLattice(NamedTuple):
    """Zero-order-Laue-zone reflections of a phase seen down a zone axis.

    ``gx``, ``gy`` are in-plane components (1/nm) in a right-handed frame looking down the zone axis:
    x along the strongest shortest reflection (or ``x_hkl``), y = zone × x. The direct beam is omitted.
    """

    hkl: np.ndarray        # (n, 3) int Miller indices
    gx: np.ndarray         # (n,) 1/nm
    gy: np.ndarray         # (n,) 1/nm
    intensity: np.ndarray  # (n,) kinematic |F|², relative to the strongest (max 1)
    d_nm: np.ndarray       # (n,) interplanar spacing


def reciprocal_lattice(phase: Phase | str, zone_axis, g_max: float, *, x_hkl=None) -> ReciprocalLattice:
    """2-D reciprocal lattice (g vectors in 1/nm + relative intensities) of ``phase`` down ``zone_axis``.

    Parameters
    ----------
    phase : Phase or str
        A phase or a key of :data:`PHASE_LIBRARY`.
    zone_axis : sequence of 3 int
        Direct-lattice direction [uvw]; reflections obey the Weiss zone law ``hu + kv + lw = 0``.
    g_max : float
        Largest ``|g|`` (1/nm) kept.
    x_hkl : sequence of 3 int, optional
        A reflection of the zone to put along +x; default: the shortest allowed one (strongest first).

    Returns
    -------
    ReciprocalLattice
        Sorted by increasing ``|g|``. Systematically absent reflections are excluded.

    Examples
    --------
    >>> rl = reciprocal_lattice("CsPbBr3_cubic", (0, 0, 1), 4.0)
    >>> round(float(1 / rl.d_nm[0]), 4)  # |g(100)| = 1/a
    1.7024
    """
    if isinstance(phase, str):
        if phase not in PHASE_LIBRARY:
            raise InputError(f"unknown phase {phase!r}; known: {', '.join(PHASE_LIBRARY)}")
        phase = PHASE_LIBRARY[phase]
    uvw = np.asarray(zone_axis, dtype=int)
    if uvw.shape != (3,) or not uvw.any():
        raise InputError(f"zone_axis must be three integers, not all zero; got {zone_axis!r}")
    if not g_max > 0:
        raise InputError(f"g_max must be > 0 (1/nm), got {g_max!r}")
    n = [int(np.ceil(g_max * L)) for L in (phase.a, phase.b, phase.c)]
    grids = np.meshgrid(*(np.arange(-m, m + 1) for m in n), indexing="ij")
    hkl = np.stack([g.ravel() for g in grids], axis=-1)
    hkl = hkl[(hkl @ uvw) == 0]
    gvec = phase.g_vector(hkl)
    gn = np.linalg.norm(gvec, axis=-1)
    keep = (gn <= g_max) & (gn > 0)
    hkl, gvec, gn = hkl[keep], gvec[keep], gn[keep]
    ok = phase.allowed(hkl)
    hkl, gvec, gn = hkl[ok], gvec[ok], gn[ok]
    if len(hkl) == 0:
        raise InputError(f"no allowed reflections of {phase.name} down {list(uvw)} within g_max={g_max}")
    inten = phase.intensity(hkl)
    inten = inten / inten.max()
    zone = uvw @ phase.direct
    zone = zone / np.linalg.norm(zone)
    if x_hkl is None:
        order = np.lexsort((-hkl[:, 2], -hkl[:, 1], -hkl[:, 0], -np.round(inten, 6), np.round(gn, 6)))
        ex = gvec[order[0]]
    else:
        x_hkl = np.asarray(x_hkl)
        if int(x_hkl @ uvw) != 0:
            raise InputError(f"x_hkl {list(x_hkl)} is not in the zone {list(uvw)}")
        ex = phase.g_vector(x_hkl)
    ex = ex / np.linalg.norm(ex)
    ey = np.cross(zone, ex)
    angle = np.round(np.mod(np.arctan2(gvec @ ey, gvec @ ex), 2 * np.pi), 9) % np.round(2 * np.pi, 9)
    order = np.lexsort((angle, np.round(gn, 6)))
    return ReciprocalLattice(hkl[order].astype(int), gvec[order] @ ex, gvec[order] @ ey, inten[order],
                             1.0 / gn[order])
