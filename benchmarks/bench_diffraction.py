"""perovscope.diffraction side by side with py4DSTEM 0.14 (CPU) on the same simulated 4D-STEM data.

Run from the repository root in the benchmark environment::

    .venv-bench/bin/python -m benchmarks.bench_diffraction [--quick]

Measures, in one process on the same arrays:

1. **Bragg-disk detection** on the diffraction test fixture (``tests/diffraction/conftest.py``: a
   strained perovskite [001] scan whose every disk position is known exactly, 2e5 e⁻/pattern):
   patterns/s and RMS disk-position error for perovscope (Poisson ML refinement; dask threads over scan
   chunks) and py4DSTEM ``find_Bragg_disks`` (sigmoid kernel, ``subpixel="poly"`` and ``"multicorr"``).
2. **Full strain map** on ``perovscope.simulate.simulate_device`` (1 frame, 48×48 scan, 96×96 detector,
   default dose): patterns/s from raw data to strain, and the RMS error of exx, eyy, exy, θ against
   ``truth/strain`` on perovskite pixels, both tools given the truth reference region. py4DSTEM runs its
   algorithmic functions (disk detection, ``add_indices_to_braggvectors``,
   ``fit_lattice_vectors_all_DPs``, ``get_reference_g1g2``, ``get_strain_from_reference_g1g2``; no
   plotting) with the basis g1, g2 perovscope found, converted to its (qx = row, qy = col) frame.
3. **Virtual-image throughput** as a fraction of the memory bandwidth measured in the same run by a
   plain numpy reduction (``arr.sum(axis=(-2, -1))``) over an in-memory array of the same size.
4. **Detector sizes**: the whole ``perovscope strain`` command (stored zarr file to written results)
   on 128×128 and 256×256 patterns against py4DSTEM disk detection + strain on the same patterns
   (:func:`bench_detector_sizes`), with a one-thread profile of where perovscope's time goes.
5. **Out-of-core strain map**: a zarr dataset 4× a memory budget, processed in a subprocess; peak RSS
   (``VmHWM`` of the subprocess) compared with budget + 0.5 GB.

Results are printed and written to ``benchmarks/results/diffraction.json``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "diffraction.json"
QUICK = "--quick" in sys.argv
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None


def _fixture_module():
    path = ROOT / "tests" / "diffraction" / "conftest.py"
    spec = importlib.util.spec_from_file_location("diffraction_fixture", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_CPU = {}


def _best_time(fn, repeat=2, key=None):
    """Best wall time of ``repeat`` runs (and, under ``key``, the CPU time of that run)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if wall < best:
            best = wall
            if key:
                _CPU[key] = cpu
    return best, out


def _match_rms(ty, tx, dy, dx):
    """RMS position error (px) of detected disks matched (< 1 px) to true disks; and the fraction of
    true disks (centre ≥ 6 px inside the 96-px detector) that were found."""
    inside = (ty > 6) & (ty < 89) & (tx > 6) & (tx < 89)
    ty, tx = np.where(inside, ty, np.nan), np.where(inside, tx, np.nan)
    dist = np.hypot(dy[:, :, None] - ty[:, None, :], dx[:, :, None] - tx[:, None, :])
    dist = np.where(np.isnan(dist), np.inf, dist)
    j = np.argmin(dist, axis=1)                                   # nearest detection of each true disk
    dmin = np.take_along_axis(dist, j[:, None, :], 1)[:, 0]
    ok = dmin < 1.0
    ey = np.take_along_axis(dy, j, 1)[ok] - ty[ok]
    ex = np.take_along_axis(dx, j, 1)[ok] - tx[ok]
    return float(np.sqrt(np.mean(ey**2 + ex**2) / 2)), float(ok.sum() / inside.sum())


def _py4d_disks(data, radius, subpixel):
    import py4DSTEM

    dc = py4DSTEM.DataCube(data=np.asarray(data, dtype=np.float32))
    q = data.shape[-1]
    probe = py4DSTEM.Probe.generate_synthetic_probe(radius, 1.0, data.shape[-2:])
    kern = probe.get_kernel(mode="sigmoid", origin=(q / 2, q / 2), radii=(radius, 2 * radius))
    return dc.find_Bragg_disks(template=kern, corrPower=1.0, sigma_cc=0, subpixel=subpixel,
                               upsample_factor=16, minRelativeIntensity=0.002, minPeakSpacing=2 * radius,
                               edgeBoundary=int(radius + 1), maxNumPeaks=48)


