"""Powder peaks: search, phase matching, Scherrer and Williamson–Hall on known broadening."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.xrd import reference_pattern, refine_pattern
from perovscope.bulk.xrd_peaks import (
    find_peaks,
    match_phases,
    profile_size_strain,
    scherrer_size,
    williamson_hall,
)
from perovscope.errors import InputError

LAM = 1.540593


def _sticks(x, ref, fwhm_of, *, total=2e4, bkg=200.0, seed=0):
    """Pattern of Gaussian sticks of a reference pattern with FWHM(2θ) ``fwhm_of`` (Kα1 only)."""
    y = np.full_like(x, bkg)
    for tt, inten in zip(ref.two_theta, ref.intensity, strict=True):
        w = fwhm_of(tt)
        y += total * inten / 100 * np.exp(-4 * np.log(2) * (x - tt) ** 2 / w**2)
    return np.random.default_rng(seed).poisson(y).astype(float)


def test_find_peaks_positions_and_widths():
    x = np.arange(10.0, 60.0, 0.01)
    ref = reference_pattern("Si", wavelength="CuKa1", two_theta_range=(10, 60))
    y = _sticks(x, ref, lambda tt: 0.08)
    pk = find_peaks(y, x)
    assert int(pk.count) == ref.two_theta.size
    np.testing.assert_allclose(pk.two_theta, ref.two_theta, atol=0.004)
    np.testing.assert_allclose(pk.fwhm, 0.08, rtol=0.1)
    # a batch: the same peaks in every pattern, padded arrays
    both = find_peaks(np.stack([y, y[::-1]]), x)
    assert both.two_theta.shape[0] == 2 and int(both.count[0]) == ref.two_theta.size


def test_find_peaks_descending_axis_and_noise():
    x = np.arange(10.0, 60.0, 0.01)
    flat = np.random.default_rng(4).poisson(np.full(x.size, 400.0)).astype(float)
    assert int(find_peaks(flat, x).count) == 0  # pure Poisson noise: no 5σ peaks
    ref = reference_pattern("LaB6", wavelength="CuKa1", two_theta_range=(10, 60))
    y = _sticks(x, ref, lambda tt: 0.1)
    pk = find_peaks(y[::-1], x[::-1])
    np.testing.assert_allclose(pk.two_theta, ref.two_theta, atol=0.005)


def test_match_phases_identifies_gamma_cspbi3():
    x = np.arange(10.0, 50.0, 0.02)
    ref = reference_pattern("CsPbI3_gamma", wavelength="CuKa1", two_theta_range=(10, 50))
    y = _sticks(x, ref, lambda tt: 0.1, total=5e4)
    pk = find_peaks(y, x)
    match = match_phases(pk.two_theta, pk.height, wavelength="CuKa1")
    assert match.phase[0] == "CsPbI3_gamma" and match.score[0] > 0.8
    assert match.score[list(match.phase).index("CsPbI3_delta")] < 0.5


def test_scherrer_closed_form():
    # D = Kλ/(β cos θ): 0.2° at 2θ = 30° with K = 0.9 gives 41.2 nm
    beta = np.radians(0.2)
    expect = 0.9 * LAM / (beta * np.cos(np.radians(15.0))) / 10
    assert scherrer_size(0.2, 30.0, LAM) == pytest.approx(expect)
    assert scherrer_size(0.25, 30.0, LAM, instrumental_deg=0.15) == pytest.approx(expect)  # 0.25² − 0.15²
    assert scherrer_size(0.3, 30.0, LAM, instrumental_deg=0.1, shape="lorentzian") == pytest.approx(expect)
    with pytest.raises(InputError):
        scherrer_size(0.1, 30.0, LAM, instrumental_deg=0.2, shape="lorentzian")


def test_williamson_hall_recovers_size_and_strain():
    # lines of a 50 nm, 0.15 % strained powder: β cos θ = Kλ/D + 4ε sin θ, plus 1 % scatter
    tt = np.array([[21.4, 30.4, 37.4, 43.5, 49.0, 54.0, 63.2, 67.5, 71.8, 75.8]])
    th = np.radians(tt / 2)
    d_nm, eps = 50.0, 1.5e-3
    beta = (0.9 * LAM / (d_nm * 10) + 4 * eps * np.sin(th)) / np.cos(th)
    noisy = np.degrees(beta) * (1 + 0.01 * np.random.default_rng(2).standard_normal(tt.shape))
    wh = williamson_hall(np.repeat(tt, 3, 0), np.stack([np.degrees(beta)[0], noisy[0], noisy[0]]), LAM)
    assert wh.size[0] == pytest.approx(d_nm, rel=1e-9) and wh.strain[0] == pytest.approx(eps, rel=1e-9)
    assert wh.size[1] == pytest.approx(d_nm, rel=0.1) and wh.strain[1] == pytest.approx(eps, rel=0.1)
    assert wh.r2[0] == pytest.approx(1.0)
    with pytest.raises(InputError, match="3 lines"):
        williamson_hall(tt[:, :2], np.degrees(beta)[:, :2], LAM)


def test_size_and_strain_from_refined_lorentzian_broadening():
    # Si powder with 60 nm crystallites and 1e-3 microstrain on a Gaussian instrument (W known, as
    # from a LaB6 standard): the refined X, Y give size and strain (X = (180/π)Kλ/D, Y = (180/π)·4ε).
    # The profile is an exact Voigt; the TCH pseudo-Voigt approximates it to ~2 % in the widths.
    x = np.arange(20.0, 120.0, 0.02)
    ref = reference_pattern("Si", wavelength="CuKa1", two_theta_range=(20, 120))
    d_nm, eps = 60.0, 1e-3
    xx = np.degrees(0.9 * LAM / (d_nm * 10))
    yy = np.degrees(4 * eps)
    y = np.full_like(x, 150.0)
    for t, inten in zip(ref.two_theta, ref.intensity, strict=True):
        th = np.radians(t / 2)
        gg = np.sqrt(0.003)
        gl = xx / np.cos(th) + yy * np.tan(th)
        # a Voigt (exact convolution) — the TCH pseudo-Voigt is its approximation
        from scipy.special import voigt_profile

        s = gg / (2 * np.sqrt(2 * np.log(2)))
        y += 3e3 * inten / 100 * voigt_profile(x - t, s, gl / 2)
    y = np.random.default_rng(5).poisson(y).astype(float)
    res = refine_pattern(y, x, "Si", wavelength="CuKa1", refine=("zero", "lattice", "X", "Y"),
                         start={"W": 0.003})
    size, strain = profile_size_strain(res.profile[0, 3], res.profile[0, 4], LAM)
    assert size == pytest.approx(d_nm, rel=0.05)
    assert strain == pytest.approx(eps, rel=0.05)
    assert res.cell[0, 0] == pytest.approx(5.431020511, abs=2e-4)


def test_labelled_refinement_keeps_coordinates():
    import xarray as xr

    from perovscope.bulk.xrd_xr import refine_xrd

    x = np.arange(25.0, 80.0, 0.02)
    ref = reference_pattern("Si", wavelength="CuKa1", two_theta_range=(25, 80))
    ys = np.stack([_sticks(x, ref, lambda tt: 0.1, seed=s) for s in (0, 1)])
    da = xr.DataArray(ys, dims=("temperature", "two_theta"),
                      coords={"temperature": ("temperature", [25.0, 100.0], {"units": "degC"}),
                              "two_theta": ("two_theta", x, {"units": "deg"})})
    ds = refine_xrd(da, ["Si"], wavelength="CuKa1", refine=("zero", "lattice", "W"), background_order=2)
    assert ds["cell"].dims == ("temperature", "phase", "cell_param")
    assert list(ds["temperature"].values) == [25.0, 100.0] and ds["temperature"].attrs["units"] == "degC"
    np.testing.assert_allclose(ds["cell"].sel(cell_param="a").values[:, 0], 5.431020511, atol=2e-4)
    assert all("units" in ds[v].attrs for v in ds.data_vars)
    np.testing.assert_allclose(ds["difference"].values, ds["observed"].values - ds["calculated"].values)
