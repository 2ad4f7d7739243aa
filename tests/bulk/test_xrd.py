"""Powder XRD: structures, structure factors, whole-pattern refinement, weight fractions, series.

The known-answer patterns are rendered here by an oracle written independently of the refinement:
structure factors from gemmi's own X-ray calculator on the CIF files, every reflection of the box
summed at its exact position, and a dense (untruncated) Thompson–Cox–Hastings pseudo-Voigt.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from perovscope.bulk.xrd import hill_howard, intensity_view, reference_pattern, refine_pattern
from perovscope.bulk.xrd_phases import BUILTIN_PHASES, get_phase, phase_from_cif_file
from perovscope.bulk.xrd_reflections import inverse_d2, line_intensity, radiation, reflection_set
from perovscope.errors import FormatError, InputError

gemmi = pytest.importorskip("gemmi")

CU = (1.540593, 1.544414)

GAMMA_CIF = """data_gamma
_chemical_formula_sum 'Cs I3 Pb'
_cell_length_a 8.651
_cell_length_b 8.832
_cell_length_c 12.485
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P b n m'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_B_iso_or_equiv
Cs1 Cs 0.00758 0.03456 0.25 4.0
Pb1 Pb 0.5 0 0 2.0
I1 I 0.79662 0.20392 0.02593 4.0
I2 I 0.44852 0.00714 0.25 4.0
"""

DELTA_CIF = """data_delta
_chemical_formula_sum 'Cs I3 Pb'
_cell_length_a 10.458
_cell_length_b 4.801
_cell_length_c 17.776
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P n m a'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_U_iso_or_equiv
Cs1 Cs 0.08128 0.75 0.32788 0.03166
Pb1 Pb 0.16185 0.25 0.06078 0.01900
I1 I 0.02927 0.25 0.88769 0.02533
I2 I 0.16279 0.25 0.49796 0.02533
I3 I 0.20368 0.75 0.71269 0.02533
"""


# ----------------------------------------------------------------------------- the oracle
def _oracle_lines(cif, cell, lam_max, tt_max):
    """(d, Σ|F|²) of every reflection (gemmi's calculator), summed over reflections of equal d."""
    small = gemmi.read_small_structure(str(cif))
    small.cell = gemmi.UnitCell(*cell)
    small.setup_cell_images()  # a new cell drops the symmetry images gemmi uses for special positions
    small.change_occupancies_to_crystallographic()
    calc = gemmi.StructureFactorCalculatorX(small.cell)
    d_min = lam_max / (2 * np.sin(np.radians(tt_max / 2)))
    hmax = [int(v / d_min) + 1 for v in cell[:3]]
    lines: dict[float, float] = {}
    for hkl in itertools.product(*(range(-m, m + 1) for m in hmax)):
        if hkl == (0, 0, 0):
            continue
        d = small.cell.calculate_d(hkl)
        if d >= d_min:
            key = round(d, 7)
            lines[key] = lines.get(key, 0.0) + abs(calc.calculate_sf_from_small_structure(small, hkl)) ** 2
    d = np.array(sorted(lines))
    return d, np.array([lines[k] for k in sorted(lines)]), small.cell.volume


def _cell_mass(cif):
    small = gemmi.read_small_structure(str(cif))
    small.setup_cell_images()
    return sum(a.element.weight * a.occ for a in small.get_all_unit_cell_sites())


def _render(x, cifs, cells, fractions, *, uvwxy=(0.004, -0.002, 0.003, 0.03, 0.01), zero=0.0):
    """Noise-free pattern of phases at weight fractions (Hill–Howard: I ∝ W/(ZM·V))."""
    y = np.zeros_like(x)
    for cif, cell, w in zip(cifs, cells, fractions, strict=True):
        d, f2, vol = _oracle_lines(cif, cell, max(CU), x[-1] + 2)
        scale = w / (_cell_mass(cif) * vol)
        for lam, ratio in zip(CU, (1.0, 0.5), strict=True):
            s = lam / (2 * d)
            ok = s < 1
            th = np.arcsin(s[ok])
            lp = (1 + np.cos(2 * th) ** 2) / (np.sin(th) ** 2 * np.cos(th))
            u, v, ww, xx, yy = uvwxy
            gg = np.sqrt(u * np.tan(th) ** 2 + v * np.tan(th) + ww)
            gl = xx / np.cos(th) + yy * np.tan(th)
            fw = (gg**5 + 2.69269 * gg**4 * gl + 2.42843 * gg**3 * gl**2 + 4.47163 * gg**2 * gl**3
                  + 0.07842 * gg * gl**4 + gl**5) ** 0.2
            q = gl / fw
            eta = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
            dx = x[:, None] - (np.degrees(2 * th) + zero)[None, :]
            lor = 2 / (np.pi * fw) / (1 + 4 * dx**2 / fw**2)
            gau = np.sqrt(4 * np.log(2) / np.pi) / fw * np.exp(-4 * np.log(2) * dx**2 / fw**2)
            y += ((scale * f2[ok] * lp * ratio) * (eta * lor + (1 - eta) * gau)).sum(axis=1)
    return y


@pytest.fixture(scope="module")
def cifs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cif")
    (d / "gamma.cif").write_text(GAMMA_CIF)
    (d / "delta.cif").write_text(DELTA_CIF)
    return [d / "gamma.cif", d / "delta.cif"]


GAMMA_CELL = (8.651, 8.832, 12.485, 90, 90, 90)
DELTA_CELL = (10.458, 4.801, 17.776, 90, 90, 90)


# ----------------------------------------------------------------------------- structures
@pytest.mark.parametrize("name,rho", [("LaB6", 4.71), ("Si", 2.329), ("Cu2O", 6.11), ("CsPbBr3_cubic", 4.75),
                                      ("CsPbBr3_orthorhombic", 4.83), ("CsPbI3_gamma", 5.02),
                                      ("CsPbI3_delta", 5.36), ("PbI2", 6.10), ("PbBr2", 6.67),
                                      ("Cs4PbBr6", 4.29)])
def test_builtin_densities(name, rho):
    # crystallographic densities of the literature cells (±1 %): a wrong Z or site multiplicity fails
    assert BUILTIN_PHASES[name].density == pytest.approx(rho, rel=0.01)


@pytest.mark.parametrize("name,metal,halide,lo,hi,coord", [
    ("CsPbI3_gamma", "Pb", "I", 3.1, 3.2, 6), ("CsPbI3_delta", "Pb", "I", 3.0, 3.4, 6),
    ("CsPbBr3_orthorhombic", "Pb", "Br", 2.95, 3.05, 6), ("CsPbBr3_cubic", "Pb", "Br", 2.9, 3.0, 6),
    ("Cs4PbBr6", "Pb", "Br", 2.95, 3.05, 6), ("PbI2", "Pb", "I", 3.15, 3.3, 6),
    ("Cu2O", "Cu", "O", 1.8, 1.9, 2),
    ("LaB6", "La", "B", 3.0, 3.1, 24)])
def test_builtin_coordination(name, metal, halide, lo, hi, coord):
    # the real structures: octahedral PbX6 with textbook bond lengths, linear O–Cu–O, LaB24 cages
    ph = BUILTIN_PHASES[name]
    el, xyz, _, _ = ph.cell_atoms()
    orth = np.array(gemmi.UnitCell(*ph.cell).orth.mat.tolist())
    i = int(np.flatnonzero(el == metal)[0])
    d = xyz[el == halide] - xyz[i]
    shifts = np.array(list(itertools.product([-1, 0, 1], repeat=3)))
    r = np.linalg.norm(((d - np.rint(d))[:, None, :] + shifts[None]) @ orth.T, axis=-1).ravel()
    near = np.sort(r)[:coord]
    assert lo <= near.min() and near.max() <= hi
    assert np.sort(r)[coord] > hi + 0.2  # the shell is closed


def test_structure_factors_agree_with_gemmi():
    for ph in BUILTIN_PHASES.values():
        refl = reflection_set(ph, 1.2)
        mine = line_intensity(refl, inverse_d2(refl.hkl, ph.cell))
        small = ph.small_structure()
        small.change_occupancies_to_crystallographic()
        calc = gemmi.StructureFactorCalculatorX(small.cell)
        ref = np.array([abs(calc.calculate_sf_from_small_structure(small, tuple(map(int, h)))) ** 2
                        for h in refl.hkl]) * refl.multiplicity
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-5 * ref.max())


