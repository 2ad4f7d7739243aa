"""VAMAS reader, doublet fits with ties, C 1s referencing, the FeO Fe 2p file and the xps CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perovscope.bulk.lineshapes import pseudo_voigt
from perovscope.bulk.xps import Doublet, binding_energy, c1s_shift, fit_components, reference_energy
from perovscope.errors import FormatError, InputError
from perovscope.io.vamas import read_vamas, read_vamas_region

FEO = "bulk/raman_ftir_xps_nmr/pynxtools_xps_FeO_analyzed.vms"
E = np.linspace(450.0, 475.0, 501)


def _doublet_series(n=4, seed=3):
    rng = np.random.default_rng(seed)
    c1 = 458.6 + np.linspace(0, 0.4, n)  # a chemical shift across the series
    lam = 800.0 * (
        1
        + pseudo_voigt(E[None], 2000.0, c1[:, None], 1.2, 0.3)
        + pseudo_voigt(E[None], 1000.0, c1[:, None] + 5.7, 1.2, 0.3)
    )
    return rng.poisson(lam).astype(float), c1


def test_doublet_fit_with_ties_recovers_separation_and_ratio():
    y, c1 = _doublet_series()
    tied = fit_components(
        y, E, centres=[458.5, 464.3], background="linear", doublets=[Doublet(0, 1, 5.7, 0.5)]
    )
    np.testing.assert_allclose(tied.centre[:, 1] - tied.centre[:, 0], 5.7, atol=1e-9)
    np.testing.assert_allclose(tied.area[:, 1] / tied.area[:, 0], 0.5, rtol=1e-9)
    np.testing.assert_allclose(tied.fwhm[:, 1], tied.fwhm[:, 0], rtol=1e-12)
    # Poisson noise on 800-count background: centres to ≈ 0.01 eV
    assert np.all(np.abs(tied.centre[:, 0] - c1) < 5 * tied.centre_std[:, 0] + 0.01)
    free = fit_components(y, E, centres=[458.5, 464.3], background="linear")
    np.testing.assert_allclose(free.centre[:, 1] - free.centre[:, 0], 5.7, atol=0.05)
    np.testing.assert_allclose(free.area[:, 1] / free.area[:, 0], 0.5, rtol=0.05)
    assert np.all(tied.centre_std[:, 0] <= free.centre_std[:, 0] * 1.01)


def test_shirley_fit_and_c1s_referencing():
    e = np.linspace(280.0, 295.0, 301)
    true_c1s = 285.3  # charged by +0.5 eV
    y = 300 + pseudo_voigt(e, 5000.0, true_c1s, 1.1, 0.2) + pseudo_voigt(e, 800.0, true_c1s + 1.6, 1.3, 0.2)
    shift, std, measured = c1s_shift(y, e)
    assert measured == pytest.approx(true_c1s, abs=0.1) and shift == pytest.approx(284.8 - true_c1s, abs=0.1)
    assert reference_energy([285.3], shift)[0] == pytest.approx(284.8, abs=0.1)
    assert binding_energy(1201.31, photon_energy=1486.61, work_function=0.5) == pytest.approx(284.8)
    with pytest.raises(InputError, match="photon_energy"):
        binding_energy(100.0, photon_energy=-1)


def test_vamas_reader_feo(data_file):
    (da,) = read_vamas(data_file(FEO))
    assert da.attrs["region"] == "Fe 2p" and da.attrs["sample"] == "FeO"
    assert da.attrs["photon_energy_eV"] == pytest.approx(1486.61) and da.attrs["source_label"] == "Al"
    assert da.sizes["binding_energy"] == 1121 and da.attrs["units"] == "counts"
    be, ke = da.binding_energy.values, da.kinetic_energy.values
    assert ke[0] == pytest.approx(736.61) and be[0] == pytest.approx(750.0) and be[-1] == pytest.approx(694.0)
    np.testing.assert_allclose(be + ke, 1486.61)
    assert da.values[0] == pytest.approx(12516.9) and "transmission" in da.coords
    comps = json.loads(da.attrs["casa_components"])
    assert len(comps) == 4 and comps[0]["lineshape"].startswith("LF")
    assert read_vamas_region(data_file(FEO), "fe2p").attrs["block"] == "Fe 2p"
    with pytest.raises(FormatError, match="no region 'O 1s'"):
        read_vamas_region(data_file(FEO), "O 1s")


def test_feo_fe2p_against_casaxps(data_file):
    """CasaXPS: 709.03, 715.73, 722.18, 730.22 eV (FWHM 3.86, 7.89, 4.73, 7.88) on a U 3 Tougaard background.

    (1) The Tougaard scale fitted to the high-energy end of the CasaXPS region (699.85–749.09 eV,
    polymer class C = 551, D = 436 eV²) is B = 331.5 eV² against CasaXPS's stored 335.4 eV² (1.2 %).
    (2) CasaXPS's main lines are asymmetric LF(0.54,10,80,100,6) shapes whose "position" is the
    centre of the asymmetric Lorentzian before Gaussian broadening: the data maxima are at 710.10 and
    723.15 eV, 1.07 and 0.97 eV above it. Symmetric pseudo-Voigts centre on the maxima (within
    0.25 eV), so their centres sit 0.8–1.0 eV above CasaXPS's, while the spin–orbit separation
    (13.15 eV in CasaXPS) agrees within 0.2 eV (13.29 eV) and the 2p3/2 FWHM within 15 %. The satellites take
    the intensity of the asymmetric tails and are not compared (see docs/bulk/xps.md).
    """
    from perovscope.bulk.xps_background import tougaard_background

    da = read_vamas_region(data_file(FEO), "Fe 2p")
    e, y = da.binding_energy.values[::-1], da.values[::-1]
    sel = (e >= 699.85) & (e <= 749.09)
    bg = tougaard_background(y[sel], e[sel], C=551.0, D=436.0, average=5)
    assert bg.B == pytest.approx(335.44588, rel=0.02)
    fit = fit_components(
        y,
        e,
        centres=[709, 716, 722.5, 730],
        fwhm=[3.5, 7, 4.5, 7],
        background="tougaard",
        region=(699.85, 749.09),
        background_options={"cross_section": "polymer", "average": 5},
    )
    casa = np.array([709.03, 715.73, 722.18, 730.22])
    assert fit.centre[0] == pytest.approx(710.10, abs=0.25) and fit.centre[2] == pytest.approx(
        723.15, abs=0.25
    )
    assert 0.7 < fit.centre[0] - casa[0] < 1.1 and 0.7 < fit.centre[2] - casa[2] < 1.1
    assert fit.centre[2] - fit.centre[0] == pytest.approx(casa[2] - casa[0], abs=0.2)
    assert fit.fwhm[0] == pytest.approx(3.86, rel=0.15)
    assert np.all(np.isfinite(fit.centre_std)) and fit.flag <= 1


def test_vamas_bad_files(tmp_path, data_file):
    text = data_file(FEO).read_text(encoding="latin-1").splitlines()
    trunc = tmp_path / "trunc.vms"
    trunc.write_text("\n".join(text[:500]) + "\n", encoding="latin-1")
    with pytest.raises(FormatError, match="trunc.vms.*truncated"):
        read_vamas(trunc)
    other = tmp_path / "other.vms"
    other.write_text("hello\nworld\n")
    with pytest.raises(FormatError, match="not a VAMAS"):
        read_vamas(other)
    with pytest.raises(FormatError, match="no such file"):
        read_vamas(tmp_path / "missing.vms")


def test_xps_cli(run_bulk, data_file, tmp_path):
    status, rows, err, out = run_bulk("xps", data_file(FEO), "--json")
    assert status == 0 and rows[0]["region"] == "Fe 2p" and abs(rows[0]["peak_be"] - 710.1) < 0.2
    status, text, err, out = run_bulk(
        "xps",
        data_file(FEO),
        "--region",
        "Fe 2p",
        "--range",
        "699.85:749.09",
        "--background",
        "tougaard",
        "--cross-section",
        "polymer",
        "--peaks",
        "709,722.5",
        "--fwhm",
        "3.5,4.5",
        "--average",
        "5",
        "--doublet",
        "0,1,13.15,0.5",
    )
    assert status == 0 and text.splitlines()[0].split()[:3] == ["region", "component", "shape"]
    assert (out / "xps.zarr").exists() and (out / "xps.png").exists() and "Tougaard B" in err
    lines = text.splitlines()[2:]
    assert float(lines[1].split()[4]) - float(lines[0].split()[4]) == pytest.approx(13.15, abs=1e-6)
    status, text, err, _ = run_bulk("xps", data_file(FEO), "--reference", "C1s=284.8")
    assert status == 2 and "no C 1s region" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.vms"
    bad.write_text("VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4\nx\n")
    status, text, err, _ = run_bulk("xps", bad)
    assert status == 2 and "bad.vms" in err and "Traceback" not in err
