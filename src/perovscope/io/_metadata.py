"""Normalise the acquisition metadata of a RosettaSciIO signal into perovscope's attribute names.

RosettaSciIO returns, per signal, a HyperSpy-style ``metadata`` tree, the file's complete
``original_metadata`` and, for some formats, a ``mapping`` from original-metadata paths to metadata
paths (which HyperSpy applies after loading). This module applies that mapping (tolerant of the
space/underscore spelling differences between the two trees), reads the normalised values listed in
:data:`perovscope.dims.METADATA_KEYS`, and fills gaps from known places in the original metadata of
each format (Gatan tags, Velox JSON, Merlin headers, EMSA keywords).

Beyond HyperSpy's metadata structure, two keys are read from the HyperSpy-style tree:
``Acquisition_instrument.TEM.dose`` (electron dose, e/Å²; HyperSpy defines no place for it) and the
``collection_angle`` of an imaging detector node such as ``Acquisition_instrument.TEM.Detector.HAADF``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

__all__ = ["lookup", "apply_mapping", "normalise_metadata", "ELEMENT_SYMBOLS"]

#: Element symbols in order of atomic number (index + 1 == Z).
ELEMENT_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm "
    "Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No "
    "Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()

_DM = "ImageList.TagGroup0.ImageTags."


def _norm(key) -> str:
    return re.sub(r"[^0-9a-z]", "", str(key).lower())


def lookup(tree, path: str):
    """Value at a dotted ``path`` in nested dicts, matching keys case-, space- and punctuation-blind.

    Returns None when any segment is missing.
    """
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        if part in node:
            node = node[part]
            continue
        wanted = _norm(part)
        for key, value in node.items():
            if _norm(key) == wanted:
                node = value
                break
        else:
            return None
    return node


def _set(tree: dict, path: str, value) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = tree.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            tree[part] = nxt
        tree = nxt
    tree[parts[-1]] = value


def apply_mapping(metadata: dict, original: dict, mapping: dict | None) -> dict:
    """Apply a RosettaSciIO ``mapping`` to a copy of ``metadata``; entries that fail are skipped."""
    import copy

    out = copy.deepcopy(metadata) if metadata else {}
    for source, target in (mapping or {}).items():
        try:
            dest, func = target
            value = lookup(original, source)
            if value is None or isinstance(value, dict):
                continue  # functions taking whole tag groups expect HyperSpy objects: handled below
            if func is not None:
                value = func(value)
            if value is not None:
                _set(out, dest, value)
        except Exception:  # noqa: BLE001, S112 - a mapping that fails leaves the value unset
            continue
    return out


def _number(value):
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _first(tree, paths, prefix=""):
    for path in paths:
        value = lookup(tree, prefix + path)
        if value is None or (isinstance(value, str | list | tuple | dict) and not len(value)):
            continue
        if value != "[]":
            return value
    return None


def _acquired(general: dict) -> str | None:
    date, time = general.get("date"), general.get("time")
    if not date:
        return None
    date = str(date).strip()
    for pattern in ("%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            date = _dt.datetime.strptime(date, pattern).date().isoformat()
            break
        except ValueError:
            continue
    text = date + ("T" + str(time).strip() if time else "")
    if str(general.get("time_zone", "")).upper() in ("UTC", "GMT", "Z"):
        text += "Z"
    return text


def _instrument(md: dict) -> dict:
    acq = md.get("Acquisition_instrument") or {}
    for key in ("TEM", "SEM"):
        if isinstance(acq.get(key), dict):
            return acq[key]
    return acq if isinstance(acq, dict) else {}


def _collection_angle(det: dict):
    """Collection semi-angle (mrad): the EELS spectrometer's, else that of an imaging detector
    (``Detector.HAADF.collection_angle``, ``Detector.ADF...``); the X-ray detector has none."""
    eels = det.get("EELS") if isinstance(det.get("EELS"), dict) else {}
    value = _number(eels.get("collection_angle"))
    if value is not None:
        return value
    for name, sub in det.items():
        if isinstance(sub, dict) and name not in ("EDS", "EELS"):
            value = _number(sub.get("collection_angle"))
            if value is not None:
                return value
    return None


def _generic(md: dict) -> dict:
    """Values from the (mapped) HyperSpy-style metadata tree."""
    inst = _instrument(md)
    acq = md.get("Acquisition_instrument") or {}
    det = inst.get("Detector") or acq.get("Detector") or {}
    eds, eels = det.get("EDS") or {}, det.get("EELS") or {}
    out = {
        "beam_energy_keV": _number(inst.get("beam_energy")),
        "convergence_semiangle_mrad": _number(inst.get("convergence_angle")),
        "collection_semiangle_mrad": _collection_angle(det),
        "camera_length_mm": _number(inst.get("camera_length")),
        "dwell_time_s": _number(inst.get("dwell_time") or eels.get("dwell_time") or acq.get("dwell_time")),
        "exposure_s": _number(eels.get("exposure") or det.get("exposure_per_frame")),
        "live_time_s": _number(eds.get("live_time")),
        "real_time_s": _number(eds.get("real_time")),
        "detector_elevation_deg": _number(eds.get("elevation_angle")),
        "detector_azimuth_deg": _number(eds.get("azimuth_angle")),
        "magnification": _number(inst.get("magnification")),
        "dose_e_per_A2": _number(inst.get("dose")),
        "microscope": inst.get("microscope") if isinstance(inst.get("microscope"), str) else None,
        "acquired": _acquired(md.get("General") or {}),
        "title": (md.get("General") or {}).get("title") or None,
    }
    elements = (md.get("Sample") or {}).get("elements")
    if elements is not None and len(elements):
        out["elements"] = [str(e) for e in elements]
    if out["camera_length_mm"] == 0.0:
        out["camera_length_mm"] = None
    if isinstance(eels.get("spectrometer"), str) and eels["spectrometer"]:
        out["spectrometer"] = eels["spectrometer"]
    sample = md.get("Sample") or {}
    if isinstance(sample.get("name"), str) and sample["name"]:
        out["sample"] = sample["name"]
    spectrometer = acq.get("Spectrometer") or {}
    out["central_wavelength_nm"] = _number(spectrometer.get("central_wavelength"))
    out["grating_lines_per_mm"] = _number((spectrometer.get("Grating") or {}).get("groove_density"))
    laser = (acq.get("Laser") or {}).get("wavelength")
    if laser is not None:
        out["laser_wavelength_nm"] = _number(laser)
    return out


def _from_dm(om: dict, kind: str, is_map: bool) -> dict:
    out = {
        "microscope": _first(om, ("Session Info.Microscope", "Microscope Info.Name",
                                  "Microscope Info.Microscope"), _DM),
        "live_time_s": _number(lookup(om, _DM + "EDS.Live time")),
        "real_time_s": _number(lookup(om, _DM + "EDS.Real time")),
        "detector_elevation_deg": _number(lookup(om, _DM + "EDS.Detector Info.Elevation angle")),
        "detector_azimuth_deg": _number(lookup(om, _DM + "EDS.Detector Info.Azimuthal angle")),
        "central_wavelength_nm": _number(lookup(om, _DM + "CL.Acquisition.Central wavelength (nm)")),
        "grating_lines_per_mm": _number(_first(om, ("CL.Acquisition.Dispersion grating (lines/mm)",
                                                    "Acquisition.Monarc Spectrometer.Grating"), _DM)),
    }
    exposure = _number(_first(om, ("EELS.Acquisition.Exposure (s)", "CL.Acquisition.Exposure (s)",
                                   "Acquisition.Parameters.High Level.Exposure (s)",
                                   "DataBar.Exposure Time (s)"), _DM))
    out["exposure_s"] = exposure
    frames = _number(_first(om, ("EELS.Acquisition.Number of frames", "CL.Acquisition.Number of frames"),
                            _DM)) or 1.0
    if is_map and kind in ("eels", "cl") and exposure is not None:
        out["dwell_time_s"] = exposure * frames
    return out


def _from_velox(om: dict) -> dict:
    out = {
        "dwell_time_s": _number(lookup(om, "Scan.DwellTime")),
        "microscope": " ".join(str(v) for v in (lookup(om, "Instrument.InstrumentClass"),
                                                lookup(om, "Instrument.InstrumentModel")) if v) or None,
    }
    volts = _number(lookup(om, "Optics.AccelerationVoltage"))
    if volts:
        out["beam_energy_keV"] = volts / 1e3
    conv = _number(lookup(om, "Optics.BeamConvergence"))
    if conv:
        out["convergence_semiangle_mrad"] = conv * 1e3
    stamp = _number(lookup(om, "Acquisition.AcquisitionStartDatetime.DateTime"))
    if stamp:
        when = _dt.datetime.fromtimestamp(stamp, tz=_dt.UTC)
        out["acquired"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _from_mib(om: dict) -> dict:
    exposure_ms = _number(lookup(om, "mib_properties.exposure"))
    return {
        "exposure_s": exposure_ms / 1e3 if exposure_ms is not None else None,
        "acquired": lookup(om, "mib_properties.timestamp") or None,
    }


def _from_msa(om: dict) -> dict:
    def num(*keys):
        for key in keys:
            value = _number(lookup(om, key))
            if value is not None:
                return value
        return None

    return {
        "beam_energy_keV": num("BEAMKV -kV", "BEAMKV"),
        "convergence_semiangle_mrad": num("CONVANGLE-mr", "CONVANGLE"),
        "collection_semiangle_mrad": num("COLLANGLE-mr", "COLLANGLE"),
        "live_time_s": num("LIVETIME  -s", "LIVETIME"),
        "real_time_s": num("REALTIME  -s", "REALTIME"),
        "detector_elevation_deg": num("ELEVANGLE-dg", "ELEVANGLE"),
        "detector_azimuth_deg": num("AZIMANGLE-dg", "AZIMANGLE"),
        "magnification": num("MAGCAM", "MAG"),
    }


_FORMAT_PROBES = {"digitalmicrograph": _from_dm, "emd": _from_velox, "quantumdetector": _from_mib,
                  "msa": _from_msa}


def normalise_metadata(signal: dict, *, fmt: str, kind: str, is_map: bool) -> tuple[dict, dict]:
    """Normalised acquisition attributes of one RosettaSciIO signal dict (only keys with values),
    and the HyperSpy-style metadata tree with the reader's mapping applied.

    Format-specific values read from the original metadata take precedence over the generic
    HyperSpy-style tree, because RosettaSciIO's mapping of some tags depends on HyperSpy objects.
    """
    om = signal.get("original_metadata") or {}
    md = apply_mapping(signal.get("metadata") or {}, om, signal.get("mapping"))
    out = {k: v for k, v in _generic(md).items() if v is not None}
    probe = _FORMAT_PROBES.get(fmt)
    if probe is not None:
        try:
            extra = probe(om, kind, is_map) if fmt == "digitalmicrograph" else probe(om)
        except Exception:  # noqa: BLE001 - odd metadata must not stop a read
            extra = {}
        for key, value in extra.items():
            if value is not None:
                out[key] = value
    if "elements" in out:
        out["elements"] = [e for e in out["elements"] if e in ELEMENT_SYMBOLS] or out["elements"]
    if not isinstance(out.get("microscope", ""), str):
        out.pop("microscope")
    return out, md


def signal_quantity_units(metadata: dict, dtype) -> str:
    """Unit of the data values from ``Signal.quantity`` (e.g. ``"X-rays (Counts)"`` -> ``"counts"``)."""
    quantity = str((metadata.get("Signal") or {}).get("quantity") or "")
    match = re.search(r"\(([^)]*)\)", quantity)
    if match and match.group(1).strip():
        return match.group(1).strip().lower()
    import numpy as np

    return "counts" if np.issubdtype(np.dtype(dtype), np.integer) else "a.u."