def test_reference_patterns():
    lab6 = reference_pattern("LaB6", wavelength="CuKa1", two_theta_range=(15, 90))
    assert lab6.hkl[np.argmax(lab6.intensity)] == "110"
    d = 4.15692 / np.sqrt([1, 2, 3])
    np.testing.assert_allclose(lab6.two_theta[:3], 2 * np.degrees(np.arcsin(1.540593 / (2 * d))), atol=1e-6)
    si = reference_pattern("Si", wavelength="CuKa1", two_theta_range=(20, 100))
    assert si.hkl[:3] == ("111", "220", "311") and "200" not in si.hkl  # diamond-glide absences
    assert reference_pattern("Cu2O").hkl[np.argmax(reference_pattern("Cu2O").intensity)] == "111"
    gamma = reference_pattern("CsPbI3_gamma", two_theta_range=(10, 40))
    assert {"110", "002", "200", "112"} <= set(gamma.hkl)


def test_cif_reading(cifs, tmp_path):
    ph = phase_from_cif_file(cifs[1])
    assert ph.spacegroup.xhm() == "P n m a" and ph.sites[0].b_iso == pytest.approx(2.5, abs=1e-3)
    assert len(ph.cell_atoms()[0]) == 20
    assert get_phase("gamma-CsPbI3") is BUILTIN_PHASES["CsPbI3_gamma"]
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_a 5\n")
    with pytest.raises(FormatError):
        phase_from_cif_file(bad)
    with pytest.raises(InputError):
        get_phase("unobtainium")


