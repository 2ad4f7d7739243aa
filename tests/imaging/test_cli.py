"""The stable CLI contract of ``perovscope particles | register | profile``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from perovscope.cli import main
from perovscope.io import open_results, save


def _coords(n, px):
    return {"y": ("y", np.arange(n) * px, {"units": "nm"}), "x": ("x", np.arange(n) * px, {"units": "nm"})}


def test_particles_csv_and_zarr(tmp_path, disc_image, capsys):
    da, d_true, _, _ = disc_image
    src = save(da.to_dataset(name="haadf"), tmp_path / "img.zarr")
    out = tmp_path / "p.csv"
    assert main(["particles", str(src), "--out", str(out), "--min-diameter", "2", "--quiet"]) == 0
    table = pd.read_csv(out)
    assert {"diameter_nm", "centroid_y", "centroid_x", "area_nm2"} <= set(table.columns)
    assert len(table) == len(d_true)
    printed = capsys.readouterr().out
    assert f"{len(d_true)} particles" in printed and "±" in printed
    mean = float(printed.split("diameter ")[1].split(" ±")[0])
    assert mean == pytest.approx(d_true.mean(), rel=0.03)
    zout = tmp_path / "p.zarr"
    assert main(["particles", str(src), "--out", str(zout), "--min-diameter", "2", "--quiet"]) == 0
    ds = open_results(zout).to_dataset()
    np.testing.assert_allclose(ds["diameter_nm"].values, table["diameter_nm"].values)
    assert ds["particle_label"].max() == len(d_true)


def test_register_files_and_series(tmp_path, drift_series, capsys):
    frames, truth = drift_series
    paths = []
    for i, f in enumerate(frames[:4]):
        da = xr.DataArray(f, dims=("y", "x"), coords=_coords(96, 0.5), attrs={"units": "counts"})
        paths.append(str(save(da.to_dataset(name="haadf"), tmp_path / f"f{i}.zarr")))
    out = tmp_path / "reg.zarr"
    assert main(["register", *paths, "--out", str(out), "--quiet"]) == 0
    ds = open_results(out).to_dataset()
    np.testing.assert_allclose(ds["shift_y"].values, truth[:4, 0], atol=0.1)
    np.testing.assert_allclose(ds["shift_x"].values, truth[:4, 1], atol=0.1)
    assert ds["aligned"].shape == (4, 96, 96)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "frame,shift_y,shift_x,peak" and len(lines) == 5
    # a time series in one file
    series = xr.DataArray(frames, dims=("time", "y", "x"), coords=_coords(96, 0.5), attrs={"units": "counts"})
    one = save(series.to_dataset(name="haadf"), tmp_path / "series.zarr")
    assert main(["register", str(one), "--out", str(tmp_path / "s.csv"), "--quiet"]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["shift_x"], truth[:, 1], atol=0.1)


def test_register_rejects_different_pixel_sizes(tmp_path, capsys):
    frame = np.random.default_rng(2).poisson(50.0, (16, 16)).astype(float)  # not constant: usable images
    a = xr.DataArray(frame, dims=("y", "x"), coords=_coords(16, 0.5))
    b = xr.DataArray(frame, dims=("y", "x"), coords=_coords(16, 0.7))
    pa = save(a.to_dataset(name="haadf"), tmp_path / "a.zarr")
    pb = save(b.to_dataset(name="haadf"), tmp_path / "b.zarr")
    assert main(["register", str(pa), str(pb), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "a.zarr" in err and "b.zarr" in err and "0.5" in err and "0.7" in err


def test_profile_layers_csv_and_plot(tmp_path, capsys):
    from scipy.special import erf

    rng = np.random.default_rng(0)
    y = np.arange(80)[:, None] * np.ones((1, 60))
    lam = 20 + 80 * 0.5 * (1 + erf((y - 40.3) / (np.sqrt(2) * 2.0)))     # width 2 px = 1 nm
    coords = {"y": ("y", np.arange(80) * 0.5, {"units": "nm"}),
              "x": ("x", np.arange(60) * 0.5, {"units": "nm"})}
    da = xr.DataArray(rng.poisson(lam), dims=("y", "x"), coords=coords, attrs={"units": "counts"})
    src = save(da.to_dataset(name="haadf"), tmp_path / "stack.zarr")
    out = tmp_path / "prof.csv"
    assert main(["profile", str(src), "--interface", "layers", "--n-layers", "2", "--bin", "0.25",
                 "--range", "-6", "6", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out)
    assert {"interface", "distance", "mean", "sd", "count", "sem"} <= set(table.columns)
    assert (tmp_path / "prof.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    width = float(printed.split("(sigma) ")[1].split(" ±")[0])
    assert width == pytest.approx(1.0, rel=0.15)


def test_profile_particles_and_missing_signal(tmp_path, disc_image, capsys):
    da, _, _, _ = disc_image
    src = save(da.to_dataset(name="haadf"), tmp_path / "img.zarr")
    out = tmp_path / "edge.zarr"
    assert main(["profile", str(src), "--interface", "particles", "--bin", "0.5", "--range", "-3", "5",
                 "--out", str(out), "--quiet"]) == 0
    ds = open_results(out).to_dataset()
    d, m = ds["distance"].values, ds["mean"].values
    assert m[d < -1].mean() > 3 * m[d > 2].mean()        # bright inside, matrix outside
    assert main(["profile", str(src), "--interface", "layers", "--map", "nope", "--quiet"]) == 2
    assert "no signal named 'nope'" in capsys.readouterr().err


def test_profile_time_series_fits_every_frame(tmp_path, capsys):
    from scipy.special import erf

    rng = np.random.default_rng(1)
    y = np.arange(60)[:, None] * np.ones((1, 40))
    frames = [20 + 80 * 0.5 * (1 + erf((y - y0) / (np.sqrt(2) * 1.5))) for y0 in (25.2, 31.7)]
    coords = {"y": ("y", np.arange(60) * 0.5, {"units": "nm"}),
              "x": ("x", np.arange(40) * 0.5, {"units": "nm"})}
    da = xr.DataArray(rng.poisson(np.stack(frames)), dims=("time", "y", "x"), coords=coords,
                      attrs={"units": "counts"})
    src = save(da.to_dataset(name="haadf"), tmp_path / "series.zarr")
    out = tmp_path / "p.csv"
    assert main(["profile", str(src), "--interface", "layers", "--n-layers", "2", "--bin", "0.25",
                 "--range", "-5", "5", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out)
    assert "time" in table.columns and table["time"].nunique() == 2
    widths = [float(line.split("(sigma) ")[1].split(" ±")[0])
              for line in capsys.readouterr().out.splitlines() if "(sigma)" in line]
    np.testing.assert_allclose(widths, 0.75, rtol=0.15)         # 1.5 px = 0.75 nm in both frames


def test_register_cross_section_on_simulated_device(tmp_path, capsys):
    """``perovscope register --cross-section`` recovers the simulator's HAADF drift within 0.1 px."""
    from perovscope.simulate import simulate_device

    tree = simulate_device(seed=1, n_frames=4, scan_shape=(8, 8), detector_shape=(8, 8), eds_shape=(8, 8),
                           eds_channels=32)
    save(tree, tmp_path / "device.zarr")
    assert main(["register", str(tmp_path / "device.zarr"), "--cross-section", "--quiet",
                 "--out", str(tmp_path / "drift.csv")]) == 0
    got = pd.read_csv(tmp_path / "drift.csv")
    truth = tree["truth/drift"].to_dataset()
    # same tolerance and method as tests/imaging/test_simulated.py::test_device_drift (bias-limited)
    np.testing.assert_allclose(got["shift_y"], truth["shift_y_px"].values, atol=0.1)
    np.testing.assert_allclose(got["shift_x"], truth["shift_x_px"].values, atol=0.1)
