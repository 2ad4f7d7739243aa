"""Circuit strings and element models: parsing, closed forms and analytic Jacobians."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.impedance_circuits import circuit_impedance, parse_circuit
from perovscope.errors import InputError

F = np.logspace(-3, 6, 46)


def test_parse_names_units_and_shortcuts():
    c = parse_circuit("R0-p(R1,CPE1)-p(R2-Wo1,C2)-Ws3-W4-L5")
    assert c.names == ("R0", "R1", "CPE1_Q", "CPE1_alpha", "R2", "Wo1_Z0", "Wo1_tau", "C2", "Ws3_Z0",
                       "Ws3_tau", "W4", "L5")
    assert c.units[2:4] == ("Ohm^-1 s^alpha", "1")
    assert not c.positive[3] and c.positive.sum() == 11
    assert parse_circuit("randles").text == "R0-p(R1-Wo1,C1)"
    assert parse_circuit("Randles-CPE").names[-2:] == ("CPE1_Q", "CPE1_alpha")


@pytest.mark.parametrize("bad", ["", "R0-", "R0-p(R1)", "R0-p(R1,C1", "R0-Q1", "R0-R0", "R0-p(R1,,C1)",
                                 "R0-1x"])
def test_parse_errors_name_the_problem(bad):
    with pytest.raises(InputError, match="circuit"):
        parse_circuit(bad)


def test_closed_forms():
    w = 2 * np.pi * F
    r, c = 120.0, 3e-6
    z = circuit_impedance("R0-p(R1,C1)", F, [10.0, r, c])
    np.testing.assert_allclose(z, 10.0 + r / (1 + 1j * w * r * c), rtol=1e-12)
    # R‖CPE with α = 1 is R‖C
    z2 = circuit_impedance("p(R1,CPE1)", F, [r, c, 1.0])
    np.testing.assert_allclose(z2, r / (1 + 1j * w * r * c), rtol=1e-12)
    # finite Warburgs: low-frequency limits (open: Z0/3 + capacitive; short: Z0)
    zo = circuit_impedance("Wo1", [1e-9], [5.0, 2.0])
    zs = circuit_impedance("Ws1", [1e-9], [5.0, 2.0])
    assert abs(zo.real[0] - 5.0 / 3.0) < 1e-6 and zo.imag[0] < -1e6
    assert abs(zs[0] - 5.0) < 1e-6
    # semi-infinite Warburg: 45° line
    zw = circuit_impedance("W1", F, [3.0])
    np.testing.assert_allclose(zw.real, -zw.imag, rtol=1e-12)


def test_batched_jacobian_matches_finite_differences():
    c = parse_circuit("R0-p(R1,CPE1)-p(R2-Wo1,C2)-Ws1-W1-L1")
    p = np.array([[0.016, 0.0087, 3.3, 0.8, 0.0054, 0.063, 233, 0.22, 0.01, 10.0, 0.002, 1e-6],
                  [2.0, 150.0, 1e-5, 0.9, 40.0, 30.0, 5.0, 2e-4, 3.0, 0.1, 1.0, 1e-7]])
    z, jac = circuit_impedance(c, F, p, jacobian=True)
    assert z.shape == (2, F.size) and jac.shape == (2, F.size, c.n_params)
    for i in range(c.n_params):
        h = 1e-6 * np.abs(p[:, i])
        up, dn = p.copy(), p.copy()
        up[:, i] += h
        dn[:, i] -= h
        num = (circuit_impedance(c, F, up) - circuit_impedance(c, F, dn)) / (2 * h[:, None])
        scale = np.abs(z) / np.abs(p[:, i])[:, None]  # compare on the scale of the impedance
        assert np.max(np.abs(num - jac[:, :, i]) / scale) < 1e-6, c.names[i]


def test_wrong_parameter_count():
    with pytest.raises(InputError, match="3 parameters"):
        circuit_impedance("R0-p(R1,C1)", F, [1.0, 2.0])