def _py4d_arrays(bragg, shape, n=48):
    qx = np.full(shape + (n,), np.nan)
    qy, inten = qx.copy(), qx.copy()
    for i in range(shape[0]):           # py4DSTEM stores one PointList per scan position
        for j in range(shape[1]):
            d = bragg.raw[i, j].data
            k = min(len(d), n)
            qx[i, j, :k], qy[i, j, :k], inten[i, j, :k] = d["qx"][:k], d["qy"][:k], d["intensity"][:k]
    return qx, qy, inten


def bench_disks():
    import xarray as xr
    from dask import config

    from perovscope.diffraction.analysis import bragg_disks_map

    fx = _fixture_module()
    scan = (24, 24) if QUICK else (40, 40)
    # no dead/hot pixels here: a pure comparison of the estimators (py4DSTEM has no bad-pixel model)
    s = fx.make_strained_4dstem(scan=scan, interface_row=4, seed=11, with_defects=False)
    data = s.data
    n = data.shape[0] * data.shape[1]
    cr = s.crystal
    da = xr.DataArray(data, dims=("scan_y", "scan_x", "ky", "kx")).chunk({"scan_y": 8})
    with config.set(scheduler="threads"):
        t_pv, ds = _best_time(lambda: bragg_disks_map(da, s.probe, bad_mask=s.bad).compute(), key="pv_d")
    with config.set(scheduler="synchronous"):      # one core: the per-core comparison with py4DSTEM
        t_1, _ = _best_time(lambda: bragg_disks_map(da, s.probe, bad_mask=s.bad).compute())
    rms_pv, found_pv = _match_rms(s.disk_y[cr], s.disk_x[cr], ds["y"].values[cr], ds["x"].values[cr])
    res = {"patterns": n, "perovscope": {"patterns_per_s": n / t_pv, "patterns_per_cpu_s": n / _CPU["pv_d"],
                                         "patterns_per_s_one_thread": n / t_1,
                                         "rms_px": rms_pv, "found": found_pv}}
    for sub in ("poly", "multicorr"):
        t, bragg = _best_time(lambda sub=sub: _py4d_disks(data, s.radius_px, sub), repeat=2 if sub == "poly"
                              else 1, key=sub)
        qx, qy, _ = _py4d_arrays(bragg, scan)
        rms, found = _match_rms(s.disk_y[cr], s.disk_x[cr], qx[cr], qy[cr])   # qx = row
        res[f"py4DSTEM_{sub}"] = {"patterns_per_s": n / t, "patterns_per_cpu_s": n / _CPU[sub],
                                  "rms_px": rms, "found": found}
    return res


