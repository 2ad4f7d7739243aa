"""Timing and internal accuracy of ``perovscope.simulate.simulate_device`` (no reference tool needed).

Run from the repository root (either environment)::

    .venv/bin/python -m benchmarks.bench_simulate

Measures, on the machine's cores (the target is < 60 s on 2 cores for the default session):

* wall time and peak resident memory of the default session (8 frames, 48×48 scan, 96×96 detector,
  192×192 HAADF, 32×32×2048 EDX) built eagerly, and of the same session streamed to zarr with
  :func:`perovscope.simulate.stream_device`;
* throughput in diffraction patterns per second;
* the strain precision a plain estimator reaches at the default dose: background-subtracted,
  intensity-weighted centre-of-mass disk positions → least-squares lattice → strain, compared with
  ``truth/strain`` on frame 0, and the error of ``perovscope.diffraction.analysis.strain_map`` (frames
  0–1, reference = ``truth/strain/reference_mask``) when that module is installed.

The table is printed and written to ``benchmarks/results/simulate.json``.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "simulate.json"


def _disk_positions(patterns, centres, r_in, r_out):
    """Background-subtracted centres of mass (ky, kx) px and net counts, looping over disks only."""
    n, ny, nx = patterns.shape
    ky, kx = np.meshgrid(np.arange(ny) - ny // 2, np.arange(nx) - nx // 2, indexing="ij")
    pos, net = np.empty((n, len(centres), 2)), np.empty((n, len(centres)))
    for j, (cy, cx) in enumerate(centres):
        d2 = (ky - cy) ** 2 + (kx - cx) ** 2
        inner, ring = d2 <= r_in ** 2, (d2 > (r_in + 0.5) ** 2) & (d2 <= r_out ** 2)
        w = patterns[:, inner] - patterns[:, ring].mean(1, keepdims=True)
        pos[:, j] = np.stack([w @ ky[inner], w @ kx[inner]], -1) / w.sum(1, keepdims=True)
        net[:, j] = w.sum(1)
    return pos, net


def strain_precision(tree) -> dict:
    """Strain error of a simple disk-COM estimator vs truth on frame 0 (perovskite, crystalline)."""
    from perovscope.diffraction.phases import mixed_halide_perovskite, reciprocal_lattice
    from perovscope.simulate.fourdstem import electron_wavelength_nm

    d4, st = tree["4dstem/4dstem"], tree["truth/strain"].dataset
    par = tree.attrs["parameters"]
    dk = float(d4.kx[1] - d4.kx[0])
    r_disk = par["convergence_semiangle_mrad"] * 1e-3 / electron_wavelength_nm(par["beam_energy_keV"]) / dk
    rl = reciprocal_lattice(mixed_halide_perovskite(par["x_cl"]), (0, 0, 1), 8.0)
    phi = np.radians(par["emitter_orientation_deg"])
    gx = (np.cos(phi) * rl.gx - np.sin(phi) * rl.gy) / dk
    gy = (np.sin(phi) * rl.gx + np.cos(phi) * rl.gy) / dk
    r_in, r_out = r_disk + 1.5, r_disk + 4.5
    ok = np.hypot(gx, gy) + r_out < d4.sizes["kx"] // 2 - 1
    centres, hk = np.stack([gy[ok], gx[ok]], 1), rl.hkl[ok, :2].astype(float)
    sel = ((st.phase[0] == 3) & (st.crystallinity[0] >= 0.999)).values
    ref = st.reference_mask.values
    pats = d4.values[0].astype(float)
    pos_ref, net = _disk_positions(pats[ref], centres, r_in, r_out)
    w = net.mean(0)
    solve = np.linalg.inv(hk.T @ (w[:, None] * hk)) @ (hk.T * w)
    b_ref = np.einsum("ij,njk->nik", solve, pos_ref[..., ::-1]).mean(0)
    pos, _ = _disk_positions(pats[sel], centres, r_in, r_out)
    b = np.einsum("ij,njk->nik", solve, pos[..., ::-1])
    f = np.linalg.inv(np.einsum("nji,jk->nik", b, np.linalg.inv(b_ref.T))).transpose(0, 2, 1)
    err = {"exx": f[:, 0, 0] - 1 - st.exx.values[0][sel], "eyy": f[:, 1, 1] - 1 - st.eyy.values[0][sel],
           "exy": 0.5 * (f[:, 0, 1] + f[:, 1, 0]) - st.exy.values[0][sel]}
    return {"n_pixels": int(sel.sum()), "n_disks": int(len(centres)),
            "counts_per_disk_median": float(np.median(w)),
            **{f"{k}_rms_error": float(np.sqrt(np.mean(v ** 2))) for k, v in err.items()},
            **{f"{k}_bias": float(np.mean(v)) for k, v in err.items()}}


def strain_map_accuracy(tree) -> dict | None:
    """Error of ``perovscope.diffraction.analysis.strain_map`` vs truth (frames 0–1), if available."""
    try:
        from perovscope.diffraction.analysis import strain_map
    except ImportError:
        return None
    st = tree["truth/strain"].dataset.isel(time=slice(0, 2))
    t0 = time.perf_counter()
    res = strain_map(tree["4dstem/4dstem"].isel(time=slice(0, 2)), reference=st.reference_mask.values,
                     phases=False)
    out = {"seconds": time.perf_counter() - t0}
    sel = ((st.phase == 3) & (st.crystallinity >= 0.999)).values
    for k in ("exx", "eyy", "exy", "theta"):
        err = res[k].values[sel] - st[k].values[sel]
        ok = np.isfinite(err)
        out[f"{k}_rms_error"] = float(np.sqrt(np.mean(err[ok] ** 2)))
        out[f"{k}_bias"] = float(np.mean(err[ok]))
        out[f"{k}_valid_fraction"] = float(ok.mean())
    return out


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> dict:
    from perovscope.simulate import simulate_device, stream_device

    out = {"cores": os.cpu_count()}
    t0 = time.perf_counter()
    tree = simulate_device(seed=0)
    out["default_session_s"] = time.perf_counter() - t0
    out["peak_rss_after_eager_MB"] = _peak_rss_mb()
    d4 = tree["4dstem/4dstem"]
    n_pat = int(np.prod(d4.shape[:3]))
    out["patterns"] = n_pat
    out["patterns_per_s"] = n_pat / out["default_session_s"]
    out["sizes_MB"] = {k: tree[f"{k}/{k}"].nbytes / 2 ** 20 for k in ("4dstem", "haadf", "eds")}
    out["strain_precision_default_dose"] = strain_precision(tree)
    out["diffraction_strain_map_vs_truth"] = strain_map_accuracy(tree)
    del tree
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        stream_device(Path(tmp) / "device.zarr", seed=0)
        out["stream_default_to_zarr_s"] = time.perf_counter() - t0
    rows = [("default session (eager)", f"{out['default_session_s']:.1f} s"),
            ("default session streamed to zarr", f"{out['stream_default_to_zarr_s']:.1f} s"),
            ("4D-STEM patterns / s", f"{out['patterns_per_s']:.0f}"),
            ("peak RSS after eager session", f"{out['peak_rss_after_eager_MB']:.0f} MB"),
            ("array sizes 4dstem/haadf/eds", " / ".join(f"{v:.0f} MB" for v in out["sizes_MB"].values()))]
    sp = out["strain_precision_default_dose"]
    rows += [(f"strain rms error {k} (simple COM estimator)", f"{sp[f'{k}_rms_error']:.2e}")
             for k in ("exx", "eyy", "exy")]
    sm = out["diffraction_strain_map_vs_truth"]
    if sm:
        rows += [(f"strain rms error {k} (diffraction.strain_map)", f"{sm[f'{k}_rms_error']:.2e}"
                  + (" deg" if k == "theta" else "")) for k in ("exx", "eyy", "exy", "theta")]
    width = max(len(r[0]) for r in rows)
    print(f"perovscope.simulate benchmark on {out['cores']} cores (no reference tool)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
