"""``perovscope.io.read``: any supported instrument file -> labelled arrays.

Instrument formats are read through RosettaSciIO and converted to the data model of
:mod:`perovscope.dims` (see :mod:`perovscope.io._signals`); plain text spectra, bias logs and Bruker
XRD files are read by perovscope itself; perovscope's own ``.zarr`` results are opened with
:func:`perovscope.io.open_results`. Every failure caused by the file (missing, empty, a directory,
unknown extension, truncated or corrupt content) is raised as :class:`~perovscope.errors.InputError`
or :class:`~perovscope.errors.FormatError` naming the file and the reason.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import xarray as xr

from ..errors import FormatError, InputError, PerovscopeError
from ._bounds import check_decoded_sizes, check_header
from ._signals import assemble, signal_to_dataarray
from ._validate import postcheck, precheck
from .formats import Format, detect_format
from .results import open_results

__all__ = ["read"]

#: What perovscope's own text/XRD/zarr readers raise on a damaged file.
_OWN_READER_ERRORS = (OSError, ValueError, KeyError, IndexError, UnicodeError, EOFError, zlib.error,
                      zipfile.BadZipFile, ElementTree.ParseError)

#: Options that could make a reader write next to, or into, the input file.
_FORBIDDEN_OPTIONS = {"mode": "input files are opened read-only", "dump_xml": "would write files"}


def _check_path(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        if path.suffix.lower() in (".zarr", ".zspy"):
            return path
        raise InputError(f"{path}: is a directory, not a data file; pass one of the files inside it")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise FormatError(f"{path}: empty file (0 bytes)")
    if path.suffix.lower() == ".hdr":
        mib = path.with_suffix(".mib")
        if not mib.is_file():
            raise FormatError(f"{path}: a Merlin header without its data file {mib.name}")
        return mib
    return path


def _reader_kwargs(func, fmt: Format, path: Path, lazy: bool, options: dict) -> dict:
    for key, why in _FORBIDDEN_OPTIONS.items():
        if key in options:
            raise InputError(f"read({path.name}): option {key!r} is not allowed ({why})")
    params = inspect.signature(func).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in options if k not in params and k != "lazy")
    if unknown and not takes_any:
        valid = sorted(k for k in params if k not in ("filename", "path", "lazy"))
        raise InputError(f"read({path.name}): unknown option(s) {', '.join(unknown)} for the {fmt.name} "
                         f"format; valid: {', '.join(valid) or 'none'}")
    kwargs = dict(options)
    if "lazy" in params:
        # lazy formats are always decoded through the reader's lazy path (validated, e.g. Velox streams
        # go through bounds-checked sparse arrays) and loaded afterwards when lazy=False
        kwargs["lazy"] = bool(fmt.lazy)
    if fmt.name == "zspy":
        kwargs["mode"] = "r"  # RosettaSciIO opens lazy zspy stores read-write unless told otherwise
    return kwargs


def _call_reader(func, path: Path, fmt: Format, kwargs: dict) -> tuple[list, str | None]:
    """Run a RosettaSciIO reader; a reader that refuses lazy reading is run again eagerly.

    Returns the signals and, when the data were read into memory although a lazy read was asked
    for, the reason (recorded in ``attrs["lazy_fallback"]``).
    """
    try:
        return func(str(path), **kwargs), None
    except NotImplementedError as exc:
        if not kwargs.get("lazy") or "lazy" not in str(exc).lower():
            raise
        eager = dict(kwargs, lazy=False)
        return func(str(path), **eager), (f"read into memory: the {fmt.description} reader cannot read "
                                          "lazily")


def _reader_failure(path: Path, fmt: Format, exc: Exception) -> FormatError:
    if isinstance(exc, ModuleNotFoundError):
        missing = exc.name or (re.findall(r"'([\w.-]+)'", str(exc)) or ["a missing package"])[0]
        return FormatError(f"{path}: reading this {fmt.description} file needs the package "
                           f"{missing!r}, which is not installed (pip install {missing})")
    if isinstance(exc, MemoryError):
        return FormatError(f"{path}: the reader ran out of memory decoding this {fmt.description} file; "
                           "it is corrupt, or larger than this machine can hold (read it lazily)")
    reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return FormatError(f"{path}: cannot read as {fmt.description} ({type(exc).__name__}"
                       f"{': ' + reason if reason else ''}); the file is truncated, corrupt or not "
                       "this format")


def _read_rsciio(path: Path, fmt: Format, lazy: bool, options: dict):
    try:
        module = importlib.import_module(fmt.module)
    except ImportError as exc:
        raise FormatError(f"{path}: reading {fmt.description} files needs a package that is not "
                          f"installed ({exc})") from exc
    func = module.file_reader
    kwargs = _reader_kwargs(func, fmt, path, lazy, options)
    precheck(path, fmt.name)
    check_header(path, fmt.name)
    try:
        signals, fallback = _call_reader(func, path, fmt, kwargs)
    except PerovscopeError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the third-party reader raises is a file problem
        raise _reader_failure(path, fmt, exc) from exc
    if not isinstance(signals, list | tuple) or not signals:
        raise FormatError(f"{path}: no signal found in this {fmt.description} file")
    signals = list(signals)
    check_decoded_sizes(path, fmt.name, signals)
    postcheck(path, fmt.name, signals)
    if fallback is None and lazy and not fmt.lazy:
        fallback = f"read into memory: {fmt.description} files cannot be read lazily"
    source = str(path)
    arrays = [signal_to_dataarray(s, fmt=fmt.name, source=source, default_kind=fmt.default_kind)
              for s in signals]
    if fallback is not None and lazy:
        for a in arrays:
            a.attrs["lazy_fallback"] = fallback
    result = assemble(arrays, source=source, fmt=fmt.name)
    return result if lazy else result.load()


def _read_own(path: Path, fmt: Format, lazy: bool, options: dict):
    if fmt.name == "results":
        if not path.is_dir():
            raise FormatError(f"{path}: a .zarr results store must be a directory")
        _reader_kwargs(open_results, fmt, path, lazy, options)
        return open_results(path, **options) if lazy else open_results(path, chunks=None, **options)
    if fmt.name == "text":
        from .text import read_text as func
    else:
        from .xrd import read_bruker_xrd as func
    return func(path, **_reader_kwargs(func, fmt, path, lazy, options))


def read(path: str | os.PathLike, *, lazy: bool = True, **format_options) -> xr.DataArray | xr.DataTree:
    """Read an instrument file into perovscope's data model.

    Parameters
    ----------
    path : path-like
        The file (a ``.zarr`` results store or ``.zspy`` store may be a directory). A Merlin
        ``.hdr`` header may be given for its ``.mib``.
    lazy : bool
        Return dask-backed arrays for the formats that allow it (Merlin mib, Gatan dm3/dm4, EMD,
        HyperSpy hspy/zspy, blockfile, TIA, JEOL pts, Delmic, zarr results); no data are read until
        computed. Bruker bcf, EMSA, LabSpec, XRD and text files are always read eagerly.
    **format_options
        Passed to the format's reader (e.g. ``navigation_shape=(4, 2)`` for a Merlin file without
        its header, ``select_type="images"`` for Velox EMD, ``signal="all"`` for Delmic,
        ``dim="energy", units="eV"`` for a two-column text file).

    Returns
    -------
    xarray.DataArray or xarray.DataTree
        One signal as a DataArray named by its kind (``attrs["signal"]``), several signals as a
        DataTree with one node per signal (``tree["eds/eds"]``, ``tree["haadf/haadf"]``), a bias
        log as a Dataset over ``time``.

    Raises
    ------
    InputError
        Missing path, a directory, an unknown format option.
    FormatError
        Empty, truncated or corrupt file, unknown extension, or a file the reader cannot interpret.

    Examples
    --------
    >>> import perovscope.io as pio
    >>> si = pio.read("Test SI 16x16 215 kx.emd")     # doctest: +SKIP
    >>> si["eds/eds"].sum("energy")                     # doctest: +SKIP
    """
    path = _check_path(Path(path).expanduser())
    fmt = detect_format(path)
    if fmt.module is not None:
        return _read_rsciio(path, fmt, lazy, format_options)
    try:
        return _read_own(path, fmt, lazy, format_options)
    except PerovscopeError:
        raise
    except _OWN_READER_ERRORS as exc:  # damage our own parsers meet (other exceptions are bugs: not hidden)
        raise _reader_failure(path, fmt, exc) from exc