def bench_precision():
    """Cramér–Rao bound of the disk centres of the disk-detection fixture, and each tool's bias.

    The bound comes from the fixture's exact forward model (pixel-integrated uniform disks, 0.5 px
    Gaussian blur, diffuse background; Poisson counts): Fisher information ``Σ ∂λ/∂θ_i ∂λ/∂θ_j / λ``
    over a 19×19 window per disk, θ = (y, x, amplitude, quadratic background), derivatives by central
    differences of the renderer [Kay 1993, ch. 3]. Bias: both tools on the noise-free expectation.
    """
    from scipy.ndimage import gaussian_filter

    from perovscope.diffraction.disks import find_bragg_disks

    fx = _fixture_module()
    scan = (24, 24) if QUICK else (40, 40)
    s = fx.make_strained_4dstem(scan=scan, interface_row=4, seed=11, with_defects=False)
    n = scan[0] * scan[1]
    ty, tx, amp = (a.reshape(n, -1) for a in (s.disk_y, s.disk_x, s.disk_amp))
    sel = (ty > 6) & (ty < 89) & (tx > 6) & (tx < 89) & s.crystal.reshape(n, 1) & np.isfinite(amp)
    P, D = np.nonzero(sel)
    h, R, d = 9, s.radius_px, 0.02
    fy, fxp = ty[P, D] - np.round(ty[P, D]), tx[P, D] - np.round(tx[P, D])

    def render(dy, dx):
        img = fx._render((2 * h + 1,) * 2, (h + fy + dy)[:, None], (h + fxp + dx)[:, None],
                         amp[P, D][:, None], R)
        return gaussian_filter(img, (0, 0.5, 0.5)).reshape(len(P), -1)

    iy = np.round(ty[P, D]).astype(int)[:, None, None] + np.arange(-h, h + 1)[None, :, None]
    ix = np.round(tx[P, D]).astype(int)[:, None, None] + np.arange(-h, h + 1)[None, None, :]
    lam = np.where((iy >= 0) & (iy < 96) & (ix >= 0) & (ix < 96),
                   s.lam.reshape(n, 96, 96)[P[:, None, None], np.clip(iy, 0, 95), np.clip(ix, 0, 95)], np.inf)
    oy, ox = (np.mgrid[-h:h + 1, -h:h + 1] / h).reshape(2, -1)
    cols = [(render(d, 0) - render(-d, 0)) / (2 * d), (render(0, d) - render(0, -d)) / (2 * d),
            render(0, 0) / amp[P, D][:, None]]
    cols += [np.broadcast_to(c, cols[0].shape) for c in (np.ones_like(oy), oy, ox, oy * oy, ox * ox, oy * ox)]
    J = np.stack(cols, -1)
    cov = np.linalg.inv(np.einsum("npi,np,npj->nij", J, 1.0 / lam.reshape(len(P), -1), J))
    crlb = float(np.sqrt(np.mean(cov[:, 0, 0] + cov[:, 1, 1]) / 2))
    res = {"disks": int(len(P)), "crlb_rms_px": crlb, "dose_electrons_per_pattern": 2.0e5}
    clean = fx.make_strained_4dstem(scan=scan, interface_row=4, seed=11, with_defects=False, noise=False)
    cr = clean.crystal
    bins = np.linspace(-0.5, 0.5, 11)
    for name, (yy, xx) in (
            ("perovscope", (lambda b: (b.y, b.x))(find_bragg_disks(clean.data, clean.probe))),
            ("py4DSTEM_poly", _py4d_arrays(_py4d_disks(clean.data, clean.radius_px, "poly"), scan)[:2])):
        rms, _ = _match_rms(clean.disk_y[cr], clean.disk_x[cr], yy[cr], xx[cr])
        # pixel locking: mean x error against the true sub-pixel x position (nearest detection)
        t_x, t_y = clean.disk_x[cr], clean.disk_y[cr]
        dist = np.hypot(yy[cr][:, :, None] - t_y[:, None, :], xx[cr][:, :, None] - t_x[:, None, :])
        j = np.argmin(np.where(np.isnan(dist), np.inf, dist), 1)
        ex = np.take_along_axis(xx[cr], j, 1) - t_x
        ok = (t_x > 6) & (t_x < 89) & (t_y > 6) & (t_y < 89) & (np.abs(ex) < 1)
        k = np.digitize((t_x - np.round(t_x))[ok], bins) - 1
        res[name] = {"bias_rms_px_noise_free": rms,
                     "mean_x_error_by_subpixel_x": [float(ex[ok][k == i].mean()) for i in range(10)]}
    return res


