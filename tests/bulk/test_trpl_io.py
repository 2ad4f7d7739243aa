"""TCSPC readers (PicoQuant PTU, Horiba/CSV text) and the real-file values their sources report."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from perovscope.bulk.trpl import fit_decays
from perovscope.bulk.trpl_xr import decay_table, fit_decay_dataarray
from perovscope.errors import FormatError
from perovscope.io.ptu import decode_t3, read_ptu, read_ptu_header
from perovscope.io.tcspc_text import read_tcspc_text

PTU = "bulk/trpl_tcspc/picoquant_hydraharp_v10_t3.ptu"
DECAY, IRF = "bulk/trpl_tcspc/lifefit_Atto550_DNA.txt", "bulk/trpl_tcspc/lifefit_irf.txt"


def test_ptu_header_records_and_histograms(data_file):
    path = data_file(PTU)
    tags, _ = read_ptu_header(path)
    assert tags["TTResult_NumberOfRecords"] == 167801
    h = read_ptu(path)
    a = h.attrs
    assert a["number_records"] == 167801 and a["record_type"] == "HydraHarpT3"
    assert abs(a["resolution_s"] - 128e-12) < 1e-15 and a["sync_rate_hz"] == 2.5e6
    assert abs(a["acquisition_time_s"] - 30.0) < 1e-9
    # one sync period of 400 ns in 128 ps bins; every photon is in one detector's histogram
    assert h.dims == ("detector", "delay") and h.shape == (2, 3125)
    assert h.detector.values.tolist() == [1, 2]
    assert h.sum().item() == a["number_photons"] == 167801 - a["number_overflows"] - a["number_markers"]
    assert abs(h.delay.values[1] - 0.128) < 1e-9 and h.delay.attrs["units"] == "ns"
    seg = read_ptu(path, segments=3)
    assert seg.dims == ("time", "detector", "delay")
    np.testing.assert_array_equal(seg.sum("time").values, h.values)


def test_ptu_matches_ptufile(data_file):
    ptufile = pytest.importorskip("ptufile")
    path = data_file(PTU)
    with ptufile.PtuFile(path) as f:
        ref = f.decode_histogram()
        raw = f.read_records()
        decoded = f.decode_records(raw)
    np.testing.assert_array_equal(read_ptu(path).values, ref)
    mine = decode_t3(raw, 0x00010304)
    photon = mine["channel"] >= 0
    np.testing.assert_array_equal(mine["nsync"][photon], decoded["time"][decoded["channel"] >= 0])


def _patched(path, tmp_path, *, records=None, rtype=None, name="x.ptu"):
    raw = bytearray(path.read_bytes())
    if rtype is not None:
        i = raw.index(b"TTResultFormat_TTTRRecType")
        raw[i + 40:i + 48] = struct.pack("<q", rtype)
    if records is not None:
        raw = raw[:records]
    out = tmp_path / name
    out.write_bytes(bytes(raw))
    return out


def test_ptu_bad_files(data_file, tmp_path):
    path = data_file(PTU)
    with pytest.raises(FormatError, match="truncated"):
        read_ptu(_patched(path, tmp_path, records=path.stat().st_size // 2))
    with pytest.raises(FormatError, match="T3"):
        read_ptu(_patched(path, tmp_path, rtype=0x00010204))
    with pytest.raises(FormatError, match="truncated"):
        read_ptu(_patched(path, tmp_path, records=2000))  # inside the header
    (tmp_path / "no.ptu").write_bytes(b"not a ptu file at all" * 10)
    with pytest.raises(FormatError, match="PTU"):
        read_ptu(tmp_path / "no.ptu")


def test_horiba_export(data_file):
    d = read_tcspc_text(data_file(DECAY))
    assert d.dims == ("delay",) and d.size == 4096
    assert d.attrs["ns_per_channel"] == pytest.approx(0.02743484)
    assert d.attrs["format"] == "horiba_tcspc_text" and d.attrs["real_time_s"] == pytest.approx(32.533)
    assert d.delay.values[0] == pytest.approx(0.02743484) and d.max().item() == 10000
    assert d.sum().item() == 1476495


def test_csv_units_and_bad_text(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("# exported\nTime [ps],decay,IRF\n" + "".join(f"{i * 50},{i},{2 * i}\n" for i in range(10)))
    d = read_tcspc_text(p)
    assert d.dims == ("curve", "delay") and d.curve.values.tolist() == ["decay", "IRF"]
    assert d.delay.values[1] == pytest.approx(0.05) and d.attrs["ns_per_channel"] == pytest.approx(0.05)
    q = tmp_path / "us.txt"
    q.write_text("t_us\tcounts\n" + "".join(f"{i * 0.001}\t{i}\n" for i in range(5)))
    assert read_tcspc_text(q).delay.values[1] == pytest.approx(1.0)
    r = tmp_path / "plain.txt"
    r.write_text("".join(f"{i * 0.1} {i}\n" for i in range(5)))
    assert read_tcspc_text(r).attrs["time_unit_assumed"] == 1
    assert read_tcspc_text(r, time_unit="ps").delay.values[1] == pytest.approx(1e-4)
    bad = {"ragged.txt": "t (ns),c\n1,2\n2,3\n3\n", "bin.txt": "a\x00b\n", "words.txt": "hello\nworld\n",
           "chan.txt": "Chan\tData\n1\t5\n2\t6\n3\t7\n"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(FormatError, match=name):
            read_tcspc_text(tmp_path / name)


def test_manifest_values_atto550_reconvolution(data_file):
    """The source's fit (unweighted least squares, IRF reconvolution with shift): τ1 = 1.01 ns (29 %),
    τ2 = 3.89 ns (71 %), "mean" 3.61 ns — which is Σaτ²/Σaτ, the intensity-weighted mean."""
    decay, irf = read_tcspc_text(data_file(DECAY)), read_tcspc_text(data_file(IRF))
    ds = fit_decay_dataarray(decay, irf, components=2, statistic="least_squares")
    tau, a = ds.tau.values, ds.amplitude_fraction.values
    assert abs(tau[0] - 1.01) < 0.05 and abs(tau[1] - 3.89) < 0.05
    assert abs(a[0] - 0.29) < 0.01 and abs(a[1] - 0.71) < 0.01
    assert abs(ds.tau_intensity.item() - 3.61) < 0.05
    assert abs(ds.tau_amplitude.item() - 3.05) < 0.05  # the amplitude-weighted mean proper
    assert abs(ds.irf_shift.item() - 0.11) < 0.02  # the source reports an IRF shift of 0.11 ns
    # Poisson likelihood: two exponentials leave structure in the 40–70 ns tail (reduced deviance
    # ≈ 1.4); a third, weak long component brings it near 1 and the first two back near the source's
    t = decay.delay.values
    two = fit_decays(decay.values, t, irf=irf.values, components=2)
    three = fit_decays(decay.values, t, irf=irf.values, components=3)
    assert two.deviance / two.dof > 1.3 > 1.2 > three.deviance / three.dof
    assert abs(three.taus[0] - 1.01) < 0.2 and abs(three.taus[1] - 3.89) < 0.1
    table = decay_table(ds)
    assert table.sizes["row"] == 1 and table["tau_2"].attrs["units"] == "ns"


def test_ptu_decays_fitted_per_detector(data_file):
    h = read_ptu(data_file(PTU)).astype(float)
    ds = fit_decay_dataarray(h, components=2)  # both detectors in one call, tail fits
    assert ds.tau.dims == ("detector", "component") and np.all(ds.flag.values == 0)
    assert np.all(ds.reduced_deviance.values < 1.3)
    assert np.all((ds.tau_intensity.values > 20) & (ds.tau_intensity.values < 45))
