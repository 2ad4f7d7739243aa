"""Impedance readers (CSV, EC-Lab .mpt, Gamry .DTA, ZPlot .z) and ``perovscope bulk impedance``."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.impedance_circuits import circuit_impedance
from perovscope.errors import FormatError
from perovscope.io.impedance_files import read_impedance

F = np.logspace(5, -1, 25)  # instruments sweep from high to low frequency
TRUTH = [15.0, 400.0, 2e-6]
Z = circuit_impedance("R0-p(R1,C1)", F, TRUTH)


def _mpt(path, decimal_comma=False):
    head = ["EC-Lab ASCII FILE", "Nb header lines : {n}", "",
            "Potentio Electrochemical Impedance Spectroscopy", "", "Run on channel : 1",
            "Electrode surface area : 0.785 cm²", "Characteristic mass : 0.001 g",
            "fi                  100.000", "unit fi             kHz"]
    cols = "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\t|Z|/Ohm\tPhase(Z)/deg\ttime/s\tTemperature/°C\t"
    n = len(head) + 2
    lines = [h.format(n=n) for h in head] + [""] + [cols]
    for k, (f, z) in enumerate(zip(F, Z, strict=True)):
        row = (f"{f:.7E}\t{z.real:.7E}\t{-z.imag:.7E}\t{abs(z):.7E}\t{np.degrees(np.angle(z)):.7E}\t"
               f"{k:.3f}\t80.0\t")
        lines.append(row.replace(".", ",") if decimal_comma else row)
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def _dta(path, aborted=False):
    lines = ["EXPLAIN", "TAG\tEISPOT", "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
             "DATE\tLABEL\t4/23/2018\tDate", "AREA\tQUANT\t2.50000E+000\t&Area (cm^2)",
             "OCVCURVE\tTABLE\t2", "\tPt\tT\tVf", "\t#\ts\tV vs. Ref.", "\t0\t0.25\t-3.4E-001",
             "\t1\t0.50\t-3.4E-001", "EOC\tQUANT\t-0.29\tOpen Circuit (V)", "ZCURVE\tTABLE",
             "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange",
             "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tA\tV\t#"]
    for k, (f, z) in enumerate(zip(F, Z, strict=True)):
        lines.append(f"\t{k}\t{k + 1}\t{f:.7g}\t{z.real:.7g}\t{z.imag:.7g}\t1\t{abs(z):.7g}\t"
                     f"{np.degrees(np.angle(z)):.7g}\t-2.6E-006\t-0.34\t7")
    if aborted:
        lines.append("EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted")
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def _zplot(path, declared=None):
    lines = ["ZPLOT2 ASCII", "  Measured Data, ZPlot:       3.2c", "  Date:                       10-12-2018",
             "  Begin Information:          Cell Information", "    Surface Area:             1",
             "  End Information:            Cell Information",
             f"  Data Points:                {declared or F.size}",
             "  Freq(Hz)\tAmpl\tBias\tTime(Sec)\tZ'(a)\tZ''(b)\tGD\tErr\tRange", "End Comments"]
    for k, (f, z) in enumerate(zip(F, Z, strict=True)):
        lines.append(f"{f:.6E}, 1.0000E-02, 0.0000E+00, {k + 2.67:.6E}, {z.real:.4E}, {z.imag:.4E}, "
                     "0.0000E+00, 0, 3")
    path.write_text("\n".join(lines) + "\n")
    return path


def _csv(path, header):
    rows = [f"{f:.9e},{z.real:.9e},{(-z.imag if header and header[2].startswith('-') else z.imag):.9e}"
            for f, z in zip(F, Z, strict=True)]
    path.write_text(("" if not header else ",".join(header) + "\n") + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("make", [
    lambda p: _mpt(p / "a.mpt"), lambda p: _mpt(p / "b.mpt", decimal_comma=True), lambda p: _dta(p / "a.DTA"),
    lambda p: _dta(p / "b.DTA", aborted=True), lambda p: _zplot(p / "a.z"), lambda p: _csv(p / "a.csv", None),
    lambda p: _csv(p / "b.csv", ["Frequency (Hz)", "Z' (Ohm)", "-Z'' (Ohm)"]),
    lambda p: _csv(p / "c.txt", ["freq", "Zreal", "Zimag"])])
def test_readers_return_the_spectrum(tmp_path, make):
    da = read_impedance(make(tmp_path))
    assert da.dims == ("frequency",) and da.attrs["units"] == "Ohm"
    np.testing.assert_allclose(da.frequency.values, F, rtol=1e-6)
    np.testing.assert_allclose(da.values, Z, rtol=1e-4)


def test_reader_metadata(tmp_path):
    mpt = read_impedance(_mpt(tmp_path / "a.mpt"))
    assert mpt.attrs["temperature_C"] == 80.0 and mpt.attrs["area_cm2"] == pytest.approx(0.785)
    assert mpt.attrs["format"] == "biologic-mpt"
    assert read_impedance(_dta(tmp_path / "a.DTA")).attrs["area_cm2"] == 2.5


def test_real_csv(data_file):
    da = read_impedance(data_file("bulk/eis/impedancepy_exampleData.csv"))
    assert da.size == 66 and da.frequency.values[0] == pytest.approx(3.1623e-3)
    assert da.values[0] == pytest.approx(4.949989776405060160e-02 - 2.043869854441892481e-02j)


def test_bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FormatError, match="empty"):
        read_impedance(tmp_path / "empty.csv")
    with pytest.raises(FormatError, match="truncated"):
        read_impedance(_zplot(tmp_path / "t.z", declared=40))
    (tmp_path / "x.csv").write_text("time,voltage\n1,2\n2,3\n")
    with pytest.raises(FormatError, match="frequency"):
        read_impedance(tmp_path / "x.csv")
    (tmp_path / "b.mpt").write_bytes(b"BIO-LOGIC\x00\x01\x02")
    with pytest.raises(FormatError, match="binary"):
        read_impedance(tmp_path / "b.mpt")
    with pytest.raises(FormatError, match="no such file"):
        read_impedance(tmp_path / "missing.z")


# ---- CLI -------------------------------------------------------------------------------------------

def test_cli_real_file(run_bulk, data_file):
    path = data_file("bulk/eis/impedancepy_exampleData.csv")
    status, out, err, outdir = run_bulk("impedance", path, "--circuit", "R0-p(R1,C1)-p(R2-Wo1,C2)",
                                        "--weighting", "unit", "--assignment", "1,0", "--no-figure")
    assert status == 0 and "R0" in out and "R_dc_arc" in out
    assert (outdir / "impedance.zarr").is_dir() and (outdir / "impedance.csv").is_file()
    status, rows, err, _ = run_bulk("impedance", path, "--circuit", "randles", "--weighting", "unit",
                                    "--json", "--no-figure")
    assert status == 0 and rows[0]["R0"] == pytest.approx(1.862e-2, rel=0.01)


def test_cli_temperature_series_arrhenius(run_bulk, tmp_path):
    t_c = np.array([50.0, 80.0, 110.0, 140.0, 170.0, 200.0])
    t_k = t_c + 273.15
    r = 5e6 * np.exp(0.55 / 8.617333262e-5 * (1 / t_k - 1 / t_k[0])) * t_k / t_k[0]
    f = np.logspace(-1, 7, 57)
    files = []
    for k, rk in enumerate(r):
        z = circuit_impedance("p(R1,CPE1)-CPE2", f, [rk, 2e-10, 0.9, 1e-6, 0.8])
        p = tmp_path / f"T{k}.csv"
        p.write_text("freq,Zreal,Zimag\n" + "\n".join(f"{a:.9e},{b.real:.9e},{b.imag:.9e}"
                                                      for a, b in zip(f, z, strict=True)))
        files.append(p)
    temps = [str(t) for t in t_c]
    status, rows, err, outdir = run_bulk("impedance", *files, "--circuit", "p(R1,CPE1)-CPE2",
                                         "--thickness", "0.7", "--area", "2", "--temperature", *temps,
                                         "--json")
    assert status == 0, err
    # σT ∝ exp(−Ea/kT) by construction: Ea = 0.55 eV
    assert rows[0]["Ea"] == pytest.approx(0.55, abs=0.005)
    assert rows[0]["sigma"] == pytest.approx(0.07 / (r[0] * 0.02), rel=0.01)
    assert (outdir / "impedance.png").is_file()
    status, out, err, _ = run_bulk("impedance", *files, "--temperature", *temps, "--no-figure")
    assert status == 2 and "--thickness" in err and "--area" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_bad_file(run_bulk, tmp_path):
    bad = tmp_path / "bad.z"
    bad.write_text("ZPLOT2 ASCII\n  Data Points: 10\nEnd Comments\n1,2\n")
    status, out, err, _ = run_bulk("impedance", bad)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
