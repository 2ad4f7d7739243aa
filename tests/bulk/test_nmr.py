"""NMR: integrals of synthetic Lorentzians over limits, the nmrglue test spectrum, peaks, fits, CLI."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.lineshapes import lorentzian
from perovscope.bulk.nmr import fit_nmr_peaks, integrate_regions, limit_indices, pick_nmr_peaks
from perovscope.errors import FormatError, InputError
from perovscope.io.nmr import read_nmr, read_nmr_limits

FT, LIMITS = "bulk/raman_ftir_xps_nmr/nmrglue_1d_data.ft", "bulk/raman_ftir_xps_nmr/nmrglue_limits.in"
AREA_OUT = {
    "CO1": 2.884854e8,
    "CO2": 1.205766e8,
    "Ca": 4.906673e8,
    "Cb1": 3.062952e8,
    "Cb2": 2.336557e8,
    "Cg1": 3.073099e8,
    "Cg2": 1.470495e8,
    "Cd1": 4.963560e8,
    "Cd2": 3.168956e8,
    "Ce": 2.024605e8,
}
PPM = np.linspace(40.0, -20.0, 24001)  # decreasing, as NMR axes are
LINES = [(12.0, 0.4, 3.0), (0.5, 0.8, 5.0), (-7.0, 1.2, 2.0)]  # centre ppm, FWHM ppm, area


def _lorentzians(scale=(1.0,)):
    y = sum(lorentzian(PPM, a, c, w) for c, w, a in LINES)
    return np.array([s * y for s in scale])


def test_integrals_of_lorentzians_over_limits():
    y = _lorentzians((1.0, 2.5))
    limits = np.array([[20.0, 6.0], [6.0, -4.0], [-4.0, -15.0]])
    got = integrate_regions(y, PPM, limits, method="trapezoid")
    exact = []
    for a, b in limits:
        exact.append(
            sum(
                ar / np.pi * (np.arctan(2 * (max(a, b) - cc) / ww) - np.arctan(2 * (min(a, b) - cc) / ww))
                for cc, ww, ar in LINES
            )
        )
    # trapezoid on a 0.0025 ppm grid (≥ 160 points per FWHM): relative error < 1e-5
    np.testing.assert_allclose(got[0], exact, rtol=1e-5)
    np.testing.assert_allclose(got[1], 2.5 * np.array(exact), rtol=1e-5)
    total = integrate_regions(y[0], PPM, [[40.0, -20.0]], method="trapezoid")[0]
    tails = sum(
        a / np.pi * (np.pi - np.arctan(2 * (40 - c) / w) + np.arctan(2 * (-20 - c) / w)) for c, w, a in LINES
    )
    assert total == pytest.approx(sum(a for *_, a in LINES) - tails, rel=1e-6)
    summed = integrate_regions(y[0], PPM, limits)  # points, not ppm: × step gives the area
    np.testing.assert_allclose(summed * 0.0025, exact, rtol=2e-3)


def test_real_file_integrals_reproduce_area_out(data_file):
    da = read_nmr(data_file(FT))
    assert da.sizes["chemical_shift"] == 16384 and da.attrs["nucleus"] == "C13"
    assert da.attrs["observe_MHz"] == pytest.approx(125.681, abs=1e-3)
    assert da.chemical_shift.values[0] == pytest.approx(300.1903, abs=1e-3)
    names, limits = read_nmr_limits(data_file(LIMITS))
    assert names == list(AREA_OUT)
    got = integrate_regions(da.values, da.chemical_shift.values, limits)
    # the source summed float32 values in float32 (7 digits); float64 sums agree to < 1e-6
    np.testing.assert_allclose(got, list(AREA_OUT.values()), rtol=1e-6)
    idx = limit_indices(da.chemical_shift.values, limits[:1])
    assert da.chemical_shift.values[idx[0]] == pytest.approx([183.395, 178.976], abs=1e-3)


def test_peaks_and_line_fit_chemical_shifts():
    rng = np.random.default_rng(0)
    y = _lorentzians((1.0, 1.0)) + rng.normal(0, 0.01, (2, PPM.size))
    peaks = pick_nmr_peaks(y, PPM, max_peaks=3)
    np.testing.assert_allclose(np.sort(peaks.position), sorted(c for c, *_ in LINES), atol=0.06)
    fit = fit_nmr_peaks(y, PPM, centres=[11.8, 0.7, -7.2], observe_mhz=202.4, region=(-15, 20))
    np.testing.assert_allclose(fit.shift, np.broadcast_to([12.0, 0.5, -7.0], (2, 3)), atol=0.005)
    np.testing.assert_allclose(
        fit.fwhm_hz, np.broadcast_to([0.4 * 202.4, 0.8 * 202.4, 1.2 * 202.4], (2, 3)), rtol=0.02
    )
    assert np.all(fit.flag == 0)


def test_nmr_bad_input(tmp_path, data_file):
    with pytest.raises(InputError, match="outside"):
        integrate_regions(_lorentzians()[0], PPM, [[50.0, 30.0]])
    with pytest.raises(InputError, match="method"):
        integrate_regions(_lorentzians()[0], PPM, [[5.0, 3.0]], method="simpson")
    trunc = tmp_path / "trunc.ft"
    trunc.write_bytes(data_file(FT).read_bytes()[:30000])
    with pytest.raises(FormatError, match="truncated"):
        read_nmr(trunc)
    with pytest.raises(FormatError, match="too short"):
        (tmp_path / "tiny.ft").write_bytes(b"abc")
        read_nmr(tmp_path / "tiny.ft")
    bad = tmp_path / "limits.in"
    bad.write_text("CO1 183.4\n")
    with pytest.raises(FormatError, match="line 1"):
        read_nmr_limits(bad)
    with pytest.raises(FormatError, match="Bruker processed-data"):
        read_nmr(tmp_path)


def test_nmr_cli(run_bulk, data_file, tmp_path):
    status, rows, err, out = run_bulk("nmr", data_file(FT), "--limits", data_file(LIMITS), "--json")
    assert status == 0 and len(rows) == 10
    for r in rows:
        assert r["integral"] == pytest.approx(AREA_OUT[r["name"]], rel=1e-6)
    assert (out / "nmr.zarr").exists() and (out / "nmr.png").exists()
    status, text, err, _ = run_bulk(
        "nmr", data_file(FT), "--peaks", "177.4,179.8", "--region", "170:186", "--no-figure"
    )
    assert status == 0 and "line0" in text and "Hz" in text.splitlines()[1]
    status, text, err, _ = run_bulk("nmr", tmp_path / "none.ft")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "none.ft" in err
