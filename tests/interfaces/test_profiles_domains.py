"""Distances, interface-resolved profiles (eager == lazy) and two-phase domains: known answers."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from perovscope.interfaces import (
    distance_to_edges,
    distance_to_line,
    domains,
    edge_distance,
    interface_length,
    interface_profile,
    profile_across,
    segment_domains,
)


def test_distance_to_line_is_normal_distance():
    # a tilted straight interface row = 20 + 0.5 col: normal distance = (row - line) / sqrt(1.25)
    h, w = 60, 50
    cols = np.arange(w)
    d = distance_to_line(20 + 0.5 * cols, (h, w), pixel_size_nm=2.0)
    r, c = np.mgrid[0:h, 0:w]
    expect = (r - 20 - 0.5 * c) / np.sqrt(1.25) * 2.0
    inner = (slice(None), slice(10, 40))       # away from the line's ends
    np.testing.assert_allclose(d[inner], expect[inner], atol=0.02)


def test_distance_to_edges_of_disc():
    r, c = np.mgrid[0:81, 0:81]
    rad = np.hypot(r - 40, c - 40)
    mask = rad <= 20
    d = distance_to_edges(mask, pixel_size_nm=0.5)
    # pixel-centre discretisation of the edge: within 0.75 px of the exact radial distance
    np.testing.assert_allclose(d, (rad - 20) * 0.5, atol=0.75 * 0.5)
    assert (d[mask] < 0).all() and (d[~mask] > 0).all()
    assert np.isnan(distance_to_edges(np.zeros((5, 5)))).all()


def test_profile_matches_groupby_and_lazy_equals_eager():
    rng = np.random.default_rng(0)
    values = rng.normal(5, 2, (3, 40, 50))                  # (element, y, x)
    values[0, 3, 4] = np.nan
    dist = rng.uniform(-10, 10, (40, 50))
    prof = interface_profile(values, dist, bin_width=1.0)
    df = pd.DataFrame({"v": values[1].ravel(), "b": np.floor((dist.ravel() + 10) / 1.0)})
    g = df.groupby("b")["v"]
    np.testing.assert_allclose(prof.mean[1], g.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(prof.sd[1], g.std().to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(prof.count[1], g.size().to_numpy())
    assert prof.count[0].sum() == 40 * 50 - 1               # the NaN pixel is skipped
    lazy = interface_profile(dsa.from_array(values, chunks=(2, 40, 50)), dist, bin_width=1.0)
    for a, b in zip(prof, lazy, strict=True):
        np.testing.assert_array_equal(a, b)


def test_profile_across_particle_edges_inside_outside():
    # iodine-like signal 10 inside a disc, decaying as exp(-d / 3 nm) outside: recovered per bin
    r, c = np.mgrid[0:101, 0:101]
    rad = np.hypot(r - 50, c - 50) * 0.5                  # nm, 0.5 nm/px
    labels = xr.DataArray((rad <= 12).astype(int), dims=("y", "x"),
                          coords={"y": ("y", np.arange(101) * 0.5, {"units": "nm"}),
                                  "x": ("x", np.arange(101) * 0.5, {"units": "nm"})})
    signal = np.where(rad <= 12, 10.0, 10.0 * np.exp(-(rad - 12) / 3.0))
    dist = edge_distance(labels)
    sig = xr.DataArray(signal, dims=("y", "x"), attrs={"units": "counts"})
    prof = profile_across(sig, dist, bin_width=1.0, d_min=-8, d_max=10)
    outside = prof["distance"].values > 1
    # the edge is located to +-0.25 nm (half a pixel), so within a bin the mean is exp(-d/3) +- 10 %
    expect = 10 * np.exp(-prof["distance"].values[outside] / 3)
    np.testing.assert_allclose(prof["mean"].values[outside], expect, rtol=0.12)
    assert np.all(prof["mean"].values[prof["distance"].values < -1] == 10.0)


def test_empty_profile_with_warning_when_no_interface():
    vals = xr.DataArray(np.ones((10, 10)), dims=("y", "x"))
    dist = xr.DataArray(np.full((10, 10), np.nan), dims=("y", "x"))
    with pytest.warns(UserWarning, match="no interface"):
        prof = profile_across(vals, dist, bin_width=1.0)
    assert prof.sizes["distance"] == 0


def test_domain_area_fraction_within_2pct(two_phase):
    mask, zn, al, p = two_phase
    res = segment_domains(zn, np.stack([al, p]), pixel_size_nm=2.0)
    # Poisson maps of 1-10 counts, smoothed 1.5 px: misclassification is confined to the boundary
    assert res.area_fraction_a == pytest.approx(mask.mean(), abs=0.02)
    assert (res.mask == mask).mean() > 0.95
    # interface length per area vs the true mask's marching-squares length
    true_len = interface_length(mask, pixel_size_nm=2.0) / (mask.size * 4.0)
    assert res.interface_length_per_area == pytest.approx(true_len, rel=0.15)
    assert len(res.domains_a) >= 1 and res.domains_a["area_nm2"].sum() == pytest.approx(
        res.mask.sum() * 4.0)


def test_interface_length_of_disc():
    r, c = np.mgrid[0:128, 0:128]
    field = np.clip(30.5 - np.hypot(r - 64, c - 64), 0, 1)     # anti-aliased disc edge, radius 30
    length = interface_length(None, level_map=field, level=0.5, pixel_size_nm=1.0)
    assert length == pytest.approx(2 * np.pi * 30, rel=0.01)


def test_domains_wrapper_and_single_phase_warning(two_phase):
    mask, zn, al, p = two_phase
    coords = {"y": ("y", np.arange(128) * 2.0, {"units": "nm"}),
              "x": ("x", np.arange(128) * 2.0, {"units": "nm"})}
    mk = lambda a: xr.DataArray(a, dims=("y", "x"), coords=coords)  # noqa: E731
    ds, res = domains([mk(zn)], [mk(al), mk(p)])
    assert ds.attrs["area_fraction_a"] == pytest.approx(mask.mean(), abs=0.02)
    rng = np.random.default_rng(1)
    with pytest.warns(UserWarning, match="no second phase"):
        ds2, _ = domains([mk(rng.poisson(5.0, (128, 128)))], [mk(rng.poisson(5.0, (128, 128)))])
    assert ds2.attrs["area_fraction_a"] == 0.0 and not ds2["phase_a"].values.any()
