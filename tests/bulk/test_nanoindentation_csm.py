"""Continuous-stiffness profiles and depth averages, indent-grid maps and scratch profiles: known answers."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.bulk.nanoindentation_csm import csm_properties, depth_average
from perovscope.bulk.nanoindentation_maps import grid_map, indent_grid
from perovscope.bulk.nanoindentation_scratch import scratch_profile
from perovscope.bulk.nanoindentation_xr import _resample_rows, indent_map_dataset, scratch_dataset
from perovscope.errors import InputError

AREA = (24.5, 300.0, 50.0)


def csm_loading(e, hardness, nu=0.25, n=200, area=AREA):
    """A CSM loading curve of a homogeneous material (constant E and H), from the definitions."""
    hc = np.geomspace(5.0, 800.0, n)
    a = area[0] * hc**2 + area[1] * hc + area[2] * hc**0.5
    load = hardness * a * 1e-6  # mN
    er = 1.0 / ((1 - nu**2) / e + (1 - 0.07**2) / 1141.0)
    s = 2 / np.sqrt(np.pi) * er * np.sqrt(a)  # N/m
    depth = hc + 0.75 * load / s * 1e6
    return depth, load, s


def test_csm_profiles_recover_constant_modulus_and_hardness():
    rows = [csm_loading(e, h) for e, h in ((72.0, 9.0), (200.0, 4.0), (12.0, 0.6))]
    depth, load, s = (np.stack(v) for v in zip(*rows, strict=True))
    props = csm_properties(depth, load, s, area_coefficients=AREA, poisson_ratio=0.25)
    e_true = np.broadcast_to([[72.0], [200.0], [12.0]], depth.shape)
    np.testing.assert_allclose(props.modulus, e_true, rtol=1e-9)
    np.testing.assert_allclose(props.hardness, np.broadcast_to([[9.0], [4.0], [0.6]], depth.shape), rtol=1e-9)
    avg = depth_average(props.modulus, depth, (100.0, 200.0))
    np.testing.assert_allclose(avg.mean, [72.0, 200.0, 12.0], rtol=1e-9)
    assert np.all(avg.n_points > 10)


def test_depth_average_window_and_tolerance():
    depth = np.array([[98.9, 99.5, 150.0, 201.5, 202.5], [90.0, 100.0, 150.0, 200.0, 210.0]])
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0]])
    strict = depth_average(values, depth, (100.0, 200.0), tolerance=0.0)
    assert strict.mean.tolist() == [3.0, 30.0] and strict.n_points.tolist() == [1, 3]
    wide = depth_average(values, depth, (100.0, 200.0))  # ±1 %: 99 … 202 nm
    assert wide.mean[0] == pytest.approx(3.0) and wide.n_points[0] == 3
    per_row = depth_average(values, depth, (np.array([140.0, 95.0]), np.array([160.0, 205.0])))
    assert per_row.mean.tolist() == [3.0, 30.0]
    with pytest.raises(InputError, match="depth_range"):
        depth_average(values, depth, (200.0, 100.0))


def test_csm_needs_a_stiffness():
    depth, load, s = csm_loading(72.0, 9.0)
    with pytest.raises(InputError, match="stiffness"):
        csm_properties(depth, load, -s, area_coefficients=AREA, poisson_ratio=0.2)
    with pytest.raises(InputError, match="Poisson"):
        csm_properties(depth, load, s, area_coefficients=AREA)


def test_indent_grid_from_jittered_positions():
    rng = np.random.default_rng(1)
    yy, xx = np.meshgrid(np.arange(4) * 20.0, np.arange(5) * 25.0, indexing="ij")
    x = (xx + rng.normal(0, 0.5, xx.shape)).ravel() + 1000.0
    y = (yy + rng.normal(0, 0.5, yy.shape)).ravel() - 300.0
    order = rng.permutation(x.size)  # indents in any order, one missing
    keep = order[1:]
    grid = indent_grid(x[keep], y[keep], tolerance=5.0)
    assert grid.x.size == 5 and grid.y.size == 4
    values = (yy * 10 + xx).ravel()[keep]
    m = grid_map(values, grid)
    truth = yy * 10 + xx
    truth_flat = truth.ravel().copy()
    truth_flat[order[0]] = np.nan
    np.testing.assert_allclose(m, truth_flat.reshape(4, 5), equal_nan=True)
    stacked = grid_map(np.stack([values, 2 * values]), grid)
    assert stacked.shape == (2, 4, 5)
    ds = xr.Dataset({"hardness": ("test", values, {"units": "GPa"})})
    maps = indent_map_dataset(ds, x[keep], y[keep], variables=("hardness",), tolerance=5.0)
    assert maps["hardness"].dims == ("y", "x") and maps["hardness"].attrs["units"] == "GPa"
    assert maps["x"].values[0] == 0.0 and maps["x"].values[-1] == pytest.approx(100.0, abs=1.0)


def test_grid_nodes_shared_by_two_indents_are_averaged():
    grid = indent_grid([0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 0.0, 10.0])
    assert grid_map([1.0, 3.0, 5.0, 7.0], grid).tolist() == [[2.0, 5.0], [pytest.approx(np.nan, nan_ok=True),
                                                                            7.0]]


def test_scratch_profile_friction_depth_and_event():
    x = np.linspace(0.0, 100.0, 501)  # µm
    fn = np.linspace(0.1, 10.0, x.size)  # ramped normal load, mN
    rng = np.random.default_rng(2)
    mu = np.array([0.12, 0.2])[:, None]
    fl = mu * fn + rng.normal(0, 0.002, (2, x.size))
    fl[1, x >= 60.0] += 0.4  # a failure event in the second scratch at 60 µm
    pre = 5.0 + 0.02 * x  # tilted surface
    depth = pre + 3.0 * fn  # penetration proportional to the load
    post = pre + 1.0 * fn  # 2/3 elastic recovery
    r = scratch_profile(x[::-1], fl[:, ::-1], fn[::-1], depth[::-1], pre_scan=pre[::-1],
                        post_scan=post[::-1], window=(10.0, 90.0))
    np.testing.assert_allclose(r.distance, x)
    np.testing.assert_allclose(r.mean_friction[0], 0.12, atol=0.002)
    np.testing.assert_allclose(r.penetration_depth[0], 3.0 * fn, rtol=1e-12)
    np.testing.assert_allclose(r.elastic_recovery, 2 / 3, rtol=1e-9)
    assert np.isnan(r.event_distance[0])
    assert r.event_distance[1] == pytest.approx(60.0, abs=0.2)
    with pytest.raises(InputError, match="window"):
        scratch_profile(x, fl, fn, depth, window=(200.0, 300.0))


def test_scratch_dataset_resamples_unequal_axes():
    x1, x2 = np.linspace(0, 100, 201), np.linspace(100, 0.5, 150)
    fn = 5.0
    ds = xr.Dataset({
        "distance": (("test", "point"), np.stack([x1, np.pad(x2, (0, 51), constant_values=np.nan)]),
                     {"units": "um"}),
        "lateral_force": (("test", "point"),
                          np.stack([0.1 * fn + 0 * x1, np.pad(0.3 * fn + 0 * x2, (0, 51))]), {"units": "mN"}),
        "normal_force": (("test", "point"), np.full((2, 201), fn), {"units": "mN"}),
        "depth": (("test", "point"), np.stack([x1, np.pad(x2, (0, 51))]), {"units": "nm"}),
    }, coords={"test": ["a", "b"]})
    out = scratch_dataset(ds)
    assert out["friction"].dims == ("test", "distance")
    np.testing.assert_allclose(out["mean_friction"].values, [0.1, 0.3], rtol=1e-9)
    np.testing.assert_allclose(out["penetration_depth"].values[1][out["distance"].values >= 0.5],
                               out["distance"].values[out["distance"].values >= 0.5], rtol=1e-9)
    q = np.array([0.0, 0.25, 1.0])
    resampled = _resample_rows(q, np.array([[1.0, 0.0, np.nan]]), np.array([[2.0, 0.0, np.nan]]))
    np.testing.assert_allclose(resampled, [[0.0, 0.5, 2.0]])
