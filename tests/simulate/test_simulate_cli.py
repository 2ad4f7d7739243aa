"""``perovscope simulate``: writes stores that open_results reads; bad arguments exit 2 with one line."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.cli import main
from perovscope.io import open_results
from perovscope.simulate.glass_domains import simulate_glass_domains


def test_composite_store_round_trips(tmp_path, capsys):
    out = tmp_path / "composite.zarr"
    rc = main(["simulate", "composite", "--out", str(out), "--seed", "5", "--shape", "32", "32",
               "--particles", "3", "--diameter", "20", "--quiet", "--param", "eels_channels=64",
               "--param", "cl_channels=64"])
    assert rc == 0
    text = capsys.readouterr()
    assert "composite" in text.out and str(out) in text.out and text.err == ""
    tree = open_results(out)
    for node in ("haadf/haadf", "eels/eels", "eels_1/eels_1", "cl/cl", "truth/cl/cl_centre_nm",
                 "truth/eels/edge_signal", "truth/particles/diameter_nm", "truth/iodine_width_nm"):
        assert tree[node].size >= 1  # KeyError if missing
    eels = tree["eels/eels"]
    assert eels.dims == ("y", "x", "energy") and eels.shape == (32, 32, 64)
    assert eels.energy.attrs["units"] == "eV" and eels.attrs["signal"] == "eels"
    assert np.issubdtype(eels.dtype, np.integer)
    assert tree["truth/particles"].sizes["particle"] == 3
    assert tree.attrs["sample"] == "composite" and tree.attrs["seed"] == 5


def test_glass_domains_store_equals_python_call(tmp_path, capsys):
    out = tmp_path / "glass.zarr"
    rc = main(["simulate", "glass-domains", "--out", str(out), "--seed", "3", "--shape", "24", "20",
               "--area-fraction", "0.4", "--quiet", "--param", "eds_channels=128"])
    assert rc == 0
    stored = open_results(out).compute()
    direct = simulate_glass_domains(seed=3, image_shape=(24, 20), mof_area_fraction=0.4, eds_channels=128)
    np.testing.assert_array_equal(stored["eds/eds"].values, direct["eds/eds"].values)
    np.testing.assert_array_equal(stored["truth/domain"].values, direct["truth/domain"].values)
    assert stored["truth/domain"].dtype == bool
    assert list(stored["truth/domain_composition"].element.values) == list(direct["truth"].element.values)


def test_nanospheres_no_noise(tmp_path, capsys):
    out = tmp_path / "ns.zarr"
    rc = main(["simulate", "nanospheres", "--out", str(out), "--quiet", "--no-noise", "--spheres", "3",
               "--overview-shape", "96", "96", "--hr-shape", "256", "256", "--nanocrystals", "1",
               "--param", "nanocrystal_diameter_sd_nm=0.2"])
    assert rc == 0
    tree = open_results(out)
    assert tree["tem/tem"].dtype == np.float64  # expected counts
    assert tree["truth/spheres"].sizes["sphere"] == 3


@pytest.mark.parametrize("argv, word", [
    (["glass-domains", "--area-fraction", "1.5"], "mof_area_fraction"),
    (["composite", "--diameter", "-3"], "particle_diameter_nm"),
    (["composite", "--param", "nonsense=1"], "nonsense"),
    (["composite", "--param", "noequals"], "NAME=VALUE"),
    (["glass-domains", "--param", "dose_e_per_A2=0"], "dose_e_per_A2"),
    (["nanospheres", "--seed", "-4"], "seed"),
])
def test_bad_values_exit_2_with_one_line(tmp_path, capsys, argv, word):
    out = tmp_path / "bad.zarr"
    rc = main(["simulate", argv[0], "--out", str(out), "--quiet", *argv[1:]])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0]
    assert not out.exists()


def test_unparsable_flag_exits_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "composite", "--out", str(tmp_path / "x.zarr"), "--particles", "many"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--particles" in err[0]


def test_refuses_to_replace_a_foreign_directory(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    rc = main(["simulate", "glass-domains", "--out", str(out), "--quiet", "--param", "eds_channels=16"])
    assert rc == 2 and (out / "notes.txt").read_text() == "keep me"
    assert "--out" in capsys.readouterr().err


def test_device_through_the_cli(tmp_path, capsys):
    out = tmp_path / "device.zarr"
    csv = tmp_path / "log.csv"
    rc = main(["simulate", "device", "--out", str(out), "--frames", "2", "--scan", "12", "12", "--quiet",
               "--param", "eds_channels=256", "--bias-log", str(csv)])
    assert rc == 0
    tree = open_results(out)
    d4 = tree["4dstem/4dstem"]
    assert d4.dims == ("time", "scan_y", "scan_x", "ky", "kx") and d4.shape[:3] == (2, 12, 12)
    assert tree["truth/strain/exx"].shape == (2, 12, 12)
    assert "device" in capsys.readouterr().out
    log = np.loadtxt(csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(log[:, 2], tree["bias_log/voltage_V"].values, rtol=1e-8)


def test_device_rejects_a_non_csv_bias_log(tmp_path, capsys):
    rc = main(["simulate", "device", "--out", str(tmp_path / "d.zarr"), "--quiet", "--bias-log",
               str(tmp_path / "log.txt")])
    assert rc == 2 and "--bias-log" in capsys.readouterr().err