# ----------------------------------------------------------------------------- refinement
def test_two_cif_phases_weight_fractions(cifs):
    x = np.arange(10.0, 50.0, 0.02)
    y0 = _render(x, cifs, [GAMMA_CELL, DELTA_CELL], [0.3, 0.7], zero=0.01)
    y0 *= 2e4 / y0.max()
    bkg = 300 + 200 * np.exp(-(x - 10) / 15)
    y = np.random.default_rng(1).poisson(y0 + bkg).astype(float)
    res = refine_pattern(y, x, [str(c) for c in cifs], anomalous=False, refine=("zero", "lattice", "U", "V",
                                                                                   "W", "X", "Y"))
    # Poisson noise on ~1e6 integrated counts per phase: σ(wt%) ≈ 0.1; 1 wt% is the QPA requirement
    np.testing.assert_allclose(res.weight_fraction, [0.3, 0.7], atol=0.01)
    assert np.all(res.weight_fraction_std < 0.01)
    np.testing.assert_allclose(res.cell[0, :3], GAMMA_CELL[:3], atol=2e-3)
    np.testing.assert_allclose(res.cell[1, :3], DELTA_CELL[:3], atol=2e-3)
    assert res.zero == pytest.approx(0.01, abs=0.003)
    assert 0.9 < res.gof < 1.15 and res.flag == 0


def test_insitu_series_in_one_call(cifs):
    # γ grows from δ while both cells expand (α ≈ 5e-5 /K); one batched refinement of the series
    x = np.arange(10.0, 45.0, 0.025)
    temps = np.array([25.0, 100.0, 175.0, 250.0])
    frac = np.array([0.1, 0.35, 0.6, 0.85])
    rng = np.random.default_rng(3)
    patterns, cells = [], []
    for t, f in zip(temps, frac, strict=True):
        e = 1 + 5e-5 * (t - 25)
        cg = tuple(v * e for v in GAMMA_CELL[:3]) + (90, 90, 90)
        cd = tuple(v * e for v in DELTA_CELL[:3]) + (90, 90, 90)
        y0 = _render(x, cifs, [cg, cd], [f, 1 - f])
        patterns.append(rng.poisson(y0 * 1.5e4 / y0.max() + 250).astype(float))
        cells.append((cg, cd))
    res = refine_pattern(np.array(patterns), x, [str(c) for c in cifs], anomalous=False,
                         refine=("zero", "lattice", "W", "X"), background_order=4)
    assert res.weight_fraction.shape == (4, 2)
    np.testing.assert_allclose(res.weight_fraction[:, 0], frac, atol=0.015)
    got = res.cell[:, 0, 0]
    np.testing.assert_allclose(got, [c[0][0] for c in cells], atol=3e-3)
    assert np.all(np.diff(got) > 0)


def test_hill_howard_closed_form():
    w, sd = hill_howard([2.0, 1.0], [100.0, 300.0], [50.0, 100.0], cov=np.diag([0.01, 0.0]))
    t = np.array([2.0 * 100 * 50, 1.0 * 300 * 100])
    np.testing.assert_allclose(w, t / t.sum())
    # ∂W0/∂S0 = zmv0 (1 − W0)/Σ
    assert sd[0] == pytest.approx(0.1 * 5000 * (1 - w[0]) / t.sum())


# ----------------------------------------------------------------------------- bad input
def test_bad_input():
    x = np.arange(20.0, 40.0, 0.02)
    y = np.full(x.size, 100.0)
    with pytest.raises(InputError, match="not sorted"):
        refine_pattern(y, np.r_[x[:10], x[11:5:-1], x[20:]][: x.size - 5], "LaB6")
    xd = x.copy()
    xd[5] = xd[4]
    with pytest.raises(InputError, match="duplicated"):
        refine_pattern(y, xd, "LaB6")
    with pytest.raises(InputError, match="points"):
        refine_pattern(y[:8], x[:8], "LaB6")
    with pytest.raises(InputError, match="needs at least"):
        refine_pattern(y[:15], x[:15], "LaB6", background_order=8)
    with pytest.raises(InputError):
        refine_pattern(y, x, "LaB6", refine=("zero", "colour"))
    with pytest.raises(InputError, match="logarithm"):
        intensity_view(np.r_[y[:-1], 0.0], scale="log")
    with pytest.raises(InputError):
        intensity_view(-y, scale="sqrt")
    with pytest.raises(InputError, match="wavelength"):
        radiation("Xx")
    with pytest.raises(InputError, match="last axis"):
        refine_pattern(y[:-1], x, "LaB6")
