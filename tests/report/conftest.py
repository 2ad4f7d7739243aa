"""A small synthetic results folder laid out exactly as docs/results-store.md describes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

N_FRAMES, NY, NX, PX = 3, 30, 24, 0.8
LAYERS = ["HTL", "emitter", "ETL", "Al"]
PHASES = ["HTL", "perovskite", "ETL", "Al", "Pb", "amorphous_perovskite"]
IFACES = ["HTL/emitter", "emitter/ETL", "ETL/Al"]
ELEMENTS = ["Cs", "Pb", "Br", "Cl", "Al"]
MODALITIES = ["4dstem", "haadf", "eds"]


def _u(da, units):
    return da.assign_attrs(units=units)


def _time_coords(t):
    return {"frame": ("time", np.arange(t.size)), "time_s": ("time", t, {"units": "s"})}


def _group(ds, step):
    ds.attrs.update(step=step, cache_key="ab12cd34" * 2, parameters=json.dumps({"step": step}))
    return ds


def make_results(folder, *, seed=0):
    """Write RESULTS/{results.zarr, tables/, provenance.json, session.toml}; return the tree written."""
    rng = np.random.default_rng(seed)
    t = np.array([15.0, 45.0, 75.0])
    tc = _time_coords(t)
    yc = {"y": ("y", np.arange(NY) * PX, {"units": "nm"}), "x": ("x", np.arange(NX) * PX, {"units": "nm"})}
    bounds = np.array([8, 16, 23])  # first row of layers 1..3
    rows = np.arange(NY)
    layer = np.searchsorted(bounds, rows, side="right")[:, None] * np.ones((1, NX), int)
    layer3 = np.broadcast_to(layer, (N_FRAMES, NY, NX)).astype(np.int16)
    yy = rows[:, None] * PX * np.ones((1, NX))
    d1, d2 = np.abs(yy - bounds[0] * PX), np.abs(yy - bounds[1] * PX)
    amp = np.array([1.0, 1.5, 0.6])[:, None, None]
    emit = layer3 == 1
    exx = np.where(emit, -0.01 * amp * (np.exp(-d1 / 2) + np.exp(-d2 / 2)), np.nan)
    eyy = np.where(emit, 0.015 * amp * (np.exp(-d1 / 2) + np.exp(-d2 / 2)), np.nan)
    exy = np.where(emit, 0.002 * rng.standard_normal((N_FRAMES, NY, NX)), np.nan)
    theta = np.where(emit, 0.3 * rng.standard_normal((N_FRAMES, NY, NX)), np.nan)
    cryst = np.where(emit, 1 - 0.4 * amp * (np.exp(-d1 / 3) + np.exp(-d2 / 3)) / 2, np.nan)
    phase = np.array([0, 1, 2, 3])[layer3].astype(np.int16)
    phase[2, 10:12, 5:8] = 4
    phase[2][emit[2] & (cryst[2] < 0.75)] = 5
    ap = rng.uniform(1, 40, (N_FRAMES, len(ELEMENTS), NY, NX))
    clf = np.where(emit, 0.3 - 0.05 * np.arange(N_FRAMES)[:, None, None], np.nan)
    haadf = rng.poisson(50 + 300 * emit + 80 * (layer3 == 3)).astype(np.uint32)
    grid_dims = ("time", "y", "x")
    sn = {"units": "1"}
    grid = xr.Dataset(
        {
            "exx": (grid_dims, exx, sn),
            "eyy": (grid_dims, eyy, sn),
            "exy": (grid_dims, exy, sn),
            "theta": (grid_dims, theta, {"units": "deg"}),
            "exx_std": (grid_dims, np.abs(exx) * 0.05, sn),
            "phase": (grid_dims, phase, {"units": "1", "phase_names": PHASES}),
            "crystallinity": (grid_dims, cryst, sn),
            "cl_fraction": (grid_dims, clf, sn),
            "atomic_percent": (("time", "element", "y", "x"), ap, {"units": "at.%"}),
            "haadf": (grid_dims, haadf, {"units": "counts"}),
            "layer": (grid_dims, layer3, {"units": "1", "layer_names": LAYERS}),
        },
        coords={**tc, **yc, "element": ("element", ELEMENTS)},
        attrs={"layer_names": LAYERS},
    )
    sy = {
        "scan_y": ("scan_y", np.arange(10) * 2.4, {"units": "nm"}),
        "scan_x": ("scan_x", np.arange(8) * 2.4, {"units": "nm"}),
    }
    sdims = ("time", "scan_y", "scan_x")
    strain = xr.Dataset(
        {
            k: (sdims, grid[k].values[:, ::3, ::3], dict(grid[k].attrs))
            for k in ("exx", "eyy", "exy", "theta", "crystallinity", "phase")
        },
        coords={**tc, **sy},
        attrs={"phase_names": PHASES},
    )
    pos = np.array([[b * PX - 0.4 for b in bounds]] * N_FRAMES) + np.array([0, 0.2, 0.5])[:, None]
    width = np.array([[1.0, 1.2, 0.8], [1.3, 1.5, 0.9], [1.7, 1.9, 1.1]])
    interfaces = xr.Dataset(
        {
            "position_nm": (("time", "interface"), pos, {"units": "nm"}),
            "position_nm_std": (("time", "interface"), 0.1 + 0 * pos, {"units": "nm"}),
            "width_nm": (("time", "interface"), width, {"units": "nm"}),
            "width_nm_std": (("time", "interface"), 0.1 * width, {"units": "nm"}),
        },
        coords={**tc, "interface": ("interface", IFACES)},
    )
    dist = np.arange(-6, 6.5, 0.5)
    quantities = ["cl_fraction", "crystallinity", "exx"]
    from scipy.special import erf

    lo, hi = np.array([0.3, 0.9, -0.01]), np.array([0.0, 0.2, 0.0])
    mean = lo[None, None, :, None] + (hi - lo)[None, None, :, None] * 0.5 * (
        1 + erf(dist / (np.sqrt(2) * width[:, :, None, None]))
    )
    pdims = ("time", "interface", "quantity", "distance")
    fit_dims = ("time", "interface", "quantity")
    profiles = xr.Dataset(
        {
            "mean": (pdims, mean, {"units": "1"}),
            "mean_std": (pdims, 0.05 * np.abs(lo - hi)[None, None, :, None] + 0 * mean, {"units": "1"}),
            "fit_lo": (fit_dims, np.broadcast_to(lo, mean.shape[:3]).copy(), {"units": "1"}),
            "fit_hi": (fit_dims, np.broadcast_to(hi, mean.shape[:3]).copy(), {"units": "1"}),
            "fit_centre_nm": (fit_dims, np.zeros(mean.shape[:3]), {"units": "nm"}),
            "fit_width_nm": (
                fit_dims,
                np.broadcast_to(width[:, :, None], mean.shape[:3]).copy(),
                {"units": "nm"},
            ),
        },
        coords={
            **tc,
            "interface": ("interface", IFACES),
            "quantity": ("quantity", quantities),
            "distance": ("distance", dist, {"units": "nm"}),
        },
    )
    pframe = np.array([1, 1, 2, 2, 2, 2])
    particles = xr.Dataset(
        {
            "frame": ("particle", pframe),
            "centroid_y_nm": ("particle", [9.0, 12.0, 9.5, 12.2, 8.2, 13.0], {"units": "nm"}),
            "centroid_x_nm": ("particle", [5.0, 14.0, 5.2, 14.1, 10.0, 3.0], {"units": "nm"}),
            "diameter_nm": ("particle", [3.0, 3.2, 3.6, 3.9, 3.0, 2.4], {"units": "nm"}),
            "area_nm2": (
                "particle",
                np.pi / 4 * np.array([3.0, 3.2, 3.6, 3.9, 3.0, 2.4]) ** 2,
                {"units": "nm2"},
            ),
            "kind": ("particle", ["Pb", "Pb", "Pb", "Pb", "Pb", "cluster"]),
            "track": ("particle", [0, 1, 0, 1, 2, 3]),
        }
    )
    nucleation = xr.Dataset(
        {
            "track": ("site", [0, 1, 2, 3]),
            "nucleation_frame": ("site", [1, 1, 2, 2]),
            "nucleation_time_s": ("site", [45.0, 45.0, 75.0, 75.0], {"units": "s"}),
            "centroid_y_nm": ("site", [9.0, 12.0, 8.2, 13.0], {"units": "nm"}),
            "centroid_x_nm": ("site", [5.0, 14.0, 10.0, 3.0], {"units": "nm"}),
            "kind": ("site", ["Pb", "Pb", "Pb", "cluster"]),
        }
    )
    R = np.array([3.41e7, 3.62e7, 4.05e7])
    el = np.array([1.0, 0.71, 0.33])
    tl_vars = {
        "t_start_s": ("time", t - 15, {"units": "s"}),
        "t_end_s": ("time", t + 15, {"units": "s"}),
        "voltage_V": ("time", R * 1e-7, {"units": "V"}),
        "voltage_V_std": ("time", [2e-3] * 3, {"units": "V"}),
        "current_A": ("time", [1e-7] * 3, {"units": "A"}),
        "resistance_ohm": ("time", R, {"units": "Ω"}),
        "resistance_ohm_std": ("time", R * 0.01, {"units": "Ω"}),
        "el_intensity": ("time", el, {"units": "a.u."}),
        "el_intensity_std": ("time", [0.02] * 3, {"units": "a.u."}),
        "charge_C": ("time", (t + 15) * 1e-7, {"units": "C"}),
        "alcl3_thickness_nm": ("time", [0.31, 1.27, 2.4137], {"units": "nm"}),
        "alcl3_thickness_nm_std": ("time", [0.1, 0.12, 0.15], {"units": "nm"}),
        "cl_fraction_edx": ("time", [0.30, 0.25, 0.2], {"units": "1"}),
        "cl_fraction_vegard": ("time", [0.31, 0.26, 0.19], {"units": "1"}),
        "cl_cathode_at_percent": ("time", [0.5, 1.8, 3.2], {"units": "at.%"}),
        "crystallinity_emitter": ("time", [0.95, 0.9, 0.62], {"units": "1"}),
        "phase_fraction_perovskite_emitter": ("time", [1.0, 0.97, 0.8], {"units": "1"}),
        "pb_particle_count": ("time", [0, 2, 3], {"units": "1"}),
        "pb_particle_diameter_nm": ("time", [np.nan, 3.1, 3.5], {"units": "nm"}),
        "cluster_count": ("time", [0, 0, 1], {"units": "1"}),
    }
    for m, dose in zip(MODALITIES, (500.0, 100.0, 5e4), strict=True):
        tl_vars[f"dose_e_per_A2_{m}"] = ("time", dose * np.arange(1, 4), {"units": "e/Å²"})
        tl_vars[f"registration_rms_px_{m}"] = ("time", [0.05] * 3, {"units": "px"})
    for iface, k in zip(("htl_emitter", "emitter_etl", "etl_al"), range(3), strict=True):
        tl_vars[f"interface_position_nm_{iface}"] = ("time", pos[:, k], {"units": "nm"})
        tl_vars[f"interdiffusion_width_nm_{iface}"] = ("time", width[:, k], {"units": "nm"})
        tl_vars[f"interdiffusion_width_nm_{iface}_std"] = ("time", 0.1 * width[:, k], {"units": "nm"})
    timeline = xr.Dataset(tl_vars, coords=tc)
    frames = xr.Dataset(
        {
            **{f"t_start_s_{m}": ("time", t - 15, {"units": "s"}) for m in MODALITIES},
            **{f"t_end_s_{m}": ("time", t + 15, {"units": "s"}) for m in MODALITIES},
            **{
                f"dose_e_per_A2_{m}": ("time", [d] * 3, {"units": "e/Å²"})
                for m, d in zip(MODALITIES, (500.0, 100.0, 5e4), strict=True)
            },
            **{f"file_{m}": ("time", [f"{m}/frame_{i}.hspy" for i in range(3)]) for m in MODALITIES},
        },
        coords=tc,
    )
    events = xr.Dataset(
        {
            "name": ("event", ["strain_collapse", "pb_nucleation", "cl_at_cathode"]),
            "frame": ("event", [2, 1, -1]),
            "time_s": ("event", [75.0, 45.0, np.nan], {"units": "s"}),
            "quantity": ("event", ["crystallinity_emitter", "pb_particle_count", "cl_cathode_at_percent"]),
            "threshold": ("event", [0.7, 1.0, 5.0]),
            "method": ("event", ["threshold"] * 3),
            "reason": ("event", ["fell below 0.7", "first particle", "never above 5"]),
        }
    )
    correlations = xr.Dataset(
        {
            "quantity": ("row", ["alcl3_thickness_nm", "pb_particle_count"]),
            "against": ("row", ["resistance_ohm", "el_intensity"]),
            "rho": ("row", [0.99, -0.95]),
            "rho_low": ("row", [0.8, -1.0]),
            "rho_high": ("row", [1.0, -0.6]),
            "lag_frames": ("row", [0, 1]),
            "lag_rho": ("row", [0.99, -0.97]),
            "n": ("row", [3, 3]),
        }
    )
    haadf_g = xr.Dataset({"aligned": (grid_dims, haadf, {"units": "counts"})}, coords={**tc, **yc})
    drift = xr.Dataset(
        {
            "shift_y_px": ("time", [0.0, 0.4, 0.9], {"units": "px"}),
            "shift_x_px": ("time", [0.0, -0.2, -0.5], {"units": "px"}),
        },
        coords=tc,
    )
    groups = {
        "frames": frames,
        "strain": strain,
        "grid": grid,
        "haadf": haadf_g,
        "drift": drift,
        "interfaces": interfaces,
        "profiles": profiles,
        "particles": particles,
        "nucleation": nucleation,
        "timeline": timeline,
        "events": events,
        "correlations": correlations,
    }
    tree = xr.DataTree.from_dict({f"/{k}": _group(v, k) for k, v in groups.items()})
    tree.attrs.update(session="synthetic PeLED", perovscope_version="0.1.0", created="2026-03-11T10:00:00")
    folder.mkdir(parents=True, exist_ok=True)
    tree.to_zarr(folder / "results.zarr", mode="w", consolidated=False)
    (folder / "tables").mkdir(exist_ok=True)
    for name in ("timeline", "events", "correlations", "particles", "nucleation"):
        groups[name].to_dataframe().reset_index().to_csv(folder / "tables" / f"{name}.csv", index=False)
    prov = {
        "session": "synthetic PeLED",
        "perovscope_version": "0.1.0",
        "created": "2026-03-11T10:00:00",
        "versions": {"numpy": np.__version__, "xarray": xr.__version__, "pandas": pd.__version__},
        "inputs": {
            f"{m}/frame_{i}.hspy": {"size": 1000 + i, "sha256": f"{i:02d}" * 32}
            for m in MODALITIES
            for i in range(3)
        },
        "steps": {
            "strain": {
                "cache_key": "ab12",
                "parameters": {"reference": "auto"},
                "upstream": ["read"],
                "ran": True,
                "why": "first run",
                "start": "2026-03-11T10:00:01",
                "end": "2026-03-11T10:00:02",
                "seconds": 1.2,
                "frames_resumed": 0,
            }
        },
        "warnings": ["eds: beam_energy_keV taken from the default (300) instead of the file"],
    }
    (folder / "provenance.json").write_text(json.dumps(prov, indent=1))
    (folder / "session.toml").write_text('[session]\nname = "synthetic PeLED"\noutput = "results"\n')
    return tree


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / "results"
    make_results(folder)
    return folder


def make_truth(path, tree):
    """A truth store shaped like the simulator's: ``truth`` (time) and ``truth/strain`` (scan grid)."""
    tl = tree["timeline"].to_dataset()
    strain = tree["strain"].to_dataset()
    rng = np.random.default_rng(5)
    root = xr.Dataset(
        {
            "alcl3_thickness_nm": (
                "time",
                tl["alcl3_thickness_nm"].values + [0.05, -0.1, 0.08],
                {"units": "nm"},
            ),
            "voltage_V": ("time", tl["voltage_V"].values * 0.999, {"units": "V"}),
            "el_intensity": ("time", tl["el_intensity"].values + 0.01, {"units": "a.u."}),
            "mean_cl_fraction": ("time", [0.3, 0.255, 0.195], {"units": "1"}),
        }
    )
    ts = xr.Dataset(
        {
            k: (
                strain[k].dims,
                strain[k].values + 5e-4 * rng.standard_normal(strain[k].shape),
                dict(strain[k].attrs),
            )
            for k in ("exx", "eyy", "exy", "theta")
        }
    )
    xr.DataTree.from_dict({"/truth": root, "/truth/strain": ts}).to_zarr(path, mode="w", consolidated=False)
    return path


