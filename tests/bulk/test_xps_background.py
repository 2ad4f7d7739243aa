"""Shirley and Tougaard backgrounds against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from perovscope.bulk.xps_background import loss_cross_section, shirley_background, tougaard_background
from perovscope.errors import InputError

E = np.linspace(700.0, 740.0, 2001)


def _gauss(e, area, c, s):
    return area / (s * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((e - c) / s) ** 2)


def _step(e, area, c, s):  # a step convolved with the Gaussian: its running integral
    return area * 0.5 * (1 + erf((e - c) / (s * np.sqrt(2))))


@pytest.mark.parametrize("step", [0.05, 0.1, 0.2])
def test_shirley_converges_to_the_closed_form_of_a_doublet(step):
    """y = c + P + s·∫P: the Shirley fixed point is exactly c + s·∫P (the step convolved with the peaks)."""
    peaks = _gauss(E, 100, 710, 1.2) + _gauss(E, 50, 723.6, 1.3)
    truth = 200.0 + step * (_step(E, 100, 710, 1.2) + _step(E, 50, 723.6, 1.3))
    y = np.stack([200.0 + peaks + (truth - 200.0), 3 * (200.0 + peaks + (truth - 200.0))])
    b = shirley_background(y, E, tol=1e-9, max_iter=400)
    assert np.all(b.converged)
    # trapezoid error of the running integral on a 0.02 eV grid: < 1e-5 of the step height
    height = step * 150.0
    assert np.max(np.abs(b.background[0] - truth)) < 1e-5 * height
    np.testing.assert_allclose(b.background[1], 3 * b.background[0], rtol=1e-9)
    # the same on a kinetic-energy axis and on a decreasing binding-energy axis
    ke = shirley_background(y[0], 1486.61 - E, kind="kinetic", tol=1e-9, max_iter=400)
    np.testing.assert_allclose(ke.background, b.background[0], atol=1e-6 * height)
    rev = shirley_background(y[0, ::-1], E[::-1], tol=1e-9, max_iter=400)
    np.testing.assert_allclose(rev.background[::-1], b.background[0], atol=1e-6 * height)


def test_tougaard_universal_cross_section_of_a_narrow_line():
    """A line of area A much narrower than the cross-section gives the background A·K(E − E₀)."""
    e = np.arange(690.0, 790.0, 0.02)
    area, e0 = 1000.0, 700.0
    y = _gauss(e, area, e0, 0.08)
    b = tougaard_background(y, e, B=2866.0, C=1643.0)
    t = e - e0
    expected = area * loss_cross_section(np.maximum(t, 0), B=2866.0, C=1643.0)
    far = t > 1.0
    assert np.max(np.abs(b.background[far] - expected[far])) < 1e-4 * expected.max()
    # total loss intensity: A·B/2·(1/C − 1/(C + T_max²)) (∫ T/(C+T²)² dT)
    total = np.trapezoid(b.background, e)
    assert total == pytest.approx(area * 2866 / 2 * (1 / 1643 - 1 / (1643 + 90.0**2)), rel=1e-3)
    assert b.B[()] == 2866.0


def test_tougaard_scale_fitted_to_the_high_energy_end_and_three_parameter_form():
    """Data built to obey Tougaard's equation j − c = F + B·∫K(E − E′)(j − c)dE′ (all orders, solved by
    iteration) give back B when B is fitted to the high-energy end."""
    e = np.arange(690.0, 760.0, 0.05)
    primary = _gauss(e, 1000.0, 705.0, 0.6)
    b_true = 124.0  # loss fraction B·∫K ≈ 0.3 for the polymer class (C = 551, D = 436 eV²)
    w = np.full(e.size, 0.05)
    w[[0, -1]] = 0.025  # trapezoid weights of the quadrature
    kmat = loss_cross_section(np.maximum(e[:, None] - e[None, :], 0.0), B=b_true, C=551.0, D=436.0) * w
    j = 50.0 + np.linalg.solve(np.eye(e.size) - kmat, primary)  # (I − B·K) (j − c) = F
    fitted = tougaard_background(np.stack([j, 2 * j - 50.0]), e, C=551.0, D=436.0)
    np.testing.assert_allclose(fitted.B, b_true, rtol=1e-6)
    np.testing.assert_allclose(fitted.background[0], j - primary, atol=1e-6 * primary.max())
    k3 = loss_cross_section(np.array([0.5, 10.0, 30.0]), B=1.0, C=551.0, D=436.0, gap=1.0)
    assert k3[0] == 0.0 and k3[1] == pytest.approx(10.0 / ((551 - 100) ** 2 + 436 * 100))


def test_background_bad_input():
    y = _gauss(E, 100, 710, 1.2)
    with pytest.raises(InputError, match="kind"):
        shirley_background(y, E, kind="photon")
    with pytest.raises(InputError, match="average"):
        shirley_background(y, E, average=5000)
    with pytest.raises(InputError, match="NaN"):
        tougaard_background(np.where(E > 730, np.nan, y), E)
    with pytest.raises(InputError, match="C > 0"):
        loss_cross_section([1.0], C=-1.0)
    with pytest.raises(InputError, match="sorted"):
        tougaard_background(y, np.r_[E[:10][::-1], E[10:]])