def _py4d_strain(data, radius, basis_rowcol, ref_mask):
    from py4DSTEM.process.strain.latticevectors import (
        add_indices_to_braggvectors,
        fit_lattice_vectors_all_DPs,
        get_reference_g1g2,
        get_strain_from_reference_g1g2,
        index_bragg_directions,
    )

    bragg = _py4d_disks(data, radius, "poly")
    qx0, qy0, _ = bragg.measure_origin(score_method="intensity")
    bragg.calibration.set_origin((qx0, qy0))
    bragg.setcal(center=True, ellipse=False, pixel=False, rotate=False)
    g1, g2 = basis_rowcol
    hk = np.array([(h, k) for h in range(-4, 5) for k in range(-4, 5)], float)
    hk = hk[np.argsort(np.hypot(hk[:, 0], hk[:, 1]))]                  # origin first
    pts = hk[:, :1] * g1 + hk[:, 1:] * g2
    _, _, lattice = index_bragg_directions(0, 0, pts[:, 0], pts[:, 1], g1, g2)
    spacing = 0.25 * min(np.hypot(*g1), np.hypot(*g2))
    indexed = add_indices_to_braggvectors(bragg, lattice, spacing)
    g1g2 = fit_lattice_vectors_all_DPs(indexed)
    r1, r2 = get_reference_g1g2(g1g2, ref_mask & (g1g2.get_slice("mask").data > 0))
    sm = get_strain_from_reference_g1g2(g1g2, r1, r2)
    ok = sm.get_slice("mask").data > 0
    nan = np.where(ok, 1.0, np.nan)
    # py4DSTEM's frame is (qx, qy) = (row, col): its e_xx is our eyy, its theta equals our θ (the axis
    # swap and its sign convention cancel; see docs/diffraction.md)
    return {"exx": sm.get_slice("e_yy").data * nan, "eyy": sm.get_slice("e_xx").data * nan,
            "exy": sm.get_slice("e_xy").data * nan, "theta": np.degrees(sm.get_slice("theta").data) * nan}


def bench_strain():
    from dask import config

    from perovscope.diffraction.analysis import strain_map
    from perovscope.simulate import simulate_device

    tree = simulate_device(seed=0, n_frames=1, scan_shape=(32, 32) if QUICK else (48, 48))
    da = tree["4dstem/4dstem"].isel(time=0)
    truth = tree["truth/strain"].to_dataset().isel(time=0)
    ref = truth["reference_mask"].values
    data = da.values
    n = data.shape[0] * data.shape[1]
    lazy = da.chunk({"scan_y": 8})
    with config.set(scheduler="threads"):
        t_pv, ds = _best_time(lambda: strain_map(lazy, reference=ref, phases=False), key="pv_s")
    ok = np.isfinite(truth["exx"].values)

    def errors(maps):
        out = {}
        for k in ("exx", "eyy", "exy", "theta"):
            e = (maps[k] - truth[k].values)[ok]
            out[k] = float(np.sqrt(np.nanmean(e**2)))
            out[k + "_nan_fraction"] = float(np.isnan(e).mean())
        return out

    res = {"patterns": n, "perovscope": {"patterns_per_s": n / t_pv, "patterns_per_cpu_s": n / _CPU["pv_s"],
                                         **errors({k: ds[k].values for k in ds.data_vars})}}
    std_ok = ok & np.isfinite(ds["exx"].values)
    res["perovscope"]["exx_within_1sigma"] = float(np.mean(
        np.abs(ds["exx"].values - truth["exx"].values)[std_ok] < ds["exx_std"].values[std_ok]))
    G = np.array(ds.attrs["basis"]) / float(ds.attrs["calibration"]["pixel_size_inv_nm"])  # px, (x, y)
    basis_rowcol = (G[::-1, 0], G[::-1, 1])            # (row, col) components of g1, g2
    radius = float(ds.attrs["probe_radius_px"])
    t_p4, maps = _best_time(lambda: _py4d_strain(data, radius, basis_rowcol, ref), repeat=2, key="p4_s")
    res["py4DSTEM_poly"] = {"patterns_per_s": n / t_p4, "patterns_per_cpu_s": n / _CPU["p4_s"],
                            **errors(maps)}
    return res


#: Functions whose cumulative time (synchronous profile of ``perovscope strain``) makes each step.
_STEPS = {
    "read_and_check": ("_load",),
    "probe_measurement": ("measure_probe",),
    "disk_pass": ("_block",),
    "refinement": ("refine_disks",),
    "virtual_totals": ("virtual_images",),
    "stored_chunk_decode": ("_process_chunk", "concatenate3"),
    "lattice_fit": ("fit_lattice", "auto_basis"),
    "phases": ("pattern_basis", "match_phases", "candidate_lattices"),
    "reference_and_strain": ("auto_reference_mask", "reference_basis", "strain_from_basis"),
    "write": ("save",),
}


