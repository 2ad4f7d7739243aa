"""Drift of a time series: sub-pixel shifts against known truth, alignment, lazy == eager."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.imaging import (
    align_frames,
    drift_correct,
    frame_drift,
    phase_correlation_shifts,
    stack_frames,
)


def test_drift_recovered_within_0p1_px(drift_series):
    frames, truth = drift_series
    res = frame_drift(frames)
    # 96x96 px, 200 counts/px, texture contrast 120: the correlation-peak position error expected from
    # shot noise is ~0.02 px; 0.1 px is the target.
    np.testing.assert_allclose(res.shift_y, truth[:, 0], atol=0.1)
    np.testing.assert_allclose(res.shift_x, truth[:, 1], atol=0.1)
    assert res.shift_y[0] == 0 and res.shift_x[0] == 0


def test_previous_reference_accumulates(drift_series):
    frames, truth = drift_series
    res = frame_drift(frames, reference="previous")
    # errors of 7 consecutive pair shifts add up: allow sqrt(7) times the single-pair tolerance
    np.testing.assert_allclose(res.shift_y, truth[:, 0], atol=0.1 * np.sqrt(7))
    np.testing.assert_allclose(res.shift_x, truth[:, 1], atol=0.1 * np.sqrt(7))


def test_all_pairs_reference_and_row_weights(drift_series, tools):
    frames, truth = drift_series
    # all n(n-1)/2 pairs by least squares: each shift rests on every frame, error <= single pairs
    res = frame_drift(frames, reference="all", window="periodic", refine_overlap=True)
    np.testing.assert_allclose(res.shift_y, truth[:, 0], atol=0.1)
    np.testing.assert_allclose(res.shift_x, truth[:, 1], atol=0.1)
    assert res.shift_y[0] == 0 and res.shift_x[0] == 0
    # a static series (pure shot noise) keeps weight ~1 on every row; rows whose content changes
    # between frames (a band that brightens over time) are down-weighted
    from perovscope.imaging import changing_row_weights

    rng = np.random.default_rng(3)
    scene = tools.textured_scene(rng, (64, 64))
    lam = np.repeat(scene[None], 6, axis=0)
    lam[:, 30:36] *= (1 + 0.3 * np.arange(6))[:, None, None]
    w = changing_row_weights(rng.poisson(lam).astype(float), np.zeros(6), np.zeros(6))
    # excess var/mean - 1 of a static row is ~N(0, sqrt(2/(5*56))) = 0.08 sd: weight > 0.3 (tolerance 0.05)
    # (the 1-row smoothing of the weights mixes a few % of the static rows next to the band in)
    assert np.median(w[8:24]) > 0.3 and w[31:35].max() < 0.1


def test_sign_convention_integer_shift(tools):
    rng = np.random.default_rng(0)
    ref = tools.textured_scene(rng, (64, 64))
    moved = np.roll(ref, (3, -5), axis=(0, 1))      # content moves +3 rows, -5 columns
    s = phase_correlation_shifts(moved, ref, window=None)
    assert (s.shift_y, s.shift_x) == pytest.approx((3.0, -5.0), abs=1e-6)


def test_align_frames_undoes_drift_and_conserves_counts(drift_series):
    frames, truth = drift_series
    aligned = align_frames(frames, truth[:, 0], truth[:, 1], kind="counts", fill=np.nan)
    inner = (slice(None), slice(12, -12), slice(12, -12))
    ref = np.broadcast_to(aligned[0][inner[1:]], aligned[inner].shape)
    # after alignment frames differ only by Poisson noise (sd ~ sqrt(200) ~ 14 counts, smoothed by
    # the bilinear interpolation): the frame-to-frame correlation must be high
    corr = [np.corrcoef(a.ravel(), ref[0].ravel())[0, 1] for a in aligned[inner]]
    assert min(corr) > 0.9
    # a translation with bilinear weights conserves the total of every fully-inside pixel block
    shifted = align_frames(np.pad(frames[:1], ((0, 0), (8, 8), (8, 8))), [0.3], [-0.6], kind="counts",
                           fill=0.0)
    assert shifted.sum() == pytest.approx(frames[0].sum(), rel=1e-12)


def test_drift_correct_lazy_equals_eager(drift_series):
    frames, truth = drift_series
    coords = {"y": ("y", np.arange(96) * 0.5, {"units": "nm"}),
              "x": ("x", np.arange(96) * 0.5, {"units": "nm"})}
    eager = xr.DataArray(frames, dims=("time", "y", "x"), coords=coords, attrs={"units": "counts"})
    lazy = eager.copy(data=da.from_array(frames, chunks=(3, 96, 96)))
    a = drift_correct(eager)
    b = drift_correct(lazy)
    assert hasattr(b["aligned"].data, "dask")
    np.testing.assert_array_equal(a["shift_y"].values, b["shift_y"].values)
    np.testing.assert_array_equal(a["aligned"].values, b["aligned"].compute().values)
    np.testing.assert_allclose(a["shift_x"].values, truth[:, 1], atol=0.1)


def test_different_pixel_sizes_rejected_naming_both():
    a = xr.DataArray(np.zeros((8, 8)), dims=("y", "x"), name="a.dm3",
                     coords={"y": ("y", np.arange(8) * 0.1, {"units": "nm"}),
                             "x": ("x", np.arange(8) * 0.1, {"units": "nm"})})
    b = a.copy().assign_coords(y=("y", np.arange(8) * 0.2, {"units": "nm"}),
                               x=("x", np.arange(8) * 0.2, {"units": "nm"}))
    b.name = "b.dm3"
    with pytest.raises(InputError, match=r"a\.dm3.*0\.1.*b\.dm3.*0\.2"):
        stack_frames([a, b])


def test_scan_line_distortion_recovered(tools):
    from perovscope.imaging import correct_scan_lines, scan_line_shifts

    rng = np.random.default_rng(3)
    ref = tools.textured_scene(rng, (128, 128))
    rows = np.arange(128)
    dx = 1.5 * np.sin(2 * np.pi * rows / 64) + 0.4            # slow fast-scan distortion (px)
    kx = np.fft.fftfreq(128)[None, :]
    distorted = np.fft.ifft(np.fft.fft(ref, axis=1) * np.exp(-2j * np.pi * kx * dx[:, None]), axis=1).real
    img = rng.poisson(np.clip(distorted, 0, None)).astype(float)
    found = scan_line_shifts(img, rng.poisson(ref).astype(float), row_sigma=2.0)
    # Poisson noise at 200 counts with 2-row averaging: per-row scatter ~0.05 px; the distortion's
    # curvature over the 2-row window adds < 0.02 px
    assert np.sqrt(np.mean((found - dx) ** 2)) < 0.15
    fixed = correct_scan_lines(img, found)
    inner = (slice(None), slice(8, -8))
    before = np.corrcoef(img[inner].ravel(), ref[inner].ravel())[0, 1]
    after = np.corrcoef(fixed[inner].ravel(), ref[inner].ravel())[0, 1]
    assert after > before + 0.05
