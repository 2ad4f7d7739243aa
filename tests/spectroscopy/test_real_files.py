"""Spectroscopy on real instrument files (MANIFEST.md): runs, and the numbers are physically plausible."""

import numpy as np
import pytest

from perovscope.cli import main
from perovscope.io import open_results, read
from perovscope.spectroscopy.eels import edge_signal, power_law_background
from perovscope.spectroscopy.eels_edges import edge_onset_eV
from perovscope.spectroscopy.maps import cl_peak_map, edx_quantify_map


def test_eels_coreloss_msa_o_k_edge(data_file):
    da = read(data_file("exspy/coreloss_spectrum.msa"))
    e, y = da.energy.values, np.asarray(da.values, dtype=float)
    fit = power_law_background(y, e, window=(470, 525))
    # inelastic backgrounds fall with exponents of 2-6 (Egerton 2011 §3.5)
    assert fit.flag == 0 and 2.0 < float(fit.r) < 6.0
    sig, _ = edge_signal(y, e, edges=["O_K", (600, 630)], background_window=(470, 525), width=40)
    pre = float(edge_signal(y, e, edges=[(500, 525)], background_window=(470, 525))[0][0])
    # O K edge clearly above background; the fitted window itself integrates to ~0
    assert sig[0] > 20 * np.sqrt(y[(e >= 532) & (e <= 572)].sum())
    assert abs(pre) < 3 * np.sqrt(y[(e >= 500) & (e <= 525)].sum())


def test_eels_sto_and_si(data_file):
    sto = read(data_file("SciFiDatasets/DMReader_EELS_STO.dm3"))
    fit = power_law_background(np.asarray(sto.values, float), sto.energy.values, window=(400, 450))
    assert fit.flag == 0 and 1.5 < float(fit.r) < 6.0
    si = read(data_file("rosettasciio/EELS_SI.dm4"))
    fit = power_law_background(np.asarray(si.values, float), si.energy.values, window=(400, 440))
    assert np.all(fit.flag == 0) and np.all(np.isfinite(fit.A))


def test_cl_real_maps(data_file):
    mono = cl_peak_map(read(data_file("rosettasciio/test-MonoCL_spectrum-SI.dm4")))
    ok = mono["flag"].values == 0
    assert ok.mean() > 0.9
    # GaAs-like near-infrared emission on an 811-936 nm axis
    assert 840 < np.nanmedian(mono["centre"].values) < 880
    monarc = cl_peak_map(read(data_file("rosettasciio/test-MonarcCL_spectrum-SI.dm4")))
    assert np.all(monarc["flag"].values == 0)
    # near-band-edge UV emission (GaN ≈ 365 nm at room temperature), narrow (σ ≈ 3.4 nm)
    np.testing.assert_allclose(monarc["centre"].values, 365.2, atol=1.0)
    assert np.all((monarc["sigma"] > 2) & (monarc["sigma"] < 6))
    asym = cl_peak_map(read(data_file("lumispy/asymmetric_peak_map.hspy")))
    assert np.mean(asym["flag"].values == 0) > 0.95
    assert 640 < np.nanmedian(asym["centre"].values) < 700


def test_edx_real_maps(data_file):
    tree = read(data_file("rosettasciio/30x30_instructively_packed_16bit_compressed.bcf"))
    eds = tree["eds/eds"]
    ds = edx_quantify_map(eds, list(eds.attrs["elements"]))
    assert ds.attrs["beam_energy_keV"] == 20.0
    mean = ds["atomic_percent"].mean(["y", "x"]).to_series()
    # a silicate: O the most abundant element, Si next
    assert mean.idxmax() == "O" and mean.sort_values().index[-2] == "Si"
    np.testing.assert_allclose(ds["atomic_percent"].sum("element").values, 100.0)
    tem = read(data_file("rosettasciio/test_TEM.bcf"))["eds/eds"]
    q = edx_quantify_map(tem.coarsen(y=8, x=8).sum(), ["Cu", "O", "Pd", "Ti"])
    total = q["net_counts"].sum(["y", "x"]).to_series()
    sd = np.sqrt((q["net_counts_std"] ** 2).sum(["y", "x"])).to_series()
    # the Ti and O lines stand out by far more than 10 sd (measured 68 and 87 sd),
    # the Cu and Pd lines do not reach 5 sd; all net counts together stay below the 26005 recorded
    assert (total[["Ti", "O"]] / sd[["Ti", "O"]] > 10).all()
    assert (total[["Cu", "Pd"]] / sd[["Cu", "Pd"]] < 5).all()
    assert 0.1 * 26005 < total.sum() < 26005 == int(tem.sum())


def test_cli_commands(data_file, tmp_path):
    out = tmp_path / "cl.zarr"
    assert main(["cl", str(data_file("rosettasciio/test-MonarcCL_spectrum-SI.dm4")), "--out", str(out),
                 "--quiet"]) == 0
    res = open_results(out)
    for name in ("centre", "sigma", "fwhm", "amplitude", "intensity", "centre_std", "sigma_std"):
        assert name in res.ds
    assert res["centre"].attrs["units"] == "nm"
    assert out.with_suffix(".png").is_file()
    out = tmp_path / "eels.zarr"
    assert main(["eels", str(data_file("exspy/coreloss_spectrum.msa")), "--background-window", "470",
                 "525", "--out", str(out), "--quiet"]) == 0
    res = open_results(out)
    assert {"background_subtracted", "power_law_A", "power_law_r"} <= set(res.ds.data_vars)
    assert float(res["background_subtracted"].energy[0]) == pytest.approx(470.0, abs=0.2)
    # a window off the axis is a user error (exit 2) naming the option
    assert main(["eels", str(data_file("exspy/coreloss_spectrum.msa")), "--background-window", "100",
                 "125", "--out", str(tmp_path / "x.zarr"), "--quiet"]) == 2


def test_cli_edx_emd(data_file, tmp_path):
    pytest.importorskip("sparse", reason="Velox EMD spectrum images need the 'sparse' package")
    out = tmp_path / "edx.zarr"
    assert main(["edx", str(data_file("rosettasciio/Test SI 16x16 215 kx.emd")), "--elements", "C", "O",
                 "Ca", "Cu", "--out", str(out), "--quiet", "--bin", "2"]) == 0
    res = open_results(out)
    assert res["atomic_percent"].dims == ("y", "x", "element")
    assert list(res["net_counts"].element.values) == ["C", "O", "Ca", "Cu"]


@pytest.mark.parametrize(("name", "window", "edge"), [
    ("openNCEM/08_carbon.dm3", (250.0, 280.0), "C_K"),
    ("SciFiDatasets/DMReader_EELS_STO.dm4", (400.0, 450.0), "Ti_L23"),
])
def test_eels_edges_on_real_spectra(data_file, name, window, edge):
    da = read(data_file(name))
    e, y = da.energy.values, np.asarray(da.values, dtype=float)
    sig, fit = edge_signal(y, e, edges=[edge], background_window=window, width=20)
    assert fit.flag == 0 and 1.0 < float(fit.r) < 7.0
    # the edge stands well above the extrapolated background (≥ 5 % of the raw counts there)
    raw = y[(e >= edge_onset_eV(edge)) & (e <= edge_onset_eV(edge) + 20)].sum()
    assert sig[0] > 0.05 * raw
