"""XDI reader and ``perovscope bulk xas``: the real Cu foil file (edge energy and first shell), XDI
variants written to the spec (intensities only, keV, monochromator angle), bad files, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.bulk.xas_xr import xas_dataset, xas_table
from perovscope.errors import FormatError
from perovscope.io.xdi import HC_EV_ANGSTROM, read_xdi

CU = "bulk/xas/xdi_cu_metal_rt.xdi"


def test_cu_foil_reader(data_file):
    ds = read_xdi(data_file(CU))
    assert ds.sizes["energy"] == 408 and ds["energy"].attrs["units"] == "eV"
    assert ds.attrs["element"] == "Cu" and ds.attrs["edge"] == "K" and ds.attrs["edge_energy_eV"] == 8980.0
    assert ds.attrs["mu_source"] == "column mutrans"
    # the file's mutrans is ln(I0/It) of its own intensity columns
    np.testing.assert_allclose(np.log(ds["i0"].values / ds["itrans"].values), ds["mutrans"].values, atol=1e-9)


def test_cu_foil_edge_and_first_shell(data_file):
    """E₀ (derivative maximum, whole scan searched) lies within 1 eV of the header's 8980 eV (8980.55);
    |χ(R)| of Cu metal peaks at ≈ 2.2 Å (2.24; the Cu–Cu distance 2.556 Å less the phase shift)."""
    ds = read_xdi(data_file(CU))
    res = xas_dataset(ds["mu"])
    assert abs(float(res["e0"]) - 8980.0) < 1.0
    assert float(res["r_first_shell"]) == pytest.approx(2.2, abs=0.08)
    assert 2.556 - float(res["r_first_shell"]) == pytest.approx(0.32, abs=0.08)
    assert float(res["edge_step"]) == pytest.approx(2.83, abs=0.05)
    norm = res["flat"].values
    e = res["energy"].values
    assert abs(np.mean(norm[e > 9300])) - 1.0 < 0.01 and abs(np.mean(norm[e < 8950])) < 0.01
    table = xas_table(res)
    assert table.sizes["row"] == 1 and table["e0"].attrs["units"] == "eV"


def write_xdi(path, energy, columns, *, units="eV", extra=()):
    lines = ["# XDI/1.0 Test/0.1", "# Element.symbol: Fe", "# Element.edge: K", "# Mono.d_spacing: 3.13555",
             *extra, f"# Column.1: energy {units}"]
    lines += [f"# Column.{j + 2}: {name}" for j, name in enumerate(columns)]
    lines += ["# ///", "# synthetic Fe foil", "#----", "# energy " + " ".join(columns)]
    table = np.column_stack([energy, *columns.values()])
    lines += ["  ".join(f"{v:.8g}" for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


def fe_edge(e):
    return 0.2 + 1.5 * (0.5 + np.arctan((e - 7112.0) / 1.5) / np.pi)


def test_intensities_only_and_units(tmp_path):
    e = np.arange(6900.0, 7700.0, 0.5)
    i0 = np.full(e.size, 1e5)
    it = i0 * np.exp(-fe_edge(e))
    ds = read_xdi(write_xdi(tmp_path / "fe.xdi", e, {"i0": i0, "itrans": it}))
    assert ds.attrs["mu_source"] == "ln(i0/itrans)"
    np.testing.assert_allclose(ds["mu"].values, fe_edge(e), rtol=1e-6)
    kev = read_xdi(write_xdi(tmp_path / "fe_kev.xdi", e / 1000, {"i0": i0, "itrans": it}, units="keV"))
    np.testing.assert_allclose(kev["energy"].values, e, rtol=1e-7)
    theta = np.rad2deg(np.arcsin(HC_EV_ANGSTROM / (2 * 3.13555 * e)))
    ang = read_xdi(write_xdi(tmp_path / "fe_deg.xdi", theta, {"i0": i0, "itrans": it}, units="degrees"))
    np.testing.assert_allclose(ang["energy"].values, e, rtol=1e-6)
    fl = read_xdi(write_xdi(tmp_path / "fe_fl.xdi", e, {"i0": i0, "ifluor": i0 * fe_edge(e) * 1e-3}))
    assert fl.attrs["mu_source"] == "ifluor/i0"
    nr = xas_dataset(ang["mu"], k_range=(2.0, None))
    assert float(nr["e0"]) == pytest.approx(7112.0, abs=0.1)


def test_bad_xdi_files(tmp_path):
    e = np.arange(6900.0, 7700.0, 0.5)
    good = write_xdi(tmp_path / "ok.xdi", e, {"i0": np.ones(e.size), "itrans": np.ones(e.size)})
    text = good.read_text().splitlines()
    (tmp_path / "noversion.xdi").write_text("\n".join(text[1:]))
    with pytest.raises(FormatError, match="version line"):
        read_xdi(tmp_path / "noversion.xdi")
    (tmp_path / "ragged.xdi").write_text("\n".join(text[:-1] + ["7700.0 1.0"]))
    with pytest.raises(FormatError, match="ragged.xdi.*values"):
        read_xdi(tmp_path / "ragged.xdi")
    nomu = write_xdi(tmp_path / "nomu.xdi", e, {"i0": np.ones(e.size)})
    with pytest.raises(FormatError, match="no mu column"):
        read_xdi(nomu)
    (tmp_path / "bin.xdi").write_bytes(b"# XDI/1.0\x00\x01")
    with pytest.raises(FormatError, match="binary"):
        read_xdi(tmp_path / "bin.xdi")


def test_cli_table_store_figure(run_bulk, data_file, tmp_path):
    status, out, err, folder = run_bulk("xas", data_file(CU))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["spectrum", "e0", "edge_step"] and "eV" in lines[1]
    assert "xdi_cu_metal_rt.xdi" in lines[2]
    for name in ("xas.zarr", "xas.csv", "xas.png", "xas.svg"):
        assert (folder / name).exists()
    ds = xr.open_zarr(folder / "xas.zarr")
    assert {"norm", "flat", "chi", "chir_mag", "background"} <= set(ds.variables)
    assert ds["chir_mag"].attrs["units"] == "Å^-3"
    assert "8980 ± 30 eV" in err


def test_cli_series_json(run_bulk, tmp_path):
    """Three spectra on one energy axis go through one batch; a fourth on another axis is its own."""
    e = np.arange(6900.0, 7900.0, 0.5)
    k = np.sqrt(np.clip(e - 7112.0, 0, None) / 3.81)
    paths = []
    for i, r in enumerate((2.48, 2.5, 2.52)):
        envelope = 0.4 / np.maximum(k, 0.5) * np.exp(-0.01 * k**2) * (1 - np.exp(-(k**4) / 16))
        chi = envelope * np.sin(2 * k * r - 1.0 - 0.8 * k)
        mu = fe_edge(e) + 1.5 * chi
        paths.append(write_xdi(tmp_path / f"fe_{i}.xdi", e, {"mufluor": mu}))
    e2 = np.arange(6950.0, 7900.0, 0.7)
    paths.append(write_xdi(tmp_path / "fe_other.xdi", e2, {"mufluor": fe_edge(e2)}))
    status, rows, err, folder = run_bulk("xas", *paths, "--json", "--no-figure", "--krange", "3", "11")
    assert status == 0 and len(rows) == 4
    assert [r["spectrum"] for r in rows] == ["fe_0.xdi", "fe_1.xdi", "fe_2.xdi", "fe_other.xdi"]
    for r, expect in zip(rows[:3], (2.08, 2.1, 2.12), strict=True):
        assert r["e0"] == pytest.approx(7112.0, abs=0.3)
        assert r["r_first_shell"] == pytest.approx(expect, abs=0.04)
    tree = xr.open_datatree(folder / "xas.zarr", engine="zarr")
    assert set(tree.children) == {"group_00", "group_01"} and tree["group_00"]["chi"].shape[0] == 3


def test_cli_bad_file_one_line(run_bulk, tmp_path):
    bad = tmp_path / "broken.xdi"
    bad.write_text("this is not XDI\n1 2\n")
    status, out, err, _ = run_bulk("xas", bad)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "broken.xdi" in err and "Traceback" not in err
