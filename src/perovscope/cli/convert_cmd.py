"""``perovscope convert FILE OUT.zarr``: any supported file -> a perovscope results store.

The file is read with :func:`perovscope.io.read` (lazily where possible) and written with
:func:`perovscope.io.save`, chunk by chunk, atomically (a temporary directory renamed when complete).
Every signal is stored as a node named by its kind holding a variable of the same name
(``haadf/haadf``, ``4dstem/4dstem``); a text log (Dataset) is stored at the root.
The store opens with plain ``xarray.open_datatree(OUT, engine="zarr")``, and with
``perovscope.io.open_results`` / ``perovscope.io.read``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError


def run(args) -> int:
    """Handler of ``perovscope convert``."""
    import xarray as xr

    from ..io import read, save
    from ..progress import dask_progress
    from .inspect_cmd import quiet_reader_logs

    quiet_reader_logs()
    src, out = Path(args.file), Path(args.output)
    if out.suffix.lower() != ".zarr":
        raise InputError(f"{out}: the output must be a .zarr directory (e.g. {src.stem}.zarr)")
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise InputError(f"{out}: the output would overwrite the input")
    if out.exists() and not args.overwrite:
        raise InputError(f"{out}: already exists; pass --overwrite to replace it")
    obj = read(src)
    if isinstance(obj, xr.DataArray):  # one signal: stored as node KIND/KIND like multi-signal files
        name = str(obj.name or obj.attrs.get("signal") or "data")
        obj = xr.DataTree(children={name: xr.DataTree(dataset=obj.rename(name).to_dataset())})
    with dask_progress(enabled=not args.quiet, label=f"convert {src.name}"):
        save(obj, out, overwrite=args.overwrite)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add ``convert`` to ``subparsers``."""
    p = subparsers.add_parser(
        "convert", help="convert an instrument file to a perovscope .zarr results store",
        description="Read any supported instrument file and write it as a perovscope .zarr store "
                    "(chunked, compressed, atomic; readable by xarray without perovscope).")
    p.add_argument("file", metavar="FILE", help="input file (any supported format)")
    p.add_argument("output", metavar="OUT.zarr", help="output store (a directory ending in .zarr)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT.zarr if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    p.set_defaults(func=run)