def make_composite_results(folder, *, seed=1):
    """A composite/glass results folder: CL peak maps, EELS edge map + iodine profile, domains, sizes."""
    rng = np.random.default_rng(seed)
    n, px = 32, 2.5
    yc = {"y": ("y", np.arange(n) * px, {"units": "nm"}), "x": ("x", np.arange(n) * px, {"units": "nm"})}
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(yy - 14, xx - 17)
    inside = r < 8
    centre = np.where(inside, 710 + rng.normal(0, 0.3, (n, n)), np.nan)
    sigma = np.where(inside, 12 * (1 + 0.3 * (r / 8) ** 2), np.nan)
    cl = xr.Dataset(
        {
            "centre": (("y", "x"), centre, {"units": "nm"}),
            "sigma": (("y", "x"), sigma, {"units": "nm"}),
            "intensity": (("y", "x"), np.where(inside, 2000.0, 5.0), {"units": "counts"}),
        },
        coords=yc,
    )
    from scipy.special import erfc

    dist = np.arange(-5, 25, 0.5)
    iodine = np.where(dist < 0, 1.0, 0.5 * erfc(dist / 6.0)) + rng.normal(0, 0.01, dist.size)
    eels = xr.Dataset(
        {
            "edge_signal": (
                ("y", "x", "edge"),
                (np.exp(-np.maximum(r - 8, 0) / 6) * 900)[..., None],
                {"units": "counts"},
            ),
            "iodine_profile": ("distance", iodine, {"units": "1", "width_nm": 6.3, "width_nm_std": 0.7}),
        },
        coords={**yc, "edge": ("edge", ["I_M45"]), "distance": ("distance", dist, {"units": "nm"})},
    )
    field = np.sin(yy / 4.0) + np.cos(xx / 5.0)
    domains = xr.Dataset(
        {"domain": (("y", "x"), field > 0)}, coords=yc, attrs={"area_fraction": float(np.mean(field > 0))}
    )
    spheres = xr.Dataset({"diameter_nm": ("particle", rng.lognormal(np.log(200), 0.13, 80), {"units": "nm"})})
    tree = xr.DataTree.from_dict({"/cl": cl, "/eels": eels, "/domains": domains, "/nanospheres": spheres})
    tree.attrs.update(session="composite", perovscope_version="0.1.0", created="2026-03-11T10:00:00")
    folder.mkdir(parents=True, exist_ok=True)
    tree.to_zarr(folder / "results.zarr", mode="w", consolidated=False)
    return tree


@pytest.fixture
def builders():
    """The folder builders, for tests that need their own folder (conftest is not importable)."""
    return {"results": make_results, "truth": make_truth, "composite": make_composite_results}
