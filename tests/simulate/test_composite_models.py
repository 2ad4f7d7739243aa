"""Closed-form checks of the composite sample's spectral models and geometry helpers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erfc

from perovscope.errors import InputError
from perovscope.simulate import composite_common as cc
from perovscope.simulate.composite_spectra import (
    IODINE_M4_ONSET_EV,
    IODINE_M5_ONSET_EV,
    gaussian_emission,
    iodine_m45_edge,
    iodine_profile,
    power_law,
)


def test_power_law_closed_form():
    e = np.array([500.0, 600.0, 700.0])
    out = power_law(e, np.array([[1e10], [2e10]])[:, 0], np.array([3.0, 2.5]))
    np.testing.assert_allclose(out[0], 1e10 * e**-3.0)
    np.testing.assert_allclose(out[1], 2e10 * e**-2.5)


def test_iodine_edge_shape():
    assert IODINE_M5_ONSET_EV == pytest.approx(619.0)  # Nat. Commun. 2023 (CsPbI3/ZIF-62)
    e = np.arange(560.0, 800.0, 0.25)
    s = iodine_m45_edge(e)
    assert np.all(s[e <= IODINE_M5_ONSET_EV] == 0)
    assert np.all(s[e > IODINE_M5_ONSET_EV] > 0)
    assert s.max() == pytest.approx(1.0, abs=1e-3)
    peak = e[np.argmax(s)]
    assert IODINE_M4_ONSET_EV < peak < IODINE_M5_ONSET_EV + 100  # delayed maximum
    assert s[-1] < s.max()                                       # decays past the maximum


def test_iodine_profile_erfc():
    d = np.array([-5.0, 0.0, 6.0, 12.0])
    out = iodine_profile(d, width_nm=6.0, interface_fraction=0.5)
    np.testing.assert_allclose(out, [1.0, 0.5, 0.5 * erfc(1.0), 0.5 * erfc(2.0)])


def test_gaussian_emission_zero_where_no_particle():
    lam = np.linspace(650, 770, 7)
    out = gaussian_emission(lam, np.array([710.0, np.nan]), np.array([14.0, np.nan]), np.array([100.0, 0.0]))
    np.testing.assert_allclose(out[0], 100 * np.exp(-0.5 * ((lam - 710) / 14) ** 2))
    assert np.all(out[1] == 0)


def test_lognormal_sizes_have_requested_moments():
    d = cc.lognormal_sizes(np.random.default_rng(0), 200_000, 8.6, 1.3)
    # standard errors: 1.3/√N ≈ 0.003 for the mean, ≈ 0.002-0.003 for the sd
    assert d.mean() == pytest.approx(8.6, abs=0.015)
    assert d.std() == pytest.approx(1.3, abs=0.015)


def test_disk_distance_and_placement():
    rng = np.random.default_rng(1)
    r = np.array([5.0, 3.0, 2.0])
    c = cc.place_disks(rng, r, (40.0, 50.0), gap=1.0, margin=0.5)
    assert np.all((c[:, 0] >= r + 0.5) & (c[:, 0] <= 40 - r - 0.5))
    assert np.all((c[:, 1] >= r + 0.5) & (c[:, 1] <= 50 - r - 0.5))
    py, px = np.array([c[0, 0], c[1, 0] + 3.0]), np.array([c[0, 1], c[1, 1]])
    dist, lab, radial = cc.disk_distance(py, px, c[:, 0], c[:, 1], r, chunk=1)
    np.testing.assert_allclose(dist, [-5.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(lab, [0, 1])
    np.testing.assert_allclose(radial, [0.0, 1.0], atol=1e-12)
    with pytest.raises(InputError, match="crowd"):
        cc.place_disks(rng, np.full(50, 5.0), (40.0, 50.0), what="crowd")


def test_atom_columns():
    frac, n = cc.atom_columns({"Si": 1, "O": 2}, 2.2, ("O", "Si"))
    np.testing.assert_allclose(frac, [2 / 3, 1 / 3])
    assert n == pytest.approx(66.1, rel=2e-3)  # 2.2 g/cm³ / 60.08 g/mol × N_A × 3 atoms


@pytest.mark.parametrize("block", [1, 5, 16, 100])
def test_row_blocks_give_the_same_counts_as_one_draw(block):
    lam = np.random.default_rng(0).uniform(0, 3000, (37, 6, 11))
    whole = np.random.default_rng(9).poisson(lam).astype(np.uint32)
    parts = cc.render_rows(np.random.default_rng(9), 37, lambda rows: lam[rows], noise=True, block=block)
    np.testing.assert_array_equal(parts, whole)
    clean = cc.render_rows(np.random.default_rng(9), 37, lambda rows: lam[rows], noise=False, block=block)
    np.testing.assert_array_equal(clean, lam)
