"""Crystal phases for powder X-ray diffraction: a built-in set and phases read from CIF files.

A :class:`CrystalPhase` is small data — cell (Å, degrees), space group (Hermann–Mauguin symbol as
gemmi spells it, e.g. ``"P b n m"``, ``"R -3 c:H"``), the asymmetric unit as :class:`AtomSite`
(element, fractional coordinates, occupancy, isotropic displacement parameter B in Å²) and the
reference the numbers come from. The full cell is generated with gemmi's symmetry operations
(:meth:`CrystalPhase.small_structure`, :meth:`CrystalPhase.cell_atoms`), so special positions and
non-standard settings are handled by one well-tested library.

The built-in set (:data:`BUILTIN_PHASES`) covers the halide-perovskite phases met in CsPbX₃ work and
the usual line-position standards. The lattice parameters and, where the literature gives them, the
atom positions come from the structure papers cited below; where only a density-functional
relaxation or a geometric model was available this is said in the phase's ``reference`` and in
``docs/bulk/xrd.md``. Displacement parameters B are typical room-temperature values unless cited:
they change relative intensities (hence weight fractions) by a few per cent at most and can be
refined as one overall B per phase.

References
----------
.. [1] NIST SRM 660a, Lanthanum hexaboride powder line position and line shape standard (2000):
   a = 4.15692 Å; B at 6f x = 0.1975 and B factors as used by D. Kriegner, E. Wintersberger and
   G. Bauer, J. Appl. Cryst. 46, 1162 (2013) (xrayutilities).
.. [2] E. Tiesinga et al., "CODATA recommended values of the fundamental physical constants: 2018",
   Rev. Mod. Phys. 93, 025010 (2021): a(Si) = 5.431020511 Å; V. F. Sears and S. A. Shelley, Acta
   Cryst. A 47, 441 (1991): B(Si) = 0.463 Å² at 295 K.
.. [3] R. Restori and D. Schwarzenbach, "Charge density in cuprite, Cu₂O", Acta Cryst. B 42, 201
   (1986): a = 4.2685 Å, Pn-3m.
.. [4] C. C. Stoumpos et al., "Crystal growth of the perovskite semiconductor CsPbBr3", Cryst. Growth
   Des. 13, 2722 (2013): cubic (a = 5.874 Å) and orthorhombic Pbnm CsPbBr₃ (8.207, 8.255, 11.759 Å).
.. [5] R. J. Sutton et al., "Cubic or orthorhombic? Revealing the crystal structure of metastable
   black-phase CsPbI3 by theory and experiment", ACS Energy Lett. 3, 1787 (2018): γ-CsPbI₃, Pbnm.
.. [6] D. M. Trots and S. V. Myagkota, "High-temperature structural evolution of caesium and
   rubidium triiodoplumbates", J. Phys. Chem. Solids 69, 2520 (2008): δ-CsPbI₃, Pnma.
.. [7] A. Jain et al., "The Materials Project", APL Mater. 1, 011002 (2013): PBE relaxations used for
   the atom positions of γ-CsPbI₃, δ-CsPbI₃ and orthorhombic CsPbBr₃ (scaled to the measured cells).
.. [8] M. Velázquez et al., "Growth and characterization of pure and Pr³⁺-doped Cs₄PbBr₆ crystals",
   J. Cryst. Growth 310, 5458 (2008): Cs₄PbBr₆, R-3c (K₄CdCl₆ type).
.. [9] R. W. G. Wyckoff, *Crystal Structures*, Vol. 1, Interscience (1963): PbI₂ (CdI₂ type, P-3m1).
.. [10] H. Sass, E. B. Brackett and T. E. Brackett, J. Phys. Chem. 67, 2863 (1963): PbCl₂
   (cotunnite, Pnma); PbBr₂ is isostructural.
.. [11] M. Wojdyr, "GEMMI: a library for structural biology", J. Open Source Softw. 7, 4200 (2022).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError

__all__ = ["AtomSite", "CrystalPhase", "BUILTIN_PHASES", "get_phase", "phase_from_cif_file",
           "lattice_free_names"]

#: B (Å²) used for a CIF site that gives no displacement parameter.
DEFAULT_B = 1.0
_B_FROM_U = 8.0 * np.pi**2


@dataclass(frozen=True)
class AtomSite:
    """One site of the asymmetric unit: element, fractional x, y, z, occupancy, isotropic B (Å²)."""

    element: str
    x: float
    y: float
    z: float
    occupancy: float = 1.0
    b_iso: float = DEFAULT_B
    label: str = ""


@dataclass(frozen=True, eq=False)
class CrystalPhase:
    """A crystalline phase for powder diffraction (cell in Å and degrees).

    Parameters
    ----------
    name : str
        Short name (``"CsPbI3_gamma"``).
    formula : str
        Chemical formula of one formula unit.
    cell : tuple of 6 float
        a, b, c (Å), α, β, γ (degrees).
    space_group : str
        Hermann–Mauguin symbol understood by :func:`gemmi.find_spacegroup_by_name` (with the
        setting, e.g. ``"P n -3 m:2"``), or the Hall symbol prefixed with ``"hall:"``.
    sites : tuple of AtomSite
        Asymmetric unit.
    reference : str
        Source of the numbers.
    """

    name: str
    formula: str
    cell: tuple
    space_group: str
    sites: tuple
    reference: str = ""

    def __post_init__(self):
        if len(self.cell) != 6 or min(self.cell[:3]) <= 0:
            raise InputError(f"phase {self.name!r}: cell must be (a, b, c, alpha, beta, gamma) with "
                             f"positive lengths in Å, got {self.cell!r}")
        if not self.sites:
            raise InputError(f"phase {self.name!r} has no atom sites")
        self.spacegroup  # noqa: B018  (raises for an unknown symbol)

    @cached_property
    def spacegroup(self):
        """The :class:`gemmi.SpaceGroup`."""
        import gemmi

        if self.space_group.startswith("hall:"):
            sg = gemmi.find_spacegroup_by_ops(gemmi.symops_from_hall(self.space_group[5:]))
        else:
            sg = gemmi.find_spacegroup_by_name(self.space_group)
        if sg is None:
            raise InputError(f"phase {self.name!r}: unknown space group {self.space_group!r}; give a "
                             "Hermann–Mauguin symbol as in the International Tables (e.g. 'P b n m')")
        return sg

    @property
    def crystal_system(self) -> str:
        return self.spacegroup.crystal_system_str()

    def small_structure(self, cell=None):
        """A :class:`gemmi.SmallStructure` of the phase (optionally with another cell)."""
        import gemmi

        small = gemmi.SmallStructure()
        small.name = self.name
        small.cell = gemmi.UnitCell(*(self.cell if cell is None else cell))
        small.spacegroup_hm = self.spacegroup.xhm()
        small.spacegroup = self.spacegroup
        for i, s in enumerate(self.sites):
            site = gemmi.SmallStructure.Site()
            site.label = s.label or f"{s.element}{i + 1}"
            site.type_symbol = s.element
            site.element = gemmi.Element(s.element)
            site.fract = gemmi.Fractional(s.x, s.y, s.z)
            site.occ = s.occupancy
            site.u_iso = s.b_iso / _B_FROM_U
            small.add_site(site)
        small.setup_cell_images()
        return small

    @cached_property
    def _cell_atoms(self):
        atoms = self.small_structure().get_all_unit_cell_sites()
        el = np.array([a.element.name for a in atoms])
        xyz = np.array([[a.fract.x, a.fract.y, a.fract.z] for a in atoms], dtype=float)
        occ = np.array([a.occ for a in atoms], dtype=float)
        b = np.array([a.u_iso * _B_FROM_U for a in atoms], dtype=float)
        return el, xyz, occ, b

    def cell_atoms(self):
        """Every atom of the unit cell: ``(elements (m,), fractional xyz (m, 3), occupancy, B)``."""
        return self._cell_atoms

    @cached_property
    def cell_mass(self) -> float:
        """Mass of the unit-cell contents, g/mol (Z·M of the Hill–Howard relation)."""
        import gemmi

        el, _, occ, _ = self._cell_atoms
        return float(sum(gemmi.Element(e).weight * o for e, o in zip(el, occ, strict=True)))

    @property
    def volume(self) -> float:
        """Cell volume, Å³."""
        import gemmi

        return float(gemmi.UnitCell(*self.cell).volume)

    @property
    def density(self) -> float:
        """Crystallographic density, g/cm³."""
        return self.cell_mass / (0.602214076 * self.volume)

    def with_cell(self, cell) -> CrystalPhase:
        """The same phase with another cell (refined lattice parameters)."""
        return CrystalPhase(self.name, self.formula, tuple(float(v) for v in cell), self.space_group,
                            self.sites, self.reference)

    def __repr__(self) -> str:
        a, b, c = self.cell[:3]
        return f"CrystalPhase({self.name!r}, {self.spacegroup.hm}, a,b,c={a:.4f},{b:.4f},{c:.4f} Å)"


def lattice_free_names(phase: CrystalPhase) -> tuple[str, ...]:
    """Independent lattice parameters of the phase's crystal system (``("a",)``, ``("a", "c")``, ...)."""
    system = phase.crystal_system
    a, b, c, al, be, ga = phase.cell
    if system == "cubic":
        return ("a",)
    if system in ("tetragonal", "hexagonal"):
        return ("a", "c")
    if system == "trigonal":
        if np.isclose(a, c) and not np.isclose(al, 90.0):
            return ("a", "alpha")
        return ("a", "c")
    if system == "orthorhombic":
        return ("a", "b", "c")
    if system == "monoclinic":
        odd = [n for n, v in zip(("alpha", "beta", "gamma"), (al, be, ga), strict=True)
               if not np.isclose(v, 90.0)]
        return ("a", "b", "c", odd[0] if odd else "beta")
    return ("a", "b", "c", "alpha", "beta", "gamma")


