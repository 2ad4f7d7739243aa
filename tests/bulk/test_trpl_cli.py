"""``perovscope bulk trpl``: table, JSON, results store and figure on the real files; one-line errors."""

from __future__ import annotations

import xarray as xr

DECAY, IRF = "bulk/trpl_tcspc/lifefit_Atto550_DNA.txt", "bulk/trpl_tcspc/lifefit_irf.txt"
PTU = "bulk/trpl_tcspc/picoquant_hydraharp_v10_t3.ptu"


def test_cli_horiba_with_irf_table_store_figure(run_bulk, data_file):
    status, out, err, folder = run_bulk("trpl", data_file(DECAY), "--irf", data_file(IRF),
                                        "--components", "2", "--statistic", "least_squares")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["decay", "file", "tau_1"] and "ns" in lines[1]
    assert "lifefit_Atto550_DNA.txt" in lines[2]
    for name in ("trpl.zarr", "trpl.csv", "trpl.png", "trpl.svg"):
        assert (folder / name).exists()
    ds = xr.open_zarr(folder / "trpl.zarr")
    assert {"tau", "fitted", "residuals", "irf", "counts"} <= set(ds.variables)
    assert ds.tau.attrs["units"] == "ns"


def test_cli_ptu_json(run_bulk, data_file):
    status, rows, err, _ = run_bulk("trpl", data_file(PTU), "--components", "1", "--no-figure", "--json")
    assert status == 0 and len(rows) == 2
    assert rows[0]["decay"] == "detector=1" and rows[0]["tau_1"] > 0 and rows[0]["flag"] == 0
    assert "tail fits" in err


def test_cli_bad_file_one_line(run_bulk, tmp_path):
    bad = tmp_path / "broken.ptu"
    bad.write_bytes(b"PQTTTR\x00\x001.0.00\x00\x00" + b"\x00" * 10)
    status, out, err, _ = run_bulk("trpl", bad)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "broken.ptu" in err and "Traceback" not in err
    txt = tmp_path / "empty.txt"
    txt.write_text("nothing here\n")
    status, _, err, _ = run_bulk("trpl", txt)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "empty.txt" in err
