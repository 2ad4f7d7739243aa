"""Known-answer tests of the PL core: Jacobian, peak metrics, two-Gaussian/Voigt decompositions, series."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.bulk import pl, pl_series, pl_xr
from perovscope.bulk.lineshapes import gaussian, voigt
from perovscope.errors import InputError

HC = 1239.8419843320026
E = np.linspace(1.50, 2.00, 512)


def _two_gaussians(n, seed, shares=(0.3, 0.7), total=1e4, background=20.0):
    """Poisson counts of a low-energy component (1.69 eV, FWHM 0.12) and a main one (1.75, 0.08)."""
    rng = np.random.default_rng(seed)
    truth = (gaussian(E, shares[0] * total, 1.69, 0.12) + gaussian(E, shares[1] * total, 1.75, 0.08)
             + background)
    return rng.poisson(np.broadcast_to(truth, (n, E.size))).astype(float), truth


def test_energy_axis_jacobian_conserves_the_integral_and_inverts():
    lam = np.linspace(600.0, 800.0, 2001)
    y = gaussian(lam, 5e4, 705.0, 30.0) + 10.0 * np.exp(-(lam - 650.0) / 40.0)
    e, ye = pl.to_energy_axis(y, lam)
    assert np.all(np.diff(e) > 0) and e[0] == pytest.approx(HC / 800.0)
    # ∫ I(λ) dλ = ∫ I(E) dE (the trapezoid rule on the non-uniform energy grid: 1e-6)
    assert np.trapezoid(ye, e) == pytest.approx(np.trapezoid(y, lam), rel=1e-6)
    lam2, y2 = pl.to_wavelength_axis(ye, e)
    np.testing.assert_allclose(lam2, lam)
    np.testing.assert_allclose(y2, y, rtol=1e-12)
    # a decreasing axis gives the same answer; the batch dimension is kept
    e3, ye3 = pl.to_energy_axis(np.stack([y[::-1], 2 * y[::-1]]), lam[::-1])
    np.testing.assert_allclose(ye3[1], 2 * ye)
    # the peak moves: the energy distribution's maximum is not hc/λ_max
    assert abs(e[np.argmax(ye)] - HC / 705.0) > 1e-4


def test_peak_metrics_of_a_known_gaussian_batch():
    x = np.linspace(450.0, 950.0, 2001)  # 0.25 nm channels
    centres = np.array([[700.0, 702.3], [705.1, 690.0]])
    widths = np.array([[22.7, 30.0], [62.5, 25.0]])
    y = gaussian(x, 1e5, centres[..., None], widths[..., None]) + 50.0
    p = pl.pl_peak(y, x, baseline="constant")
    assert p.position.shape == (2, 2)
    np.testing.assert_allclose(p.position, centres, atol=2e-3)  # parabolic interpolation between channels
    np.testing.assert_allclose(p.fwhm, widths, rtol=2e-3)  # linear interpolation of the crossings
    np.testing.assert_allclose(p.integral, 1e5, rtol=2e-3)
    np.testing.assert_allclose(p.centroid, centres, atol=0.05)
    np.testing.assert_allclose(p.height, gaussian(centres, 1e5, centres, widths), rtol=1e-4)


def test_peak_metrics_window_and_missing_half_maximum():
    x = np.linspace(400.0, 700.0, 301)
    y = gaussian(x, 1e4, 690.0, 40.0)  # the right half-maximum lies beyond the axis
    p = pl.pl_peak(y, x)
    assert np.isnan(p.fwhm) and np.isfinite(p.left)
    q = pl.pl_peak(y, x, window=(600, 700))
    assert q.position == pytest.approx(690.0, abs=0.05)


def test_two_gaussian_shares_recovered_with_honest_errors():
    y, _ = _two_gaussians(300, seed=2)
    c = pl.decompose_pl(y, E, n_components=2)
    assert c.centre.shape == (300, 2) and np.all(c.flag == 0)
    np.testing.assert_allclose(np.mean(c.centre, axis=0), [1.69, 1.75], atol=1e-3)
    np.testing.assert_allclose(np.mean(c.fwhm, axis=0), [0.12, 0.08], rtol=5e-3)
    np.testing.assert_allclose(np.mean(c.share, axis=0), [0.3, 0.7], atol=2e-3)
    pull = (c.share[:, 0] - 0.3) / c.share_std[:, 0]
    # standard errors describe the scatter: pulls have unit spread (300 draws: within 15 %)
    assert abs(np.mean(pull)) < 0.2
    assert np.std(pull) == pytest.approx(1.0, rel=0.15)
    assert np.allclose(c.share.sum(axis=-1), 1.0)
    model, comps, base, resid = pl.components_and_residual(c)
    assert comps.shape == (300, 2, E.size)
    np.testing.assert_allclose(model, comps.sum(axis=-2) + base)
    assert np.std(resid) == pytest.approx(np.sqrt(np.mean(y)), rel=0.3)


def test_decomposition_on_a_wavelength_axis_and_a_window():
    y, _ = _two_gaussians(20, seed=3)
    lam, y_lam = pl.to_wavelength_axis(y, E)
    c = pl.decompose_pl(y_lam, lam, n_components=2, window=(630, 800))
    assert c.x[0] >= 630 and np.all(np.diff(c.centre, axis=-1) > 0)
    # the low-energy component is the long-wavelength one: ~30 % of the area (the Jacobian skews it a little)
    assert np.mean(c.share[:, 1]) == pytest.approx(0.3, abs=0.03)


def test_voigt_components_and_given_start_values():
    rng = np.random.default_rng(4)
    truth = voigt(E, 600.0, 1.72, 0.02, 0.01) + voigt(E, 400.0, 1.80, 0.015, 0.008) + 5.0
    y = rng.normal(truth, 0.5, (10, E.size))
    c = pl.decompose_pl(y, E, n_components=2, shape="voigt")
    np.testing.assert_allclose(np.mean(c.centre, axis=0), [1.72, 1.80], atol=1e-3)
    np.testing.assert_allclose(np.mean(c.share, axis=0), [0.6, 0.4], atol=0.01)
    g = pl.decompose_pl(y, E, n_components=2, centres=[1.71, 1.81], fwhm=[0.05, 0.04])
    assert np.all(np.isfinite(g.share_std))


def test_series_retained_shift_and_width_change():
    x = np.linspace(480.0, 560.0, 801)
    hours = np.array([0.0, 250.0, 500.0, 1000.0])
    scale = np.array([1.0, 0.98, 0.96, 0.94])
    centre = 518.0 + np.array([0.0, 0.2, 0.5, 1.0])
    width = 22.7 + np.array([0.0, 0.1, 0.2, 0.4])
    y = gaussian(x, 1e5 * scale[:, None], centre[:, None], width[:, None])
    s = pl_series.pl_series(y, x)
    np.testing.assert_allclose(s.retained_pct, 100 * scale, rtol=1e-4)
    np.testing.assert_allclose(s.shift, centre - centre[0], atol=2e-3)
    np.testing.assert_allclose(s.delta_fwhm, width - width[0], atol=5e-3)
    da = xr.DataArray(y, dims=("time", "wavelength"),
                      coords={"time": ("time", hours, {"units": "h"}),
                              "wavelength": ("wavelength", x, {"units": "nm"})}, attrs={"units": "counts"})
    ds = pl_series.pl_series_da(da, dim="time")
    assert ds["retained_pct"].attrs["units"] == "%"
    assert float(ds["retained_pct"][-1]) == pytest.approx(94.0, rel=1e-4)
    assert list(ds["time"].values) == list(hours)
    with pytest.raises(InputError, match="reference"):
        pl_series.series_changes(s.integral, s.position, s.fwhm, reference=7)


def test_labelled_wrappers_keep_coordinates_and_units():
    y, _ = _two_gaussians(3, seed=5)
    lam, y_lam = pl.to_wavelength_axis(y, E)
    da = xr.DataArray(y_lam, dims=("temperature", "wavelength"),
                      coords={"temperature": ("temperature", [80.0, 200.0, 300.0], {"units": "K"}),
                              "wavelength": ("wavelength", lam, {"units": "nm"})}, attrs={"units": "counts"})
    de = pl_xr.energy_axis(da)
    assert de.dims == ("temperature", "energy") and de.attrs["units"] == "counts/eV"
    np.testing.assert_allclose(de.values, y, rtol=1e-10)
    m = pl_xr.peak_metrics(de)
    assert m["position"].attrs["units"] == "eV" and list(m["temperature"].values) == [80.0, 200.0, 300.0]
    d = pl_xr.decomposition(de, n_components=2)
    assert d["share"].dims == ("temperature", "component") and d["share"].attrs["units"] == "1"


@pytest.mark.parametrize("x, message", [
    (np.r_[E[:10], E[9], E[11:]], "duplicated"),
    (np.r_[E[:10], E[20], E[11:20], E[10], E[21:]], "not sorted"),
])
def test_bad_axes_raise(x, message):
    y, _ = _two_gaussians(1, seed=6)
    with pytest.raises(InputError, match=message):
        pl.pl_peak(y[0], x)
    with pytest.raises(InputError, match=message):
        pl.decompose_pl(y[0], x)


def test_other_bad_input_raises():
    y, _ = _two_gaussians(1, seed=7)
    with pytest.raises(InputError, match="at least"):
        pl.decompose_pl(y[0, 200:210], E[200:210], n_components=2)
    with pytest.raises(InputError, match="window"):
        pl.pl_peak(y[0], E, window=(3.0, 4.0))
    with pytest.raises(InputError, match="n_components"):
        pl.decompose_pl(y[0], E, n_components=5)
    with pytest.raises(InputError, match="photon energy is required|energy"):
        pl.to_wavelength_axis(y[0], E, units="nm")
    with pytest.raises(InputError, match="positive"):
        pl.to_energy_axis(y[0], np.linspace(-1, 1, E.size))
    with pytest.raises(InputError, match="points along"):
        pl.pl_peak(y[0, :-1], E)
