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


def test_site_baseline_cancels_static_texture_and_chord_fit_measures_contrast(tools):
    """Weak nuclei on a static bright/dark texture: the per-site temporal baseline finds the exact
    nucleation frame; the projected-sphere fit returns the true q - 1 for strong and weak particles."""
    import pandas as pd

    from perovscope.imaging import backtrack_nucleation_baseline, chord_contrast, site_contrast

    rng = np.random.default_rng(11)
    shape, n_frames, mean = (96, 96), 6, 400.0
    g = ndimage.gaussian_filter(rng.standard_normal(shape), 2.5)
    texture = 1 + 0.06 * g / g.std()                           # static thickness texture, 6 % rms
    sites = np.array([[24.0, 24.0], [24.0, 72.0], [72.0, 24.0], [72.0, 72.0]])
    nuc = np.array([1, 2, 3, 4])
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    thickness, q1 = 50.0, np.array([2.1, 2.1, 2.1, 0.4])        # q - 1: three metal, one halide
    frames = []
    for t in range(n_frames):  # loop over frames (fixture)
        rel = np.zeros(shape)
        for k, (cy, cx) in enumerate(sites):  # loop over particles (fixture)
            if t >= nuc[k]:
                big_r = 2.0 + 1.0 * (t - nuc[k]) if k < 3 else 5.0 + (t - nuc[k])
                chord = 2 * np.sqrt(np.clip(big_r ** 2 - (yy - cy) ** 2 - (xx - cx) ** 2, 0, None))
                rel += q1[k] * chord / thickness
        frames.append(rng.poisson(mean * texture * (1 + rel)))
    frames = np.stack(frames).astype(float)
    summary = pd.DataFrame({"nucleation_frame": [n_frames - 1] * 4,
                            "centroid_y": sites[:, 0] + 0.6, "centroid_x": sites[:, 1] - 0.6})
    con = site_contrast(frames, summary, pixel_size_nm=1.0, refine_px=2)
    out = backtrack_nucleation_baseline(summary, con, level=1.0)
    # a nucleus of radius 2 px at q - 1 = 2.1 raises the Anscombe-smoothed centre by ~2.5 units,
    # the site statistic's noise sd is ~0.3: exact; the texture (6 % rms ~ 0.6 units) cancels
    np.testing.assert_array_equal(out["nucleation_frame"].to_numpy()[:3], nuc[:3])
    # the fit itself: last frame without the texture (texture under a particle scatters q - 1 by
    # ~ its rms x t / D, which is what the simulated device shows: Pb 1.5-2.8 for 2.1)
    last = rng.poisson(mean * (1 + rel)).astype(float)
    q = chord_contrast(last, out.assign(centroid_y=sites[:, 0], centroid_x=sites[:, 1]),
                       pixel_size_nm=1.0, thickness_nm=thickness, smooth_px=1.0, diameter="chord_fit")
    # all pixels of the disc enter the fit: q - 1 within 25 % (noise of the amplitude ~5-10 %)
    np.testing.assert_allclose(q, q1, rtol=0.25)
    # a fixed level on the raw site contrast (no temporal baseline) is fooled by the texture
    assert not np.array_equal(np.where(con[:, :3] > 1.0, 1, 0).argmax(axis=0), nuc[:3])
