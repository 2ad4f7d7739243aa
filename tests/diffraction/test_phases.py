"""Phase library: lattice geometry, systematic absences and zone-axis patterns against closed forms."""

import numpy as np
import pytest

from perovscope.diffraction.phases import (
    PHASE_LIBRARY,
    mixed_halide_perovskite,
    phase_from_lattice,
    reciprocal_lattice,
    vegard_cl_fraction,
    vegard_lattice_parameter_nm,
)
from perovscope.errors import InputError

EXPECTED = {"CsPbBr3_cubic", "CsPbBr3_orthorhombic", "CsPbCl3_cubic", "CsPbCl3_orthorhombic",
            "CsPb(Br,Cl)3", "CsPbI3_gamma", "CsPbI3_delta", "PbBr2", "PbCl2", "PbI2", "CsPb2Br5", "Pb",
            "AlCl3", "Al"}


def test_library_contents_and_cell_multiplicities():
    assert EXPECTED <= set(PHASE_LIBRARY)
    # Z formula units × atoms per formula unit (closed-form multiplicity of each structure type)
    n_atoms = {"CsPbBr3_cubic": 5, "CsPbBr3_orthorhombic": 20, "CsPbI3_delta": 20, "PbCl2": 12,
               "PbI2": 3, "CsPb2Br5": 32, "Pb": 4, "Al": 4, "AlCl3": 16}
    for name, n in n_atoms.items():
        assert len(PHASE_LIBRARY[name].cell_sites) == n, name


def test_d_spacings_closed_form():
    p = PHASE_LIBRARY["CsPbBr3_cubic"]
    a = p.a
    for hkl in ([1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 1, 0]):
        assert p.d_spacing(hkl) == pytest.approx(a / np.linalg.norm(hkl), rel=1e-12)
    # hexagonal PbI2: 1/d² = 4/3 (h²+hk+k²)/a² + l²/c²
    q = PHASE_LIBRARY["PbI2"]
    for h, k, l in ([1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]):
        inv_d2 = 4 / 3 * (h * h + h * k + k * k) / q.a**2 + l * l / q.c**2
        assert q.d_spacing([h, k, l]) == pytest.approx(inv_d2 ** -0.5, rel=1e-12)
    # monoclinic AlCl3: 1/d² = (h²/a² + k² sin²β/b² + l²/c² - 2hl cosβ/(ac)) / sin²β
    m = PHASE_LIBRARY["AlCl3"]
    be = np.deg2rad(m.beta)
    for h, k, l in ([1, 1, 0], [0, 0, 1], [2, 0, 1], [1, 1, -1]):
        inv_d2 = (h * h / m.a**2 + k * k * np.sin(be) ** 2 / m.b**2 + l * l / m.c**2
                  - 2 * h * l * np.cos(be) / (m.a * m.c)) / np.sin(be) ** 2
        assert m.d_spacing([h, k, l]) == pytest.approx(inv_d2 ** -0.5, rel=1e-12)
    # 0.33 nm fringe of He et al. (2023) is the (111) of cubic CsPbBr3
    assert p.d_spacing([1, 1, 1]) == pytest.approx(0.339, abs=0.005)


def test_systematic_absences():
    fcc = PHASE_LIBRARY["Pb"]
    hkl = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 0, 0], [2, 1, 0], [2, 2, 0], [3, 1, 1]])
    mixed = (hkl % 2).sum(1) % 3 != 0
    assert np.array_equal(fcc.allowed(hkl), ~mixed)
    pnma = PHASE_LIBRARY["CsPbBr3_orthorhombic"]
    # Pnma: 0kl k+l=2n, hk0 h=2n, h00 h=2n, 0k0 k=2n, 00l l=2n
    cases = {(1, 0, 0): False, (2, 0, 0): True, (0, 1, 0): False, (0, 2, 0): True, (0, 0, 1): False,
             (0, 1, 1): True, (0, 2, 1): False, (1, 1, 0): False, (2, 1, 0): True, (1, 1, 1): True}
    got = pnma.allowed(np.array(list(cases)))
    assert got.tolist() == list(cases.values())
    bcc = phase_from_lattice("W", 0.3165, centering="I")
    assert bcc.allowed([[1, 0, 0], [1, 1, 0], [2, 1, 1], [1, 1, 1]]).tolist() == [False, True, True, False]
    i4 = PHASE_LIBRARY["CsPb2Br5"]   # I-centred: h+k+l odd absent
    assert not i4.allowed([1, 0, 0]) and not i4.allowed([1, 1, 1]) and i4.allowed([1, 1, 0])


