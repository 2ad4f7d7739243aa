"""Sizes declared by a file, checked against the file's own size before anything is allocated or decoded.

A damaged or foreign file can declare any shape in its header: a 4 KB file of random bytes named
``.blo`` declares tens of thousands of diffraction patterns, and a reader that trusts it allocates
hundreds of GiB or loops over millions of chunk descriptors. Two checks stop this for every format:

* :func:`check_header` runs *before* the reader, with perovscope's own parsing of the few header
  fields that size the data, for the formats whose readers allocate or iterate from the header
  without checking (NanoMegas blockfile, HDF5 containers: HyperSpy, EMD, Delmic).
* :func:`check_decoded_sizes` runs on the reader's output *before any pixel is decoded* (lazy formats
  are parsed lazily, so their arrays are only declared): every array may hold at most
  :func:`max_decoded_bytes` — the file size times the largest expansion the format's encoding allows
  (1 for raw formats, about 1000 for zlib, the channel count for sparse event streams).

Eager readers (Bruker, EMSA, DigitalSurf, LabSpec, text) are bounded by their own reads: Bruker
hypermaps are checked in :mod:`perovscope.io._bruker` before the map is allocated; the others read at
most the bytes in the file.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import FormatError

__all__ = ["check_header", "check_decoded_sizes", "max_decoded_bytes", "EXPANSION"]

#: Largest ratio of decoded bytes to file bytes each format's encoding allows.
EXPANSION = {
    "digitalmicrograph": 1.0, "quantumdetector": 1.0, "blockfile": 1.0, "tia": 1.0,
    "msa": 1.0, "jobinyvon": 1.0, "digitalsurf": 1100.0,  # optional zlib streams
    "hspy": 1100.0, "zspy": 1100.0, "delmic": 1100.0,  # zlib / blosc compressed chunks
    # sparse event streams: a pixel or an event costs at least 2 bytes, a decoded spectrum up to
    # channels x itemsize (4096 x 2)
    "emd": 8192.0, "jeol": 8192.0, "bruker": 8192.0,
}

#: Bytes any array may have beyond the bound (headers, padding, tiny files).
_SLACK = 1 << 20

_BLO_HEADER = struct.Struct("<6sHIIIHHHH")  # ID, MAGIC, offset VBF, offset DPs, flags, DP_SZ, rot, NX, NY
_BLO_FULL_HEADER = 6 + 2 + 4 * 3 + 2 * 5 + 8 * 2 + 4 + 2 + 4 + 8 + 8 * 22


def max_decoded_bytes(fmt_name: str, file_size: int) -> int:
    """The most bytes the arrays of a ``fmt_name`` file of ``file_size`` bytes can decode to."""
    return int(file_size * EXPANSION.get(fmt_name, 1100.0)) + _SLACK


def _human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _check_blockfile(path: Path, size: int) -> None:
    with open(path, "rb") as fh:
        head = fh.read(_BLO_FULL_HEADER)
    if len(head) < _BLO_FULL_HEADER:
        raise FormatError(f"{path}: {size} bytes is shorter than a blockfile header "
                          f"({_BLO_FULL_HEADER} bytes); the file is truncated or not a blockfile")
    ident, _magic, off_vbf, off_dp, _flags, dp, _rot, nx, ny = _BLO_HEADER.unpack_from(head)
    if ident != b"IMGBLO":
        raise FormatError(f"{path}: no IMGBLO signature; not a NanoMegas blockfile (or its header is "
                          "damaged)")
    if nx == 0 or ny == 0 or dp == 0:
        raise FormatError(f"{path}: the header declares an empty scan ({ny} x {nx} patterns of "
                          f"{dp} x {dp} px); the file is corrupt")
    need = off_dp + nx * ny * (6 + dp * dp)
    if not _BLO_FULL_HEADER <= off_vbf <= off_dp or need > size:
        raise FormatError(f"{path}: the header declares {ny} x {nx} patterns of {dp} x {dp} px "
                          f"({_human(need)} from byte {off_dp}) but the file has {_human(size)}; it is "
                          "truncated or corrupt")


def _check_hdf5(path: Path, size: int, fmt_name: str) -> None:
    """Every dataset's declared size against the bytes it occupies (compressed by at most the bound)."""
    import h5py
    import numpy as np

    limit = EXPANSION.get(fmt_name, 1100.0)
    problems = []

    def visit(name, obj):
        if problems or not isinstance(obj, h5py.Dataset) or obj.shape is None:
            return
        try:
            declared = int(np.prod(obj.shape, dtype=np.float64) * obj.dtype.itemsize)
        except (TypeError, ValueError):  # variable-length / opaque types: sized by their storage
            return
        if declared <= _SLACK:
            return
        stored = obj.id.get_storage_size()
        if obj.chunks is None and obj.compression is None and stored and stored < declared:
            problems.append(f"dataset {name!r} declares {_human(declared)} but stores {_human(stored)}")
        elif declared > stored * limit + _SLACK or declared > size * limit + _SLACK:
            problems.append(f"dataset {name!r} declares {obj.shape} ({_human(declared)}) but the file "
                            f"holds {_human(stored)} of it")

    try:
        with h5py.File(path, "r") as fh:
            fh.visititems(visit)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:  # h5py's errors on damage
        raise FormatError(f"{path}: cannot read the HDF5 structure ({type(exc).__name__}: "
                          f"{str(exc)[:200]}); the file is truncated or corrupt") from exc
    if problems:
        raise FormatError(f"{path}: {problems[0]}; the file is truncated or corrupt")


def check_header(path: Path, fmt_name: str) -> None:
    """Header-declared sizes against the file's size, before the reader runs (raise FormatError)."""
    if not path.is_file():
        return
    size = path.stat().st_size
    if fmt_name == "blockfile":
        _check_blockfile(path, size)
    elif fmt_name in ("hspy", "emd", "delmic"):
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                raise FormatError(f"{path}: not an HDF5 file (bad signature); the file is corrupt or "
                                  "not this format")
        _check_hdf5(path, size, fmt_name)


def _storage_size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    size = path.stat().st_size
    if path.suffix.lower() == ".mib":  # the header beside it holds no pixels; .emi + .ser pairs do
        return size
    if path.suffix.lower() in (".ser", ".emi"):
        return sum(p.stat().st_size for p in path.parent.glob(f"{path.stem.rsplit('_', 1)[0]}*")
                   if p.suffix.lower() in (".ser", ".emi"))
    return size


def check_decoded_sizes(path: Path, fmt_name: str, signals: list[dict]) -> None:
    """The arrays a reader declared (not yet decoded for lazy formats) against the bound for the file."""
    import numpy as np

    size = _storage_size(path)
    limit = max_decoded_bytes(fmt_name, size)
    for signal in signals:
        data = signal.get("data") if isinstance(signal, dict) else None
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", None)
        if shape is None or dtype is None:
            continue
        declared = float(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
        if declared > limit:
            raise FormatError(f"{path}: declares an array of shape {tuple(int(s) for s in shape)} "
                              f"({_human(declared)}) but the file has {_human(size)}; it is truncated, "
                              "corrupt or not this format")
