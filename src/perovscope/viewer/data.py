"""The viewer's data API over a results folder: map index, compact frame slices, timeline, events.

The store ``RESULTS/results.zarr`` (see docs/results-store.md) is opened once, lazily, with plain
xarray; a frame is read only when the browser asks for it and the encoded frame is kept in a small
least-recently-used cache, so stepping back and forth through a session does not touch the disk again.

A *map* is any variable over ``time`` and two spatial dimensions (``y, x`` or ``scan_y, scan_x``);
a map with an ``element`` dimension gives one entry per element (id ``group/name:Element``).
"""

from __future__ import annotations

import json
import math
import struct
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["ResultsData", "encode_frame", "decode_frame", "SPATIAL_DIMS"]

#: spatial dimension pairs of a map, (row, column)
SPATIAL_DIMS = (("y", "x"), ("scan_y", "scan_x"))
#: always shown on a colour range symmetric about zero
_SYMMETRIC_NAMES = {"exx", "eyy", "exy"}
#: at most this many values are read to compute a colour range (frames are strided beyond it)
_RANGE_SAMPLE = 4_000_000
#: the uint8 code of a missing value
U8_NAN = 255


def _names_attr(var, node, name: str) -> list[str] | None:
    """Category names of an integer label map, indexed by label value.

    From ``<name>_names``/``names``/``labels`` attrs (on the variable, then the group), or CF-style
    ``flag_values`` + ``flag_meanings`` (space-separated); booleans are ``["no", "yes"]``.
    """
    if var.dtype.kind == "b":
        return ["no", "yes"]
    if "flag_meanings" in var.attrs:
        meanings = str(var.attrs["flag_meanings"]).split()
        values = np.atleast_1d(var.attrs.get("flag_values", range(len(meanings)))).astype(int).tolist()
        if len(values) == len(meanings) and min(values, default=0) >= 0:
            names = [str(v) for v in range(max(values, default=-1) + 1)]
            for v, meaning in zip(values, meanings, strict=True):
                names[v] = meaning
            return names
    for attrs in (var.attrs, node.attrs):
        for key in (f"{name}_names", "names", "labels"):
            if key in attrs:
                value = attrs[key]
                if isinstance(value, str):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        value = [v.strip() for v in value.split(",")]
                return [str(v) for v in np.atleast_1d(value).tolist()]
    return None


def _axis(node, dim: str, size: int) -> dict:
    """First/last/step and unit of a spatial axis, from its coordinate when there is one."""
    if dim in node.coords:
        values = np.asarray(node.coords[dim].values, dtype=float)
        units = node.coords[dim].attrs.get("units", "nm")
    else:
        values, units = np.arange(size, dtype=float), "px"
    step = float(values[1] - values[0]) if values.size > 1 else 1.0
    return {"dim": dim, "size": int(size), "first": float(values[0]), "last": float(values[-1]),
            "step": step, "units": str(units),
            "extent": [float(values[0] - step / 2), float(values[-1] + step / 2)]}


def _time_s(node, n: int) -> list[float | None]:
    for name in ("time_s", "time"):
        if name in node.coords and node.coords[name].dims == ("time",):
            values = np.asarray(node.coords[name].values)
            if values.dtype.kind in "fiu":
                return [None if not np.isfinite(v) else float(v) for v in values.astype(float)]
    return [float(i) for i in range(n)]