def _s(element, x, y, z, b, occ=1.0, label=""):
    return AtomSite(element, float(x), float(y), float(z), float(occ), float(b), label)


def _builtin() -> dict[str, CrystalPhase]:
    # Cells that perovscope.diffraction already tabulates (nm there) are taken from that table.
    from ..diffraction.phases import CSPBBR3_A_NM, PHASE_LIBRARY

    ortho_br = PHASE_LIBRARY["CsPbBr3_orthorhombic"]   # stored there as (a, b_long, c) in nm
    delta = PHASE_LIBRARY["CsPbI3_delta"]
    pbi2 = PHASE_LIBRARY["PbI2"]
    pbbr2 = PHASE_LIBRARY["PbBr2"]
    a_br = CSPBBR3_A_NM * 10.0
    cot = {s.element: [] for s in pbbr2.sites}
    for s in pbbr2.sites:
        cot[s.element].append(s)
    phases = [
        CrystalPhase("LaB6", "LaB6", (4.15692,) * 3 + (90.0,) * 3, "P m -3 m",
                     (_s("La", 0, 0, 0, 0.05), _s("B", 0.1975, 0.5, 0.5, 0.15)),
                     "[1] NIST SRM 660a; B x = 0.1975 and B factors as in xrayutilities"),
        CrystalPhase("Si", "Si", (5.431020511,) * 3 + (90.0,) * 3, "F d -3 m:1",
                     (_s("Si", 0, 0, 0, 0.463),), "[2] CODATA 2018 a; Sears & Shelley 1991 B"),
        CrystalPhase("Cu2O", "Cu2O", (4.2685,) * 3 + (90.0,) * 3, "P n -3 m:2",
                     (_s("Cu", 0, 0, 0, 1.5), _s("O", 0.25, 0.25, 0.25, 1.0)),
                     "[3] Restori & Schwarzenbach 1986 (origin choice 2)"),
        CrystalPhase("CsPbBr3_cubic", "CsPbBr3", (a_br,) * 3 + (90.0,) * 3, "P m -3 m",
                     (_s("Pb", 0, 0, 0, 2.5), _s("Cs", 0.5, 0.5, 0.5, 4.0), _s("Br", 0.5, 0, 0, 5.0)),
                     "[4] Stoumpos 2013 (a > 130 °C)"),
        CrystalPhase("CsPbBr3_orthorhombic", "CsPbBr3",
                     (ortho_br.a * 10, ortho_br.c * 10, ortho_br.b * 10, 90.0, 90.0, 90.0), "P b n m",
                     (_s("Cs", 0.01945, 0.06016, 0.25, 3.0), _s("Pb", 0.5, 0, 0, 1.5),
                      _s("Br", 0.80279, 0.20102, 0.03170, 3.0), _s("Br", 0.44034, 0.00626, 0.25, 3.0)),
                     "[4] Stoumpos 2013 cell; positions from the PBE relaxation [7] (Pbnm setting)"),
        CrystalPhase("CsPbI3_gamma", "CsPbI3", (8.651, 8.832, 12.485, 90.0, 90.0, 90.0), "P b n m",
                     (_s("Cs", 0.00758, 0.03456, 0.25, 4.0), _s("Pb", 0.5, 0, 0, 2.0),
                      _s("I", 0.79662, 0.20392, 0.02593, 4.0), _s("I", 0.44852, 0.00714, 0.25, 4.0)),
                     "[5] Sutton 2018 structure type; cell as refined for CsPbI3/ZIF-62 composites "
                     "(Pnma 8.832, 12.485, 8.651 Å); positions from the PBE relaxation [7]"),
        CrystalPhase("CsPbI3_delta", "CsPbI3", (delta.a * 10, delta.b * 10, delta.c * 10, 90.0, 90.0, 90.0),
                     "P n m a",
                     (_s("Cs", 0.08128, 0.75, 0.32788, 2.5), _s("Pb", 0.16185, 0.25, 0.06078, 1.5),
                      _s("I", 0.02927, 0.25, 0.88769, 2.0), _s("I", 0.16279, 0.25, 0.49796, 2.0),
                      _s("I", 0.20368, 0.75, 0.71269, 2.0)),
                     "[6] Trots & Myagkota 2008 cell; positions from the PBE relaxation [7]"),
        CrystalPhase("Cs4PbBr6", "Cs4PbBr6", (13.73, 13.73, 17.32, 90.0, 90.0, 120.0), "R -3 c:H",
                     (_s("Cs", 0, 0, 0.25, 3.0), _s("Cs", 0.354, 0, 0.25, 3.0), _s("Pb", 0, 0, 0, 2.0),
                      _s("Br", 0.1910, 0.0287, 0.1000, 3.0)),
                     "[8] Velázquez 2008 cell and space group; Cs2 and Br positions from a model of "
                     "regular PbBr6 octahedra (Pb–Br 3.00 Å) maximising the Cs–Br distances"),
        CrystalPhase("PbI2", "PbI2", (pbi2.a * 10, pbi2.a * 10, pbi2.c * 10, 90.0, 90.0, 120.0), "P -3 m 1",
                     (_s("Pb", 0, 0, 0, 2.0), _s("I", 1 / 3, 2 / 3, pbi2.sites[1].z, 2.5)),
                     "[9] Wyckoff (2H-PbI2)"),
        CrystalPhase("PbBr2", "PbBr2", (pbbr2.a * 10, pbbr2.b * 10, pbbr2.c * 10, 90.0, 90.0, 90.0),
                     "P n m a", tuple(_s(s.element, s.x, s.y, s.z, 2.0) for s in pbbr2.sites),
                     "[10] cotunnite positions of PbCl2 (Sass 1963), PbBr2 cell"),
    ]
    return {p.name: p for p in phases}


