"""What each section of the report shows, chosen from the groups present in the results store.

Each function fills a section dict (``figures``, ``html``, ``notes``, or ``missing`` with a one-line
"not in this session") and draws its figures through the collector of :func:`build_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import composite as comp
from .maps import (
    composition_figure,
    crystallinity_figure,
    haadf_particles_figure,
    phase_map_figure,
    strain_maps_figure,
)
from .particles import particle_sizes_figure, size_distribution_figure
from .profiles import interface_profiles_figure
from .tables import correlations_table
from .timeline import time_values, timeline_figure
from .truth import truth_map_figure, truth_series_figure


@dataclass
class Context:
    """The groups of the store, the truth tree (or None) and the frame budget of the map figures."""

    groups: dict
    truth: object = None
    max_frames: int = 4
    extra: dict = field(default_factory=dict)

    def get(self, name):
        return self.groups.get(name)


def _missing(section, what="this"):
    section["missing"] = f"No {what} in this session."


def timeline(section, ctx, figs):
    tl = ctx.get("timeline")
    if tl is None:
        return _missing(section, "timeline")
    inter = ctx.get("interfaces")
    names = [str(v) for v in inter["interface"].values] if inter is not None and "interface" in inter.coords \
        else None
    figs.add(section, "timeline",
             lambda: timeline_figure(tl, events=ctx.get("events"), interface_names=names),
             "Per-frame window means of the electrical log and interface quantities (±1σ bands); dashed "
             "lines: detected events.")


def maps(section, ctx, figs):
    grid, strain = ctx.get("grid"), ctx.get("strain")
    interfaces = ctx.get("interfaces")
    layer = grid["layer"] if grid is not None and "layer" in grid else None
    kw = {"max_frames": ctx.max_frames, "interfaces": interfaces, "layer": layer}
    drawn = False
    src = grid if grid is not None and "exx" in grid else strain
    if src is not None and ("exx" in src or "theta" in src):
        figs.add(section, "strain_maps", lambda: strain_maps_figure(src, **kw),
                 "Strain ε (%) and lattice rotation θ; one symmetric colour range for all frames.")
        drawn = True
    src = grid if grid is not None and "phase" in grid else strain
    if src is not None and "phase" in src:
        if "phase_names" not in src["phase"].attrs and strain is not None and "phase" in strain:
            src = src.assign(phase=src["phase"].assign_attrs(phase_names=strain["phase"].attrs.get(
                "phase_names", strain.attrs.get("phase_names", []))))
        figs.add(section, "phase_map", lambda: phase_map_figure(src, **kw), "Phase per pixel.")
        drawn = True
    src = grid if grid is not None and "crystallinity" in grid else strain
    if src is not None and "crystallinity" in src:
        figs.add(section, "crystallinity", lambda: crystallinity_figure(src, **kw),
                 "Crystallinity (fraction of the diffracted intensity in Bragg disks, 0–1).")
        drawn = True
    src = grid if grid is not None and "atomic_percent" in grid else ctx.get("edx")
    if src is not None and ("atomic_percent" in src or "cl_fraction" in src):
        figs.add(section, "composition", lambda: composition_figure(src, **kw),
                 "EDX composition (at.%) and Cl/(Cl+Br).")
        drawn = True
    haadf = None
    if ctx.get("haadf") is not None and "aligned" in ctx.get("haadf"):
        haadf = ctx.get("haadf")["aligned"]
    elif grid is not None and "haadf" in grid:
        haadf = grid["haadf"]
    if haadf is not None:
        figs.add(section, "haadf_particles",
                 lambda: haadf_particles_figure(haadf, particles=ctx.get("particles"), **kw),
                 "Drift-corrected HAADF with the segmented particles (circles) and interfaces (dashed).")
        drawn = True
    if not drawn:
        _missing(section, "maps")


def profiles(section, ctx, figs):
    prof = ctx.get("profiles")
    if prof is None:
        return _missing(section, "interface profiles")
    figs.add(section, "interface_profiles", lambda: interface_profiles_figure(prof),
             "Mean of each quantity in bins of signed distance to each interface (positive towards the "
             "later layer); one curve per frame coloured by time; dashed: erf fits.")
    inter = ctx.get("interfaces")
    if inter is not None and "width_nm" in inter:
        rows = []
        names = [str(v) for v in inter["interface"].values] if "interface" in inter.coords else []
        w = inter["width_nm"]
        for k, name in enumerate(names):
            wk = np.atleast_1d(w.isel(interface=k).values).astype(float)
            rows.append({"interface": name, "first": wk[0], "last": wk[-1]})
        section["interface_rows"] = rows


def particles(section, ctx, figs):
    p = ctx.get("particles")
    if p is None or "diameter_nm" not in p:
        return _missing(section, "particle table")
    tl = ctx.get("timeline")
    times = None
    if tl is not None:
        frames = np.asarray(tl["frame"].values, dtype=int) if "frame" in tl.variables else \
            np.arange(tl.sizes["time"])
        t = time_values(tl)
        times = np.full(int(frames.max()) + 1 if frames.size else 0, np.nan)
        times[frames] = t
    figs.add(section, "particle_sizes",
             lambda: particle_sizes_figure(p, nucleation=ctx.get("nucleation"), frame_times=times),
             "Diameter histograms of the segmented particles per frame, and nucleation times of tracked "
             "particles.")


def correlations(section, ctx):
    c = ctx.get("correlations")
    if c is None:
        return _missing(section, "correlations")
    section["html"] = correlations_table(c)


def _truth_node(truth, path):
    try:
        return truth[path].to_dataset()
    except KeyError:
        return None


def truth(section, ctx, figs):
    if ctx.truth is None:
        section["missing"] = ("No truth store in this session (give --truth TRUTH.zarr, or [session] truth "
                              "in the session description).")
        return None
    tl = ctx.get("timeline")
    root = ctx.truth.to_dataset()
    if tl is not None:
        figs.add(section, "truth_timeline", lambda: truth_series_figure(tl, root),
                 "Recovered per-frame quantities against the simulator's truth.")
    strain = ctx.get("strain")
    tstrain = _truth_node(ctx.truth, "strain")
    if strain is not None and tstrain is not None:
        for name, scale, units in (("exx", 100.0, "%"), ("eyy", 100.0, "%"), ("theta", 1.0, "deg")):
            if name in strain and name in tstrain:
                figs.add(section, f"truth_{name}",
                         lambda name=name, scale=scale, units=units: truth_map_figure(
                             strain[name], tstrain[name], name=name, scale=scale, units=units),
                         f"{name} of the last frame: recovered, true, and the difference.")
    if not section.get("figures") and not section.get("notes"):
        section["missing"] = "The truth store holds nothing that this session recovered."


def _iodine_profile(ds):
    """The pipeline's edge-signal profile across the particle edges, with its f·erfc(d/w) fit attached."""
    from scipy.special import erfc

    prof = ds["edge_profile"].copy()
    w = float(ds["iodine_width_nm"]) if "iodine_width_nm" in ds else np.nan
    f = float(ds["iodine_fraction_at_edge"]) if "iodine_fraction_at_edge" in ds else np.nan
    d = np.asarray(prof["distance"].values, dtype=float)
    prof.attrs.update(width_nm=w, width_nm_std=float(ds.get("iodine_width_nm_std", np.nan)),
                      fit=np.where(d > 0, f * erfc(d / w), np.nan) if np.isfinite(w * f) else None)
    return prof