def test_reciprocal_lattice_zone_law_and_frame():
    rl = reciprocal_lattice("Pb", (1, 1, 0), 8.0)
    assert np.all(rl.hkl @ np.array([1, 1, 0]) == 0)
    g = np.hypot(rl.gx, rl.gy)
    np.testing.assert_allclose(g, 1 / rl.d_nm, rtol=1e-12)
    assert np.all(np.diff(g) >= -1e-9) and rl.intensity.max() == pytest.approx(1.0)
    # the first ring of fcc [110] is {111}; angle between (1-11) and (-111)... 111-type pairs 70.53°
    first = rl.hkl[np.isclose(g, g[0])]
    assert sorted(np.abs(first).sum(1).tolist()) == [3, 3, 3, 3]
    # cubic perovskite [001]: square net, spacing 1/a, x along chosen reflection, y = zone × x
    rl = reciprocal_lattice("CsPbBr3_cubic", (0, 0, 1), 2.5, x_hkl=(1, 0, 0))
    p = PHASE_LIBRARY["CsPbBr3_cubic"]
    idx = {tuple(h): i for i, h in enumerate(rl.hkl)}
    assert rl.gx[idx[(1, 0, 0)]] == pytest.approx(1 / p.a) and rl.gy[idx[(1, 0, 0)]] == pytest.approx(0)
    assert rl.gy[idx[(0, 1, 0)]] == pytest.approx(1 / p.a) and rl.gx[idx[(0, 1, 0)]] == pytest.approx(0)
    assert len(rl.hkl) == 8  # 4 × {100} + 4 × {110} within 2.5/nm (|g(110)| = 2.41, |g(200)| = 3.4)


def test_vegard_roundtrip_and_mixed_phase():
    assert vegard_lattice_parameter_nm(0.0) == pytest.approx(0.5874)
    assert vegard_lattice_parameter_nm(1.0) == pytest.approx(0.5605)
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(vegard_cl_fraction(vegard_lattice_parameter_nm(x)), x, atol=1e-12)
    m = mixed_halide_perovskite(0.3)
    assert m.a == pytest.approx(0.7 * 0.5874 + 0.3 * 0.5605)
    # virtual crystal: the halide-site scattering is the occupancy-weighted mean of Br and Cl
    br, cl = mixed_halide_perovskite(0.0), mixed_halide_perovskite(1.0)
    # F(100) = f_Pb - f_Cs + f_X is monotonic in the halide scattering: mixed lies between end members
    i = [q.intensity([1, 0, 0]) for q in (cl, m, br)]
    assert i[0] < i[1] < i[2]
    with pytest.raises(InputError, match="x_cl"):
        mixed_halide_perovskite(1.5)


def test_user_phase_and_errors():
    p = phase_from_lattice("mine", 0.4, 0.5, 0.6)
    assert p.crystal_system == "orthorhombic"
    rl = reciprocal_lattice(p, (0, 0, 1), 3.0)
    assert set(map(tuple, rl.hkl[:2])) <= {(0, 1, 0), (0, -1, 0)}  # shortest: 1/b
    with pytest.raises(InputError, match="zone_axis"):
        reciprocal_lattice(p, (0, 0, 0), 3.0)
    with pytest.raises(InputError, match="unknown phase"):
        reciprocal_lattice("nope", (0, 0, 1), 3.0)
    with pytest.raises(InputError, match="> 0"):
        phase_from_lattice("bad", -1.0)
