"""``perovscope bulk nanoindentation``: the real NanoSuite file, Hysitron indents and scratches, errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

FS_XP = "bulk/nanoindentation/micromechanics_FS_XP.xls"
AREA = ["24.6954", "395.7700812", "-16.13158277", "133.41", "106.46"]


def _io_module():
    spec = importlib.util.spec_from_file_location("nanoindentation_io_cases", Path(__file__).with_name(
        "test_nanoindentation_io.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_nanosuite_table_store_figure(run_bulk, data_file):
    status, out, err, folder = run_bulk("nanoindentation", data_file(FS_XP), "--area", *AREA)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["test", "h_max", "p_max"] and "GPa" in lines[1]
    assert "E_csm" in lines[0] and "E_reported" in lines[0]
    assert len(lines) == 2 + 9
    for name in ("nanoindentation.zarr", "nanoindentation.csv", "nanoindentation.png", "nanoindentation.svg"):
        assert (folder / name).exists()
    tree = xr.open_datatree(folder / "nanoindentation.zarr", engine="zarr")
    assert {"oliver_pharr", "csm", "map"} <= set(tree.children)
    assert tree["map"]["modulus"].shape == (3, 3) and tree["oliver_pharr"]["modulus"].attrs["units"] == "GPa"
    assert "CSM hardness and modulus averaged over 100–200 nm" in err


def test_cli_nanosuite_json_reproduces_reported(run_bulk, data_file):
    status, rows, err, _ = run_bulk("nanoindentation", data_file(FS_XP), "--area", *AREA, "--json",
                                    "--no-figure")
    assert status == 0 and len(rows) == 9
    for r in rows:
        assert abs(r["E_csm"] - r["E_reported"]) < 0.0015 and abs(r["H_csm"] - r["H_reported"]) < 0.0015
        assert 70.5 < r["E"] < 73.5 and r["flag"] == 0


def test_cli_hysitron_indent_needs_poisson(run_bulk, tmp_path):
    cases = _io_module()
    h, p = cases.synthetic_indent(e=110.0, hardness=6.0)
    path = cases.write_hysitron(tmp_path / "steel_0000LC.txt", h, p)
    status, out, err, _ = run_bulk("nanoindentation", path, "--area", "24.5", "--no-figure")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Poisson" in err and "Traceback" not in err
    status, rows, err, _ = run_bulk("nanoindentation", path, path, "--area", "24.5", "--poisson", "0.3",
                                    "--json", "--no-figure")
    assert status == 0 and len(rows) == 2
    assert rows[0]["E"] == pytest.approx(110.0, rel=1e-4) and rows[0]["test"] == "steel_0000LC.txt"


def test_cli_hysitron_scratch(run_bulk, tmp_path):
    x = np.linspace(0.0, 100.0, 1001)  # µm along the scratch
    fn = np.full(x.size, 10000.0)  # 10 mN constant normal load (µN)
    fl = 0.15 * fn + np.random.default_rng(0).normal(0, 5.0, x.size)
    depth = 250.0 + 0.2 * x
    lines = ["Tue May 14 09:12:44 2019", "", f"Number of Points = {x.size}",
             "Time (s)\tLateral Displacement (µm)\tNormal Displacement (nm)\tLateral Force (µN)"
             "\tNormal Load (µN)"]
    lines += [f"{0.01 * i:.4f}\t{x[i]:.4f}\t{depth[i]:.4f}\t{fl[i]:.4f}\t{fn[i]:.4f}" for i in range(x.size)]
    path = tmp_path / "scratch_0001.txt"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    status, rows, err, folder = run_bulk("nanoindentation", path, "--json", "--window", "5", "95")
    assert status == 0 and len(rows) == 1
    assert rows[0]["mean_friction"] == pytest.approx(0.15, abs=0.002)
    assert rows[0]["mean_normal_force"] == pytest.approx(10.0)
    assert rows[0]["event_distance"] is None
    assert (folder / "nanoindentation.png").exists()


def test_cli_bad_file_one_line(run_bulk, tmp_path):
    bad = tmp_path / "broken.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    status, out, err, _ = run_bulk("nanoindentation", bad)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "broken.xls" in err and "Traceback" not in err
    other = tmp_path / "curve.csv"
    other.write_text("1,2\n")
    status, _, err, _ = run_bulk("nanoindentation", other)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "curve.csv" in err
