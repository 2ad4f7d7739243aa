"""VAMAS surface-analysis files (ISO 14976): XPS/AES/UPS spectra with their acquisition parameters.

A VAMAS file is text, one value per line: an experiment header (format identifier, institution,
instrument, operator, experiment, comment lines, experiment mode ``NORM``/``MAP``/``SDP``..., scan
mode ``REGULAR``/``IRREGULAR``, number of spectral regions, experimental variables, parameter
inclusion list, future-upgrade entries, number of blocks), then one block per spectrum: identifiers,
date, comment lines, technique, the analysis source (label, characteristic energy hν, strength,
beam size, angles), the analyser (mode, pass energy, magnification, work function, target bias,
analysis area, take-off angles), species and transition (``Fe`` ``2p``), the abscissa (label
``Kinetic Energy``/``Binding Energy``, units, start and increment for ``REGULAR`` scans), the
corresponding variables (label and units each), signal mode, dwell time, scans, sample angles,
additional numerical parameters, the number of ordinate values, each variable's minimum and
maximum, and the ordinates, interleaved by variable. In an ``IRREGULAR`` file the abscissa is the
first corresponding variable. ``1e37`` marks a value not given.

:func:`read_vamas` returns every block as an :class:`xarray.DataArray` of intensity over
``binding_energy`` (eV) with ``kinetic_energy`` as a second coordinate; a kinetic-energy abscissa
is converted with ``E_B = hν − E_K − φ`` (the analyser work function φ where the block gives one).
Values stay as read (counts per channel or per second, as the file says); other corresponding
variables (e.g. a transmission function) are kept as coordinates. CasaXPS region and component
lines in a block comment are kept in ``attrs["casa_region"]`` / ``attrs["casa_components"]``.

References
----------
.. [1] ISO 14976:1998, Surface chemical analysis — Data transfer format.
.. [2] W. A. Dench, L. B. Hazell and M. P. Seah, "VAMAS surface chemical analysis standard data
   transfer format with skeleton decoding programs", Surf. Interface Anal. 13, 63 (1988).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import FormatError
from ._units import dumps_json

__all__ = ["read_vamas", "read_vamas_region", "BINDING_DIM"]

#: Dimension of an XPS spectrum: binding energy in eV.
BINDING_DIM = "binding_energy"
_MAX_BYTES = 256 * 2**20
_MISSING = 1e36
_MAP_MODES = ("MAP", "MAPDP")
_REGION_MODES = ("MAP", "MAPDP", "NORM", "SDP")
_SPUTTER_TECH = ("FABMS", "FABMS energy spec", "ISS", "SIMS", "SIMS energy spec", "SNMS", "SNMS energy spec")
_DEPTH_MODES = ("MAPDP", "MAPSVDP", "SDP", "SDPSV")
_CASA_REGION = re.compile(r"CASA region \(\*(.*?)\*\) \(\*(.*?)\*\)\s+(.*)")
_CASA_COMP = re.compile(r"CASA comp \(\*(.*?)\*\) \(\*(.*?)\*\)\s+(.*)")


class _Lines:
    def __init__(self, lines, path):
        self.lines, self.i, self.path = lines, 0, path

    def text(self, what: str) -> str:
        if self.i >= len(self.lines):
            raise FormatError(f"{self.path}: file ends while reading {what} (truncated VAMAS file)")
        value = self.lines[self.i]
        self.i += 1
        return value.strip()

    def number(self, what: str) -> float:
        tok = self.text(what)
        try:
            return float(tok)
        except ValueError:
            raise FormatError(
                f"{self.path}: line {self.i}: expected a number for {what}, got {tok!r}"
            ) from None

    def integer(self, what: str) -> int:
        value = self.number(what)
        if value != int(value) or value < 0:
            raise FormatError(f"{self.path}: line {self.i}: {what} must be a count, got {value:g}")
        return int(value)


def _given(value: float) -> float | None:
    return None if value is None or abs(value) >= _MISSING else float(value)


def _header(rd: _Lines) -> dict:
    ident = rd.text("format identifier")
    if not ident.upper().startswith("VAMAS"):
        raise FormatError(f"{rd.path}: not a VAMAS file (first line {ident[:40]!r})")
    h = {"format": ident}
    for key in ("institution", "instrument", "operator", "experiment"):
        h[key] = rd.text(key)
    h["comment"] = [rd.text("header comment") for _ in range(rd.integer("number of comment lines"))]
    h["experiment_mode"] = rd.text("experiment mode")
    h["scan_mode"] = rd.text("scan mode")
    if h["experiment_mode"] in _REGION_MODES:
        h["spectral_regions"] = rd.integer("number of spectral regions")
    if h["experiment_mode"] in _MAP_MODES:
        for key in ("analysis_positions", "x_coordinates", "y_coordinates"):
            h[key] = rd.integer(key)
    h["experimental_variables"] = [
        (rd.text("variable label"), rd.text("variable units"))
        for _ in range(rd.integer("number of experimental variables"))
    ]
    n_incl = int(rd.number("number of entries in the parameter inclusion list"))
    if n_incl != 0:
        raise FormatError(
            f"{rd.path}: parameter inclusion/exclusion lists ({n_incl} entries) are not "
            "supported; re-export the file with every block parameter written"
        )
    h["manual_items"] = [
        rd.text("manual item") for _ in range(rd.integer("number of manually entered items"))
    ]
    n_exp_future = rd.integer("number of future upgrade experiment entries")
    h["future_block_entries"] = rd.integer("number of future upgrade block entries")
    h["future_experiment"] = [rd.text("future entry") for _ in range(n_exp_future)]
    h["blocks"] = rd.integer("number of blocks")
    return h


def _block(rd: _Lines, h: dict) -> dict:
    b = {"block": rd.text("block identifier"), "sample": rd.text("sample identifier")}
    date = [rd.number(k) for k in ("year", "month", "day", "hours", "minutes", "seconds", "GMT offset")]
    b["date"] = date
    b["comment"] = [rd.text("block comment") for _ in range(rd.integer("number of block comment lines"))]
    b["technique"] = rd.text("technique")
    mode, tech = h["experiment_mode"], b["technique"]
    if mode in _MAP_MODES:
        b["x"], b["y"] = rd.number("x coordinate"), rd.number("y coordinate")
    b["experimental_values"] = [rd.number("experimental variable value") for _ in h["experimental_variables"]]
    b["source_label"] = rd.text("analysis source label")
    if mode in _DEPTH_MODES or tech in _SPUTTER_TECH:
        b["sputter_ion"] = [rd.number("sputtering ion") for _ in range(3)]
    b["source_energy"] = rd.number("analysis source characteristic energy")
    b["source_strength"] = rd.number("analysis source strength")
    b["beam_width"] = (rd.number("beam width x"), rd.number("beam width y"))
    if mode in ("MAP", "MAPDP", "MAPSV", "MAPSVDP", "SEM"):
        b["field_of_view"] = (rd.number("field of view x"), rd.number("field of view y"))
    if mode in ("MAPSV", "MAPSVDP", "SEM"):
        b["linescan"] = [rd.number("linescan coordinate") for _ in range(6)]
    b["source_polar_angle"] = rd.number("source polar angle")
    b["source_azimuth"] = rd.number("source azimuth")
    b["analyser_mode"] = rd.text("analyser mode")
    b["pass_energy"] = rd.number("pass energy or retard ratio")
    if tech == "AES diff":
        b["differential_width"] = rd.number("differential width")
    b["magnification"] = rd.number("magnification")
    b["work_function"] = rd.number("analyser work function")
    b["target_bias"] = rd.number("target bias")
    b["analysis_width"] = (rd.number("analysis width x"), rd.number("analysis width y"))
    b["take_off"] = (rd.number("take-off polar angle"), rd.number("take-off azimuth"))
    b["species"] = rd.text("species label")
    b["transition"] = rd.text("transition label")
    b["charge"] = rd.number("charge of detected particle")
    regular = h["scan_mode"].upper() == "REGULAR"
    if regular:
        b["abscissa"] = (rd.text("abscissa label"), rd.text("abscissa units"))
        b["abscissa_start"] = rd.number("abscissa start")
        b["abscissa_increment"] = rd.number("abscissa increment")
    nvar = rd.integer("number of corresponding variables")
    b["variables"] = [(rd.text("variable label"), rd.text("variable units")) for _ in range(nvar)]
    if not regular:
        if nvar < 2:
            raise FormatError(
                f"{rd.path}: block {b['block']!r}: an IRREGULAR scan needs the abscissa and "
                "at least one ordinate variable"
            )
        b["abscissa"] = b["variables"].pop(0)
    b["signal_mode"] = rd.text("signal mode")
    b["dwell_time"] = rd.number("signal collection time")
    b["scans"] = rd.number("number of scans")
    b["time_correction"] = rd.number("signal time correction")
    if mode in _DEPTH_MODES and tech in ("AES diff", "AES dir", "EDX", "ELS", "UPS", "XPS", "XRF"):
        b["sputter_source"] = [rd.number("sputtering source") for _ in range(7)]
    b["sample_angles"] = [rd.number("sample angle") for _ in range(3)]
    extra = {}
    for _ in range(rd.integer("number of additional numerical parameters")):
        label, units, value = (
            rd.text("parameter label"),
            rd.text("parameter units"),
            rd.text("parameter value"),
        )
        extra[label] = value if not units or units == "d" else f"{value} {units}"
    b["additional"] = extra
    b["future"] = [rd.text("future block entry") for _ in range(h["future_block_entries"])]
    n_values = rd.integer("number of ordinate values")
    n_cols = nvar
    if n_values % n_cols:
        raise FormatError(
            f"{rd.path}: block {b['block']!r}: {n_values} ordinate values do not divide into "
            f"{n_cols} corresponding variables"
        )
    for _ in range(n_cols):
        rd.number("minimum ordinate"), rd.number("maximum ordinate")
    if rd.i + n_values > len(rd.lines):
        raise FormatError(
            f"{rd.path}: block {b['block']!r} declares {n_values} ordinate values but only "
            f"{len(rd.lines) - rd.i} lines remain (truncated file)"
        )
    try:
        values = np.array(rd.lines[rd.i : rd.i + n_values], dtype=float)
    except ValueError as exc:
        raise FormatError(f"{rd.path}: block {b['block']!r}: non-numeric ordinate ({exc})") from exc
    rd.i += n_values
    b["values"] = values.reshape(-1, n_cols)
    return b


def _energies(b: dict, path) -> tuple[np.ndarray, np.ndarray, dict]:
    values = b["values"]
    label = b["abscissa"][0].lower()
    if "abscissa_start" in b:
        x = b["abscissa_start"] + b["abscissa_increment"] * np.arange(values.shape[0])
        ordinates = values
    else:
        x, ordinates = values[:, 0], values[:, 1:]
    hv = _given(b["source_energy"])
    phi = _given(b["work_function"]) or 0.0
    note = {"photon_energy_eV": hv, "work_function_eV": phi}
    if "binding" in label:
        be = x
        ke = hv - phi - x if hv is not None else np.full_like(x, np.nan)
    elif "kinetic" in label or "energy" in label:
        if hv is None:
            raise FormatError(
                f"{path}: block {b['block']!r} has a kinetic-energy axis but no source energy; "
                "binding energies cannot be computed"
            )
        ke = x
        be = hv - phi - x
    else:
        raise FormatError(f"{path}: block {b['block']!r}: abscissa {b['abscissa'][0]!r} is not an energy")
    return np.round(be, 9), np.round(ke, 9), {"ordinates": ordinates, **note}


def _casa(comment: list[str]) -> tuple[list, list]:
    regions, comps = [], []
    for line in comment:
        m = _CASA_REGION.search(line)
        if m:
            regions.append({"name": m.group(1), "background": m.group(2), "values": m.group(3).split()})
        m = _CASA_COMP.search(line)
        if m:
            comps.append({"name": m.group(1), "lineshape": m.group(2), "values": m.group(3).split()})
    return regions, comps


def _to_dataarray(b: dict, h: dict, path: Path, index: int) -> xr.DataArray:
    be, ke, conv = _energies(b, path)
    ordinates = conv["ordinates"]
    name = " ".join(t for t in (b["species"], b["transition"]) if t) or b["block"]
    coords = {
        BINDING_DIM: (BINDING_DIM, be, {"units": "eV"}),
        "kinetic_energy": (BINDING_DIM, ke, {"units": "eV"}),
    }
    for j, (label, units) in enumerate(b["variables"][1:], start=1):
        key = re.sub(r"\W+", "_", label.strip().lower()) or f"variable_{j}"
        coords[key] = (BINDING_DIM, ordinates[:, j], {"units": units if units != "d" else "1"})
    label, units = b["variables"][0]
    yr, mo, da, hh, mi, ss, gmt = b["date"]
    acquired = (
        f"{int(yr):04d}-{int(mo):02d}-{int(da):02d}T{int(hh):02d}:{int(mi):02d}:{int(ss):02d}"
        if yr > 0 and 1 <= mo <= 12 and 1 <= da <= 31
        else None
    )
    regions, comps = _casa(b["comment"])
    attrs = {
        "signal": "xps" if b["technique"].upper().startswith("XPS") else b["technique"].lower(),
        "units": "counts" if b["signal_mode"].lower().startswith("pulse") else (units or "a.u."),
        "region": name,
        "block": b["block"],
        "block_index": index,
        "sample": b["sample"],
        "technique": b["technique"],
        "source_label": b["source_label"],
        "photon_energy_eV": conv["photon_energy_eV"] if conv["photon_energy_eV"] is not None else np.nan,
        "work_function_eV": conv["work_function_eV"],
        "analyser_mode": b["analyser_mode"],
        "pass_energy_eV": _given(b["pass_energy"]) or np.nan,
        "dwell_time_s": _given(b["dwell_time"]) or np.nan,
        "scans": b["scans"],
        "signal_mode": b["signal_mode"],
        "ordinate": label,
        "abscissa": b["abscissa"][0],
        "source_file": str(path),
        "format": "vamas",
        "energy_conversion": "E_B = hν − E_K − φ" if "kinetic" in b["abscissa"][0].lower() else "as read",
    }
    if acquired:
        attrs["acquired"] = acquired
    if regions:
        attrs["casa_region"] = dumps_json(regions)
    if comps:
        attrs["casa_components"] = dumps_json(comps)
    meta = {k: v for k, v in b.items() if k != "values"}
    attrs["original_metadata"] = dumps_json({"header": h, "block": meta})
    return xr.DataArray(ordinates[:, 0], dims=(BINDING_DIM,), coords=coords, attrs=attrs, name="intensity")


def read_vamas(path) -> tuple[xr.DataArray, ...]:
    """Read every block of a VAMAS (ISO 14976) file.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.vms`` file (opened read-only).

    Returns
    -------
    tuple of xarray.DataArray
        One ``(binding_energy,)`` spectrum per block, in file order (binding energy as recorded:
        decreasing for a kinetic-energy scan), with ``kinetic_energy`` and any further corresponding
        variables as coordinates; ``attrs``: ``region`` (``"Fe 2p"``), ``sample``, ``photon_energy_eV``,
        ``work_function_eV``, ``pass_energy_eV``, ``dwell_time_s``, ``scans``, ``acquired`` ... and
        the complete header and block parameters in ``original_metadata``.

    Raises
    ------
    FormatError
        Missing, empty or non-VAMAS file, truncated blocks, ordinate counts that disagree with the
        declared numbers, a kinetic-energy axis without a source energy.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size > _MAX_BYTES:
        raise FormatError(f"{path}: {path.stat().st_size} bytes is too large for a VAMAS file")
    with open(path, "rb") as fh:
        raw = fh.read()
    if b"\x00" in raw[:4096]:
        raise FormatError(f"{path}: binary content; a VAMAS file is text")
    lines = raw.decode("latin-1").splitlines()
    rd = _Lines(lines, path)
    header = _header(rd)
    # each ordinate takes a line: a declared block count that cannot fit is a corrupt header
    if header["blocks"] > len(lines):
        raise FormatError(f"{path}: header declares {header['blocks']} blocks in a {len(lines)}-line file")
    blocks = [_to_dataarray(_block(rd, header), header, path, i) for i in range(header["blocks"])]
    if not blocks:
        raise FormatError(f"{path}: the VAMAS file holds no blocks")
    return tuple(blocks)


def read_vamas_region(path, region: str | None = None) -> xr.DataArray:
    """One block of a VAMAS file, chosen by its region name (``"Fe 2p"``, ``"C 1s"``) or block identifier.

    Without ``region`` the file must hold a single block. Names match ignoring case and spaces.

    Raises
    ------
    FormatError
        No block of that name (the message lists those present), or several blocks and no name.
    """
    blocks = read_vamas(path)
    if region is None:
        if len(blocks) > 1:
            names = ", ".join(repr(b.attrs["region"]) for b in blocks)
            raise FormatError(f"{path}: {len(blocks)} blocks ({names}); choose one with region=")
        return blocks[0]
    want = re.sub(r"\s+", "", region).lower()
    for b in blocks:
        if want in (
            re.sub(r"\s+", "", b.attrs["region"]).lower(),
            re.sub(r"\s+", "", b.attrs["block"]).lower(),
        ):
            return b
    names = ", ".join(repr(b.attrs["region"]) for b in blocks)
    raise FormatError(f"{path}: no region {region!r}; the file has {names}")
