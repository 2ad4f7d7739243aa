"""PicoQuant PTU files (TTTR photon records): the header tags, T3 records, and decay histograms.

A PTU file is ``PQTTTR\\0\\0``, an 8-byte version, then tagged header entries — a 32-byte name, an
``int32`` index (-1 for scalars), a ``uint32`` type code and an 8-byte value, followed by the payload
of strings, float arrays and blobs — up to ``Header_End``, then ``TTResult_NumberOfRecords`` 32-bit
records. In T3 mode every photon record carries the number of the sync (laser) period ``nsync``
(macro-time) and the delay ``dtime`` after the sync in units of ``MeasDesc_Resolution`` (micro-time);
special records mark overflows of ``nsync`` and external markers. Histogramming the micro-times of
each detector channel gives the fluorescence decay. Records are decoded with vectorised NumPy bit
operations; overflows are accumulated with a cumulative sum.

Layouts (bit 31 first): PicoHarp T3 ``channel:4 | dtime:12 | nsync:16`` (channel 15 = special,
overflow when its low 4 dtime bits are 0, adding 65536); HydraHarp, TimeHarp 260, MultiHarp and
generic T3 ``special:1 | channel:6 | dtime:15 | nsync:10`` (channel 63 = overflow adding 1024 times
``nsync``, or 1024 for HydraHarp v1; channels 1–15 = markers).

References
----------
.. [1] PicoQuant GmbH, "PTU file format" and the TTTR demo readers in PicoQuant's ``PTU_Demos``
   repository (record layouts, tag type codes).
.. [2] W. Becker, Advanced Time-Correlated Single Photon Counting Techniques, Springer (2005), ch. 3.
"""

from __future__ import annotations

import datetime as _dt
import struct
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_ptu", "read_ptu_header", "read_ptu_records", "decode_t3", "RECORD_TYPES"]

_MAGIC = b"PQTTTR\x00\x00"
_TY = {0xFFFF0008: "empty", 0x00000008: "bool", 0x10000008: "int", 0x11000008: "int", 0x12000008: "int",
       0x20000008: "float", 0x21000008: "datetime", 0x2001FFFF: "float_array", 0x4001FFFF: "ansi",
       0x4002FFFF: "wide", 0xFFFFFFFF: "blob"}
#: Record type code -> (name, T3 layout or None for T2 records).
RECORD_TYPES = {0x00010303: ("PicoHarpT3", "picoharp"), 0x00010203: ("PicoHarpT2", None),
                0x00010304: ("HydraHarpT3", "hydraharp1"), 0x00010204: ("HydraHarpT2", None),
                0x01010304: ("HydraHarp2T3", "hydraharp2"), 0x01010204: ("HydraHarp2T2", None),
                0x00010305: ("TimeHarp260NT3", "hydraharp2"), 0x00010205: ("TimeHarp260NT2", None),
                0x00010306: ("TimeHarp260PT3", "hydraharp2"), 0x00010206: ("TimeHarp260PT2", None),
                0x00010307: ("GenericT3", "hydraharp2"), 0x00010207: ("GenericT2", None)}
_MAX_TAGS = 100_000


