"""The numbers of the report's Summary and Provenance sections, formatted from the store values.

Every headline number is a :class:`Headline` with a stable ``key``; the template writes it as
``<td data-key="KEY" data-value="REPR">TEXT</td>`` so that a reader (or a test) can check the text
against the store.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from .tables import format_number
from .timeline import reached_events, scaled_unit, time_values

__all__ = ["Headline", "session_facts", "headline_numbers", "provenance_rows", "modalities"]


class Headline(NamedTuple):
    """One number of the summary: its key, description, raw value, text, shown units and their scale.

    ``text`` is ``value / scale`` formatted; ``units`` are the shown units (``"MΩ"`` with
    ``scale = 1e6`` for a store value in Ω).
    """

    key: str
    label: str
    value: float | int | None
    text: str
    units: str = ""
    scale: float = 1.0

    @property
    def data_value(self) -> str:
        """Full-precision value for the ``data-value`` attribute (``repr`` of a float, ``""`` if none)."""
        if self.value is None:
            return ""
        return repr(int(self.value)) if isinstance(self.value, (int, np.integer)) else repr(float(self.value))


def _headline(key, label, value, units="", digits=4, *, scale_like=None):
    if isinstance(value, np.generic):
        value = value.item()
    scale, shown = 1.0, units
    if value is not None and units in ("Ω", "V", "A", "C"):
        scale, shown = scaled_unit([scale_like if scale_like is not None else value], units)
    text = format_number(value / scale if scale != 1.0 else value, digits=digits)
    return Headline(key, label, value, text, shown, scale)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(text).lower()).strip("_")


def _pretty(name: str) -> str:
    return str(name).replace("_", " ")


def modalities(groups: dict) -> list[str]:
    """Modalities of the session, from ``frames`` (``file_<m>``, ``t_start_s_<m>``) or the timeline doses."""
    found = []
    for name in ("frames", "timeline"):
        ds = groups.get(name)
        if ds is None:
            continue
        for var in ds.variables:
            var = str(var)
            for prefix in ("file_", "t_start_s_", "dose_e_per_A2_"):
                if var.startswith(prefix) and var[len(prefix):] not in found and not var.endswith("_std"):
                    found.append(var[len(prefix):])
    return found


def _final_dose(groups, modality):
    tl = groups.get("timeline")
    var = f"dose_e_per_A2_{modality}"
    if tl is not None and var in tl:
        return float(np.asarray(tl[var].values)[-1])
    fr = groups.get("frames")
    if fr is not None and var in fr:  # per-frame doses there: the cumulative dose is their sum
        return float(np.nansum(np.asarray(fr[var].values, dtype=float)))
    return None


def session_facts(groups: dict, provenance: dict, root_attrs: dict) -> list[Headline]:
    """Files read, modalities, frames, time span and doses."""
    out = []
    inputs = provenance.get("inputs") or {}
    out.append(_headline("n_files", "files read", len(inputs)))
    mods = modalities(groups)
    out.append(Headline("modalities", "modalities", None, ", ".join(mods) if mods else "–"))
    tl = groups.get("timeline")
    ref = tl if tl is not None else groups.get("frames")
    if ref is not None and "time" in ref.dims:
        t = time_values(ref)
        out.append(_headline("n_frames", "frames", int(ref.sizes["time"])))
        start = float(np.asarray(ref["t_start_s"].values)[0]) if "t_start_s" in ref else float(t[0])
        end = float(np.asarray(ref["t_end_s"].values)[-1]) if "t_end_s" in ref else float(t[-1])
        out.append(_headline("time_start_s", "first frame starts", start, "s"))
        out.append(_headline("time_end_s", "last frame ends", end, "s"))
        out.append(_headline("time_span_s", "time span", end - start, "s"))
    for m in mods:
        dose = _final_dose(groups, m)
        if dose is not None:
            out.append(_headline(f"dose_e_per_A2_{m}", f"cumulative dose, {m}", dose, "e/Å²"))
    return out


def headline_numbers(groups: dict) -> list[Headline]:
    """Events with their times, R and EL first → last frame, final AlCl₃ thickness, Pb particle count."""
    out = []
    ev = groups.get("events")
    if ev is not None and "name" in ev:
        reached = dict(reached_events(ev))
        for name in np.asarray(ev["name"].values).astype(str):
            if name in reached:
                out.append(_headline(f"event_{_slug(name)}_time_s", f"event: {_pretty(name)}", reached[name],
                                     "s"))
            else:
                out.append(Headline(f"event_{_slug(name)}_time_s", f"event: {_pretty(name)}", None,
                                    "not reached"))
    tl = groups.get("timeline")
    if tl is not None:
        for var, name, units in (("resistance_ohm", "R", "Ω"), ("el_intensity", "EL", "a.u."),
                                 ("voltage_V", "V", "V")):
            if var not in tl or tl.sizes.get("time", 0) == 0:
                continue
            v = np.asarray(tl[var].values, dtype=float)
            first, last = float(v[0]), float(v[-1])
            out.append(_headline(f"{var}_first", f"{name}, first frame", first, units))
            out.append(_headline(f"{var}_last", f"{name}, last frame", last, units))
            out.append(_headline(f"{var}_change", f"{name} change, first → last", last - first, units,
                                 scale_like=first))
            if first != 0 and np.isfinite(first):
                out.append(_headline(f"{var}_change_percent", f"{name} change", 100 * (last - first) / first,
                                     "%", digits=3))
        for var, label, units in (("alcl3_thickness_nm", "AlCl₃ thickness, last frame", "nm"),
                                  ("pb_particle_count", "metallic Pb particles, last frame", ""),
                                  ("cluster_count", "Pb-rich clusters, last frame", ""),
                                  ("cl_cathode_at_percent", "Cl at the cathode, last frame", "at.%"),
                                  ("crystallinity_emitter", "emitter crystallinity, last frame", "")):
            if var in tl and tl.sizes.get("time", 0):
                value = np.asarray(tl[var].values)[-1]
                if var.endswith("_count") and np.isfinite(float(value)):
                    value = int(value)
                out.append(_headline(f"{var}_final", label, value, units))
    return out


def provenance_rows(provenance: dict) -> dict:
    """Versions, steps (parameters, why, run time) and inputs (size, sha256) as rows for the template."""
    steps = []
    for name, s in (provenance.get("steps") or {}).items():
        params = s.get("parameters", {})
        if isinstance(params, str):
            try:
                params = json.loads(params)
            except ValueError:
                pass
        steps.append({
            "name": name, "ran": s.get("ran"), "why": s.get("why", ""),
            "seconds": format_number(s.get("seconds"), digits=3), "start": s.get("start", ""),
            "end": s.get("end", ""), "frames_resumed": s.get("frames_resumed", ""),
            "cache_key": str(s.get("cache_key", ""))[:12],
            "upstream": ", ".join(s.get("upstream", []) or []),
            "parameters": json.dumps(params, indent=1, sort_keys=True, default=str),
        })
    inputs = [{"path": p, "size": format_number((v or {}).get("size")),
               "sha256": str((v or {}).get("sha256", ""))}
              for p, v in (provenance.get("inputs") or {}).items()]
    versions = sorted((str(k), str(v)) for k, v in (provenance.get("versions") or {}).items())
    return {"steps": steps, "inputs": inputs, "versions": versions}
