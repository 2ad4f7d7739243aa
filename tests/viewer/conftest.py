"""A small synthetic results folder (docs/results-store.md layout), a viewer serving it, and Chromium."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import xarray as xr

N_FRAMES = 6
STRAIN_SHAPE = (24, 32)   # scan_y, scan_x; 2 nm steps
GRID_SHAPE = (40, 48)     # y, x; 1.5 nm steps
LAYER_NAMES = ["HTL", "emitter", "ETL"]
PHASE_NAMES = ["cubic", "tetragonal", "orthorhombic"]
ELEMENTS = ["Cs", "Pb", "Br"]
SECRET = "perovscope-viewer-test-secret-0f3c"


def _time_coords(n):
    return {"frame": ("time", np.arange(n)), "time_s": ("time", 10.0 + 30.0 * np.arange(n), {"units": "s"})}


def build_results(root):
    """Write RESULTS/ with strain, grid, timeline and events groups; return the tree written."""
    rng = np.random.default_rng(7)
    t = np.arange(N_FRAMES)[:, None, None]
    sy, sx = STRAIN_SHAPE
    yy, xx = np.mgrid[0:sy, 0:sx]
    exx = (-2e-3 + 4e-3 * xx / (sx - 1))[None] * (1 + 0.1 * t)
    exx = exx + 1e-4 * rng.standard_normal((N_FRAMES, sy, sx))
    exx[2, 5, 7] = np.nan
    eyy = 1.5e-3 * np.sin(yy / 4.0)[None] + 2e-4 * t
    strain_coords = {"scan_y": ("scan_y", 2.0 * np.arange(sy), {"units": "nm"}),
                     "scan_x": ("scan_x", 2.0 * np.arange(sx), {"units": "nm"}), **_time_coords(N_FRAMES)}
    dims3 = ("time", "scan_y", "scan_x")
    phase = np.broadcast_to((yy * 3 // sy)[None], (N_FRAMES, sy, sx)).astype(np.int8)
    strain = xr.Dataset(
        {"exx": (dims3, exx, {"units": "1"}), "exx_std": (dims3, np.full_like(exx, 1.5e-4), {"units": "1"}),
         "eyy": (dims3, eyy, {"units": "1"}), "eyy_std": (dims3, np.full_like(eyy, 2e-4), {"units": "1"}),
         "phase": (dims3, phase, {"units": "1", "phase_names": PHASE_NAMES}),
         "lattice_parameter_nm": (dims3, 0.58 + 0.01 * eyy, {"units": "nm"}),
         "reason": (dims3, (np.isnan(exx) * 2).astype(np.uint8),
                    {"units": "1", "flag_values": [0, 2], "flag_meanings": "ok vacuum"}),
         "reference_mask": (dims3, np.broadcast_to(xx < 4, exx.shape), {"units": "1"})},
        coords=strain_coords, attrs={"step": "strain", "cache_key": "ab12", "parameters": "{}"})
    gy, gx = GRID_SHAPE
    ly = np.mgrid[0:gy, 0:gx][0]
    layer = np.broadcast_to(np.digitize(ly, [12, 28])[None], (N_FRAMES, gy, gx)).astype(np.int16).copy()
    layer[:, 0, :] = -1  # unassigned
    ap = np.stack([np.full((N_FRAMES, gy, gx), 20.0), 20.0 + np.zeros((N_FRAMES, gy, gx)),
                   60.0 + 0.5 * t + np.zeros((N_FRAMES, gy, gx))], axis=1)
    grid_coords = {"y": ("y", 1.5 * np.arange(gy), {"units": "nm"}),
                   "x": ("x", 1.5 * np.arange(gx), {"units": "nm"}), "element": ("element", ELEMENTS),
                   **_time_coords(N_FRAMES)}
    grid = xr.Dataset(
        {"layer": (("time", "y", "x"), layer, {"units": "1", "layer_names": LAYER_NAMES}),
         "haadf": (("time", "y", "x"), 1000.0 + 50 * layer + rng.poisson(20, (N_FRAMES, gy, gx)),
                   {"units": "counts"}),
         "atomic_percent": (("time", "element", "y", "x"), ap, {"units": "at.%"})},
        coords=grid_coords, attrs={"step": "grid"})
    r = 120.0 + 15.0 * np.arange(N_FRAMES) ** 1.5
    el = 1.0 / (1 + 0.2 * np.arange(N_FRAMES))
    timeline = xr.Dataset(
        {"resistance_ohm": ("time", r, {"units": "ohm"}),
         "resistance_ohm_std": ("time", 0.02 * r, {"units": "ohm"}),
         "el_intensity": ("time", el, {"units": "a.u."}),
         "el_intensity_std": ("time", 0.05 * el, {"units": "a.u."}),
         "voltage_V": ("time", np.full(N_FRAMES, 3.0), {"units": "V"}),
         "cl_fraction_edx": ("time", 0.1 + 0.05 * np.arange(N_FRAMES), {"units": "1"}),
         "alcl3_thickness_nm": ("time", np.linspace(0, 4, N_FRAMES), {"units": "nm"})},
        coords=_time_coords(N_FRAMES), attrs={"step": "timeline"})
    events = xr.Dataset(
        {"name": ("event", ["EL half-life", "R doubling", "collapse"]), "frame": ("event", [3, 4, -1]),
         "time_s": ("event", [100.0, 130.0, np.nan]),
         "quantity": ("event", ["el_intensity", "resistance_ohm", "crystallinity_emitter"]),
         "threshold": ("event", [0.5, 240.0, 0.3]), "method": ("event", ["threshold"] * 3),
         "reason": ("event", ["EL fell below half", "R doubled", "never crossed"])},
        attrs={"step": "events"})
    root_attrs = {"session": "viewer-test", "perovscope_version": "0.1.0"}
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs=root_attrs), "strain": strain, "grid": grid,
                                  "timeline": timeline, "events": events})
    root.mkdir(parents=True, exist_ok=True)
    tree.to_zarr(root / "results.zarr", mode="w", consolidated=False)
    (root / "tables").mkdir(exist_ok=True)
    (root / "tables" / "timeline.csv").write_text("frame,time_s\n0,10\n")
    (root / "provenance.json").write_text(json.dumps({"session": "viewer-test"}))
    (root / "report.html").write_text("<!doctype html><title>report</title><p>report</p>")
    (root / ".work").mkdir(exist_ok=True)
    (root / ".work" / "partial.txt").write_text("partial")
    return tree


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("viewer")
    root = base / "RESULTS"
    build_results(root)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (base / "sibling.txt").write_text(SECRET)
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "leakdir").symlink_to(outside, target_is_directory=True)
    (root / "figures").mkdir()
    (root / "figures" / "inside.txt").write_text("inside")
    (root / "figures" / "ok_link.txt").symlink_to(root / "figures" / "inside.txt")
    return root


@pytest.fixture(scope="session")
def store(results_dir):
    tree = xr.open_datatree(results_dir / "results.zarr", engine="zarr", consolidated=False)
    yield tree
    tree.close()


@pytest.fixture(scope="session")
def server(results_dir):
    from perovscope.viewer import serve_in_thread

    srv, thread = serve_in_thread(results_dir, port=0)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def driver():
    """Headless Chromium through selenium (Debian's chromium + chromium-driver; `make browser`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, chromedriver = shutil.which("chromium") or "/usr/bin/chromium", \
        shutil.which("chromedriver") or "/usr/bin/chromedriver"
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1300", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.binary_location = binary
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)
    drv.set_script_timeout(20)
    yield drv
    drv.quit()
