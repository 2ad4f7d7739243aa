"""``write_session_files`` / ``perovscope simulate device --as-files``: a session as instrument files.

Every frame file read back with ``perovscope.io.read`` must equal the simulator's in-memory frame
(array, dtype, dims, coordinates, acquisition attributes), the acquisition start must put the frame's
window centre on the simulator time, the source-measure unit CSV must convert back to the tree's
bias log to its printed precision, and session.toml / truth.zarr must be usable as documented.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib

import numpy as np
import pytest

import perovscope.io as pio
from perovscope.cli import main
from perovscope.errors import InputError
from perovscope.io._metadata import normalise_metadata
from perovscope.simulate import session_files as sf
from perovscope.simulate import simulate_device, write_session_files
from perovscope.simulate.materials import LAYER_NAMES

TINY = dict(n_frames=2, scan_shape=(6, 6), detector_shape=(32, 32), haadf_shape=(24, 24),
            haadf_pixel_nm=6.4, eds_shape=(4, 4), eds_channels=256, eds_channel_eV=80.0)
SEED = 2
NODES = {"4dstem": "4dstem/4dstem", "haadf": "haadf/haadf", "eds": "eds/eds"}
#: attributes the reader adds that the simulator's tree has no counterpart for
READER_ONLY = {"source_file", "format", "original_metadata", "real_time_s"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("session")
    toml = write_session_files(folder, seed=SEED, **TINY)
    return folder, toml


@pytest.fixture(scope="module")
def tree():
    return simulate_device(seed=SEED, **TINY)


def test_files_per_frame_and_nothing_partial(written):
    folder, toml = written
    assert toml == folder / "session.toml" and toml.is_file()
    for kind in NODES:
        assert sorted(p.name for p in (folder / kind).iterdir()) == ["frame_000.hspy", "frame_001.hspy"]
    assert (folder / "bias_log.csv").is_file() and (folder / "truth.zarr").is_dir()
    assert not [p for p in folder.rglob(".*") if "partial" in p.name]


@pytest.mark.parametrize("kind", list(NODES))
def test_frame_files_read_back_as_the_simulated_frames(written, tree, kind):
    folder, _ = written
    full = tree[NODES[kind]]
    origin = dt.datetime.fromisoformat(full.attrs["acquired"])
    for frame in range(TINY["n_frames"]):
        sim = full.isel(time=frame)
        da = pio.read(folder / kind / f"frame_{frame:03d}.hspy", lazy=False)
        assert da.dims == tuple(d for d in full.dims if d != "time")
        assert da.dtype == sim.dtype and np.issubdtype(da.dtype, np.unsignedinteger)
        np.testing.assert_array_equal(da.values, sim.values)
        for dim in da.dims:
            assert da[dim].attrs["units"] == sim[dim].attrs["units"], dim
            np.testing.assert_allclose(da[dim].values, sim[dim].values, rtol=1e-12, atol=1e-9, err_msg=dim)
        for key, value in sim.attrs.items():
            if key in ("acquired", "title"):
                continue
            assert key in da.attrs, key
            assert da.attrs[key] == value, key  # floats exactly: HDF5 keeps doubles
        assert set(da.attrs) - set(sim.attrs) <= READER_ONLY
        title = da.attrs["title"]
        assert title.startswith(sf.MODALITIES[kind][2]) and sim.attrs["title"] in title
        # window rule: start + duration / 2 = origin + simulator time (to 1 ms; written to 1 µs)
        start = dt.datetime.fromisoformat(da.attrs["acquired"])
        centre = (start - origin).total_seconds() + sf.frame_duration_s(da) / 2
        assert centre == pytest.approx(float(sim.time), abs=1e-3)
        assert abs(centre - float(sim.time)) <= 1e-6


def test_frame_durations():
    t = simulate_device(lazy=True, seed=SEED, **TINY)
    assert sf.frame_duration_s(t["4dstem/4dstem"]) == pytest.approx(1e-3 * 36)     # dwell × 6×6
    assert sf.frame_duration_s(t["haadf/haadf"]) == pytest.approx(2e-6 * 24 * 24)  # dwell × 24×24
    assert sf.frame_duration_s(t["eds/eds"]) == pytest.approx(5e-3 * 16)           # live = real time


def test_bias_log_csv_converts_back_to_the_tree(written, tree):
    folder, _ = written
    lines = (folder / "bias_log.csv").read_text().splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    assert len(comments) == 2 and "2026-03-11T10:00:00" in comments[1]
    assert lines[len(comments)] == "t_s,U_mV,I_nA,EL_counts"
    table = np.loadtxt(lines[len(comments) + 1:], delimiter=",")
    log = tree["bias_log"].dataset
    assert table.shape == (log.sizes["time"], 4)
    np.testing.assert_allclose(table[:, 0], log.time.values, rtol=0, atol=5e-4)                 # %.3f s
    np.testing.assert_allclose(table[:, 1] * 1e-3, log.voltage_V.values, rtol=0, atol=5e-8)     # %.4f mV
    np.testing.assert_allclose(table[:, 2] * 1e-9, log.current_A.values, rtol=0, atol=5e-14)    # %.4f nA
    assert np.all(table[:, 3] == np.round(table[:, 3]))                                         # counts
    np.testing.assert_allclose(table[:, 3] / sf.EL_COUNTS_PER_UNIT, log.el_intensity.values, rtol=0,
                               atol=0.5 / sf.EL_COUNTS_PER_UNIT)


def test_session_toml_has_the_documented_keys(written, tree):
    folder, toml = written
    doc = tomllib.loads(toml.read_text())
    session = doc["session"]
    assert session["output"] == "results" and session["truth"] == "truth.zarr"
    assert session["layers"] == list(LAYER_NAMES) and session["reference"] == "haadf"
    assert set(doc["modality"]) == set(NODES)
    for kind, mod in doc["modality"].items():
        assert mod["clock"] == "metadata" and mod["offset_s"] == 0.0
        files = sorted(folder.glob(mod["files"]))
        assert [int(re.search(mod["frame_regex"], p.name).group(1)) for p in files] == [0, 1], kind
    bias = doc["bias_log"]
    assert (folder / bias["file"]).is_file()
    header = (folder / bias["file"]).read_text().splitlines()[2].split(",")
    assert [bias[k] for k in ("time", "voltage", "current", "el")] == header
    assert bias["units"] == {"time": "s", "voltage": "mV", "current": "nA"}
    assert bias["origin"] == tree["haadf/haadf"].attrs["acquired"] == "2026-03-11T10:00:00"
    assert {"strain", "edx", "particles", "quantities", "events"} <= set(doc["analysis"])
    assert doc["analysis"]["edx"]["elements"] == ["Cs", "Pb", "Br", "Cl", "Al"]


def test_truth_store_equals_the_tree_truth(written, tree):
    folder, _ = written
    store = pio.open_results(folder / "truth.zarr")
    assert store.attrs["seed"] == SEED and store.attrs["parameters"]["n_frames"] == TINY["n_frames"]
    truth = tree["truth"]
    assert {n.relative_to(truth) for n in truth.subtree} == {n.relative_to(store) for n in store.subtree}
    n = 0
    for node in truth.subtree:
        got = store[node.relative_to(truth)] if node.path != truth.path else store
        for name, var in node.dataset.data_vars.items():
            np.testing.assert_array_equal(got[name].values, var.values, err_msg=f"{node.path}/{name}")
            n += 1
    assert n > 30


def test_existing_session_refused_then_overwritten_without_stale_frames(tmp_path):
    write_session_files(tmp_path, seed=1, **{**TINY, "n_frames": 3})
    with pytest.raises(InputError, match=f"{re.escape(str(tmp_path))}.*empty folder"):
        write_session_files(tmp_path, seed=1, **TINY)
    write_session_files(tmp_path, overwrite=True, seed=1, **TINY)
    for kind in NODES:
        assert sorted(p.name for p in (tmp_path / kind).iterdir()) == ["frame_000.hspy", "frame_001.hspy"]
    assert tomllib.loads((tmp_path / "session.toml").read_text())["session"]["name"].endswith("2 frames)")


def test_interrupted_write_leaves_no_session_toml(tmp_path, monkeypatch):
    real, calls = sf._write_hspy, []

    def failing(path, *args):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(path, *args)

    monkeypatch.setattr(sf, "_write_hspy", failing)
    with pytest.raises(KeyboardInterrupt):
        write_session_files(tmp_path, seed=1, **TINY)
    assert not (tmp_path / "session.toml").exists()
    assert not list(tmp_path.rglob(".frame_*"))
    monkeypatch.setattr(sf, "_write_hspy", real)
    assert write_session_files(tmp_path, seed=1, **TINY).is_file()  # an interrupted folder is reused


def test_frames_are_written_one_at_a_time(tmp_path, monkeypatch):
    real, shapes = sf._write_hspy, []

    def spy(path, data, *args):
        shapes.append(data.shape)
        return real(path, data, *args)

    monkeypatch.setattr(sf, "_write_hspy", spy)
    write_session_files(tmp_path, seed=1, **TINY)
    assert shapes == [(6, 6, 32, 32), (24, 24), (4, 4, 256)] * 2


def test_reader_maps_dose_and_imaging_detector_collection_angle():
    md = {"Acquisition_instrument": {"TEM": {"beam_energy": 300.0, "dose": 100.0, "Detector": {
        "HAADF": {"collection_angle": 70.0}, "EDS": {"live_time": 2.0}}}}}
    out, _ = normalise_metadata({"metadata": md}, fmt="hspy", kind="haadf", is_map=False)
    assert out["dose_e_per_A2"] == 100.0 and out["collection_semiangle_mrad"] == 70.0
    md["Acquisition_instrument"]["TEM"]["Detector"]["EELS"] = {"collection_angle": 12.0}
    out, _ = normalise_metadata({"metadata": md}, fmt="hspy", kind="eels", is_map=False)
    assert out["collection_semiangle_mrad"] == 12.0  # the spectrometer's angle comes first
    out, _ = normalise_metadata({"metadata": {"Acquisition_instrument": {"TEM": {"Detector": {
        "EDS": {"collection_angle": 5.0}}}}}}, fmt="hspy", kind="eds", is_map=True)
    assert "collection_semiangle_mrad" not in out and "dose_e_per_A2" not in out


CLI_TINY = ["--frames", "2", "--scan", "6", "6", "--detector", "32", "32", "--param", "haadf_shape=(24, 24)",
            "--param", "haadf_pixel_nm=6.4", "--param", "eds_shape=(4, 4)", "--param", "eds_channels=256",
            "--param", "eds_channel_eV=80.0"]


def test_cli_as_files(tmp_path, capsys):
    folder = tmp_path / "sess"
    assert main(["simulate", "device", "--as-files", str(folder), "--seed", "3", "--quiet", *CLI_TINY]) == 0
    out = capsys.readouterr().out
    assert str(folder / "session.toml") in out and "6 HyperSpy files" in out and "2 frames" in out
    doc = tomllib.loads((folder / "session.toml").read_text())
    assert doc["session"]["name"] == "Simulated PeLED operando session (seed 3, 2 frames)"
    da = pio.read(folder / "4dstem" / "frame_001.hspy")
    assert da.shape == (6, 6, 32, 32)
    # an existing session: exit 2, one line naming the folder
    capsys.readouterr()
    assert main(["simulate", "device", "--as-files", str(folder), *CLI_TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(folder) in err[0] and "--overwrite" in err[0]
    assert main(["simulate", "device", "--as-files", str(folder), "--overwrite", "--quiet", *CLI_TINY]) == 0
    capsys.readouterr()
    assert main(["simulate", "device", "--as-files", str(tmp_path / "b"), "--bias-log", "x.csv",
                 *CLI_TINY]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["--out", "a.zarr", "--as-files", "d"], ["--frames", "2"]])
def test_cli_out_xor_as_files(tmp_path, capsys, argv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "device", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "--as-files" in err[0]
    assert not list(tmp_path.iterdir())
