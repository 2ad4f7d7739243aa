"""Bruker powder-XRD files: ``.brml`` (a zip archive) and its ``RawData*.xml`` payload.

A RawData document lists one ``<Datum>`` per measured step: comma-separated values whose columns are
described by ``<DataViews>`` (``MeasuredTime``, ``AbsorptionFactor``, the scan axes ``TwoTheta`` and
``Theta``, then the detector counts). The result is a :class:`xarray.DataArray` of counts over
``two_theta`` in degrees, with the anode's Kα1 wavelength, the scan type and the start time as
attributes. No RosettaSciIO reader covers this format, so it is parsed here with :mod:`zipfile` and
:mod:`xml.etree.ElementTree` (read-only, no external entities).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import xarray as xr

from .. import dims
from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_bruker_xrd", "parse_rawdata"]

_MAX_XML_BYTES = 512 * 2**20


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find_all(root, name):
    return [el for el in root.iter() if _local(el.tag) == name]


def _columns(root) -> tuple[int, int]:
    """Column indices of 2θ and of the counts in each Datum (defaults 2 and last)."""
    two_theta, counts = None, None
    for view in _find_all(root, "RawDataView"):
        start = int(view.get("Start", "0"))
        fields = [f.get("FieldName") or f.get("AxisId") for f in _find_all(view, "FieldDefinitions")]
        if "TwoTheta" in fields:
            two_theta = start + fields.index("TwoTheta")
        if any(_local(c.tag) == "Recording" for c in view.iter()) and counts is None:
            counts = start
    return (2 if two_theta is None else two_theta), (-1 if counts is None else counts)


def parse_rawdata(xml_bytes: bytes, source: str) -> xr.DataArray:
    """Parse the bytes of a Bruker RawData XML document into a DataArray over ``two_theta``."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise FormatError(f"{source}: malformed XML ({exc}); the file is truncated or corrupt") from exc
    if _local(root.tag) != "RawData":
        raise FormatError(f"{source}: not a Bruker RawData document (root element <{_local(root.tag)}>)")
    rows = [d.text or "" for d in _find_all(root, "Datum")]
    if not rows:
        raise FormatError(f"{source}: no <Datum> measurement rows")
    ix, iy = _columns(root)
    try:
        table = np.array([[float(v) for v in r.split(",")] for r in rows], dtype=float)
    except ValueError as exc:
        raise FormatError(f"{source}: non-numeric or ragged <Datum> rows ({exc})") from exc
    if table.ndim != 2 or table.shape[1] <= max(ix, iy if iy >= 0 else 0):
        raise FormatError(f"{source}: <Datum> rows have too few columns ({table.shape})")
    meta = {}
    for name in ("TimeStampStarted", "TimeStampFinished", "MeasurementStatus"):
        el = next(iter(_find_all(root, name)), None)
        if el is not None and el.text:
            meta[name] = el.text.strip()
    for name in ("WaveLengthAlpha1", "WaveLengthAlpha2", "WaveLengthAverage"):
        el = next(iter(_find_all(root, name)), None)
        if el is not None:
            meta[name] = {"value": el.get("Value"), "unit": el.get("Unit")}
    tube = next(iter(_find_all(root, "TubeMaterial")), None)
    scan = next(iter(_find_all(root, "ScanInformation")), None)
    attrs = {"signal": "xrd", "units": "counts", "source_file": source, "format": "bruker_xrd",
             "title": scan.get("VisibleName", "XRD scan") if scan is not None else "XRD scan"}
    if tube is not None and tube.text:
        attrs["anode"] = tube.text.strip()
    if "WaveLengthAlpha1" in meta:
        try:
            attrs["xray_wavelength_A"] = float(meta["WaveLengthAlpha1"]["value"])
        except (TypeError, ValueError):
            pass
    if "TimeStampStarted" in meta:
        attrs["acquired"] = meta["TimeStampStarted"]
    attrs["original_metadata"] = dumps_json(meta)
    coord = xr.Variable(dims.TWO_THETA, table[:, ix], attrs={"units": "deg", "long_name": "2θ"})
    return xr.DataArray(table[:, iy], dims=[dims.TWO_THETA], coords={dims.TWO_THETA: coord}, name="xrd",
                        attrs=attrs)


def read_bruker_xrd(path: Path) -> xr.DataArray | xr.DataTree:
    """Read a ``.brml`` archive (every ``RawData*.xml`` scan inside) or a RawData ``.xml`` file.

    A ``.brml`` with several scans gives a DataTree with nodes ``xrd``, ``xrd_1``, ...
    """
    path = Path(path)
    source = str(path)
    if path.suffix.lower() != ".brml":
        return parse_rawdata(path.read_bytes(), source)
    try:
        with zipfile.ZipFile(path, "r") as archive:
            names = sorted((n for n in archive.namelist() if re.search(r"RawData\d*\.xml$", n)),
                           key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)])
            if not names:
                raise FormatError(f"{path}: no RawData*.xml scan inside this .brml archive")
            payloads = []
            for name in names:
                if archive.getinfo(name).file_size > _MAX_XML_BYTES:
                    raise FormatError(f"{path}: {name} is implausibly large; refusing to unpack it")
                payloads.append(archive.read(name))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise FormatError(f"{path}: not a readable .brml (zip) archive ({exc})") from exc
    arrays = [parse_rawdata(p, f"{source}:{n}") for p, n in zip(payloads, names, strict=True)]
    for arr in arrays:
        arr.attrs["source_file"] = source
    if len(arrays) == 1:
        return arrays[0]
    children = {("xrd" if i == 0 else f"xrd_{i}"): xr.DataTree(dataset=a.rename(
        "xrd" if i == 0 else f"xrd_{i}").to_dataset()) for i, a in enumerate(arrays)}
    return xr.DataTree(children=children)
