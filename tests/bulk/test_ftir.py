"""Bruker OPUS reader (block list, axis range and length), FTIR CLI, and bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perovscope.errors import FormatError
from perovscope.io.opus import opus_blocks, read_opus

OPUS = "bulk/raman_ftir_xps_nmr/brukeropus_ftir_file.0"


def test_opus_blocks_and_axis(data_file):
    path = data_file(OPUS)
    blocks = {b["key"]: b for b in opus_blocks(path)}
    assert set(blocks) == {"rf", "igrf", "a", "sm", "phsm", "igsm"}
    assert blocks["a"]["points"] == 4927 and blocks["rf"]["points"] == 4933
    assert blocks["igsm"]["x_units"] == "points"
    da = read_opus(path)  # absorbance is the ratioed block present
    assert da.attrs["block"] == "a" and da.attrs["quantity"] == "absorbance"
    assert da.sizes["wavenumber"] == 4927 and da.wavenumber.attrs["units"] == "1/cm"
    x = da.wavenumber.values
    assert x[0] == pytest.approx(9997.7209, abs=1e-3) and x[-1] == pytest.approx(499.4040, abs=1e-3)
    assert np.all(np.diff(x) < 0) and np.allclose(np.diff(x), np.diff(x)[0])
    assert da.attrs["instrument"] == "VERTEX 80V" and da.attrs["resolution_cm"] == 4.0
    assert len(json.loads(da.attrs["blocks"])) == 6
    sm = read_opus(path, block="sm")
    assert sm.sizes["wavenumber"] == 4927 and sm.attrs["quantity"] == "single_channel"
    # the CO2 asymmetric stretch of the atmosphere in the beam path: strongest band near 2360 cm-1
    band = (x > 2200) & (x < 2450)
    assert 2340 < x[band][np.argmax(da.values[band])] < 2370


def test_opus_bad_files(tmp_path, data_file):
    with pytest.raises(FormatError, match="too short"):
        (tmp_path / "tiny.0").write_bytes(b"\x0a\x0a")
        read_opus(tmp_path / "tiny.0")
    junk = tmp_path / "junk.0"
    junk.write_bytes(b"not an opus file" * 20)
    with pytest.raises(FormatError, match="OPUS"):
        read_opus(junk)
    trunc = tmp_path / "trunc.0"
    trunc.write_bytes(data_file(OPUS).read_bytes()[:20000])
    with pytest.raises(FormatError, match="trunc.0"):
        read_opus(trunc)
    with pytest.raises(FormatError, match="no block 't'"):
        read_opus(data_file(OPUS), block="t")
    with pytest.raises(FormatError, match="not a wavenumber"):
        read_opus(data_file(OPUS), block="igsm")


def test_ftir_cli_peak_table_and_fit(run_bulk, data_file):
    status, rows, err, out = run_bulk("ftir", data_file(OPUS), "--range", "2200:2450", "--json")
    assert status == 0 and rows and {"spectrum", "position", "height", "prominence"} <= set(rows[0])
    assert any(2340 < r["position"] < 2370 for r in rows)
    assert (out / "ftir.zarr").exists() and (out / "ftir.png").exists()
    status, rows, err, _ = run_bulk(
        "ftir",
        data_file(OPUS),
        "--range",
        "1500:1580",
        "--peaks",
        "1508,1541",
        "--shape",
        "lorentzian",
        "--json",
        "--no-figure",
    )
    assert status == 0 and len(rows) == 2
    assert abs(rows[1]["centre"] - 1540.6) < 1.0 and rows[1]["centre_std"] > 0


def test_ftir_cli_bad_file_one_line(run_bulk, tmp_path):
    bad = tmp_path / "broken.0"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    status, out, err, _ = run_bulk("ftir", bad)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "broken.0" in err and "Traceback" not in err
