"""Header-declared sizes are checked against the file before anything is allocated or decoded.

A 4 KB random ``.blo`` once made the reader allocate 122 GiB, and ``random.seed(0)`` / ``seed(7)``
files kept it busy for more than ten minutes; a small HDF5 file can declare a terabyte dataset.
"""

from __future__ import annotations

import random
import struct
import tracemalloc
import warnings

import dask.array as dsa
import numpy as np
import pytest

import perovscope.io as pio
from perovscope.errors import FormatError
from perovscope.io._bounds import check_decoded_sizes, max_decoded_bytes


def _random_bytes(seed, n=4096):
    random.seed(seed)
    return bytes(random.getrandbits(8) for _ in range(n))


@pytest.mark.timeout(20)
@pytest.mark.parametrize("seed", [0, 7, 1, 2, 3])
def test_random_blockfile_fails_at_once(tmp_path, seed):
    path = tmp_path / "random.blo"
    path.write_bytes(_random_bytes(seed))
    with pytest.raises(FormatError, match="not a NanoMegas blockfile"):
        pio.read(path)


@pytest.mark.timeout(20)
def test_blockfile_header_declaring_more_than_the_file_holds(tmp_path):
    head = bytearray(_random_bytes(11))
    struct.pack_into("<6sHIIIHHHH", head, 0, b"IMGBLO", 0x0102, 0x1000, 0x1000 + 500 * 500, 0, 256, 0, 500,
                     500)
    path = tmp_path / "declares.blo"
    path.write_bytes(bytes(head))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"declares 500 x 500 patterns of 256 x 256 px .* truncated"):
            pio.read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated before failing"


def test_truncated_written_blockfile(tmp_path):
    from rsciio.blockfile import file_writer

    data = np.random.default_rng(0).integers(0, 255, size=(3, 4, 16, 16)).astype(np.uint8)
    axes = [{"name": n, "size": s, "scale": 1.0, "offset": 0.0, "units": u, "navigate": nav}
            for n, s, u, nav in (("y", 3, "nm", True), ("x", 4, "nm", True), ("ky", 16, "cm", False),
                                 ("kx", 16, "cm", False))]
    path = tmp_path / "scan.blo"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        file_writer(str(path), {"data": data, "axes": axes, "metadata": {}, "original_metadata": {},
                             "attributes": {"_lazy": False}})
    np.testing.assert_array_equal(pio.read(path).values, data)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FormatError, match="truncated"):
        pio.read(path)


@pytest.mark.timeout(20)
def test_hdf5_dataset_larger_than_its_storage(tmp_path):
    import h5py

    path = tmp_path / "huge.hspy"
    with h5py.File(path, "w") as fh:  # 1 TB declared, nothing written (fill value)
        fh.create_dataset("Experiments/s/data", shape=(10_000, 10_000, 5_000), dtype="u2",
                          chunks=(10, 10, 500), compression="gzip")
    assert path.stat().st_size < 100_000
    with pytest.raises(FormatError, match=r"declares \(10000, 10000, 5000\)"):
        pio.read(path)


def test_decoded_sizes_bound_lazy_arrays(tmp_path):
    path = tmp_path / "x.dm3"
    path.write_bytes(b"\0" * 4096)
    huge = {"data": dsa.zeros((100_000, 100_000), dtype=np.float32, chunks=(1000, 1000))}
    with pytest.raises(FormatError, match=r"declares an array of shape \(100000, 100000\)"):
        check_decoded_sizes(path, "digitalmicrograph", [huge])
    check_decoded_sizes(path, "digitalmicrograph", [{"data": dsa.zeros((32, 32), dtype=np.uint8)}])
    assert max_decoded_bytes("hspy", 1000) > max_decoded_bytes("digitalmicrograph", 1000)