def read_ptu_header(path) -> tuple[dict, int]:
    """Parse the tags of a PTU file: ``({name: value or list of values}, offset of the records)``."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    size = path.stat().st_size
    tags: dict = {}
    with open(path, "rb") as fh:
        if fh.read(8) != _MAGIC:
            raise FormatError(f"{path}: not a PicoQuant PTU file (missing 'PQTTTR' signature)")
        tags["File_Version"] = fh.read(8).rstrip(b"\x00 ").decode("ascii", "replace")
        for _ in range(_MAX_TAGS):
            entry = fh.read(48)
            if len(entry) < 48:
                raise FormatError(f"{path}: header ends before 'Header_End' (truncated file)")
            ident = entry[:32].split(b"\x00", 1)[0].decode("ascii", "replace")
            idx, typ = struct.unpack("<iI", entry[32:40])
            kind = _TY.get(typ)
            if kind is None:
                raise FormatError(f"{path}: unknown tag type 0x{typ:08X} for {ident!r}; corrupt header")
            raw = entry[40:48]
            if kind in ("float_array", "ansi", "wide", "blob"):
                length = struct.unpack("<q", raw)[0]
                if length < 0 or fh.tell() + length > size:
                    raise FormatError(f"{path}: tag {ident!r} claims {length} bytes past the end of file")
                payload = fh.read(length)
                if kind == "float_array":
                    value = np.frombuffer(payload[: length // 8 * 8], dtype="<f8").tolist()
                elif kind == "ansi":
                    value = payload.split(b"\x00", 1)[0].decode("latin-1")
                elif kind == "wide":
                    value = payload.decode("utf-16-le", "replace").split("\x00", 1)[0]
                else:
                    value = f"<{length} bytes>"
            elif kind == "float":
                value = struct.unpack("<d", raw)[0]
            elif kind == "datetime":
                days = struct.unpack("<d", raw)[0]
                try:
                    value = (_dt.datetime(1899, 12, 30) + _dt.timedelta(days=days)).isoformat()
                except (OverflowError, ValueError):
                    value = days
            elif kind == "empty":
                value = None
            else:
                value = struct.unpack("<q", raw)[0]
                value = bool(value) if kind == "bool" else value
            if ident == "Header_End":
                return tags, fh.tell()
            if idx >= 0:
                seq = tags.setdefault(ident, [])
                if not isinstance(seq, list):
                    seq = tags[ident] = [seq]
                seq.extend([None] * (idx + 1 - len(seq)))
                seq[idx] = value
            else:
                tags[ident] = value
    raise FormatError(f"{path}: more than {_MAX_TAGS} header tags; corrupt header")


def _need(tags, name, path):
    if name not in tags:
        raise FormatError(f"{path}: header tag {name!r} missing; cannot interpret the records")
    return tags[name]


def read_ptu_records(path):
    """``(tags, records)``: the header and the raw ``uint32`` records (size checked against the file)."""
    path = Path(path)
    tags, offset = read_ptu_header(path)
    n = int(_need(tags, "TTResult_NumberOfRecords", path))
    bits = int(tags.get("TTResultFormat_BitsPerRecord", 32))
    if bits != 32:
        raise FormatError(f"{path}: {bits}-bit records are not supported (32-bit TTTR records only)")
    available = (path.stat().st_size - offset) // 4
    if n < 0 or n > available:
        raise FormatError(f"{path}: header declares {n} records but the file holds {available} "
                          "(truncated file)")
    with open(path, "rb") as fh:
        fh.seek(offset)
        records = np.fromfile(fh, dtype="<u4", count=n)
    return tags, records


def decode_t3(records, record_type: int) -> dict:
    """Decode T3 records: ``channel`` (detector, -1 for special records), ``dtime``, ``nsync``
    (macro-time in sync periods, overflow-corrected, uint64), ``marker`` (0 or marker bits).

    Raises
    ------
    FormatError
        A T2 or unknown record type.
    """
    name, layout = RECORD_TYPES.get(int(record_type), (f"0x{int(record_type):08X}", None))
    if layout is None:
        raise FormatError(f"record type {name} has no micro-times (T2 mode or unknown); a decay "
                          "histogram needs T3 records")
    r = np.asarray(records, dtype=np.uint32)
    if layout == "picoharp":
        nsync = (r & 0xFFFF).astype(np.uint64)
        dtime = ((r >> 16) & 0xFFF).astype(np.int32)
        chan = (r >> 28).astype(np.int16)
        special = chan == 15
        overflow = special & ((dtime & 0xF) == 0)
        marker = np.where(special & ~overflow, dtime & 0xF, 0).astype(np.uint8)
        wraps = np.where(overflow, 65536, 0).astype(np.uint64)
        photon_chan = chan
    else:
        nsync = (r & 0x3FF).astype(np.uint64)
        dtime = ((r >> 10) & 0x7FFF).astype(np.int32)
        chan = ((r >> 25) & 0x3F).astype(np.int16)
        special = (r >> 31).astype(bool)
        overflow = special & (chan == 63)
        marker = np.where(special & (chan >= 1) & (chan <= 15), chan, 0).astype(np.uint8)
        count = np.ones_like(nsync) if layout == "hydraharp1" else np.where(nsync == 0, 1, nsync)
        wraps = np.where(overflow, count * 1024, 0).astype(np.uint64)
        photon_chan = chan + 1  # PicoQuant numbers the detector inputs from 1
    offset = np.cumsum(wraps, dtype=np.uint64)
    photon = ~special
    return {"channel": np.where(photon, photon_chan, -1).astype(np.int16),
            "dtime": np.where(photon, dtime, -1).astype(np.int32),
            "nsync": np.where(overflow, 0, nsync) + offset, "marker": marker, "overflow": overflow}


def read_ptu(path, *, segments: int | None = None) -> xr.DataArray:
    """Histogram the micro-times of a T3 PTU file: photon counts per detector and delay channel.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.ptu`` file (opened read-only).
    segments : int, optional
        Also split the acquisition into this many equal macro-time segments (a series of decays
        along ``time``, in s, e.g. for photo-bleaching or ageing under illumination).

    Returns
    -------
    xarray.DataArray
        Counts ``(detector, delay)`` (or ``(time, detector, delay)``), ``delay`` in ns at the start of
        each micro-time bin (one sync period), ``detector`` the input channel numbers; ``attrs``:
        ``record_type``, ``number_records``, ``number_photons``, ``number_overflows``,
        ``number_markers``, ``resolution_s``, ``sync_rate_hz``, ``sync_period_s``,
        ``acquisition_time_s``, ``ns_per_channel`` and the header tags as JSON (``original_metadata``).

    Raises
    ------
    FormatError
        Not a PTU file, truncated, T2 records, missing timing tags.
    """
    path = Path(path)
    tags, records = read_ptu_records(path)
    rtype = int(_need(tags, "TTResultFormat_TTTRRecType", path))
    try:
        rec = decode_t3(records, rtype)
    except FormatError as exc:
        raise FormatError(f"{path}: {exc}") from None
    res = float(_need(tags, "MeasDesc_Resolution", path))
    sync_rate = float(tags.get("TTResult_SyncRate") or 0.0)
    period = float(tags.get("MeasDesc_GlobalResolution") or (1.0 / sync_rate if sync_rate > 0 else 0.0))
    if not (res > 0 and period > 0):
        raise FormatError(f"{path}: no usable MeasDesc_Resolution / sync period in the header")
    photon = rec["channel"] >= 0
    chans, dt = rec["channel"][photon], rec["dtime"][photon]
    detectors = np.unique(chans)
    if detectors.size == 0:
        raise FormatError(f"{path}: the records hold no photons")
    ratio = period / res
    per_period = int(round(ratio)) if abs(ratio - round(ratio)) < 1e-3 else int(np.ceil(ratio))
    nbins = max(per_period, int(dt.max()) + 1)
    det_idx = np.searchsorted(detectors, chans)
    delay = np.arange(nbins) * res * 1e9
    coords = {"detector": ("detector", detectors.astype(int)), "delay": ("delay", delay, {"units": "ns"})}
    dims = ("detector", "delay")
    if segments is None:
        hist = np.bincount(det_idx * nbins + dt, minlength=detectors.size * nbins)
        hist = hist.reshape(detectors.size, nbins)
    else:
        nseg = int(segments)
        if nseg < 1:
            raise FormatError(f"{path}: segments must be >= 1, got {segments}")
        macro = rec["nsync"][photon].astype(float) * period
        total = float(tags.get("MeasDesc_AcquisitionTime", 0.0)) * 1e-3 or float(macro.max())
        seg = np.minimum((macro / total * nseg).astype(np.int64), nseg - 1)
        hist = np.bincount((seg * detectors.size + det_idx) * nbins + dt,
                           minlength=nseg * detectors.size * nbins).reshape(nseg, detectors.size, nbins)
        edges = np.linspace(0.0, total, nseg + 1)
        coords["time"] = ("time", 0.5 * (edges[:-1] + edges[1:]), {"units": "s"})
        dims = ("time",) + dims
    name = RECORD_TYPES[rtype][0]
    acq = tags.get("MeasDesc_AcquisitionTime")
    attrs = {"signal": "trpl", "units": "counts", "source_file": str(path), "format": "ptu",
             "record_type": name, "number_records": int(records.size), "number_photons": int(photon.sum()),
             "number_overflows": int(rec["overflow"].sum()), "number_markers": int((rec["marker"] > 0).sum()),
             "resolution_s": res, "sync_period_s": period, "sync_rate_hz": sync_rate or 1.0 / period,
             "ns_per_channel": res * 1e9,
             "acquisition_time_s": float(acq) * 1e-3 if acq is not None else float("nan"),
             "original_metadata": dumps_json(tags)}
    return xr.DataArray(hist.astype(np.int64), dims=dims, coords=coords, attrs=attrs, name="counts")