def _robust_range(da, *, symmetric_name: bool) -> dict:
    """Colour range (1st–99th percentile over all frames) and the full finite min/max of a map."""
    n_time = int(da.sizes["time"])
    per_frame = max(1, da.size // max(n_time, 1))
    stride = max(1, math.ceil(da.size / _RANGE_SAMPLE))
    frame_stride = min(n_time, stride)
    pixel_stride = max(1, math.ceil(stride / frame_stride)) if per_frame > _RANGE_SAMPLE else 1
    sample = np.asarray(da.isel(time=slice(None, None, frame_stride)).values, dtype=float)
    sample = sample.reshape(sample.shape[0], -1)[:, ::pixel_stride]
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        return {"range": [0.0, 1.0], "data_range": [0.0, 1.0], "symmetric": False,
                "range_note": "no finite values"}
    lo, hi = (float(v) for v in np.percentile(finite, [1.0, 99.0]))
    out = {"data_range": [float(finite.min()), float(finite.max())], "symmetric": False}
    big, small = max(abs(lo), abs(hi)), min(abs(lo), abs(hi))
    spans_both = lo < 0 < hi and small >= 0.2 * big
    if symmetric_name or spans_both:
        half = big if big > 0 else 1.0
        out.update(range=[-half, half], symmetric=True,
                   range_note="symmetric about 0: " + ("strain component" if symmetric_name
                                                        else "values span both signs"))
    else:
        if hi <= lo:
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        out.update(range=[lo, hi], range_note="1st-99th percentile over all frames")
    return out


def encode_frame(frame: np.ndarray, *, fmt: str, meta: dict) -> bytes:
    """One 2-D frame as ``uint32 header length | JSON header (space-padded) | data``.

    ``fmt="f16"``: float16 of ``(v - offset) / scale`` with offset/scale normalising the frame's finite
    values to [-1, 1] (NaN stays NaN). ``fmt="u8"``: codes 0..254 over the frame's finite min..max, 255
    for NaN; for label maps the code is ``label - offset`` with ``scale = 1``. In both cases
    ``value = offset + scale * stored``; ``step`` in the header is the largest rounding error × 2.
    The data start at a multiple of 8 bytes, in C order (rows first), little-endian.
    """
    values = np.asarray(frame, dtype=float)
    finite = np.isfinite(values)
    lo = float(values[finite].min()) if finite.any() else 0.0
    hi = float(values[finite].max()) if finite.any() else 0.0
    if meta.get("categorical"):
        fmt, offset, scale = "u8", lo, 1.0
        if hi - lo > 254:
            raise InputError(f"label map {meta.get('var')} has more than 254 labels")
        codes = np.where(finite, np.rint(values - offset), U8_NAN).astype(np.uint8)
        data, step = codes.tobytes(), 0.0
    elif fmt == "u8":
        offset, scale = lo, (hi - lo) / 254.0 if hi > lo else 1.0
        codes = np.where(finite, np.rint((np.where(finite, values, lo) - offset) / scale), U8_NAN)
        data, step = codes.astype(np.uint8).tobytes(), scale
    elif fmt == "f16":
        offset = 0.5 * (lo + hi)
        scale = 0.5 * (hi - lo) if hi > lo else (abs(lo) or 1.0)
        z = ((values - offset) / scale).astype("<f2")
        data, step = z.tobytes(), scale * 2.0 ** -10
    else:
        raise InputError(f"unknown slice format {fmt!r}: use f16 or u8")
    header = dict(meta, dtype="uint8" if fmt == "u8" else "float16", shape=list(values.shape),
                  offset=offset, scale=scale, step=step, nan=U8_NAN if fmt == "u8" else "NaN",
                  frame_range=[lo, hi])
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-(4 + len(text))) % 8)
    return struct.pack("<I", len(text)) + text + data


def decode_frame(payload: bytes) -> tuple[dict, np.ndarray]:
    """Inverse of :func:`encode_frame`: the header and the frame's values as float64 (NaN kept)."""
    (n,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4:4 + n])
    shape = tuple(header["shape"])
    raw = np.frombuffer(payload, dtype="<f2" if header["dtype"] == "float16" else np.uint8, offset=4 + n)
    values = raw.reshape(shape).astype(float)
    if header["dtype"] == "uint8":
        values[raw.reshape(shape) == U8_NAN] = np.nan
    return header, header["offset"] + header["scale"] * values


