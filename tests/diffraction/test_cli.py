"""`perovscope strain` and `perovscope virtual` on a saved zarr store and on the real Merlin file."""

import numpy as np
import pytest
import xarray as xr

from perovscope.cli import main
from perovscope.io import open_results, save


@pytest.fixture(scope="module")
def store(tmp_path_factory, small_strained):
    s = small_strained
    det = s.data.shape[-1]
    k = (np.arange(det) - (det - 1) / 2) * s.pixel_inv_nm
    da = xr.DataArray(s.data, name="4dstem", dims=("scan_y", "scan_x", "ky", "kx"),
                      coords={"ky": ("ky", k, {"units": "1/nm"}), "kx": ("kx", k, {"units": "1/nm"}),
                              "scan_y": ("scan_y", np.arange(9) * 2.0, {"units": "nm"}),
                              "scan_x": ("scan_x", np.arange(7) * 2.0, {"units": "nm"})},
                      attrs={"units": "counts", "signal": "4dstem"})
    path = tmp_path_factory.mktemp("cli") / "scan.zarr"
    save(xr.DataTree.from_dict({"4dstem": da.to_dataset()}), path)
    return path


def test_strain_cli_writes_maps_and_uncertainties(store, tmp_path, small_strained, capsys):
    out = tmp_path / "strain.zarr"
    assert main(["strain", str(store), "--out", str(out), "--quiet", "--reference", "6:9,0:7"]) == 0
    ds = open_results(out).to_dataset()
    for k in ("exx", "eyy", "exy", "theta", "exx_std", "eyy_std", "exy_std", "theta_std", "reason"):
        assert ds[k].dims == ("scan_y", "scan_x"), k
    assert np.allclose(ds["scan_x"].values, np.arange(7) * 2.0)
    s = small_strained
    err = ds["exx"].values[s.crystal] - s.exx[s.crystal]
    # this small fixture's truth is relative to rows ≥ 3 + 5·1.5: a reference of rows 6–8 differs by
    # < exp(-3/1.5)·1 % ≈ 1.4e-3 at most; per-pixel noise ≈ 5e-4
    assert np.sqrt(np.mean(err**2)) < 2e-3
    assert "patterns fitted" in capsys.readouterr().err


def test_virtual_cli(store, tmp_path, capsys):
    out = tmp_path / "v.zarr"
    assert main(["virtual", str(store), "--bf", "0.6", "--adf", "1.2", "4.0", "--com", "--out", str(out),
                 "--quiet"]) == 0
    ds = open_results(out).to_dataset()
    assert {"bf", "adf", "com_x", "com_y"} <= set(ds.data_vars)
    assert float(ds["bf"].min()) > 0 and ds["bf"].dims == ("scan_y", "scan_x")
    assert "wrote" in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys):
    assert main(["strain", str(tmp_path / "missing.mib")]) == 2
    assert "missing.mib" in capsys.readouterr().err
    assert main(["virtual", str(tmp_path / "missing.mib")]) == 2


def test_real_merlin_file(data_file, tmp_path):
    """Virtual images, centre of mass, bad pixels and disk finding on the real 4×2 Merlin scan.

    The frames hold a saturated (6-bit: 63 counts) bright-field disk cut by the left edge of the chip
    and diffuse streaks, but no Bragg-disk lattice: a strain map must give NaN + reason codes.
    """
    from perovscope.diffraction.detector import find_bad_pixels
    from perovscope.diffraction.disks import find_bragg_disks, synthetic_probe
    from perovscope.diffraction.virtual import beam_centre, center_of_mass
    from perovscope.io import read

    path = data_file("rosettasciio/001_4x2_6bit.mib")
    data = read(path).compute().values
    assert data.shape == (2, 4, 256, 256) and int(data.sum()) == 3623664    # MANIFEST values
    cy, cx = beam_centre(data.mean((0, 1)))
    assert 95 < cy < 125 and 15 < cx < 40
    com = center_of_mass(data, origin=(cy, cx))
    assert np.all(np.isfinite(com.com_x)) and np.array_equal(com.total, data.sum((-2, -1)))
    bp = find_bad_pixels(data.mean((0, 1)), max_pattern=data.max((0, 1)), saturation=63)
    # the saturated plateau of the bright-field disk (radius ≈ 25 px, partly off the chip)
    assert 1000 < bp.n_saturated < np.pi * 30**2
    d = find_bragg_disks(data, synthetic_probe(24.0, edge_px=1.5), max_disks=8, edge=2)
    assert d.y.shape == (2, 4, 8)
    found = np.isfinite(d.y)
    assert found.any() and np.all(np.isfinite(d.sigma_y[found])) and np.all(d.snr[found] >= 3)
    out = tmp_path / "v.zarr"
    assert main(["virtual", str(path), "--bf", "20", "--adf", "30", "90", "--out", str(out), "--quiet"]) == 0
    v = open_results(out).to_dataset()
    assert v["bf"].shape == (2, 4) and float(v["adf"].min()) > 0
    assert main(["strain", str(path), "--out", str(tmp_path / "s.zarr"), "--quiet"]) == 0
    st = open_results(tmp_path / "s.zarr").to_dataset()
    assert np.isnan(st["exx"].values).all() and np.all(st["reason"].values > 0)   # no Bragg lattice


def test_strain_cli_probe_radius_measured_or_set_by_hand(store, tmp_path, small_strained, capsys):
    """The disk radius is measured from the data and printed; ``--probe-radius`` sets it by hand."""
    out = tmp_path / "measured.zarr"
    assert main(["strain", str(store), "--out", str(out), "--quiet", "--no-phases"]) == 0
    err = capsys.readouterr().err
    measured = open_results(out).to_dataset().attrs
    assert measured["probe_radius_source"] == "data" and "(measured)" in err
    # the disk-model fit resolves the radius to its 0.05-px grid (see test_probe.py)
    assert measured["probe_radius_px"] == pytest.approx(small_strained.radius_px, abs=0.1)
    assert f"probe radius {measured['probe_radius_px']:.2f} px" in err
    out = tmp_path / "by_hand.zarr"
    assert main(["strain", str(store), "--out", str(out), "--quiet", "--no-phases",
                 "--probe-radius", "4.5"]) == 0
    attrs = open_results(out).to_dataset().attrs
    # the recorded radius is the disk model's, fitted to the hand-set template on its 0.05-px grid
    assert attrs["probe_radius_source"] == "user" and attrs["probe_radius_px"] == pytest.approx(4.5, abs=0.05)
    assert f"probe radius {attrs['probe_radius_px']:.2f} px (set by hand)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:                # argparse: one usage line, status 2
        main(["strain", str(store), "--probe-radius", "-1"])
    assert exit_.value.code == 2 and "--probe-radius: must be > 0" in capsys.readouterr().err