def _cli_profile(argv):
    """CPU seconds per step of one ``perovscope strain`` run on one thread (cProfile, cumulative;
    CPU time, which other jobs on the machine disturb far less than wall time)."""
    import cProfile
    import pstats

    from dask import config

    from perovscope.cli import main as cli

    prof = cProfile.Profile(time.process_time)
    with config.set(scheduler="synchronous"):
        t = time.process_time()
        prof.runcall(cli, argv)
        total = time.process_time() - t
    stats = pstats.Stats(prof).stats
    out = {"total": total}
    for step, names in _STEPS.items():
        out[step] = sum(v[3] for (_, _, fn), v in stats.items() if fn in names)
    # correlation + peak picking = the disk pass without the refinement and the pattern totals
    out["correlation_and_peaks"] = out["disk_pass"] - out["refinement"] - out["virtual_totals"]
    return out


def bench_detector_sizes():
    """The whole strain task at real detector sizes (128² EMPAD-like, 256² Medipix/Merlin-like).

    perovscope: ``perovscope strain FILE`` from a stored zarr file to the written result store (read,
    probe, disks, lattice, reference, strain, phases, write), dask threads. py4DSTEM: disk detection
    plus its strain calculation (:func:`_py4d_strain`) on the same patterns in memory. Both get the
    same probe (the disk radius perovscope measures on the data, as a template) and the truth
    reference region; medians of repeated runs, the load average next to them.
    """
    import xarray as xr

    from perovscope.cli import main as cli
    from perovscope.diffraction.probe import measure_probe
    from perovscope.io import open_results, save
    from perovscope.simulate import simulate_device

    scan = (32, 32) if QUICK else (48, 48)
    repeat = 3
    res = {"scan": list(scan), "repeats": repeat}
    for det in (128, 256):
        tree = simulate_device(seed=0, n_frames=1, scan_shape=scan, detector_shape=(det, det))
        truth = tree["truth/strain"].to_dataset().isel(time=0)
        ref = truth["reference_mask"].values
        ok = np.isfinite(truth["exx"].values)
        data = tree["4dstem/4dstem"].isel(time=0).values
        n = data.shape[0] * data.shape[1]
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
            path, out = Path(tmp) / f"scan{det}.zarr", Path(tmp) / "out.zarr"
            save(xr.DataTree.from_dict({"4dstem": tree["4dstem/4dstem"].to_dataset()}), path)
            del tree
            est = measure_probe(open_results(path)["4dstem"]["4dstem"])
            np.save(Path(tmp) / "probe.npy", est.template)
            np.save(Path(tmp) / "ref.npy", ref)
            argv = ["strain", str(path), "--out", str(out), "--quiet",
                    "--probe", str(Path(tmp) / "probe.npy"), "--reference", str(Path(tmp) / "ref.npy")]
            times, loads = [], []
            for _ in range(repeat):
                loads.append(os.getloadavg()[0])
                t = time.perf_counter()
                cli(argv)
                times.append(time.perf_counter() - t)
            ds = open_results(out).to_dataset().load()
            ds = ds.isel(time=0) if "time" in ds.dims else ds
            profile = _cli_profile(argv)
        G = np.array(ds.attrs["basis"]) / float(ds.attrs["calibration"]["pixel_size_inv_nm"])
        basis_rowcol = (G[::-1, 0], G[::-1, 1])
        p4_times = []
        for _ in range(repeat):
            loads.append(os.getloadavg()[0])
            t = time.perf_counter()
            maps = _py4d_strain(data, est.radius_px, basis_rowcol, ref)
            p4_times.append(time.perf_counter() - t)

        def errors(m, truth=truth, ok=ok):
            return {k: float(np.sqrt(np.nanmean((np.asarray(m[k]) - truth[k].values)[ok] ** 2)))
                    for k in ("exx", "eyy", "exy", "theta")}

        pv_rate, p4_rate = n / float(np.median(times)), n / float(np.median(p4_times))
        res[str(det)] = {
            "patterns": n, "probe_radius_px": est.radius_px,
            "median_disks_per_crystal_pattern": float(np.median(ds["n_disks"].values[ok])),
            "load_average_1min": loads,
            "perovscope_strain_command": {"patterns_per_s": pv_rate, "seconds": times,
                                          **errors({k: ds[k].values for k in ("exx", "eyy", "exy", "theta")}),
                                          "profile_one_thread_cpu_s": profile},
            "py4DSTEM_disks_and_strain": {"patterns_per_s": p4_rate, "seconds": p4_times, **errors(maps)},
            "ratio": pv_rate / p4_rate,
        }
        print(det, json.dumps(res[str(det)], default=float), flush=True)
    return res


