"""The results folder of a session: one zarr DataTree with a group per step, tables, provenance.

Layout and conventions: ``docs/results-store.md``. Every write is atomic: a group is written under
``RESULTS/.work/`` and renamed into ``RESULTS/results.zarr/`` when complete, and text files are
written to a temporary name and renamed, so a run killed at any point leaves only complete groups
(and partial work under ``.work/`` that the next run resumes from or discards).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from ..tabular import write_text_atomic

__all__ = ["STORE", "GroupCache", "init_store", "write_group", "write_dataset", "read_group", "group_attrs",
           "write_text", "open_session_results", "work_dir"]

#: Name of the zarr DataTree inside the results folder.
STORE = "results.zarr"


def work_dir(out: Path) -> Path:
    """``RESULTS/.work``: partial results of an interrupted run."""
    path = Path(out) / ".work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def init_store(out: Path, *, attrs: dict) -> Path:
    """Create ``RESULTS/results.zarr`` as an empty zarr group (kept if it exists) and set root attrs."""
    import zarr

    store = Path(out) / STORE
    if not (store / ".zgroup").is_file():
        tmp = work_dir(out) / f"root-{uuid.uuid4().hex[:8]}"
        zarr.open_group(str(tmp), mode="w").attrs.update(attrs)
        store.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, store)
    else:
        write_text(store / ".zattrs", json.dumps(attrs, indent=2, sort_keys=True))
    return store


def _jsonable_attrs(ds: xr.Dataset) -> xr.Dataset:
    def clean(attrs):
        out = {}
        for k, v in attrs.items():
            if isinstance(v, np.generic):
                v = v.item()
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, dict):
                v = json.dumps(v, sort_keys=True, default=str)
            elif isinstance(v, tuple):
                v = list(v)
            out[k] = v
        return out

    ds = ds.copy()
    ds.attrs = clean(ds.attrs)
    for name in ds.variables:
        ds[name].attrs = clean(ds[name].attrs)
    return ds


def write_dataset(target: Path, ds: xr.Dataset, *, tmp_dir: Path) -> Path:
    """Write ``ds`` as a zarr group at ``target`` atomically (written in ``tmp_dir``, then renamed)."""
    target, tmp_dir = Path(target), Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{target.name}.partial-{uuid.uuid4().hex[:8]}"
    ds = _jsonable_attrs(ds)
    for var in ds.variables.values():
        var.encoding = {}
    ds.to_zarr(tmp, mode="w", consolidated=False)
    if target.exists():
        trash = tmp_dir / f"{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target


def write_group(out: Path, name: str, ds: xr.Dataset) -> Path:
    """Write ``ds`` as group ``name`` of the results store, atomically (replacing an older one)."""
    return write_dataset(Path(out) / STORE / name, ds, tmp_dir=work_dir(out))


def group_attrs(out: Path, name: str) -> dict | None:
    """The attributes of group ``name`` (None when the group is absent), without opening arrays."""
    path = Path(out) / STORE / name / ".zattrs"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def read_group(out: Path, name: str) -> xr.Dataset:
    """Group ``name`` loaded into memory."""
    with xr.open_zarr(Path(out) / STORE / name, consolidated=False) as ds:
        return ds.load()


class GroupCache:
    """Groups of one results store read once: a group is read again only after it was rewritten.

    A rewritten group is a new directory (written aside and renamed), so the inode, size and time of
    its ``.zattrs`` tell a fresh group from the one read before; the data always come from the store,
    so a straight run and a resumed one see the same bytes.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self._memo: dict[str, tuple[tuple, xr.Dataset]] = {}

    def read(self, name: str) -> xr.Dataset:
        """Group ``name`` (see :func:`read_group`)."""
        st = (self.out / STORE / name / ".zattrs").stat()
        sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._memo.get(name)
        if hit is None or hit[0] != sig:
            hit = (sig, read_group(self.out, name))
            self._memo[name] = hit
        return hit[1]


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_text_atomic(path, text)


def open_session_results(out) -> xr.DataTree:
    """The results store of a session folder as a (lazy) DataTree."""
    from ..errors import FormatError

    store = Path(out) / STORE
    if not (store / ".zgroup").is_file():
        raise FormatError(f"{out}: not a perovscope session results folder (no {STORE}); "
                          "run `perovscope run session.toml` first")
    return xr.open_datatree(store, engine="zarr", consolidated=False)
