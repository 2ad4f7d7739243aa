"""The table of supported file formats and how a path is matched to one.

A format is chosen from the file extension; the few ambiguous extensions are resolved by looking at
the file's first bytes (``.xml``: Bruker RawData vs Horiba LabSpec; ``.h5``: HyperSpy vs Delmic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import FormatError

__all__ = ["Format", "FORMATS", "detect_format", "supported_extensions"]


@dataclass(frozen=True)
class Format:
    """One supported format.

    Attributes
    ----------
    name : str
        Short identifier (the RosettaSciIO plugin name where one is used).
    description : str
        Instrument / software that writes it.
    extensions : tuple of str
        Lower-case extensions including the dot.
    module : str or None
        RosettaSciIO module providing ``file_reader``; None for perovscope's own readers.
    lazy : bool
        Whether ``read(..., lazy=True)`` returns dask arrays (data not loaded until computed).
    default_kind : str or None
        Signal kind assumed when the file does not say (e.g. ``"pl"`` for LabSpec).
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    module: str | None
    lazy: bool
    default_kind: str | None = None


FORMATS = (
    Format("digitalmicrograph", "Gatan DigitalMicrograph", (".dm3", ".dm4"), "rsciio.digitalmicrograph",
           True),
    # bcf hypermaps are packed/compressed: decoding errors must surface at read time, so read eagerly
    Format("bruker", "Bruker Esprit spectrum image", (".bcf",), "perovscope.io._bruker", False),
    Format("emd", "Thermo Fisher Velox / Berkeley EMD", (".emd",), "rsciio.emd", True),
    Format("quantumdetector", "Quantum Detectors Merlin", (".mib",), "rsciio.quantumdetector", True,
           "4dstem"),
    Format("blockfile", "NanoMegas blockfile", (".blo",), "rsciio.blockfile", True, "4dstem"),
    Format("tia", "FEI TIA", (".ser", ".emi"), "rsciio.tia", True),
    Format("jeol", "JEOL Analysis Station", (".pts", ".asw"), "rsciio.jeol", True),
    Format("msa", "EMSA/MAS spectral data", (".msa", ".ems", ".mas", ".emsa"), "rsciio.msa", False),
    Format("hspy", "HyperSpy HDF5", (".hspy", ".hdf5"), "rsciio.hspy", True),
    Format("zspy", "HyperSpy zarr", (".zspy",), "rsciio.zspy", True),
    Format("digitalsurf", "DigitalSurf / Attolight", (".sur", ".pro"), "rsciio.digitalsurf", False),
    # RosettaSciIO reads Delmic files into memory only (recorded in attrs["lazy_fallback"])
    Format("delmic", "Delmic HDF5 cathodoluminescence", (".h5",), "rsciio.delmic", False, "cl"),
    Format("jobinyvon", "Horiba LabSpec XML", (".xml",), "rsciio.jobinyvon", False, "pl"),
    Format("bruker_xrd", "Bruker XRD RawData XML / BRML", (".brml",), None, False, "xrd"),
    Format("text", "two-column or CSV text", (".xy", ".csv", ".txt", ".dat"), None, False),
    Format("results", "perovscope results (zarr)", (".zarr",), None, True),
)

_BY_NAME = {f.name: f for f in FORMATS}


def supported_extensions() -> list[str]:
    """All extensions perovscope reads."""
    return sorted({e for f in FORMATS for e in f.extensions})


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def detect_format(path: Path) -> Format:
    """The :class:`Format` for ``path`` (extension first, content for ambiguous ones)."""
    ext = path.suffix.lower()
    if ext == ".xml":
        head = _head(path)
        return _BY_NAME["bruker_xrd"] if b"<RawData" in head else _BY_NAME["jobinyvon"]
    if ext == ".h5":
        head = _head(path, 8)
        if head != b"\x89HDF\r\n\x1a\n":
            raise FormatError(f"{path}: not an HDF5 file (bad signature); the file is corrupt or "
                              "not a Delmic/HyperSpy .h5")
        import h5py

        try:
            with h5py.File(path, "r") as fh:
                keys = set(fh.keys())
        except Exception as exc:  # noqa: BLE001
            raise FormatError(f"{path}: cannot open as HDF5 ({exc})") from exc
        return _BY_NAME["hspy"] if "Experiments" in keys else _BY_NAME["delmic"]
    for fmt in FORMATS:
        if ext in fmt.extensions:
            return fmt
    raise FormatError(f"{path}: unknown file extension {ext or '(none)'!r}; supported: "
                      + ", ".join(supported_extensions()))
