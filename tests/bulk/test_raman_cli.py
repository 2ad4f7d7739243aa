"""``perovscope bulk raman``: the LS4 glass file (table, JSON, store, figure), a shifted series, errors."""

from __future__ import annotations

import numpy as np
import xarray as xr

LS4 = "bulk/raman_ftir_xps_nmr/rampy_raman_LS4_Li2Si4O9_glass.txt"
OPTS = (
    "--range",
    "867:1300",
    "--windows",
    "860:874,1300:1330",
    "--peaks",
    "946,1040,1085",
    "--shape",
    "gaussian",
)


def test_cli_ls4_table_store_figure(run_bulk, data_file):
    status, out, err, folder = run_bulk("raman", data_file(LS4), *OPTS)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["spectrum", "band", "centre"] and "1/cm" in lines[1]
    assert len(lines) == 2 + 3
    for name in ("raman.zarr", "raman.csv", "raman.png", "raman.svg"):
        assert (folder / name).exists()
    ds = xr.open_zarr(folder / "raman.zarr")
    assert {"centre", "centre_std", "fitted", "baseline", "components"} <= set(ds.variables)
    assert ds.centre.attrs["units"] == "1/cm"


def test_cli_series_shift_json(run_bulk, data_file, tmp_path):
    text = data_file(LS4).read_text(errors="replace").splitlines()
    start = next(i for i, ln in enumerate(text) if ln.strip().upper() == "XYDATA") + 1
    rows = [ln.split() for ln in text[start : start + 3988]]
    x = np.array([float(r[0]) for r in rows])
    y = np.array([float(r[1]) for r in rows])
    paths = []
    for k, s in enumerate((0.0, 3.0)):  # the second spectrum moved up by 3 cm-1
        p = tmp_path / f"ls4_{k}.txt"
        p.write_text(
            "XUNITS\t1/CM\n"
            + "".join(f"{a:.4f}\t{b:.3f}\n" for a, b in zip(x, np.interp(x - s, x, y), strict=True))
        )
        paths.append(p)
    status, rows, err, _ = run_bulk(
        "raman",
        *paths,
        "--range",
        "880:1250",
        "--baseline",
        "fit",
        "--order",
        "1",
        "--peaks",
        "950,1085",
        "--json",
        "--no-figure",
    )
    assert status == 0 and len(rows) == 4
    second = [r for r in rows if r["spectrum"] == "ls4_1.txt"]
    assert all(abs(r["shift"] - 3.0) < 0.2 for r in second)


def test_cli_raman_errors(run_bulk, tmp_path, data_file):
    bad = tmp_path / "empty.txt"
    bad.write_text("no numbers here\n")
    status, out, err, _ = run_bulk("raman", bad)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "empty.txt" in err
    status, out, err, _ = run_bulk("raman", data_file(LS4), "--peaks", "9x5")
    assert status == 2 and "--peaks" in err and "Traceback" not in err
    status, out, err, _ = run_bulk("raman", data_file(LS4), "--windows", "860-874")
    assert status == 2 and "--windows" in err
