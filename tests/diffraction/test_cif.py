"""phase_from_cif: CIF files written here (known structures) against the library phases and closed forms."""

import numpy as np
import pytest

from perovscope.diffraction import PHASE_LIBRARY, phase_from_cif, reciprocal_lattice
from perovscope.errors import FormatError, InputError

_CELL = """_cell_length_a {a}
_cell_length_b {b}
_cell_length_c {c}
_cell_angle_alpha {al}
_cell_angle_beta {be}
_cell_angle_gamma {ga}
"""
_ATOMS = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
"""


def _cif(tmp_path, fname, sg, atoms, a, b=None, c=None, al=90, be=90, ga=90, extra=""):
    b = a if b is None else b
    c = a if c is None else c
    text = (f"data_{fname.split('.')[0]}\n" + _CELL.format(a=a, b=b, c=c, al=al, be=be, ga=ga)
            + (f"_symmetry_space_group_name_H-M '{sg}'\n" if sg else "") + extra + _ATOMS
            + "".join(f"{lab} {el} {x} {y} {z} {o}\n" for lab, el, x, y, z, o in atoms))
    path = tmp_path / fname
    path.write_text(text)
    return path


_CSPBBR3 = [("Cs1", "Cs", 0.5, 0.5, 0.5, 1), ("Pb1", "Pb", 0, 0, 0, 1), ("Br1", "Br", 0.5, 0, 0, 1)]


@pytest.mark.parametrize("zone", [(0, 0, 1), (0, 1, 1), (1, 1, 1)])
def test_cubic_cspbbr3_matches_library(tmp_path, zone):
    # Cs 1b, Pb 1a, Br 3d of Pm-3m at a = 5.874 Å: the same crystal as the library's CsPbBr3_cubic, so
    # the reflections must agree to rounding (1e-6 relative; both are computed in float64).
    ph = phase_from_cif(_cif(tmp_path, "CsPbBr3.cif", "P m -3 m", _CSPBBR3, 5.874))
    lib = PHASE_LIBRARY["CsPbBr3_cubic"]
    assert ph.name == "CsPbBr3" and ph.formula == "CsPbBr3"
    assert np.isclose(ph.a, 0.5874) and ph.crystal_system == "cubic"
    assert ph.space_group == "Pm-3m" and len(ph.sites) == 3  # library group: asymmetric unit kept
    assert len(ph.cell_sites) == 5
    assert sorted(s.element for s in ph.cell_sites) == ["Br", "Br", "Br", "Cs", "Pb"]
    mine = reciprocal_lattice(ph, zone, 6.0)
    ref = reciprocal_lattice(lib, zone, 6.0)
    np.testing.assert_array_equal(mine.hkl, ref.hkl)
    np.testing.assert_allclose(mine.gx, ref.gx, atol=1e-6)
    np.testing.assert_allclose(mine.gy, ref.gy, atol=1e-6)
    np.testing.assert_allclose(mine.intensity, ref.intensity, atol=1e-6)
    np.testing.assert_allclose(mine.d_nm, ref.d_nm, rtol=1e-6)


def test_explicit_symop_loop_is_used(tmp_path):
    # The same structure, symmetry given only as the 48 operations of Pm-3m in a symop loop
    # (generated here from the known group) -> identical cell.
    import gemmi

    ops = "".join(f"'{op.triplet()}'\n" for op in gemmi.find_spacegroup_by_name("Pm-3m").operations())
    extra = "loop_\n_space_group_symop_operation_xyz\n" + ops
    ph = phase_from_cif(_cif(tmp_path, "cs.cif", None, _CSPBBR3, 5.874, extra=extra), name="mine")
    assert ph.name == "mine" and len(ph.cell_sites) == 5
    hkl = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 1, 0]])
    lib = PHASE_LIBRARY["CsPbBr3_cubic"]
    np.testing.assert_allclose(ph.intensity(hkl), lib.intensity(hkl), rtol=1e-9)


def test_fcc_lead_absences_and_spacing(tmp_path):
    # One Pb in the asymmetric unit of Fm-3m -> 4 atoms; F-centring: h, k, l all even or all odd.
    a = 4.9502
    ph = phase_from_cif(_cif(tmp_path, "Pb.cif", "F m -3 m", [("Pb1", "Pb", 0, 0, 0, 1)], a))
    assert ph.space_group == "Fm-3m" and len(ph.cell_sites) == 4
    allowed = ph.allowed(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 0, 0], [2, 2, 0], [2, 1, 0]]))
    np.testing.assert_array_equal(allowed, [False, False, True, True, True, False])
    np.testing.assert_allclose(ph.d_spacing([1, 1, 1]), a / 10 / np.sqrt(3), rtol=1e-12)
    np.testing.assert_allclose(ph.d_spacing([2, 0, 0]), a / 20, rtol=1e-12)
    lib = PHASE_LIBRARY["Pb"]
    hkl = np.array([[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1]])
    np.testing.assert_allclose(ph.intensity(hkl), lib.intensity(hkl), rtol=1e-9)


def test_group_outside_library_expanded_once(tmp_path):
    # Diamond-cubic Si, Fd-3m origin choice 1, Si on 8a (0,0,0): 8 atoms; (200) and (222) are forbidden
    # (|F| = 0 exactly for point atoms on 8a), (111), (220), (400) allowed. Fd-3m is not a library group,
    # so the phase is stored as P1 with the whole cell.
    ph = phase_from_cif(_cif(tmp_path, "Si.cif", "F d -3 m :1", [("Si1", "Si", 0, 0, 0, 1)], 5.431))
    assert ph.space_group == "P1" and len(ph.sites) == 8 and len(ph.cell_sites) == 8
    assert "F" in ph.reference and "d-3m" in ph.reference
    hkl = np.array([[1, 1, 1], [2, 0, 0], [2, 2, 0], [2, 2, 2], [4, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(ph.allowed(hkl), [True, False, True, False, True, False])


def test_rounded_special_positions_not_double_counted(tmp_path):
    # 2H-PbI2 (P-3m1) with I at (0.3333, 0.6667, z) as CIFs print it: still 1 Pb + 2 I per cell, and
    # intensities equal the library's (exact 1/3) within the 3e-5 coordinate rounding: phase error
    # 2π·h·Δx ≤ 2e-3 rad for h ≤ 8, so |F|² agrees to ~1e-3 relative where |F| is not near zero.
    atoms = [("Pb1", "Pb", 0, 0, 0, 1), ("I1", "I", 0.3333, 0.6667, 0.265, 1)]
    ph = phase_from_cif(_cif(tmp_path, "PbI2.cif", "P -3 m 1", atoms, 4.557, c=6.979, ga=120))
    assert sorted(s.element for s in ph.cell_sites) == ["I", "I", "Pb"]
    assert ph.space_group == "P1"  # 4-decimal coordinates would be split by the library's expansion
    assert ph.crystal_system in ("trigonal", "hexagonal")
    lib = PHASE_LIBRARY["PbI2"]
    mine = reciprocal_lattice(ph, (0, 0, 1), 5.0)
    ref = reciprocal_lattice(lib, (0, 0, 1), 5.0)
    np.testing.assert_array_equal(mine.hkl, ref.hkl)
    np.testing.assert_allclose(mine.intensity, ref.intensity, rtol=3e-3, atol=1e-4)


def test_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.cif"
    with pytest.raises(FormatError, match="nope.cif"):
        phase_from_cif(missing)
    bad = tmp_path / "garbage.cif"
    bad.write_text("this is not ; a CIF\n loop_ _x\n")
    with pytest.raises(FormatError, match="garbage.cif"):
        phase_from_cif(bad)
    binary = tmp_path / "binary.cif"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(FormatError, match="binary.cif"):
        phase_from_cif(binary)
    nocell = tmp_path / "nocell.cif"
    nocell.write_text("data_x\n_symmetry_space_group_name_H-M 'P 1'\n" + _ATOMS + "Pb1 Pb 0 0 0 1\n")
    with pytest.raises(FormatError, match="nocell.cif.*cell"):
        phase_from_cif(nocell)
    with pytest.raises(FormatError, match="nosym.cif.*space group"):
        phase_from_cif(_cif(tmp_path, "nosym.cif", None, _CSPBBR3, 5.874))
    with pytest.raises(FormatError, match="noatoms.cif.*atom sites"):
        p = tmp_path / "noatoms.cif"
        p.write_text("data_x\n" + _CELL.format(a=5, b=5, c=5, al=90, be=90, ga=90)
                     + "_symmetry_space_group_name_H-M 'P 1'\n")
        phase_from_cif(p)
    # Xe and every other element up to U are known (physics.ATOMIC_NUMBER); a symbol that is none is not
    with pytest.raises(InputError, match="unk.cif.*element 'X' of site 'Xx1' is not in the scattering"):
        phase_from_cif(_cif(tmp_path, "unk.cif", "P 1", [("Xx1", "Xx", 0, 0, 0, 1)], 5.0))


def test_rock_salt_with_elements_outside_the_perovskite_set(tmp_path):
    # rock-salt InN-like cell (Fm-3m, In 4a, N 4b): F(111) = 4(f_In - f_N), F(200) = 4(f_In + f_N), so
    # with any scattering factor increasing with Z the (200) spots are stronger than (111).
    ph = phase_from_cif(_cif(tmp_path, "rocksalt.cif", "F m -3 m",
                             [("In1", "In", 0, 0, 0, 1), ("N1", "N", 0.5, 0.5, 0.5, 1)], 4.98))
    assert len(ph.cell_sites) == 8
    assert ph.allowed([1, 1, 1]) and ph.allowed([2, 0, 0]) and not ph.allowed([1, 0, 0])
    refl = reciprocal_lattice(ph, (0, 1, 1), 6.0)
    inten = {tuple(int(v) for v in h): i for h, i in zip(refl.hkl, refl.intensity, strict=True)}
    assert inten[(2, 0, 0)] > inten[(1, 1, -1)] > 0