def bench_virtual():
    from perovscope.diffraction.detector import annulus_mask, disk_mask
    from perovscope.diffraction.virtual import virtual_images

    n = 8192 if QUICK else 24576
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 50, (n, 128, 128), dtype=np.uint16)
    nbytes = arr.nbytes
    t_np, ref = _best_time(lambda: arr.sum(axis=(-2, -1)), repeat=3)
    masks = np.stack([disk_mask((128, 128), 10), annulus_mask((128, 128), 20, 60), np.ones((128, 128))])
    t_v, out = _best_time(lambda: virtual_images(arr, masks), repeat=3)
    assert np.array_equal(out[:, 2], ref)
    t_v32, _ = _best_time(lambda: virtual_images(arr, masks, dtype=np.float32), repeat=3)
    return {"bytes": nbytes, "numpy_sum_GB_per_s": nbytes / t_np / 1e9,
            "virtual_3_masks_GB_per_s": nbytes / t_v / 1e9, "fraction_of_bandwidth": t_np / t_v,
            "virtual_float32_GB_per_s": nbytes / t_v32 / 1e9, "fraction_float32": t_np / t_v32}


_CHILD = r"""
import resource, sys, time, json
import numpy as np


def peak_rss():
    # VmHWM belongs to this process image (ru_maxrss can carry the parent's peak across fork/exec)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


from dask import config
from perovscope.io import open_results
from perovscope.diffraction.analysis import strain_map
path = sys.argv[1]
base = peak_rss()
da = open_results(path, chunks={})["4dstem"]["4dstem"]
t = time.perf_counter()
with config.set(scheduler="threads", num_workers=2):
    ds = strain_map(da, phases=False)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "patterns": int(np.prod(da.shape[:-2])),
                  "fitted": int((ds["reason"].values == 0).sum()),
                  "rss_after_imports_bytes": base,
                  "peak_rss_bytes": peak_rss()}))
"""


def bench_out_of_core():
    import dask.array as dsk
    import xarray as xr

    from perovscope.io import save
    from perovscope.simulate import simulate_device

    budget = (64 if QUICK else 128) * 2**20
    tree = simulate_device(seed=1, n_frames=1, scan_shape=(32, 32))
    block = tree["4dstem/4dstem"].values                     # (1, 32, 32, 96, 96) uint16
    reps = int(np.ceil(4 * budget / block.nbytes))
    arr = dsk.concatenate([dsk.from_array(block, chunks=(1, 8, 32, 96, 96))] * reps, axis=0)
    da = xr.DataArray(arr, dims=("time", "scan_y", "scan_x", "ky", "kx"), name="4dstem",
                      attrs=dict(tree["4dstem/4dstem"].attrs))
    da = da.assign_coords({k: tree["4dstem/4dstem"][k] for k in ("ky", "kx")})
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        path = Path(tmp) / "big.zarr"
        save(xr.DataTree.from_dict({"4dstem": da.to_dataset()}), path)
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                             cwd=ROOT, check=False)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r.update(budget_bytes=budget, dataset_bytes=int(arr.nbytes),
             limit_bytes=budget + 512 * 2**20, within_limit=r["peak_rss_bytes"] <= budget + 512 * 2**20,
             patterns_per_s=r["patterns"] / r["seconds"])
    return r


