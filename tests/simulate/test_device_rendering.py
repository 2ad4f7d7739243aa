"""Known-answer tests of the reusable HAADF and EDX rendering cores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from perovscope.errors import InputError
from perovscope.simulate import (
    eds_expected,
    electrons_per_pixel,
    element_spectra,
    energy_axis_eV,
    haadf_expected,
    render_eds,
    render_haadf,
)
from perovscope.simulate import materials as m


def test_electrons_per_pixel_and_bad_dose():
    # 10 e/Å² on a 1 nm pixel = 10 × 100 Å²
    assert electrons_per_pixel(10.0, 1.0) == pytest.approx(1000.0)
    with pytest.raises(InputError, match="dose_e_per_A2"):
        electrons_per_pixel(0.0, 1.0)
    with pytest.raises(InputError, match="dose_e_per_A2"):
        electrons_per_pixel(-1.0, 1.0)


def test_haadf_thin_limit_is_sum_c_z17():
    z = np.array([m.ATOMIC_NUMBER[e] for e in m.ELEMENTS], float)
    comps = m.layer_compositions(0.3)
    ne, t, n = 1e4, 1.0, 1.0  # thin: τ ≪ 1 so f = τ to 1e-4 relative
    for c in comps.values():
        got = haadf_expected(c, z, electrons_per_pixel=ne, thickness_nm=t, atom_density_nm3=n)
        want = ne * 7.0e-8 * float(c @ z ** 1.7)
        assert got == pytest.approx(want, rel=1e-4)


def test_haadf_mean_and_poisson_variance_on_flat_regions():
    z = np.array([m.ATOMIC_NUMBER[e] for e in m.ELEMENTS], float)
    comps = m.layer_compositions(0.3)
    names = ["HTL", "Al", "ITO", "emitter"]
    npx = 20000
    powers, means = [], []
    for i, name in enumerate(names):
        c = np.broadcast_to(comps[name], (npx, len(z)))
        mu = haadf_expected(c[0], z, electrons_per_pixel=2000.0, thickness_nm=50.0,
                            atom_density_nm3=60.0)
        img = render_haadf(c, z, electrons_per_pixel=2000.0, thickness_nm=50.0,
                           atom_density_nm3=60.0, seed=i)
        assert img.dtype == np.uint32
        # mean within 5 standard errors of the Poisson mean
        assert abs(img.mean() - mu) < 5 * np.sqrt(mu / npx)
        # sample variance of Poisson(μ): sd ≈ sqrt((μ + 2μ²)/N); allow 5 sd
        assert abs(img.var(ddof=1) - mu) < 5 * np.sqrt((mu + 2 * mu ** 2) / npx)
        powers.append(float(comps[name] @ z ** 1.7))
        means.append(img.mean())
    # same density and thickness: image means ordered as Σ c Z^1.7
    assert np.argsort(powers).tolist() == np.argsort(means).tolist()


def test_render_is_deterministic_per_seed():
    z = np.array([6.0, 82.0])
    c = np.tile([0.5, 0.5], (64, 1))
    a = render_haadf(c, z, electrons_per_pixel=500.0, seed=3)
    b = render_haadf(c, z, electrons_per_pixel=500.0, seed=3)
    d = render_haadf(c, z, electrons_per_pixel=500.0, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, d)


def _casnati_nm2(edge_ev, n_s, e0_kev):
    # Casnati, Tartari & Baraldi, J. Phys. B 15, 155 (1982), written out by hand
    u, j, ry, a0 = 1e3 * e0_kev / edge_ev, 510998.95 / edge_ev, 13.605693, 0.052917721
    psi = (edge_ev / ry) ** (-0.0318 + 0.3160 / u - 0.1135 / u ** 2)
    phi = 10.57 * np.exp(-1.736 / u + 0.317 / u ** 2)
    rel = ((1 + 2 * j) / (u + 2 * j) * ((u + j) / (1 + j)) ** 2
           * ((1 + u) * (u + 2 * j) * (1 + j) ** 2 / (j ** 2 * (1 + 2 * j) + u * (u + 2 * j) * (1 + j) ** 2))
           ** 1.5)
    return n_s * a0 ** 2 * (ry / edge_ev) ** 2 * psi * phi * rel * np.log(u) / u


def test_eds_total_counts_match_dose_times_cross_section():
    # Pure Al: one K family (Ka 1486.7, Kb 1557.5 eV at 3 % of Kα), K edge 1559.0 eV and
    # ω_K = 0.0329767 (Elam et al. 2002); Kα is the share p_α of the K radiative decays
    from perovscope.physics import alpha_line_fraction

    e0, omega_sr = 300.0, 0.7
    energy = energy_axis_eV(2048, 10.0)
    spectra = element_spectra(["Al"], [13], energy, beam_energy_keV=e0, solid_angle_sr=omega_sr,
                              efficiency_edge_eV=150.0)  # efficiency 1 - exp(-(E/0.15 keV)^2)
    sigma = _casnati_nm2(1559.0, 2, e0)
    omega_k = 0.0329767
    line_yield = sigma * omega_k * alpha_line_fraction("Al", "K") * 1.03 * omega_sr / (4 * np.pi)
    kramers = 16 * np.pi / (3 * np.sqrt(3)) / 137.036 * (2.8179403e-6) ** 2 * 510.999 * 13 ** 2
    brems, _ = quad(lambda ek: kramers / (e0 * ek) * -np.expm1(-(ek / 0.15) ** 2), 0.0, 20.48,
                    limit=200)  # per electron, nm²
    col = 60.3 * 50.0  # atoms / nm²
    ne = 1e7
    want = ne * col * (line_yield + brems * omega_sr / (4 * np.pi))
    mean = eds_expected(np.array([1.0]), spectra, electrons_per_pixel=ne, thickness_nm=50.0,
                        atom_density_nm3=60.3)
    # channel-centre sampling of the smooth (efficiency-cut) continuum: well below 0.5 % error
    assert mean.sum() == pytest.approx(want, rel=5e-3)
    counts = render_eds(np.tile([1.0], (400, 1)), spectra, electrons_per_pixel=ne,
                        thickness_nm=50.0, atom_density_nm3=60.3, seed=1)
    tot = counts.sum()
    # Poisson: total over 400 pixels has sd sqrt(400 μ); 5 sd plus the 0.5 % model tolerance
    assert abs(tot - 400 * mean.sum()) < 5 * np.sqrt(400 * mean.sum()) + 5e-3 * 400 * want
    # the Al Kα peak sits at its tabulated energy
    assert energy[np.argmax(mean)] == pytest.approx(1486.7, abs=10.0)


def test_eds_line_width_follows_detector_resolution():
    energy = energy_axis_eV(2048, 5.0)
    spectra = element_spectra(["Cl"], [17], energy, bremsstrahlung=False)[0]
    # Cl Kα (2622 eV) FWHM² = 130² + 2.5 (2622 − 5899) → 96.0 eV; Kβ is 9 % and 193 eV away
    peak = spectra[(energy > 2400) & (energy < 2750)]
    e = energy[(energy > 2400) & (energy < 2750)]
    mu = (peak * e).sum() / peak.sum()
    sd = np.sqrt((peak * (e - mu) ** 2).sum() / peak.sum())
    want = np.sqrt(130 ** 2 + 2.5 * (2622.4 - 5898.8)) / 2.3548
    assert sd == pytest.approx(np.sqrt(want ** 2 + 5.0 ** 2 / 12), rel=0.03)
