"""Oliver–Pharr nanoindentation: known-answer unloading curves (Hertz sphere, power law from a known
modulus and hardness), the batched fit with masks and padding, error bars, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.nanoindentation import (
    DIAMOND_MODULUS_GPA,
    DIAMOND_POISSON,
    contact_depth,
    oliver_pharr,
    properties_from_stiffness,
    reduced_modulus,
    sample_modulus,
    tip_area,
)
from perovscope.bulk.nanoindentation_unloading import fit_unloading
from perovscope.errors import InputError

AREA = (24.5, 400.0)  # Berkovich with a rounded tip (nm² for nm)


def reduced_from(e, nu):
    return 1.0 / ((1 - nu**2) / e + (1 - DIAMOND_POISSON**2) / DIAMOND_MODULUS_GPA)


def berkovich_unloading(e, hardness, p_max, m, *, nu=0.17, n=40, area=AREA):
    """Unloading curves P = α(h − h_f)^m that an indent with modulus ``e`` and hardness ``hardness``
    gives at peak load ``p_max`` (mN), written from the definitions (A = P/H, S = 2 E_r √(A/π), h_c =
    h − ¾ P/S, S = m P/(h − h_f)) independently of the analysis. Returns depth, load (…, n) and S."""
    e, hardness, p_max, m = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                  for v in (e, hardness, p_max, m)))
    a = p_max / hardness * 1e6  # nm²
    c0, c1 = area
    hc = (-c1 + np.sqrt(c1**2 + 4 * c0 * a)) / (2 * c0)
    s = 2 / np.sqrt(np.pi) * reduced_from(e, nu) * np.sqrt(a)  # N/m for GPa and nm
    h_max = hc + 0.75 * p_max / s * 1e6
    h_f = h_max - m * p_max / s * 1e6
    alpha = p_max / (h_max - h_f) ** m
    frac = np.linspace(1.0, 0.1, n)
    load = p_max[..., None] * frac
    depth = h_f[..., None] + (load / alpha[..., None]) ** (1 / m[..., None])
    return depth, load, s


def test_hertzian_sphere_recovers_modulus_exactly():
    # elastic sphere: P = 4/3 E_r √R h^1.5, A = 2πR h_c, h_c = h/2 with ε = 0.75 (a paraboloid)
    radius, e, nu = 5000.0, 70.0, 0.2
    h = np.linspace(200.0, 0.0, 101)
    p = 4 / 3 * reduced_from(e, nu) * np.sqrt(radius) * h**1.5 * 1e-6  # GPa nm² -> mN
    r = oliver_pharr(h, p, area_coefficients=[0.0, 2 * np.pi * radius], poisson_ratio=nu,
                     fit_range=(0.2, 1.0))
    assert r.unloading.flag == 0
    assert r.modulus == pytest.approx(e, rel=1e-9)
    assert r.unloading.m == pytest.approx(1.5, abs=1e-9)
    assert r.contact_depth == pytest.approx(100.0, rel=1e-9)
    assert abs(r.unloading.h_f) < 1e-6


def test_power_law_unloading_known_modulus_and_hardness_batched():
    e = np.array([[72.0, 150.0, 210.0], [20.0, 400.0, 72.0]])
    hardness = np.array([[9.0, 12.0, 4.0], [0.8, 30.0, 9.0]])
    p_max = np.array([[100.0, 10.0, 50.0], [2.0, 80.0, 1.0]])
    m = np.array([[1.25, 1.4, 1.5], [1.6, 1.3, 1.35]])
    depth, load, s = berkovich_unloading(e, hardness, p_max, m)
    r = oliver_pharr(depth, load, area_coefficients=AREA, poisson_ratio=0.17)
    assert r.modulus.shape == (2, 3) and np.all(r.unloading.flag == 0)
    np.testing.assert_allclose(r.modulus, e, rtol=1e-6)
    np.testing.assert_allclose(r.hardness, hardness, rtol=1e-6)
    np.testing.assert_allclose(r.unloading.stiffness, s, rtol=1e-6)
    np.testing.assert_allclose(r.unloading.m, m, atol=1e-6)


def test_noisy_indents_error_bars_match_the_scatter():
    rng = np.random.default_rng(3)
    n_ind = 300
    depth, load, s = berkovich_unloading(np.full(n_ind, 72.0), 9.0, 50.0, 1.3)
    depth = depth + rng.normal(0.0, 0.3, depth.shape)  # 0.3 nm displacement noise
    load = load + rng.normal(0.0, 0.01, load.shape)  # 10 µN load noise
    r = oliver_pharr(depth, load, area_coefficients=AREA, poisson_ratio=0.17)
    assert np.all(r.unloading.flag == 0)
    scatter = np.std(r.modulus)
    # the bias is a small fraction of the scatter, and the propagated standard errors describe it
    assert abs(np.mean(r.modulus) - 72.0) < 4 * scatter / np.sqrt(n_ind) + 0.002 * 72.0
    assert 0.75 < np.median(r.modulus_std) / scatter < 1.33
    assert 0.75 < np.median(r.hardness_std) / np.std(r.hardness) < 1.33
    assert np.mean(np.abs(r.modulus - 72.0) < 3 * r.modulus_std) > 0.97


def test_padded_curves_and_masks():
    depth, load, s = berkovich_unloading([72.0, 72.0], 9.0, [10.0, 40.0], 1.4)
    d = np.full((2, 60), np.nan)
    p = np.full((2, 60), np.nan)
    d[0, :40], p[0, :40] = depth[0], load[0]
    d[1, 5:45], p[1, 5:45] = depth[1], load[1]  # leading padding and a loading ramp before the peak
    d[1, :5] = np.linspace(0, depth[1, 0], 5, endpoint=False)
    p[1, :5] = np.linspace(0, load[1, 0], 5, endpoint=False)
    fit = fit_unloading(d, p)
    np.testing.assert_allclose(fit.stiffness, s, rtol=1e-6)
    assert fit.n_points.tolist() == [21, 21]  # 0.98 ≥ P/Pmax ≥ 0.5 on a 40-point ramp to 0.1
    mask = np.ones_like(d, dtype=bool)
    mask[1, 5:10] = False  # hide the top of the second unloading curve
    fit_m = fit_unloading(d, p, mask=mask)
    assert fit_m.p_max[1] < load[1, 0] and fit_m.window[1, :10].sum() == 0


@pytest.mark.parametrize("problem", ["shuffled", "duplicated", "few", "nu"])
def test_bad_input_raises(problem):
    depth, load, _ = berkovich_unloading(72.0, 9.0, 10.0, 1.4)
    nu = 0.17
    if problem == "shuffled":
        order = np.random.default_rng(0).permutation(depth.size)
        order = np.concatenate([[0], order[order != 0]])  # keep the peak first
        depth, load = depth[order], load[order]
    elif problem == "duplicated":
        depth, load = np.insert(depth, 8, depth[8]), np.insert(load, 8, load[8])
    elif problem == "few":
        depth, load = depth[::12], load[::12]
    else:
        nu = None
    with pytest.raises(InputError) as err:
        oliver_pharr(depth, load, area_coefficients=AREA, poisson_ratio=nu)
    expect = {"shuffled": "acquisition order", "duplicated": "duplicated", "few": "at least 4",
              "nu": "Poisson"}[problem]
    assert expect in str(err.value)


def test_bad_indent_masked_in_a_batch():
    depth, load, _ = berkovich_unloading([72.0, 72.0, 72.0], 9.0, 10.0, 1.4)
    load[1, 8] = load[1, 7]
    depth[1, 8] = depth[1, 7]  # an exact duplicate in indent 1
    with pytest.raises(InputError, match="indent"):
        oliver_pharr(depth, load, area_coefficients=AREA, poisson_ratio=0.17)
    r = oliver_pharr(depth, load, area_coefficients=AREA, poisson_ratio=0.17, bad="mask")
    assert r.unloading.flag.tolist() == [0, 3, 0]
    assert np.isnan(r.modulus[1]) and np.allclose(r.modulus[[0, 2]], 72.0, rtol=1e-6)


def test_elementary_relations():
    assert tip_area(100.0, [24.5]) == pytest.approx(245000.0)
    assert tip_area(-1.0, [24.5]) != tip_area(-1.0, [24.5])  # NaN for a negative contact depth
    assert tip_area(16.0, [0.0, 0.0, 1.0, 1.0, 1.0]) == pytest.approx(4.0 + 2.0 + 2**0.5)
    assert contact_depth(100.0, 1.0, 1e5, epsilon=0.75) == pytest.approx(100.0 - 7.5)
    er = reduced_modulus(1e5, np.pi, beta=1.0)
    assert er == pytest.approx(1e5 / 2)
    assert sample_modulus(reduced_from(72.0, 0.17), poisson_ratio=0.17) == pytest.approx(72.0)
    with pytest.raises(InputError, match="Poisson"):
        sample_modulus(60.0, poisson_ratio=0.7)
    with pytest.raises(InputError, match="all zero"):
        tip_area(10.0, [0.0, 0.0])
    with pytest.raises(InputError, match="epsilon"):
        properties_from_stiffness(100.0, 1.0, 1e5, area_coefficients=AREA, poisson_ratio=0.2, epsilon=2.0)
    with pytest.raises(InputError, match="fit_range"):
        fit_unloading(np.ones(10), np.ones(10), fit_range=(0.9, 0.5))