def _composite_groups(groups: dict):
    """(kind, group name, Dataset) of each composite/glass result found by its variables."""
    operando = bool({"strain", "edx", "drift", "quantities"} & set(groups))
    for name, ds in sorted(groups.items()):
        if "time" in ds.dims:                         # maps of the last frame
            ds = ds.isel(time=-1)
        if {"centre", "sigma"} <= set(map(str, ds.data_vars)):
            yield "cl", name, ds
        if "edge_signal" in ds and ds["edge_signal"].ndim >= 2:
            yield "eels_edge", name, ds
        if "edge_profile" in ds and "distance" in ds["edge_profile"].dims:
            yield "iodine", name, _iodine_profile(ds)
        else:
            for var in ds.data_vars:
                if "iodine" in str(var) and ds[var].ndim == 1 and not str(var).endswith("_std"):
                    yield "iodine", name, ds[var]
        if "domain" in ds and ds["domain"].ndim == 2:
            yield "domains", name, ds
        if "diameter_nm" in ds and (name not in ("particles", "nucleation") or not operando):
            yield "sizes", name, ds


def composite(section, ctx, figs):
    found = list(_composite_groups(ctx.groups))
    if not found:
        return _missing(section, "composite or glass results")
    for kind, name, obj in found:
        slug = name.replace("/", "_")
        if kind == "cl":
            figs.add(section, f"cl_{slug}", lambda obj=obj: comp.cl_maps_figure(obj),
                     f"CL Gaussian fit ({name}): centre, σ and intensity maps, histograms and the centre–σ "
                     "2-D histogram.")
        elif kind == "eels_edge":
            figs.add(section, f"eels_edge_{slug}", lambda obj=obj: comp.eels_edge_map_figure(obj),
                     f"EELS edge signal above the power-law background ({name}).")
        elif kind == "iodine":
            width = obj.attrs.get("width_nm")
            figs.add(section, f"iodine_profile_{slug}",
                     lambda obj=obj, width=width: comp.iodine_profile_figure(
                         obj, width_nm=width, width_std_nm=obj.attrs.get("width_nm_std"),
                         fit=obj.attrs.get("fit")),
                     f"Iodine across the particle/glass interface ({name}) with its erfc width.")
        elif kind == "domains":
            figs.add(section, f"eds_domains_{slug}",
                     lambda obj=obj: comp.domain_map_figure(obj["domain"],
                                                            area_fraction=obj.attrs.get("area_fraction")),
                     f"EDS domain segmentation ({name}) and the area fraction of each glass.")
        elif kind == "sizes":
            figs.add(section, f"size_distribution_{slug}",
                     lambda obj=obj, name=name: size_distribution_figure(obj["diameter_nm"], label=name),
                     f"Size distribution ({name}).")
