"""Closed-form checks of the building blocks of the science steps (fast, no simulated session)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from perovscope.pipeline.steps._common import binned_affine, interface_names, slug
from perovscope.pipeline.steps.diffraction import interior_mask, rereference
from perovscope.pipeline.steps.grid import fill_nearest, layer_classes, resample_intensive, resample_labels
from perovscope.pipeline.steps.registration import pool_offsets, refine_translation, sampled_fixed

LAYERS = ("glass", "ITO", "HTL", "emitter", "ETL", "LiF", "AlCl3", "Al")


def _strain(exx, eyy=0.0, exy=0.0, theta=0.0):
    shape = np.shape(exx)
    return xr.Dataset({k: (("scan_y", "scan_x"), np.broadcast_to(v, shape).astype(float))
                       for k, v in (("exx", exx), ("eyy", eyy), ("exy", exy), ("theta", theta))})


def test_rereference_is_exact():
    g0 = np.array([[1.7, -0.3], [0.3, 1.7]])
    ds = _strain(np.full((3, 4), 2e-3), 1e-3, -5e-4, 0.02)
    same = rereference(ds, g0, g0)
    for k in ("exx", "eyy", "exy", "theta"):
        np.testing.assert_allclose(same[k], ds[k].values, rtol=0, atol=1e-15)
    # the frame's reference lattice expanded by 0.4 % (g shrinks): an unstrained pixel of that frame
    # carries exactly +0.4 % biaxial strain relative to the session reference
    zero = _strain(np.zeros((2, 2)))
    out = rereference(zero, g0 / 1.004, g0)
    np.testing.assert_allclose(out["exx"], 0.004, atol=1e-14)
    np.testing.assert_allclose(out["eyy"], 0.004, atol=1e-14)
    np.testing.assert_allclose(out["exy"], 0.0, atol=1e-14)
    np.testing.assert_allclose(out["theta"], 0.0, atol=1e-12)


def test_interior_mask_keeps_the_unstrained_core():
    # a 40 nm emitter on 3.2 nm pixels (rows 5..17), Pb particle at (11, 5): > 12 nm from anything else
    step = 3.2
    exx = np.full((24, 20), np.nan)
    exx[5:18] = 0.0
    phase = np.where(np.isfinite(exx), 3, -1)
    phase[11, 5] = 8
    ds = _strain(exx).assign(phase=(("scan_y", "scan_x"), phase))
    ds = ds.assign_coords(scan_y=np.arange(24) * step, scan_x=np.arange(20) * step)
    mask = interior_mask(ds, 6.0)
    rows = np.flatnonzero(mask.any(axis=1))
    # row r's centre is (r - 4.5) * 3.2 nm below the edge at 4.5: > 6 nm from rows 7 .. 15
    assert rows.min() == 7 and rows.max() == 15
    assert not mask[11, 4:7].any() and mask[11, 10]


def test_binned_affine_and_names():
    a = np.array([[6.0, 0.0, 2.5], [0.0, 6.0, 2.5]])
    b = binned_affine(a, 2)
    # binned pixel (0, 0) is the centre of raw pixels (0, 0)..(1, 1): raw (0.5, 0.5)
    np.testing.assert_allclose(b @ [0, 0, 1], a @ [0.5, 0.5, 1])
    np.testing.assert_allclose(b @ [3, 1, 1], a @ [6.5, 2.5, 1])
    assert slug("HTL/emitter") == "htl_emitter" and slug("ETL/LiF+AlCl3+Al") == "etl_lif_alcl3_al"
    names = layer_classes(LAYERS, [["LiF", "AlCl3", "Al"]])
    assert names == ["glass", "ITO", "HTL", "emitter", "ETL", "LiF+AlCl3+Al"]
    assert interface_names(names)[2:] == ["HTL/emitter", "emitter/ETL", "ETL/LiF+AlCl3+Al"]
    assert layer_classes((), [], 3) == ["layer0", "layer1", "layer2"]


def test_resampling_keeps_nan_regions_out():
    # a map with a NaN hole (no lattice) upsampled x4: the normalised interpolation is exact for a
    # constant next to the hole (no zeros leak in), the hole stays NaN, a ramp far from the hole and
    # the edges is interpolated exactly (cubic splines reproduce it)
    m = np.array([[4.0, 0.0, 1.5], [0.0, 4.0, 1.5]])
    const = np.full((12, 12), 3.0)
    const[4:7, 4:7] = np.nan
    out = resample_intensive(const, m, (48, 48))
    np.testing.assert_allclose(out[np.isfinite(out)], 3.0, rtol=1e-12)
    assert np.isnan(out[22, 22]) and np.isfinite(out[22, 10]) and np.isfinite(out).mean() > 0.9
    ramp = np.add.outer(np.arange(24.0), 0.5 * np.arange(24.0))
    ramp[4:7, 4:7] = np.nan
    out = resample_intensive(ramp, m, (96, 96))
    r, c = np.mgrid[0:96, 0:96]
    expected = (r - 1.5) / 4 + 0.5 * (c - 1.5) / 4
    far = (r > 50) & (r < 80) & (c > 50) & (c < 80)
    np.testing.assert_allclose(out[far], expected[far], atol=2e-3)
    labels = resample_labels(np.arange(144).reshape(12, 12), m, (48, 48))
    assert labels[1, 1] == 0 and labels[7, 46] == 23 and labels[46, 46] == 143
    np.testing.assert_array_equal(fill_nearest(np.array([[np.nan, 1.0, 2.0, np.nan]])), [[1, 1, 2, 2]])


@pytest.mark.parametrize("sampling", ["area", "point"])
def test_refine_translation_recovers_a_subpixel_offset(sampling):
    # a layered texture: strong row profile (layers) + weak thickness texture along x; the modality
    # sees the rows with another contrast (x 0.3, offset) and its own noise
    rng = np.random.default_rng(5)
    h, f = 192, 4
    rows = np.repeat(rng.uniform(50, 400, 12), 16)[:, None]
    texture = 1 + 0.08 * ndimage.gaussian_filter(rng.standard_normal((h, h)), 2.5) / 0.07
    fixed = rows * texture
    true = np.array([[f, 0, 1.5 + 0.37], [0, f, 1.5 - 0.21]])
    moving = sampled_fixed(fixed, true, (h // f, h // f), sampling=sampling)
    moving = np.sqrt(moving) * 3 + 0.01 * rng.standard_normal(moving.shape)   # another contrast
    start = np.array([[f, 0, 1.5], [0, f, 1.5]])
    m = refine_translation(fixed, moving[1:-1, 1:-1], start + [[0, 0, f], [0, 0, f]], sampling=sampling)
    np.testing.assert_allclose(m[:, 2] - f, true[:, 2], atol=0.05)


def test_pool_offsets():
    rng = np.random.default_rng(1)
    t = np.arange(8.0)
    line = np.stack([0.1 + 0.02 * t, -0.3 + 0.0 * t], axis=1)
    noisy = line + 0.2 * rng.standard_normal((8, 2))
    fit, sd, chi2, order = pool_offsets(noisy, np.full(8, 0.2), max_chi2=4.0)
    assert chi2 < 4 and np.all(sd < 0.2) and order == 0
    assert np.abs(fit - line).max() < 3 * sd.max() + 0.07          # a constant through the slope
    steady = line + np.stack([0.3 * t, 0 * t], axis=1) + 0.05 * rng.standard_normal((8, 2))
    fit, sd, chi2, order = pool_offsets(steady, np.full(8, 0.05), max_chi2=4.0)
    assert order == 1 and np.abs(fit - steady).max() < 0.15
    jump = noisy.copy()
    jump[4:, 0] += 2.0                                    # the modality jumped: keep the frames
    assert pool_offsets(jump, np.full(8, 0.2), max_chi2=4.0) is None