class _LRU:
    """A small thread-safe least-recently-used cache bounded by total bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value: bytes) -> None:
        with self._lock:
            if key in self._items:
                self.size -= len(self._items.pop(key))
            self._items[key] = value
            self.size += len(value)
            while self.size > self.max_bytes and len(self._items) > 1:
                self.size -= len(self._items.popitem(last=False)[1])


def _jsonable_column(values: np.ndarray) -> list:
    values = np.asarray(values)
    if values.dtype.kind in "fiu":
        return [None if not np.isfinite(v) else (int(v) if values.dtype.kind in "iu" else float(v))
                for v in values.astype(float)]
    return [str(v) for v in values.tolist()]


class ResultsData:
    """Read-only access to ``RESULTS/results.zarr`` for the viewer (opened once, read lazily)."""

    def __init__(self, results: str | Path, *, cache_bytes: int = 256 * 2**20):
        import xarray as xr

        self.root = Path(results)
        if not self.root.is_dir():
            raise InputError(f"results folder {self.root} not found: give the folder `perovscope run` "
                             "wrote (the [session] output)")
        store = self.root / "results.zarr"
        if not store.is_dir():
            raise InputError(f"{self.root} is not a results folder (no results.zarr inside): give the "
                             "folder `perovscope run` wrote")
        try:
            self.tree = xr.open_datatree(store, engine="zarr", consolidated=False)
        except Exception as exc:  # a corrupt or foreign store: one line for the user
            raise InputError(f"{store} cannot be opened as a results store ({type(exc).__name__}: "
                             f"{exc}); re-run `perovscope run`") from None
        self._lock = threading.Lock()
        self._index: dict | None = None
        self._cache = _LRU(cache_bytes)

    # -- index -----------------------------------------------------------------------------------
    def _map_entries(self, path: str, node, name: str) -> list[dict]:
        var = node[name]
        dims = set(var.dims)
        spatial = next((pair for pair in SPATIAL_DIMS if set(pair) <= dims), None)
        extra = dims - {"time", *(spatial or ())}
        if spatial is None or "time" not in dims or not extra <= {"element"}:
            return []
        if var.dtype.kind not in "fiub":
            return []
        order = ("time", "element", *spatial) if extra else ("time", *spatial)
        var = var.transpose(*order)
        std_name = f"{name}_std" if f"{name}_std" in node.data_vars else None
        names = _names_attr(var, node, name) if var.dtype.kind in "iub" else None
        categorical = names is not None or (var.dtype.kind in "iub" and name in ("phase", "layer"))
        base = {"group": path, "name": name, "units": str(var.attrs.get("units", "")),
                "dims": list(order), "categorical": bool(categorical), "category_names": names,
                "long_name": var.attrs.get("long_name"), "uncertainty_of": None,
                "y": _axis(node, spatial[0], var.sizes[spatial[0]]),
                "x": _axis(node, spatial[1], var.sizes[spatial[1]]),
                "frames": int(var.sizes["time"]), "time_s": _time_s(node, int(var.sizes["time"]))}
        if name.endswith("_std") and name[:-4] in node.data_vars:
            base["uncertainty_of"] = f"{path}/{name[:-4]}"
        elements = [None]
        if extra:
            elements = [str(e) for e in (node.coords["element"].values if "element" in node.coords
                                         else range(var.sizes["element"]))]
        out = []
        for k, element in enumerate(elements):
            da = var.isel(element=k) if element is not None else var
            suffix = f":{element}" if element is not None else ""
            entry = dict(base, id=f"{path}/{name}{suffix}", element=element,
                         std=f"{path}/{std_name}{suffix}" if std_name else None,
                         shape=[int(da.sizes[spatial[0]]), int(da.sizes[spatial[1]])])
            if categorical:
                lo, hi = _robust_range(da, symmetric_name=False)["data_range"]
                entry.update(range=[lo, hi], data_range=[lo, hi], symmetric=False,
                             range_note="label values")
            else:
                entry.update(_robust_range(da, symmetric_name=name in _SYMMETRIC_NAMES))
            if entry["uncertainty_of"]:
                entry["uncertainty_of"] += suffix
            out.append(entry)
        return out

    def index(self) -> dict:
        """Every map variable of the store with its units, shape, extent, colour range and siblings."""
        with self._lock:
            if self._index is not None:
                return self._index
            entries = []
            for node in self.tree.subtree:
                path = node.path.strip("/")
                for name in node.data_vars:
                    entries.extend(self._map_entries(path, node, name))
            layer = next((e["id"] for e in entries if e["id"] == "grid/layer"), None)
            files = {k: f"/files/{k}" for k in ("report.html", "provenance.json", "session.toml")
                     if (self.root / k).is_file()}
            self._index = {
                "session": str(self.tree.attrs.get("session", self.root.name)),
                "perovscope_version": self.tree.attrs.get("perovscope_version"),
                "entries": entries, "layer": layer, "files": files,
                "groups": sorted({e["group"] for e in entries}),
                "has_timeline": "timeline" in self.tree.children,
                "has_events": "events" in self.tree.children,
            }
            self._entries = {e["id"]: e for e in entries}
            return self._index

    def entry(self, var_id: str) -> dict:
        """The index entry of a map id (``group/name`` or ``group/name:Element``); KeyError if none."""
        self.index()
        return self._entries[var_id]

    # -- slices ----------------------------------------------------------------------------------
    def frame_values(self, var_id: str, frame: int) -> np.ndarray:
        """The raw values of one frame of a map, ``(rows, cols)``, read from the store."""
        entry = self.entry(var_id)
        if not 0 <= frame < entry["frames"]:
            raise IndexError(f"frame {frame} outside 0..{entry['frames'] - 1}")
        node = self.tree[entry["group"]] if entry["group"] else self.tree
        da = node[entry["name"]].transpose(*entry["dims"]).isel(time=frame)
        if entry["element"] is not None:
            k = list(self.entry_elements(entry)).index(entry["element"])
            da = da.isel(element=k)
        return np.asarray(da.values)

    def entry_elements(self, entry: dict) -> list[str]:
        return [e["element"] for e in self._index["entries"]
                if e["group"] == entry["group"] and e["name"] == entry["name"]]

    def slice_bytes(self, var_id: str, frame: int, fmt: str = "f16") -> bytes:
        """One frame of a map encoded by :func:`encode_frame` (cached)."""
        key = (var_id, frame, fmt)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        entry = self.entry(var_id)
        values = self.frame_values(var_id, frame)
        meta = {"var": var_id, "frame": frame, "categorical": entry["categorical"],
                "time_s": entry["time_s"][frame]}
        payload = encode_frame(values, fmt=fmt, meta=meta)
        self._cache.put(key, payload)
        return payload

    # -- tables ----------------------------------------------------------------------------------
    def timeline(self) -> dict:
        """The ``timeline`` group as columns: time, frame, and every quantity with units and ``_std``."""
        if "timeline" not in self.tree.children:
            return {"time_s": [], "frame": [], "columns": {}}
        ds = self.tree["timeline"].to_dataset()
        n = int(ds.sizes.get("time", 0))
        if "time_s" in ds:
            time_s = _jsonable_column(ds["time_s"].values)
        else:
            time_s = _time_s(ds, n)
        frame = _jsonable_column(ds["frame"].values) if "frame" in ds else list(range(n))
        columns = {}
        for name, var in ds.data_vars.items():
            if var.dims != ("time",) or name.endswith("_std") or name in ("time_s", "frame"):
                continue
            if var.dtype.kind not in "fiub":
                continue
            std = ds[f"{name}_std"] if f"{name}_std" in ds else None
            columns[name] = {"units": str(var.attrs.get("units", "")),
                             "values": _jsonable_column(var.values),
                             "std": _jsonable_column(std.values) if std is not None else None}
        return {"time_s": time_s, "frame": frame, "columns": columns}

    def events(self) -> dict:
        """The ``events`` table as a list of rows (``frame`` −1: threshold not reached)."""
        if "events" not in self.tree.children:
            return {"events": []}
        ds = self.tree["events"].to_dataset()
        if not ds.sizes:
            return {"events": []}
        dim = next(iter(ds.sizes))
        n = int(ds.sizes[dim])
        cols = {name: _jsonable_column(ds[name].values) for name in ds.variables
                if ds[name].dims == (dim,)}
        rows = [{k: v[i] for k, v in cols.items()} for i in range(n)]
        return {"events": rows}
