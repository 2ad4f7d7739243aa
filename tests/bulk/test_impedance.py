"""Impedance: circuit fits with automatic start values, the arc intercept, σ = l/(R·A), Arrhenius."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.impedance import fit_circuit, fit_circuit_dataset
from perovscope.bulk.impedance_circuits import circuit_impedance
from perovscope.bulk.impedance_conductivity import BOLTZMANN_EV, arc_intercepts, arrhenius_fit, conductivity
from perovscope.errors import InputError

F = np.logspace(-2, 6, 57)
NOISE = 0.002  # relative, on each of Z' and Z''


def _noisy(z, seed=0):
    rng = np.random.default_rng(seed)
    return z + NOISE * np.abs(z) * (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape))


def _series(n=40):
    """A temperature series: resistances thermally activated, capacitances constant."""
    s = np.linspace(0.0, 1.0, n)[:, None]
    return s


CASES = {
    "R0-p(R1,C1)": lambda s: np.hstack([20 + 0 * s, 1000 * np.exp(-2 * s), 1e-7 + 0 * s]),
    "R0-p(R1,CPE1)-p(R2,C2)": lambda s: np.hstack([10 + 0 * s, 100 * np.exp(-2 * s), 1e-6 + 0 * s,
                                                   0.85 + 0.1 * s, 1000 * np.exp(-1.5 * s), 1e-3 * (1 + s)]),
    "randles": lambda s: np.hstack([5 + 0 * s, 50 * (1 + s), 20 + 10 * s, 3 + 2 * s, 2e-5 + 0 * s]),
    "R0-p(R1,C1)-p(R2-Wo1,C2)": lambda s: np.hstack([0.0165 + 0 * s, 0.0087 * (1 + s), 3.3 + 0 * s,
                                                     0.0054 + 0 * s, 0.063 * (1 + 0.5 * s), 20 + 0 * s,
                                                     0.22 + 0 * s]),
    "p(R1,CPE1)-CPE2": lambda s: np.hstack([1e6 * np.exp(-4 * s), 1e-10 + 0 * s, 0.9 + 0 * s, 1e-7 + 0 * s,
                                            0.8 + 0 * s]),
}


@pytest.mark.parametrize("circuit", list(CASES))
def test_known_elements_recovered_over_a_series(circuit):
    # 0.2 % noise on 57 frequencies: element errors are ~0.1–1 %; 5 % is far outside the noise, so a
    # spectrum off by more means the automatic start led to a wrong minimum
    truth = CASES[circuit](_series())
    z = _noisy(circuit_impedance(circuit, F, truth))
    fit = fit_circuit(F, z, circuit)
    rel = np.abs(fit.params / truth - 1)
    assert np.all(fit.flag == 0)
    assert np.max(rel) < 0.05, (circuit, np.max(rel, axis=0))
    # standard errors are calibrated: |error|/σ is half-normal, median 0.674
    pull = np.abs(fit.params - truth) / fit.std
    assert 0.4 < np.median(pull) < 1.0
    assert np.all(fit.chi2_reduced < 3 * (2 * NOISE) ** 2 / 2)


def test_unit_weighting_and_given_start():
    truth = CASES["R0-p(R1,C1)"](_series(5))
    z = _noisy(circuit_impedance("R0-p(R1,C1)", F, truth), seed=3)
    fit = fit_circuit(F, z, "R0-p(R1,C1)", weighting="unit", p0=truth[0] * 1.5)
    assert np.max(np.abs(fit.params / truth - 1)) < 0.02
    np.testing.assert_allclose(fit.start, np.broadcast_to(truth[0] * 1.5, truth.shape))


def test_decreasing_frequency_axis_and_inductive_points_dropped():
    truth = np.array([20.0, 1000.0, 1e-7])
    z = circuit_impedance("R0-p(R1,C1)", F, truth) + 1j * 2 * np.pi * F * 2e-6  # cable inductance
    fit = fit_circuit(F[::-1], z[::-1], "R0-p(R1,C1)")
    assert fit.n_points < F.size  # high-frequency points with Z'' > 0 left out
    assert abs(fit.params[1] / 1000 - 1) < 0.02
    full = fit_circuit(F, z, "R0-p(R1,C1)-L1")
    assert full.n_points == F.size and abs(full.params[-1] / 2e-6 - 1) < 0.01


def test_real_battery_spectrum_reproduces_the_source(data_file):
    # source (impedance.py example, unweighted fit, inductive points dropped):
    # R0 = 1.65e-2, R1 = 8.68e-3, C1 = 3.32 F, R2 = 5.39e-3, C2 = 0.220 F; Randles R0 = 1.862e-2
    a = np.loadtxt(data_file("bulk/eis/impedancepy_exampleData.csv"), delimiter=",")
    f, z = a[:, 0], a[:, 1] + 1j * a[:, 2]
    circ = "R0-p(R1,C1)-p(R2-Wo1,C2)"
    # the source's solution has the slow arc in the first block: assignment (1, 0)
    src = fit_circuit(f, z, circ, weighting="unit", assignment=(1, 0))
    got = dict(zip(src.names, src.params, strict=True))
    for name, ref in (("R0", 1.65e-2), ("R1", 8.68e-3), ("C1", 3.32), ("R2", 5.39e-3), ("C2", 0.220)):
        assert abs(got[name] / ref - 1) < 0.03, (name, got[name], ref)
    # the Warburg is not resolved (only Z0/√τ is): 4.13e-3 Ω s^-½ in the source
    assert abs(got["Wo1_Z0"] / np.sqrt(got["Wo1_tau"]) / 4.134e-3 - 1) < 0.05
    # fully automatic: a lower minimum (arcs swapped between the blocks), same R0 and fast arc
    auto = fit_circuit(f, z, circ, weighting="unit")
    assert auto.cost <= src.cost * 1.0001
    assert abs(auto.params[0] / 1.65e-2 - 1) < 0.01
    ref_params = [1.65187e-2, 8.67655e-3, 3.32143, 5.38996e-3, 6.30927e-2, 232.520, 0.219542]
    mask = z.imag <= 0
    zr = circuit_impedance(circ, f[mask], ref_params)
    assert auto.cost < np.sum(np.abs(zr - z[mask]) ** 2)
    randles = fit_circuit(f, z, "randles", weighting="unit")
    assert abs(randles.params[0] / 1.862e-2 - 1) < 0.01


def test_fit_dataset_keeps_coordinates():
    import xarray as xr

    truth = CASES["R0-p(R1,C1)"](_series(4))
    z = _noisy(circuit_impedance("R0-p(R1,C1)", F, truth), seed=5)
    da = xr.DataArray(z, dims=("temperature", "frequency"),
                      coords={"temperature": [300.0, 320.0, 340.0, 360.0], "frequency": F})
    ds = fit_circuit_dataset(da, "rc")
    assert ds["R1"].dims == ("temperature",) and ds["R1"].attrs["units"] == "Ohm"
    assert ds["impedance_fit"].shape == z.shape
    np.testing.assert_allclose(ds["R1"].values, truth[:, 1], rtol=0.02)


def test_arc_intercept_with_blocking_electrode_spike():
    # depressed bulk arc (R‖CPE) followed by an electrode spike: the right intercept is R1
    r = np.array([1e7, 2e6, 3e5])
    p = np.stack([r, np.full(3, 2e-11), np.full(3, 0.9), np.full(3, 1e-6), np.full(3, 0.8)], axis=-1)
    f = np.logspace(-1, 7, 81)
    z = _noisy(circuit_impedance("p(R1,CPE1)-CPE2", f, p), seed=1)
    arc = arc_intercepts(f, z)
    np.testing.assert_allclose(arc.r_dc, r, rtol=0.01)
    np.testing.assert_allclose(arc.depression_deg, 9.0, atol=1.5)  # (1 − α)·90°
    assert np.all(arc.n_points >= 5)


def test_arc_intercept_without_arc_is_nan():
    f = np.logspace(0, 5, 30)
    z = 100.0 + 1.0 / (1j * 2 * np.pi * f * 1e-6)  # R-C in series: a vertical line
    assert np.isnan(arc_intercepts(f, z).r_dc)


def test_conductivity_and_missing_geometry():
    assert conductivity(1000.0, thickness_mm=1.0, area_mm2=100.0) == pytest.approx(1e-4)
    with pytest.raises(InputError, match="--thickness"):
        conductivity(1000.0, area_mm2=100.0)
    with pytest.raises(InputError, match="--area"):
        conductivity(1000.0, thickness_mm=1.0)
    with pytest.raises(InputError, match="thickness"):
        conductivity(1000.0, thickness_mm=-1.0, area_mm2=1.0)


def test_arrhenius_recovers_known_activation_energy():
    t_c = np.arange(50.0, 251.0, 25.0)
    t_k = t_c + 273.15
    ea = np.array([[0.62], [0.45]])
    rng = np.random.default_rng(2)
    sigma = 1e3 / t_k * np.exp(-ea / (BOLTZMANN_EV * t_k)) * np.exp(0.01 * rng.standard_normal((2, t_k.size)))
    fit = arrhenius_fit(t_c, sigma)
    np.testing.assert_allclose(fit.ea_ev, ea[:, 0], atol=3 * fit.ea_std_ev.max())
    assert np.all(fit.ea_std_ev < 0.01) and np.all(fit.r_squared > 0.999)
    np.testing.assert_allclose(fit.ln_prefactor, np.log(1e3), atol=0.2)
    # exact data, weighted: exact answer
    exact = 1e3 / t_k * np.exp(-0.5 / (BOLTZMANN_EV * t_k))
    w = arrhenius_fit(t_k[::-1], exact[::-1], unit="K", sigma_std=0.01 * exact[::-1])
    assert w.ea_ev == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("temps, err", [([50, 80, 80, 110], "duplicated"), ([50, 110, 80, 140], "not sorted"),
                                        ([50, 80], "at least 3")])
def test_arrhenius_bad_temperatures(temps, err):
    with pytest.raises(InputError, match=err):
        arrhenius_fit(temps, np.ones(len(temps)) * 1e-6)


def test_bad_spectra():
    z = circuit_impedance("R0-p(R1,C1)", F, [20.0, 1000.0, 1e-7])
    with pytest.raises(InputError, match="duplicated"):
        fit_circuit(np.r_[F[:3], F[2:]], np.r_[z[:3], z[2:]], "rc")
    with pytest.raises(InputError, match="not sorted"):
        fit_circuit(F[[0, 2, 1, 3, 4, 5]], z[:6], "rc")
    with pytest.raises(InputError, match="needs at least"):
        fit_circuit(F[:3], z[:3], "R0-p(R1,C1)-p(R2-Wo1,C2)")
    with pytest.raises(InputError, match="complex"):
        fit_circuit(F, z.real, "rc")
    with pytest.raises(InputError, match="non-positive"):
        fit_circuit(np.r_[0.0, F[1:]], z, "rc")
    with pytest.raises(InputError, match="p0 has"):
        fit_circuit(F, z, "rc", p0=[1.0, 2.0])
    with pytest.raises(InputError, match="weighting"):
        fit_circuit(F, z, "rc", weighting="proportional")
    with pytest.raises(InputError, match="permutation"):
        fit_circuit(F, z, "2rc", assignment=(0, 0))
