"""perovscope's own results format: an :class:`xarray.DataTree` in a zarr store.

The store is readable by plain xarray (``xarray.open_datatree(path, engine="zarr")``) without
perovscope. Writes are atomic: the tree is written to a temporary sibling directory and renamed to
``path`` only when complete, and a completion marker is stored in the root attributes, so an
interrupted save never leaves a directory that :func:`open_results` accepts.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError, InputError

__all__ = ["save", "open_results", "COMPLETE_ATTR"]

#: Root attribute written last; its presence marks a complete results store.
COMPLETE_ATTR = "perovscope_complete"


def _json_safe(value):
    """Convert attribute values to JSON-serialisable Python objects (zarr attrs are JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _dt.datetime | _dt.date | np.datetime64):
        return str(np.datetime_as_string(np.datetime64(value))) if isinstance(value, np.datetime64) \
            else value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def _clean_attrs(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy(deep=False)
    ds.attrs = _json_safe(dict(ds.attrs))
    for name in list(ds.variables):
        ds[name].attrs = _json_safe(dict(ds[name].attrs))
        ds[name].encoding = {}
    return ds


def _as_tree(obj) -> xr.DataTree:
    if isinstance(obj, xr.DataTree):
        return obj
    if isinstance(obj, xr.Dataset):
        return xr.DataTree(dataset=obj)
    if isinstance(obj, xr.DataArray):
        name = obj.name if obj.name is not None else "data"
        return xr.DataTree(dataset=obj.to_dataset(name=str(name)))
    raise InputError(f"save: expected an xarray DataTree, Dataset or DataArray, got {type(obj).__name__}")


def save(obj, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write a tree of results to a zarr store atomically.

    Parameters
    ----------
    obj : xarray.DataTree, xarray.Dataset or xarray.DataArray
        What to write. Dask-backed variables are computed chunk by chunk while writing.
    path : path-like
        Destination directory (conventionally ``*.zarr``).
    overwrite : bool
        Replace an existing store at ``path``; otherwise raise :class:`InputError`.

    Returns
    -------
    pathlib.Path
        The final path.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputError(f"{path}: already exists; pass overwrite=True or choose another output path")
    tree = _as_tree(obj)
    tree = tree.map_over_datasets(_clean_attrs)
    root_attrs = dict(tree.attrs)
    root_attrs.pop(COMPLETE_ATTR, None)
    tree.attrs = root_attrs
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        tree.to_zarr(tmp, mode="w", consolidated=False)
        import zarr

        root = zarr.open_group(str(tmp), mode="r+")
        root.attrs[COMPLETE_ATTR] = True
        zarr.consolidate_metadata(str(tmp))  # plain xarray.open_datatree opens it without warnings
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def is_complete(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a results store whose save finished (used to resume interrupted runs)."""
    path = Path(path)
    if not path.is_dir():
        return False
    for meta in ("zarr.json", ".zattrs"):
        f = path / meta
        if f.is_file():
            try:
                doc = json.loads(f.read_text())
            except (OSError, ValueError):
                return False
            attrs = doc.get("attributes", doc) if meta == "zarr.json" else doc
            return bool(attrs.get(COMPLETE_ATTR, False))
    return False


def open_results(path: str | os.PathLike, *, chunks: dict | str | None = "auto") -> xr.DataTree:
    """Open a results store written by :func:`save` (lazily, dask-backed by default).

    Raises
    ------
    FormatError
        If ``path`` is missing, not a zarr store, or an incomplete (interrupted) save.
    """
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path}: no such results store")
    if not is_complete(path):
        raise FormatError(f"{path}: not a complete perovscope results store (interrupted save?); "
                          "re-run the command that writes it")
    try:
        tree = xr.open_datatree(path, engine="zarr", chunks=chunks, consolidated=False)
    except Exception as exc:  # noqa: BLE001 - any backend failure is a format problem for the user
        raise FormatError(f"{path}: cannot open as zarr results ({exc})") from exc
    return tree
