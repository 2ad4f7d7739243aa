"""Known-answer tests of the Urbach energy: PL tails, absorption tails, van Roosbroeck–Shockley, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.lineshapes import gaussian
from perovscope.bulk.urbach import K_B_EV, urbach_energy
from perovscope.errors import InputError

E = np.linspace(1.40, 2.00, 601)


def _pl_with_tail(n, eu=0.030, seed=0):
    """A Gaussian band (1.75 eV, FWHM 60 meV, 1e5 counts at the top) on an exponential low-energy tail."""
    rng = np.random.default_rng(seed)
    tail = np.exp((E - 1.75) / eu) / (1.0 + np.exp((E - 1.75) / 0.015))
    clean = 1e5 * gaussian(E, 1.0, 1.75, 0.06) / gaussian(1.75, 1.0, 1.75, 0.06) + 2e4 * tail
    return rng.poisson(np.broadcast_to(clean, (n, E.size)) + 5.0).astype(float) - 5.0


def test_pl_tail_energy_recovered_over_a_batch():
    y = _pl_with_tail(60)
    u = urbach_energy(y, E)
    assert u.energy.shape == (60,) and np.all(u.found)
    # 30 meV: the batch mean within 2 % (the window's top end still feels the band, ≈ −1.5 %),
    # the spread ≈ 0.6 meV from the Poisson noise
    assert np.mean(u.energy) == pytest.approx(0.030, rel=0.02)
    assert np.std(u.energy) < 0.0015
    # the range lies in the tail: below the band, above the noise floor
    assert np.all(u.e_hi < 1.70) and np.all(u.e_lo > 1.45)
    assert np.all(u.e_folds > 2.0)


def test_absorption_tail_energy_and_range():
    rng = np.random.default_rng(1)
    eg = 1.60
    alpha = np.where(E < eg, np.exp((E - eg) / 0.020), 1.0 + (E - eg) / 0.020) * 1e4 + 50.0
    y = alpha * (1.0 + 0.01 * rng.standard_normal((30, E.size)))
    u = urbach_energy(y, E, kind="absorption")
    # 20 meV within 4 %: the sub-gap background (50/cm) bends the bottom of the window by ≈ +2 %
    assert np.mean(u.energy) == pytest.approx(0.020, rel=0.04)
    assert np.all(u.e_hi <= eg + 0.015)


def test_van_roosbroeck_shockley_inversion_gives_the_absorption_urbach_energy():
    t = 300.0
    eu = 0.015
    alpha = np.exp((E - 1.70) / eu) / (1.0 + np.exp((E - 1.70) / 0.01))
    pl = alpha * E**2 * np.exp(-(E - 1.70) / (K_B_EV * t))
    pl = 1e6 * pl / pl.max()
    apparent = urbach_energy(pl, E)
    true = urbach_energy(pl, E, temperature_K=t)
    # the PL tail alone is flatter: 1/E_app ≈ 1/E_U − 1/kT + 2/E
    assert 1 / float(apparent.energy) == pytest.approx(1 / eu - 1 / (K_B_EV * t) + 2 / 1.6, rel=0.05)
    # noiseless: the 2 % straightness tolerance lets the window feel the cut-off above 1.68 eV (+1.7 %)
    assert float(true.energy) == pytest.approx(eu, rel=0.03)


def test_given_window_and_axis_direction():
    y = _pl_with_tail(1, seed=2)[0]
    u = urbach_energy(y, E, window=(1.55, 1.65))
    assert float(u.energy) == pytest.approx(0.030, rel=0.04)
    assert float(u.e_lo) >= 1.55 and float(u.e_hi) <= 1.65
    v = urbach_energy(y[::-1], E[::-1], window=(1.55, 1.65))
    assert float(v.energy) == pytest.approx(float(u.energy))


def test_no_tail_gives_nan_not_an_error():
    y = 1e7 * gaussian(E, 1.0, 1.75, 0.06) / gaussian(1.75, 1.0, 1.75, 0.06)
    y = np.random.default_rng(3).poisson(y + 5.0) - 5.0
    u = urbach_energy(y.astype(float), E)
    # a Gaussian wing falls ever faster: at this signal no stretch of its bottom is straight
    assert not bool(u.found) and np.isnan(u.energy) and int(u.n_points) == 0
    # at 1e5 counts a short bottom stretch is straight within the noise: few e-folds, a steep slope
    low = urbach_energy(np.random.default_rng(4).poisson(y / 100 + 5.0) - 5.0, E)
    assert (not bool(low.found)) or float(low.e_folds) < 4.0


def test_bad_input_raises():
    y = _pl_with_tail(1)[0]
    with pytest.raises(InputError, match="wavelength"):
        urbach_energy(y, 1239.84 / E, units="nm")
    with pytest.raises(InputError, match="non-positive"):
        urbach_energy(y - 1e3, E, window=(1.45, 1.60))
    with pytest.raises(InputError, match="no positive"):
        urbach_energy(-np.abs(y), E)
    with pytest.raises(InputError, match="at least"):
        urbach_energy(y[:4], E[:4])
    with pytest.raises(InputError, match="holds"):
        urbach_energy(y, E, window=(1.500, 1.502))
    with pytest.raises(InputError, match="duplicated"):
        urbach_energy(y, np.r_[E[:5], E[4], E[6:]])
    with pytest.raises(InputError, match="kind"):
        urbach_energy(y, E, kind="raman")


def test_labelled_urbach_from_a_wavelength_axis():
    import xarray as xr

    from perovscope.bulk.pl import to_wavelength_axis
    from perovscope.bulk.pl_xr import urbach

    y = _pl_with_tail(2, seed=5)
    lam, y_lam = to_wavelength_axis(y, E)
    da = xr.DataArray(y_lam, dims=("time", "wavelength"),
                      coords={"time": [0.0, 1.0], "wavelength": ("wavelength", lam, {"units": "nm"})})
    ds = urbach(da)  # the Jacobian brings it back onto the energy axis
    direct = urbach_energy(y, E)
    np.testing.assert_allclose(ds["urbach_energy"].values, direct.energy, rtol=1e-6)
    assert ds["urbach_energy"].attrs["units"] == "eV" and list(ds["time"].values) == [0.0, 1.0]