def main() -> dict:
    warnings.filterwarnings("ignore")            # py4DSTEM's progress/deprecation chatter
    os.environ.setdefault("TQDM_DISABLE", "1")
    res = {"cpu_count": os.cpu_count(), "quick": QUICK, "load_average_at_start": os.getloadavg()}
    for name, fn in (("disk_detection", bench_disks), ("precision", bench_precision),
                     ("strain_map", bench_strain), ("detector_sizes", bench_detector_sizes),
                     ("virtual_images", bench_virtual), ("out_of_core", bench_out_of_core)):
        if ONLY and name not in ONLY:
            continue
        t = time.perf_counter()
        res[name] = fn()
        res[name]["bench_seconds"] = time.perf_counter() - t
        res[name]["load_average_at_start"] = res["load_average_at_start"]
        print(name, json.dumps(res[name], indent=1, default=float), flush=True)
    if ONLY:   # update these entries of the stored results, keep the others
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        old.update({k: res[k] for k in ONLY if k in res})
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(old, indent=1, default=float))
        return res
    d, s = res["disk_detection"], res["strain_map"]
    pv, p4 = d["perovscope"], d["py4DSTEM_poly"]
    print("\n| measure | perovscope | py4DSTEM poly | py4DSTEM multicorr | ratio (pv/poly) |")
    print("|---|---|---|---|---|")
    mc = d["py4DSTEM_multicorr"]
    print(f"| disk detection, patterns/s | {pv['patterns_per_s']:.0f} | {p4['patterns_per_s']:.0f} | "
          f"{mc['patterns_per_s']:.0f} | {pv['patterns_per_s'] / p4['patterns_per_s']:.2f} |")
    print(f"| disk position RMS error, px | {pv['rms_px']:.4f} | {p4['rms_px']:.4f} | {mc['rms_px']:.4f} | "
          f"{pv['rms_px'] / p4['rms_px']:.2f} |")
    pr = res["precision"]
    print(f"| … ÷ Cramér–Rao bound ({pr['crlb_rms_px']:.4f} px) | {pv['rms_px'] / pr['crlb_rms_px']:.2f} | "
          f"{p4['rms_px'] / pr['crlb_rms_px']:.2f} | {mc['rms_px'] / pr['crlb_rms_px']:.2f} | – |")
    print(f"| bias (noise-free), RMS px | {pr['perovscope']['bias_rms_px_noise_free']:.4f} | "
          f"{pr['py4DSTEM_poly']['bias_rms_px_noise_free']:.4f} | – | – |")
    print(f"| disk detection, one thread, patterns/s | {pv['patterns_per_s_one_thread']:.0f} | "
          f"{p4['patterns_per_s']:.0f} | – | {pv['patterns_per_s_one_thread'] / p4['patterns_per_s']:.2f} |")
    sp, s4 = s["perovscope"], s["py4DSTEM_poly"]
    print(f"| disk detection, patterns per CPU-s | {pv['patterns_per_cpu_s']:.0f} | "
          f"{p4['patterns_per_cpu_s']:.0f} | {mc['patterns_per_cpu_s']:.0f} | "
          f"{pv['patterns_per_cpu_s'] / p4['patterns_per_cpu_s']:.2f} |")
    print(f"| strain map, patterns/s | {sp['patterns_per_s']:.0f} | {s4['patterns_per_s']:.0f} | – | "
          f"{sp['patterns_per_s'] / s4['patterns_per_s']:.2f} |")
    print(f"| strain map, patterns per CPU-s | {sp['patterns_per_cpu_s']:.0f} | "
          f"{s4['patterns_per_cpu_s']:.0f} | – | "
          f"{sp['patterns_per_cpu_s'] / s4['patterns_per_cpu_s']:.2f} |")
    for k in ("exx", "eyy", "exy", "theta"):
        print(f"| RMS error {k} | {sp[k]:.2e} | {s4[k]:.2e} | – | {sp[k] / s4[k]:.2f} |")
    v = res["virtual_images"]
    print(f"\nvirtual images: {v['virtual_3_masks_GB_per_s']:.2f} GB/s vs numpy sum "
          f"{v['numpy_sum_GB_per_s']:.2f} GB/s → {100 * v['fraction_of_bandwidth']:.0f} % "
          f"(float32: {100 * v['fraction_float32']:.0f} %)")
    o = res["out_of_core"]
    if "error" not in o:
        print(f"out of core: {o['dataset_bytes'] / 2**20:.0f} MiB dataset, budget "
              f"{o['budget_bytes'] / 2**20:.0f} MiB, peak RSS {o['peak_rss_bytes'] / 2**20:.0f} MiB "
              f"(limit {o['limit_bytes'] / 2**20:.0f} MiB) → {'OK' if o['within_limit'] else 'MISS'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1, default=float))
    return res


if __name__ == "__main__":
    main()