#: Built-in phases by name; treat as read-only.
BUILTIN_PHASES: dict[str, CrystalPhase] = _builtin()

_ALIASES = {"gamma-cspbi3": "CsPbI3_gamma", "γ-cspbi3": "CsPbI3_gamma", "delta-cspbi3": "CsPbI3_delta",
            "δ-cspbi3": "CsPbI3_delta", "cspbbr3": "CsPbBr3_orthorhombic", "lab6": "LaB6"}


def phase_from_cif_file(path, *, name: str | None = None) -> CrystalPhase:
    """A :class:`CrystalPhase` from a CIF file, keeping the file's displacement parameters.

    The first data block with a cell is read with gemmi [11]_; the space group comes from the
    file's symmetry operations or its Hermann–Mauguin/Hall symbol. Isotropic B = 8π²U (U_iso or the
    trace of U_aniso / 3); a site without any gets B = 1 Å².

    Raises
    ------
    FormatError
        Missing file, not a CIF, no cell, no atom sites, or symmetry gemmi cannot identify.
    """
    import gemmi

    where = os.fspath(path)
    p = Path(where)
    if not p.is_file():
        raise FormatError(f"CIF file {where!r} does not exist or is not a file")
    try:
        doc = gemmi.cif.read_string(p.read_text(encoding="utf-8", errors="replace"))
    except (RuntimeError, ValueError) as exc:
        raise FormatError(f"CIF file {where!r} is not a readable CIF: {exc}") from exc
    block = next((b for b in doc if b.find_value("_cell_length_a") is not None), None)
    if block is None:
        raise FormatError(f"CIF file {where!r} has no data block with a unit cell (_cell_length_a)")
    try:
        small = gemmi.make_small_structure_from_block(block)
    except (RuntimeError, ValueError) as exc:
        raise FormatError(f"CIF file {where!r}: {exc}") from exc
    cell = small.cell
    if not cell.a > 0 or len(small.sites) == 0:
        raise FormatError(f"CIF file {where!r} has no cell lengths or no atom sites "
                          "(_atom_site_fract_x/y/z loop)")
    sg = small.spacegroup
    if sg is None:
        raise FormatError(f"CIF file {where!r}: the space group (symbol or symmetry operations) is "
                          "missing or not a standard setting; add _space_group_name_H-M_alt")
    sites = []
    for s in small.sites:
        u = s.u_iso
        if not u > 0 and s.aniso.nonzero():
            u = (s.aniso.u11 + s.aniso.u22 + s.aniso.u33) / 3.0
        b = u * _B_FROM_U if u > 0 else DEFAULT_B
        occ = s.occ if s.occ > 0 else 1.0
        sites.append(AtomSite(s.element.name, s.fract.x, s.fract.y, s.fract.z, occ, b, s.label))
    formula = block.find_value("_chemical_formula_sum")
    formula = gemmi.cif.as_string(formula).replace(" ", "") if formula else (name or p.stem)
    return CrystalPhase(name or p.stem, formula,
                        (cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma),
                        sg.xhm(), tuple(sites), f"CIF {p.name}")


def get_phase(spec) -> CrystalPhase:
    """A phase from a :class:`CrystalPhase`, a built-in name (case-insensitive) or a CIF path."""
    if isinstance(spec, CrystalPhase):
        return spec
    text = os.fspath(spec)
    key = {k.lower(): k for k in BUILTIN_PHASES}.get(text.lower()) or _ALIASES.get(text.lower())
    if key is not None:
        return BUILTIN_PHASES[key]
    if text.lower().endswith(".cif") or Path(text).is_file():
        return phase_from_cif_file(text)
    raise InputError(f"unknown phase {text!r}: give a CIF file or one of {', '.join(BUILTIN_PHASES)}")
