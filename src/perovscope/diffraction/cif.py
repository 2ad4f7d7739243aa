"""User phases from Crystallographic Information Files (CIF), read with gemmi.

:func:`phase_from_cif` turns a small-molecule / inorganic CIF (cell, space group, asymmetric unit)
into a :class:`~perovscope.diffraction.phases.Phase`, so a user's phase gives the same kinematic
structure factors, systematic absences and zone-axis reciprocal lattices as the built-in ones.

The symmetry operations are taken from the file itself (``_space_group_symop_operation_xyz`` or the
older ``_symmetry_equiv_pos_as_xyz`` loop) when present, otherwise from the Hermann–Mauguin or Hall
symbol, so a non-standard setting or origin choice given in the file is honoured. The asymmetric unit
is expanded once, here; atoms closer than 0.01 nm to an image of the same site are merged (special
positions). When the file's operations are exactly those of a space group of the library
(``SPACE_GROUP_GENERATORS``) the phase keeps that symbol and the asymmetric unit; otherwise it is
stored as ``P1`` with the full cell, which gives identical structure factors.

References
----------
.. [1] S. R. Hall, F. H. Allen and I. D. Brown, "The Crystallographic Information File (CIF): a new
   standard archive file for crystallography", Acta Cryst. A 47, 655 (1991).
.. [2] M. Wojdyr, "GEMMI: a library for structural biology", J. Open Source Softw. 7, 4200 (2022).
.. [3] *International Tables for Crystallography*, Vol. A (2016): symmetry operations and
   Wyckoff positions.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import FormatError, InputError
from .crystallography import (
    ATOMIC_NUMBER,
    SPACE_GROUP_GENERATORS,
    Site,
    _closure,
    crystal_system_of,
    direct_basis,
    expand_sites,
)
from .phases import Phase

__all__ = ["phase_from_cif"]

#: Two images of one site closer than this (nm) are the same atom (special position).
_MERGE_NM = 0.01

_SYMOP_TAGS = ("_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz")
_HM_TAGS = ("_space_group_name_H-M_alt", "_symmetry_space_group_name_H-M")
_HALL_TAGS = ("_space_group_name_Hall", "_symmetry_space_group_name_Hall")
_CELL_TAGS = ("_cell_length_a", "_cell_length_b", "_cell_length_c",
              "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")


def _value(block, tags):
    import gemmi

    for tag in tags:
        v = block.find_value(tag)
        if v is not None and v not in ("?", "."):
            return gemmi.cif.as_string(v).strip()
    return None


def _ops_key(mats: np.ndarray) -> frozenset:
    """Set of operations (rotation, translation modulo 1 in 1/24 steps) for comparing two groups."""
    rot = np.rint(mats[:, :3, :3]).astype(int)
    tr = np.mod(np.rint(mats[:, :3, 3] * 24).astype(int), 24)
    return frozenset(r.tobytes() + t.tobytes() for r, t in zip(rot, tr, strict=True))


def _symmetry(block, where):
    """4×4 affine operations (n, 4, 4) on fractional coordinates, and the space-group object or None."""
    import gemmi

    sg = None
    hm = _value(block, _HM_TAGS)
    hall = _value(block, _HALL_TAGS)
    if hm:
        sg = gemmi.find_spacegroup_by_name(hm)
    if sg is None and hall:
        try:
            sg = gemmi.find_spacegroup_by_ops(gemmi.symops_from_hall(hall))
        except (RuntimeError, ValueError):
            sg = None
    for tag in _SYMOP_TAGS:
        col = block.find_values(tag)
        if len(col):
            try:
                ops = [gemmi.Op(gemmi.cif.as_string(t)) for t in col]
            except (RuntimeError, ValueError) as exc:
                raise FormatError(f"CIF file {where!r}: cannot parse a symmetry operation in {tag}: "
                                  f"{exc}") from exc
            if sg is None:
                sg = gemmi.find_spacegroup_by_ops(gemmi.GroupOps(ops))
            return np.array([op.float_seitz() for op in ops]), sg
    if sg is None:
        raise FormatError(f"CIF file {where!r}: no space group (H-M or Hall symbol) or symmetry "
                          "operations; if the atoms listed are the whole cell add "
                          "\"_space_group_name_H-M_alt 'P 1'\"")
    return np.array([op.float_seitz() for op in sg.operations()]), sg


def _expand(sites: list[Site], ops: np.ndarray, direct: np.ndarray) -> list[Site]:
    """Images of every site under ``ops``, wrapped into the cell, with coincident images merged."""
    out: list[Site] = []
    for s in sites:
        xyz = np.mod(ops[:, :3, :3] @ np.array([s.x, s.y, s.z]) + ops[:, :3, 3], 1.0)
        d = xyz[:, None, :] - xyz[None, :, :]
        d = (d - np.rint(d)) @ direct
        close = np.linalg.norm(d, axis=-1) < _MERGE_NM
        keep = ~np.tril(close, -1).any(axis=1)
        xyz = xyz[keep]
        xyz = np.where(np.isclose(xyz, 1.0, atol=1e-6), 0.0, xyz)
        out.extend(Site(s.element, *map(float, p), s.occupancy) for p in xyz)
    return out


def _library_group(ops: np.ndarray) -> str | None:
    key = _ops_key(ops)
    for name, gens in SPACE_GROUP_GENERATORS.items():
        if name != "P1" and _ops_key(np.array(_closure(gens))) == key:
            return name
    return None


def phase_from_cif(path, *, name: str | None = None, pseudocubic_a_nm: float | None = None) -> Phase:
    """A :class:`Phase` from a CIF file: cell (Å → nm), space group and atoms.

    Parameters
    ----------
    path : str or path-like
        CIF file (opened read-only). The first data block with a cell (``_cell_length_a``) is used.
    name : str, optional
        Phase name; default the file name without extension.
    pseudocubic_a_nm : float, optional
        Perovskite pseudo-cubic lattice parameter (nm) to store on the phase (for Vegard's law).

    Returns
    -------
    Phase
        Asymmetric unit expanded by the file's symmetry operations [3]_. Occupancies are kept; the
        phase uses the library's default isotropic Debye–Waller factor (the file's displacement
        parameters are not read).

    Raises
    ------
    FormatError
        The file is missing, is not a CIF, or has no cell, no atom sites or no symmetry.
    InputError
        An element is outside the scattering-factor table of :mod:`.crystallography`.

    References
    ----------
    .. [1] Hall, Allen and Brown, Acta Cryst. A 47, 655 (1991) — the CIF format.
    .. [2] Wojdyr, J. Open Source Softw. 7, 4200 (2022) — gemmi, the CIF parser used.

    Examples
    --------
    >>> ph = phase_from_cif("CsPbBr3.cif")  # doctest: +SKIP
    >>> reciprocal_lattice(ph, (0, 0, 1), 4.0)  # doctest: +SKIP
    """
    import gemmi

    where = os.fspath(path)
    p = Path(where)
    if not p.is_file():
        raise FormatError(f"CIF file {where!r} does not exist or is not a file")
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        doc = gemmi.cif.read_string(text)
    except (RuntimeError, ValueError, OSError) as exc:
        raise FormatError(f"CIF file {where!r} is not a readable CIF: {exc}") from exc
    block = next((b for b in doc if b.find_value("_cell_length_a") is not None), None)
    if block is None:
        raise FormatError(f"CIF file {where!r} has no data block with a unit cell (_cell_length_a)")
    try:
        cell = [float(gemmi.cif.as_number(block.find_value(t))) if block.find_value(t) is not None
                else (90.0 if "angle" in t else np.nan) for t in _CELL_TAGS]
    except (RuntimeError, ValueError) as exc:
        raise FormatError(f"CIF file {where!r}: unreadable cell parameter: {exc}") from exc
    if not np.all(np.isfinite(cell)) or min(cell[:3]) <= 0:
        raise FormatError(f"CIF file {where!r}: cell lengths a, b, c must all be given and > 0 (Å), "
                          f"got {cell[:3]}")
    a, b, c = (v / 10.0 for v in cell[:3])
    alpha, beta, gamma = cell[3:]
    small = gemmi.make_small_structure_from_block(block)
    if len(small.sites) == 0:
        raise FormatError(f"CIF file {where!r}: no atom sites (_atom_site_fract_x/y/z loop)")
    sites = []
    for s in small.sites:
        el = s.element.name
        if el not in ATOMIC_NUMBER:
            raise InputError(f"CIF file {where!r}: element {el!r} of site {s.label!r} is not in the "
                             f"scattering-factor table ({', '.join(sorted(ATOMIC_NUMBER))})")
        xyz = (s.fract.x, s.fract.y, s.fract.z)
        if not np.all(np.isfinite(xyz)):
            raise FormatError(f"CIF file {where!r}: site {s.label!r} has no fractional coordinates")
        sites.append(Site(el, *map(float, xyz), float(s.occ)))
    ops, sg = _symmetry(block, where)
    direct = direct_basis(a, b, c, alpha, beta, gamma)
    full = _expand(sites, ops, direct)
    hm = sg.short_name() if sg is not None else _value(block, _HM_TAGS) or "unknown"
    space_group, stored = "P1", tuple(full)
    lib = _library_group(ops)
    if lib is not None and len(expand_sites(lib, tuple(sites))) == len(full):
        space_group, stored = lib, tuple(sites)
    system = sg.crystal_system_str() if sg is not None else crystal_system_of(a, b, c, alpha, beta, gamma)
    formula = _value(block, ("_chemical_formula_sum", "_chemical_formula_structural"))
    label = name or p.stem
    return Phase(label, formula.replace(" ", "") if formula else label, a, b, c, alpha, beta, gamma,
                 system, space_group, stored, pseudocubic_a_nm, f"CIF {p.name} ({hm})")
