"""``perovscope inspect`` and ``perovscope convert`` on the real files, and their error handling."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.cli import main

REAL_FILES = [
    "rosettasciio/001_4x2_6bit.mib", "rosettasciio/multi_signal.dm3", "rosettasciio/test_STEM_image.dm3",
    "SciFiDatasets/EMDReader_Image_FEI.emd", "rosettasciio/30x30_instructively_packed_16bit_compressed.bcf",
    "rosettasciio/test_TEM.bcf", "rosettasciio/Test SI 16x16 215 kx.emd",
    "rosettasciio/test-EDS_spectrum.dm3",
    "rosettasciio/EELS_SI.dm4", "SciFiDatasets/DMReader_EELS_STO.dm3", "SciFiDatasets/DMReader_EELS_STO.dm4",
    "openNCEM/08_carbon.dm3", "exspy/coreloss_spectrum.msa", "exspy/lowloss_spectrum.msa",
    "rosettasciio/test-MonoCL_spectrum-SI.dm4", "rosettasciio/test-MonarcCL_spectrum-SI.dm4",
    "lumispy/asymmetric_peak_map.hspy", "rosettasciio/jobinyvon_test_spec.xml", "xrd-analysis/RawData0.xml",
    "xrd-analysis/test.brml", "xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy",
]


@pytest.mark.parametrize("rel", REAL_FILES)
def test_inspect_real_file(data_file, capsys, rel):
    path = data_file(rel)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "signal(s)" in out
    assert main(["inspect", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = pio.read(path)
    assert doc["file"] == str(path) and doc["signals"]
    for sig in doc["signals"]:
        assert all(ax["units"] for ax in sig["axes"]), "every axis reports a unit"
    if isinstance(expected, xr.DataArray):
        assert doc["signals"][0]["shape"] == list(expected.shape)
    else:
        assert len(doc["signals"]) == sum(len(n.data_vars) for n in expected.subtree)


def test_inspect_json_values(data_file, capsys):
    path = data_file("rosettasciio/001_4x2_6bit.mib")
    assert main(["inspect", "--json", str(path)]) == 0
    sig = json.loads(capsys.readouterr().out)["signals"][0]
    assert sig["kind"] == "4dstem" and sig["shape"] == [2, 4, 256, 256] and sig["dtype"] == "uint8"
    assert sig["lazy"] is True
    assert [a["name"] for a in sig["axes"]] == ["scan_y", "scan_x", "ky", "kx"]
    assert sig["metadata"]["exposure_s"] == 0.1


def test_inspect_several_files_json_is_a_list(data_file, capsys):
    files = [str(data_file("exspy/coreloss_spectrum.msa")), str(data_file("exspy/lowloss_spectrum.msa"))]
    assert main(["inspect", "--json", *files]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["file"] for d in doc] == files


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "extension"])
def test_inspect_bad_path_exit_2_one_line(tmp_path, capsys, kind):
    path = {"missing": tmp_path / "none.dm4", "directory": tmp_path, "empty": tmp_path / "e.dm3",
            "extension": tmp_path / "x.abc"}[kind]
    if kind in ("empty", "extension"):
        path.write_bytes(b"" if kind == "empty" else b"abc")
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("perovscope inspect: error: ") and str(path) in err


def test_entry_point_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "perovscope.cli", "inspect", str(tmp_path / "no.emd")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_convert_roundtrip(data_file, tmp_path, capsys):
    src = data_file("rosettasciio/Test SI 16x16 215 kx.emd")
    out = tmp_path / "si.zarr"
    assert main(["convert", "--quiet", str(src), str(out)]) == 0
    tree = pio.open_results(out)
    original = pio.read(src)
    for node in ("eds", "haadf", "element_map"):
        a, b = tree[f"{node}/{node}"], original[f"{node}/{node}"]
        np.testing.assert_array_equal(a.values, b.values)
        assert a.dims == b.dims and a.dtype == b.dtype
        for dim in a.dims:
            np.testing.assert_array_equal(a[dim].values, b[dim].values)
            assert a[dim].attrs["units"] == b[dim].attrs["units"]
        assert a.attrs["beam_energy_keV"] == 300.0 and a.attrs["signal"] == b.attrs["signal"]
    # refuses to overwrite without --overwrite, succeeds with it
    assert main(["convert", "--quiet", str(src), str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["convert", "--quiet", "--overwrite", str(src), str(out)]) == 0


def test_convert_single_signal_is_a_kind_node(data_file, tmp_path):
    src = data_file("rosettasciio/001_4x2_6bit.mib")
    out = tmp_path / "scan.zarr"
    assert main(["convert", "--quiet", str(src), str(out)]) == 0
    tree = pio.open_results(out)
    da = tree["4dstem/4dstem"]
    assert da.dims == ("scan_y", "scan_x", "ky", "kx") and int(da.sum()) == 3623664
    assert da.attrs["acquired"] == "2021-05-07T16:51:10.905800928Z"
    plain = xr.open_datatree(out, engine="zarr", consolidated=False)  # readable without perovscope
    assert plain["4dstem/4dstem"].shape == (2, 4, 256, 256)


def test_convert_text_log_and_bad_output(tmp_path, capsys):
    log = tmp_path / "bias.csv"
    log.write_text("time_s,current_A,voltage_V\n0,1e-3,2.5\n1,2e-3,2.6\n")
    out = tmp_path / "bias.zarr"
    assert main(["convert", "--quiet", str(log), str(out)]) == 0
    back = pio.open_results(out)
    np.testing.assert_array_equal(back["current_A"].values, [1e-3, 2e-3])
    assert main(["convert", "--quiet", str(log), str(tmp_path / "bias.h5")]) == 2
    assert "must be a .zarr" in capsys.readouterr().err
    assert main(["convert", "--quiet", str(tmp_path / "missing.dm4"), str(tmp_path / "m.zarr")]) == 2
    assert not (tmp_path / "m.zarr").exists()


def test_help_of_both_commands(capsys):
    for cmd in ("inspect", "convert"):
        with pytest.raises(SystemExit) as info:
            main([cmd, "--help"])
        assert info.value.code == 0
        assert "--quiet" in capsys.readouterr().out
