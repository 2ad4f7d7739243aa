"""Layer segmentation and sub-pixel interfaces against a stack with known erf interfaces."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.interfaces import (
    fit_erf_profile,
    interdiffusion_width,
    layer_distance,
    profile_across,
    segment_layers,
)


def test_interface_positions_within_1px(layered):
    feats, rows, _ = layered
    ds = segment_layers(feats, n_layers=4)
    assert ds.sizes["interface"] == 3
    found = ds["interface_row"].values                       # (time, interface, x)
    # Poisson noise of 3-15 counts per px and a 2 px erf: the 0.5 crossing of one column scatters by
    # ~0.5 px; the issue asks for interface positions within 1 px.
    assert np.nanmax(np.abs(np.nanmean(found - rows, axis=-1))) < 1.0
    assert np.nanmedian(np.abs(found - rows)) < 1.0
    assert np.isfinite(found).mean() > 0.95
    # the curved interface is followed column by column
    assert np.corrcoef(found[0, 0], rows[0, 0])[0, 1] > 0.9
    # layer order follows the growth direction (rows)
    lab = ds["layer"].values[0]
    assert lab[5].max() == 0 and lab[-5].min() == 3
    # thickness of layer 2 grows by 0.7 px/frame (interface 2 moves 1.5, interface 1 moves 0.8 px)
    th = ds["thickness"].sel(layer_index=2).values / 0.5
    assert th[1] - th[0] == pytest.approx(0.7, abs=0.5)
    assert th[0] == pytest.approx(90.2 - 62.7, abs=1.0)


def test_lazy_equals_eager(layered):
    feats, _, _ = layered
    eager = segment_layers(feats, n_layers=4)
    lazy = segment_layers([f.chunk({"time": 1}) for f in feats], n_layers=4)
    assert hasattr(lazy["layer"].data, "dask")
    np.testing.assert_array_equal(eager["layer"].values, lazy["layer"].values)
    np.testing.assert_array_equal(eager["interface_row"].values, lazy["interface_row"].values)


def test_interdiffusion_width_within_15pct(layered):
    feats, rows, width_px = layered
    ds = segment_layers(feats, n_layers=4).isel(time=0)
    dist = layer_distance(ds, interface=1)                  # flat Pb-rich / Cl-rich interface
    cl = feats[2].isel(time=0)
    prof = profile_across(cl, dist, bin_width=0.25, d_min=-8, d_max=8)
    fit = interdiffusion_width(prof)
    # true broadening 2 px = 1.0 nm; the fit's statistical error is reported and checked too
    assert fit["width"] == pytest.approx(width_px * 0.5, rel=0.15)
    assert abs(fit["width"] - 1.0) < 4 * fit["width_err"] + 0.05
    assert abs(fit["centre"]) < 0.5                          # profile centred on the found interface


def test_no_interface_returns_empty_with_warning():
    rng = np.random.default_rng(0)
    import xarray as xr

    flat = [xr.DataArray(rng.poisson(lam, (60, 50)), dims=("y", "x")) for lam in (100, 10)]
    with pytest.warns(UserWarning, match="no detectable interface"):
        ds = segment_layers(flat, n_layers=3)
    assert ds.sizes["interface"] == 0


def test_erf_fit_closed_form():
    from perovscope.interfaces import erf_step

    d = np.linspace(-10, 10, 81)
    y = erf_step(d, 2.0, 7.0, 0.8, 1.7)
    fit = fit_erf_profile(d, y)
    assert (fit.centre, fit.width, fit.lo, fit.hi) == pytest.approx((0.8, 1.7, 2.0, 7.0), abs=1e-6)


@pytest.mark.parametrize("method", ["profile", "kmeans", "gmm"])
def test_other_signature_methods(layered, method):
    feats, rows, _ = layered
    ds = segment_layers([f.isel(time=0) for f in feats], n_layers=4, method=method)
    found = ds["interface_row"].values
    # same Poisson stack as above; the signatures only seed the Viterbi labelling and the sub-pixel
    # crossings, so every method must place the interfaces within 1 px
    assert np.abs(np.nanmean(found - rows[0], axis=-1)).max() < 1.0
