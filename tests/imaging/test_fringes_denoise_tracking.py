"""Lattice fringes (0.33 nm), Poisson denoising, particle tracking: known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from perovscope.imaging import (
    anscombe,
    count_per_frame,
    denoise_poisson,
    fringe_spacing,
    inverse_anscombe,
    link_particles,
    local_fringes,
    particles_per_frame,
    track_summary,
)


def test_fringe_spacing_0p33_nm_within_0p5pct(tools):
    rng = np.random.default_rng(0)
    img = tools.fringe_image(rng, d_nm=0.33, angle_deg=35.0, px=0.03)
    res = fringe_spacing(img, pixel_size_nm=0.03)
    assert res.d_nm == pytest.approx(0.33, rel=0.005)
    assert res.angle_deg == pytest.approx(35.0, abs=0.5)
    assert res.n_windows == 49


def test_fringe_uncertainty_is_calibrated(tools):
    # the per-window scatter of d must match the predicted uncertainty (ratio 1 +- 0.3 for 49 windows:
    # the sample sd of 49 values has ~10 % relative error)
    rng = np.random.default_rng(1)
    img = tools.fringe_image(rng, d_nm=0.33, angle_deg=-20.0, px=0.03, amp=5.0)
    fm = local_fringes(img, pixel_size_nm=0.03)
    ratio = fm.d_nm.std(ddof=1) / fm.d_err_nm.mean()
    assert 0.7 < ratio < 1.3
    assert np.abs(fm.d_nm - 0.33).max() < 5 * fm.d_err_nm.mean()
    assert np.median(fm.angle_deg) == pytest.approx(160.0, abs=1.0)   # axial: -20 deg == 160 deg


def test_anscombe_stabilises_variance_and_inverse_is_unbiased():
    rng = np.random.default_rng(2)
    for lam in (5.0, 20.0, 100.0):
        z = anscombe(rng.poisson(lam, 200_000))
        assert z.var() == pytest.approx(1.0, abs=0.06)     # Anscombe: var -> 1 for lam >~ 4
    # exact unbiased inverse: E[f(z)] mapped back gives lam even at 1 count/px, the algebraic one not
    for lam in (0.5, 1.0, 3.0):
        ez = anscombe(rng.poisson(lam, 400_000)).mean()
        assert float(inverse_anscombe(ez)) == pytest.approx(lam, rel=0.03)
    naive = inverse_anscombe(anscombe(rng.poisson(1.0, 400_000)).mean(), unbiased=False)
    assert float(naive) < 0.9  # the algebraic inverse is ~18 % low at 1 count/px


def test_denoise_poisson_reduces_error_without_bias(tools):
    rng = np.random.default_rng(3)
    truth = tools.textured_scene(rng, (96, 96), mean=6.0, contrast=3.0, sigma=3.0)
    noisy = rng.poisson(truth)
    for method in ("nl_means", "tv", "gaussian"):
        den = denoise_poisson(noisy, method=method)
        rmse_noisy = np.sqrt(((noisy - truth) ** 2).mean())
        rmse_den = np.sqrt(((den - truth) ** 2).mean())
        assert rmse_den < 0.6 * rmse_noisy, method
        assert den.mean() == pytest.approx(truth.mean(), rel=0.05), method   # no dose bias


@pytest.fixture(scope="module")
def growing_particles(tools):
    """12 particles nucleating at known frames and growing by 0.8 px/frame, slow random drift."""
    rng = np.random.default_rng(4)
    n_frames, n = 10, 12
    nuc = rng.integers(0, 7, n)
    nuc[0] = 0
    centres = tools.place_discs(rng, (160, 160), np.full(n, 13.0), gap=4)
    frames, radii = [], np.zeros((n_frames, n))
    for t in range(n_frames):  # loop over frames (fixture)
        r = np.where(t >= nuc, 3.0 + 0.8 * (t - nuc), 0.0)
        radii[t] = r
        c = centres + rng.normal(0, 0.3, centres.shape)
        alive = r > 0
        img = 10 + 150 * tools.render_discs((160, 160), c[alive], r[alive])
        frames.append(rng.poisson(ndimage.gaussian_filter(img, 0.8)))
    return np.stack(frames), nuc, radii


def test_tracking_nucleation_frame_exact_and_counts(growing_particles):
    frames, nuc, radii = growing_particles
    _, table = particles_per_frame(frames, pixel_size_nm=0.5, min_diameter_nm=2.0)
    tracks = link_particles(table, max_displacement_nm=3.0)
    summary = track_summary(tracks)
    assert len(summary) == len(nuc)
    assert sorted(summary["nucleation_frame"]) == sorted(nuc.tolist())
    counts = count_per_frame(tracks, frames.shape[0])
    truth_counts = (radii > 0).sum(axis=1)
    np.testing.assert_allclose(counts, truth_counts, rtol=0.10)
    # radius growth 0.8 px/frame = 0.4 nm/frame; the discrete area of small discs scatters by ~0.1 px
    grown = summary[summary["n_frames"] >= 4]
    np.testing.assert_allclose(grown["radius_growth_nm_per_frame"], 0.4, atol=0.05)


def test_labelled_wrappers_keep_coordinates(tools):
    import dask.array as dsa
    import xarray as xr

    from perovscope.imaging import denoise, fringe_map

    rng = np.random.default_rng(5)
    img = tools.fringe_image(rng, d_nm=0.33, angle_deg=10.0, px=0.03, shape=(128, 128))
    coords = {"y": ("y", np.arange(128) * 0.03, {"units": "nm"}),
              "x": ("x", np.arange(128) * 0.03, {"units": "nm"})}
    da = xr.DataArray(img, dims=("y", "x"), coords=coords, attrs={"units": "counts"})
    fm = fringe_map(da, window_px=64)
    np.testing.assert_allclose(fm["d_nm"].values, 0.33, rtol=0.01)
    assert fm["d_nm"].attrs["units"] == "nm" and fm["angle_deg"].attrs["units"] == "deg"
    stack = xr.concat([da, da], dim="time")
    eager = denoise(stack, method="gaussian")
    lazy = denoise(stack.copy(data=dsa.from_array(stack.values, chunks=(1, 128, 128))), method="gaussian")
    assert hasattr(lazy.data, "dask")
    np.testing.assert_array_equal(eager.values, lazy.values)
    assert eager.attrs["units"] == "counts" and float(eager.x[1]) == pytest.approx(0.03)
