"""Corrupted inputs: every damaged file gives a PerovscopeError, never another exception, crash or hang.

For one real file per supported format (from ../shared/data) the suite writes corrupted copies into
a temporary folder: truncations at 12 points, 6 copies with 16 random bytes overwritten (3 in the
header region, 3 anywhere), a zero-length file and the content under another format's extension.
``read`` must either raise a :class:`~perovscope.errors.PerovscopeError`, or return a proper
DataArray / DataTree / Dataset whose data compute to numpy arrays of the announced shape (a
truncated text file, or bytes flipped inside pixel data, legitimately give a valid but different
signal). Each case has a time limit
(pytest-timeout). Targeted cases add single-byte damage to a Bruker hypermap and out-of-range
channel indices to a Velox EDX stream. ``test_fuzz_summary`` (last) checks the number of cases and
reports the outcomes.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.errors import PerovscopeError

SOURCES = {
    "mib": "rosettasciio/001_4x2_6bit.mib",
    "dm3": "rosettasciio/multi_signal.dm3",
    "dm4": "rosettasciio/EELS_SI.dm4",
    "emd_image": "SciFiDatasets/EMDReader_Image_FEI.emd",
    "emd_si": "rosettasciio/Test SI 16x16 215 kx.emd",
    "bcf": "rosettasciio/test_TEM.bcf",
    "bcf_zlib": "rosettasciio/30x30_instructively_packed_16bit_compressed.bcf",
    "msa": "exspy/coreloss_spectrum.msa",
    "hspy": "lumispy/asymmetric_peak_map.hspy",
    "labspec": "rosettasciio/jobinyvon_test_spec.xml",
    "rawdata": "xrd-analysis/RawData0.xml",
    "brml": "xrd-analysis/test.brml",
    "xy": "xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy",
}
#: extension each source is saved under for the wrong-extension case
WRONG_EXT = {"mib": ".dm3", "dm3": ".emd", "dm4": ".bcf", "emd_image": ".mib", "emd_si": ".dm4",
             "bcf": ".hspy", "bcf_zlib": ".msa", "msa": ".bcf", "hspy": ".emd", "labspec": ".brml",
             "rawdata": ".dm3", "brml": ".xml", "xy": ".mib"}
TRUNCATIONS = (0.0005, 0.003, 0.01, 0.05, 0.1, 0.3, 0.45, 0.6, 0.75, 0.9, 0.99, 0.999)
MUTATIONS = ([f"trunc{f}" for f in TRUNCATIONS] + [f"flip_head{i}" for i in range(3)]
             + [f"flip_any{i}" for i in range(3)] + ["empty", "wrong_ext"])
CASES = [(src, mut) for src in SOURCES for mut in MUTATIONS]
OUTCOMES: dict[tuple[str, str], str] = {}


def _corrupt(raw: bytes, mutation: str, seed: int) -> bytes:
    if mutation.startswith("trunc"):
        return raw[: max(1, int(len(raw) * float(mutation[5:])))]
    if mutation.startswith("flip"):
        rng = random.Random(seed)
        out = bytearray(raw)
        region = min(len(raw), 1024) if "head" in mutation else len(raw)
        for _ in range(16):
            i = rng.randrange(region)
            out[i] = rng.randrange(256) if out[i] else 0xFF
        return bytes(out)
    if mutation == "empty":
        return b""
    return raw


def _check_result(result) -> None:
    """A valid result: every variable computes to a numpy array of its announced shape."""
    if isinstance(result, xr.DataTree):
        arrays = [node[v] for node in result.subtree for v in node.data_vars]
    elif isinstance(result, xr.Dataset):
        arrays = list(result.data_vars.values())
    else:
        assert isinstance(result, xr.DataArray)
        arrays = [result]
    assert arrays
    for arr in arrays:
        values = np.asarray(arr.values)
        assert values.shape == arr.shape
        for dim in arr.dims:
            if dim in arr.coords:
                assert "units" in arr[dim].attrs


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("source", "mutation"), CASES, ids=[f"{s}-{m}" for s, m in CASES])
def test_corrupted_file(data_file, tmp_path, source, mutation):
    rel = SOURCES[source]
    original = data_file(rel)
    seed = sum(map(ord, source + mutation))
    ext = WRONG_EXT[source] if mutation == "wrong_ext" else original.suffix
    target = tmp_path / f"case{ext}"
    target.write_bytes(_corrupt(original.read_bytes(), mutation, seed))
    try:
        result = pio.read(target)
    except PerovscopeError as exc:
        assert str(target) in str(exc) or target.name in str(exc), "the message must name the file"
        OUTCOMES[(source, mutation)] = "error"
        return
    try:
        _check_result(result)
    except PerovscopeError:
        OUTCOMES[(source, mutation)] = "error-on-compute"
        return
    OUTCOMES[(source, mutation)] = "valid"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("seed", range(40))
def test_bcf_single_byte_damage(data_file, tmp_path, seed):
    """One changed byte anywhere in an uncompressed .bcf. With RosettaSciIO's compiled hypermap parser
    (``fast=True``) 3 of these 40 files crash the interpreter (segfault, checked in subprocesses); the
    bounds-checked parser used by default must turn each into a valid map or a FormatError."""
    raw = bytearray(data_file("rosettasciio/test_TEM.bcf").read_bytes())
    rng = random.Random(seed)
    i = rng.randrange(len(raw))
    raw[i] = (raw[i] + 1 + rng.randrange(255)) % 256
    target = tmp_path / "damaged.bcf"
    target.write_bytes(bytes(raw))
    try:
        _check_result(pio.read(target))
        OUTCOMES[("bcf_1byte", str(seed))] = "valid"
    except PerovscopeError:
        OUTCOMES[("bcf_1byte", str(seed))] = "error"


@pytest.mark.parametrize("lazy", [True, False])
def test_velox_stream_with_out_of_range_channels(data_file, tmp_path, lazy):
    """Channel indices beyond the spectrum length in a Velox EDX stream (which a decoder without bounds
    checks would write outside its array) are a FormatError on both the lazy and the eager path."""
    h5py = pytest.importorskip("h5py")
    target = tmp_path / "velox.emd"
    target.write_bytes(data_file("rosettasciio/Test SI 16x16 215 kx.emd").read_bytes())
    with h5py.File(target, "r+") as fh:
        group = fh["Data/SpectrumStream"]
        for key in group:
            stream = group[key]["Data"][...]
            events = np.flatnonzero(stream[:, 0] != 65535)[:20]
            stream[events, 0] = 40000  # 4096 channels in this file
            group[key]["Data"][...] = stream
    with pytest.raises(PerovscopeError, match="velox.emd"):
        pio.read(target, lazy=lazy)


def test_fuzz_summary(capsys):
    """At least 100 corrupted inputs ran; empty files always give an error."""
    if not OUTCOMES:
        pytest.skip("no fuzz case ran (real data folder absent)")
    assert len(CASES) >= 100
    if len(OUTCOMES) != len(CASES) + 40:
        pytest.skip(f"summary needs the whole module (only {len(OUTCOMES)} cases ran, e.g. with -k)")
    assert all(OUTCOMES[(s, "empty")] == "error" for s in SOURCES)
    counts = {k: sum(v == k for v in OUTCOMES.values()) for k in ("error", "error-on-compute", "valid")}
    valid = sorted(f"{s}-{m}" for (s, m), v in OUTCOMES.items() if v == "valid")
    with capsys.disabled():
        print(f"\nfuzz: {len(OUTCOMES)} corrupted inputs: {counts}; parsed into valid signals: {valid}")
