"""Structural checks that turn truncated or corrupt files into clear errors before (or right after)
a third-party reader parses them.

Some readers silently accept damaged files (a Merlin ``.mib`` cut mid-frame loads as fewer frames) and
some compiled parsers read past the end of their buffers on damaged input (Bruker ``.bcf``). The checks
here are cheap (headers and container tables only, never the pixel data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import FormatError

__all__ = ["precheck", "postcheck"]


def _iter_items(tree):
    for value in tree.values():
        if isinstance(value, dict):
            yield from _iter_items(value)
        else:
            yield value


def _check_bcf(path: Path) -> None:
    """Every chunk of every file inside the SFS container must lie inside the .bcf file."""
    from rsciio.bruker._api import SFS_reader

    size = path.stat().st_size
    try:
        sfs = SFS_reader(str(path))
    except Exception as exc:  # noqa: BLE001
        raise FormatError(f"{path}: not a readable Bruker SFS container ({exc})") from exc
    if sfs.chunksize <= 32 or sfs.chunksize > 2**24:
        raise FormatError(f"{path}: implausible SFS chunk size {sfs.chunksize}; the file is corrupt")
    if sfs.chunksize * sfs.sfs_n_of_chunks + 0x118 > size:
        raise FormatError(f"{path}: the container declares {sfs.sfs_n_of_chunks} chunks of "
                          f"{sfs.chunksize} bytes but the file has {size} bytes; it is truncated")
    for item in _iter_items(sfs.vfs):
        if getattr(item, "is_dir", True) or item.size <= 0:
            continue
        pointers = np.asarray(getattr(item, "pointers", []))
        if pointers.size < item.size_in_chunks:
            raise FormatError(f"{path}: the chunk table of {item.name!r} is incomplete; the file is "
                              "truncated or corrupt")
        ends = pointers + sfs.usable_chunk
        tail = item.size % sfs.usable_chunk
        if tail and ends.size:
            ends[-1] = pointers[-1] + tail
        if pointers.size and (pointers.min() < 0 or ends.max() > size):
            raise FormatError(f"{path}: {item.name!r} extends beyond the end of the file; the file is "
                              "truncated")


def precheck(path: Path, fmt_name: str) -> None:
    """Checks run before the reader (raise :class:`FormatError`)."""
    if fmt_name == "bruker" and path.suffix.lower() == ".bcf":
        _check_bcf(path)


def _check_mib(path: Path, signals: list[dict]) -> None:
    props = (signals[0].get("original_metadata") or {}).get("mib_properties") or {}
    try:
        head = int(props["head_size"])
        frame = int(np.prod(props["merlin_size"])) * np.dtype(props["dtype"]).itemsize
    except (KeyError, TypeError, ValueError):
        return
    if props.get("raw") or head <= 0 or frame <= 0:
        return
    size = path.stat().st_size
    per_frame = head + frame
    if size % per_frame:
        raise FormatError(f"{path}: {size} bytes is not a whole number of {per_frame}-byte frames "
                          f"({size / per_frame:.2f}); the file is truncated")
    hdr = (signals[0].get("original_metadata") or {}).get("hdr_file") or {}
    expected = next((v for k, v in hdr.items() if str(k).startswith("Frames in Acquisition")), None)
    try:
        expected = int(str(expected).strip()) if expected is not None else None
    except ValueError:
        expected = None
    if expected and size // per_frame < expected:
        raise FormatError(f"{path}: holds {size // per_frame} frames but its header announces "
                          f"{expected}; the file is truncated")


def _check_msa(path: Path, signals: list[dict]) -> None:
    om = signals[0].get("original_metadata") or {}
    declared = om.get("NPOINTS")
    try:
        declared = int(float(declared)) * max(1, int(float(om.get("NCOLUMNS", 1) or 1)))
    except (TypeError, ValueError):
        return
    found = int(np.size(signals[0]["data"]))
    if declared != found:
        raise FormatError(f"{path}: the header declares {declared} points but {found} were read; the "
                          "file is truncated or corrupt")


def postcheck(path: Path, fmt_name: str, signals: list[dict]) -> None:
    """Checks run on the reader's output, before conversion (raise :class:`FormatError`)."""
    if fmt_name == "quantumdetector" and signals:
        _check_mib(path, signals)
    if fmt_name == "msa" and signals:
        _check_msa(path, signals)
