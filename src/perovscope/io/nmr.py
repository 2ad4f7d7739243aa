"""Processed 1-D NMR spectra (NMRPipe ``.ft`` files, Bruker ``pdata`` folders) read through ``nmrglue``.

An NMRPipe file is a 2048-byte header of 512 float32 values (spectral width ``FDF2SW`` Hz, observe
frequency ``FDF2OBS`` MHz, origin ``FDF2ORIG`` Hz, size, nucleus label ``FDF2LABEL``...) followed by
the float32 data; a Bruker processed spectrum is a ``pdata/<n>`` folder with the real part ``1r`` and
the ``procs`` parameters (``SW_p``, ``SF``, ``OFFSET``, ``SI``, ``NC_proc`` scaling). Both give a
chemical-shift axis ``δ`` in ppm, decreasing along the data (the NMR convention), from nmrglue's
unit conversion.

:func:`read_nmr` returns an :class:`xarray.DataArray` over ``chemical_shift`` (ppm) with ``hz`` as a
second coordinate; :func:`read_nmr_limits` reads a list of named integration regions
(``name start stop`` per line, ``#`` comments), the format of nmrglue's ``limits.in`` examples.

References
----------
.. [1] F. Delaglio et al., "NMRPipe: a multidimensional spectral processing system based on UNIX
   pipes", J. Biomol. NMR 6, 277 (1995).
.. [2] J. J. Helmus and C. P. Jaroniec, "Nmrglue: an open source Python package for the analysis of
   multidimensional NMR data", J. Biomol. NMR 55, 355 (2013).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_nmr", "read_nmr_limits", "SHIFT_DIM"]

#: Dimension of a 1-D NMR spectrum: chemical shift in ppm.
SHIFT_DIM = "chemical_shift"
_PIPE_HEADER_BYTES = 2048


def _pipe(path: Path):
    import nmrglue as ng

    size = path.stat().st_size
    if size <= _PIPE_HEADER_BYTES:
        raise FormatError(f"{path}: {size} bytes is too short for an NMRPipe file (2048-byte header)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nmrglue warns (and reshapes nothing) on a short file
            dic, data = ng.pipe.read(str(path))
    except Exception as exc:  # nmrglue raises IndexError/ValueError/struct errors on bad headers
        raise FormatError(f"{path}: not a readable NMRPipe file ({type(exc).__name__}: {exc})") from exc
    ndim = int(dic.get("FDDIMCOUNT", 0))
    if ndim != 1 or data.ndim != 1:
        raise FormatError(f"{path}: an NMRPipe file of {ndim} dimensions; only 1-D spectra are read")
    n = int(dic["FDSIZE"])
    complex_data = int(dic.get("FDF2QUADFLAG", 1)) == 0
    need = _PIPE_HEADER_BYTES + n * 4 * (2 if complex_data else 1)
    if size < need or data.shape[-1] != n:
        raise FormatError(
            f"{path}: header declares {n} points ({need} bytes) but the file has {size} bytes "
            "(truncated file)"
        )
    uc = ng.pipe.make_uc(dic, data)
    meta = {
        "observe_MHz": float(dic["FDF2OBS"]),
        "spectral_width_Hz": float(dic["FDF2SW"]),
        "nucleus": str(dic.get("FDF2LABEL", "")).strip(),
        "format": "nmrpipe",
    }
    return (
        np.real(np.asarray(data)).astype(float),
        uc,
        meta,
        {k: v for k, v in dic.items() if not isinstance(v, (list, np.ndarray))},
    )


def _bruker(path: Path):
    import nmrglue as ng

    folder = path
    if (path / "pdata").is_dir():
        subs = sorted(p for p in (path / "pdata").iterdir() if (p / "1r").is_file())
        if not subs:
            raise FormatError(f"{path}: no processed spectrum (pdata/*/1r); process the FID first")
        folder = subs[0]
    if not (folder / "1r").is_file() or not (folder / "procs").is_file():
        raise FormatError(f"{folder}: not a Bruker processed-data folder (needs 1r and procs)")
    try:
        dic, data = ng.bruker.read_pdata(str(folder), bin_files=["1r"], scale_data=True)
    except Exception as exc:
        raise FormatError(
            f"{folder}: not a readable Bruker pdata folder ({type(exc).__name__}: {exc})"
        ) from exc
    procs = dic.get("procs", {})
    n = int(procs.get("SI", data.shape[-1]))
    width = 8 if int(procs.get("DTYPP", 0)) == 2 else 4
    size = (folder / "1r").stat().st_size
    if data.ndim != 1 or data.shape[-1] != n or size < n * width:
        raise FormatError(f"{folder}: 1r holds {size} bytes for SI = {n} points (truncated, or not 1-D)")
    uc = ng.bruker.make_uc_pdata(dic, data)
    acqus = dic.get("acqus", {})
    meta = {
        "observe_MHz": float(procs.get("SF", np.nan)),
        "spectral_width_Hz": float(procs.get("SW_p", np.nan)),
        "nucleus": str(acqus.get("NUC1", "")).strip("<> "),
        "format": "bruker_pdata",
    }
    return np.asarray(data, dtype=float), uc, meta, {"procs": procs, "acqus": acqus}


def read_nmr(path) -> xr.DataArray:
    """Read a processed 1-D NMR spectrum over ``chemical_shift`` (ppm).

    Parameters
    ----------
    path : str or pathlib.Path
        An NMRPipe file (``.ft``, ``.ft1``, ``.dat``) or a Bruker experiment / ``pdata/<n>`` folder.

    Returns
    -------
    xarray.DataArray
        ``(chemical_shift,)`` intensities (as stored; Bruker data scaled by ``2^NC_proc``), ppm
        decreasing; coordinate ``hz``; ``attrs``: ``signal`` ``"nmr"``, ``observe_MHz``,
        ``spectral_width_Hz``, ``nucleus``, ``format``, ``source_file`` and the parameters in
        ``original_metadata``.

    Raises
    ------
    FormatError
        Missing path, a truncated or unreadable file, a multi-dimensional spectrum.
    """
    path = Path(path)
    if path.is_dir():
        data, uc, meta, original = _bruker(path)
    elif path.is_file():
        data, uc, meta, original = _pipe(path)
    else:
        raise FormatError(f"{path}: no such file or folder")
    ppm = np.asarray(uc.ppm_scale(), dtype=float)
    hz = np.asarray(uc.hz_scale(), dtype=float)
    attrs = {
        "signal": "nmr",
        "units": "a.u.",
        "source_file": str(path),
        **meta,
        "original_metadata": dumps_json(original),
    }
    coords = {SHIFT_DIM: (SHIFT_DIM, ppm, {"units": "ppm"}), "hz": (SHIFT_DIM, hz, {"units": "Hz"})}
    return xr.DataArray(data, dims=(SHIFT_DIM,), coords=coords, attrs=attrs, name="intensity")


def read_nmr_limits(path) -> tuple[list[str], np.ndarray]:
    """Named integration regions from a text file of ``name start stop`` lines (ppm; ``#`` comments).

    Returns
    -------
    names : list of str
    limits : numpy.ndarray (k, 2)
        ``start, stop`` in ppm as written (either order).

    Raises
    ------
    FormatError
        Missing file, a line that is not ``name number number``, no regions.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    names, limits = [], []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        toks = text.replace(",", " ").split()
        try:
            if len(toks) != 3:
                raise ValueError
            limits.append((float(toks[1]), float(toks[2])))
        except ValueError:
            raise FormatError(f"{path}: line {n} is not 'name start stop' (ppm): {line.strip()!r}") from None
        names.append(toks[0])
    if not names:
        raise FormatError(f"{path}: no integration regions ('name start stop' lines) found")
    return names, np.array(limits, dtype=float)
