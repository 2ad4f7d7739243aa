"""Side-by-side benchmark: perovscope.spectroscopy vs HyperSpy / exSpy on the same synthetic data.

Run from the repository root in the bench environment::

    .venv-bench/bin/python -m benchmarks.bench_spectroscopy

Three anchors, each on data with a known truth, both tools in the same process:

* CL Gaussian maps: perovscope ``cl_peak_map`` vs HyperSpy ``Model1D.multifit`` (Gaussian + Offset,
  start values from ``Gaussian.estimate_parameters`` for every pixel). HyperSpy is timed on a subset
  and compared per pixel.
* EELS power-law background: perovscope ``eels_background_map`` vs exSpy
  ``EELSSpectrum.remove_background(fast=True)`` (compute only) and ``fast=False`` (whole task: load
  the file, fit, save), accuracy = background-subtracted edge signal vs truth.
* EDX map fitting: perovscope ``fit_edx`` (batched NNLS) vs exSpy ``EDSTEMSpectrum`` model
  ``multifit`` on spectra rendered by ``perovscope.simulate.eds`` (independent line shapes); accuracy =
  alpha-line net counts vs truth.

Results are printed as a table and written to ``benchmarks/results/spectroscopy.json``.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

RESULTS = Path(__file__).parent / "results" / "spectroscopy.json"


def _timed(func, *args, repeat: int = 1, **kwargs):
    """Result and the best wall time of ``repeat`` runs (the machine is shared: best-of-n)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return out, best


# ----------------------------------------------------------------------------------------- CL
def cl_data(ny=64, nx=64, seed=0):
    rng = np.random.default_rng(seed)
    wl = np.arange(620.0, 800.0, 0.34)
    centre = rng.uniform(700.0, 720.0, (ny, nx))
    sigma = rng.uniform(10.0, 18.0, (ny, nx))
    amp = rng.uniform(300.0, 1200.0, (ny, nx))
    mean = amp[..., None] * np.exp(-0.5 * ((wl - centre[..., None]) / sigma[..., None]) ** 2) + 20.0
    return wl, rng.poisson(mean).astype(np.float32), centre, sigma


def bench_cl(n_ref=64):
    import hyperspy.api as hs

    from perovscope.spectroscopy.maps import cl_peak_map

    wl, data, centre, sigma = cl_data()
    da = xr.DataArray(data, dims=("y", "x", "wavelength"), coords={"wavelength": wl})
    ds, t_ours = _timed(lambda: cl_peak_map(da), repeat=3)
    n_px = data.shape[0] * data.shape[1]
    sub = data.reshape(-1, wl.size)[:n_ref]
    s = hs.signals.Signal1D(sub)
    s.axes_manager[-1].offset, s.axes_manager[-1].scale = wl[0], wl[1] - wl[0]

    def hyperspy_fit():
        m = s.create_model()
        g = hs.model.components1D.Gaussian()
        o = hs.model.components1D.Offset()
        m.extend([g, o])
        o.estimate_parameters(s, wl[0], wl[40], only_current=False)
        g.estimate_parameters(s, wl[0], wl[-1], only_current=False)
        m.multifit(show_progressbar=False)
        return g.centre.map["values"].copy(), g.sigma.map["values"].copy()

    (hc, hsig), t_ref = _timed(hyperspy_fit)
    tc, ts = centre.reshape(-1)[:n_ref], sigma.reshape(-1)[:n_ref]
    oc, osig = ds["centre"].values.reshape(-1), ds["sigma"].values.reshape(-1)
    return {
        "pixels_ours": n_px, "pixels_ref": n_ref, "channels": int(wl.size),
        "ours_px_per_s": n_px / t_ours, "ref_px_per_s": n_ref / t_ref,
        "speedup": (n_px / t_ours) / (n_ref / t_ref),
        "ours_centre_rms_nm": float(np.sqrt(np.mean((oc[:n_ref] - tc) ** 2))),
        "ref_centre_rms_nm": float(np.sqrt(np.mean((hc - tc) ** 2))),
        "ours_centre_rms_nm_all": float(np.sqrt(np.mean((oc - centre.ravel()) ** 2))),
        "ours_sigma_rel_rms": float(np.sqrt(np.mean((osig[:n_ref] / ts - 1) ** 2))),
        "ref_sigma_rel_rms": float(np.sqrt(np.mean((np.abs(hsig) / ts - 1) ** 2))),
        "agreement_centre_max_nm": float(np.max(np.abs(oc[:n_ref] - hc))),
    }


# --------------------------------------------------------------------------------------- EELS
def eels_data(ny=64, nx=64, scale=1.0, seed=1):
    rng = np.random.default_rng(seed)
    e = np.arange(500.0, 1012.0, 0.5)
    r = rng.uniform(2.8, 3.4, (ny, nx))
    a = scale * 2e4 * 600.0 ** r * rng.uniform(0.8, 1.2, (ny, nx))
    bg = a[..., None] * e ** -r[..., None]
    onset = 619.0
    shape = np.clip((e - onset) / 8, 0, 1) * np.exp(-np.clip(e - onset, 0, None) / 120)
    edge_amp = scale * 2e3 * rng.uniform(0.5, 1.5, (ny, nx))
    counts = rng.poisson(bg + edge_amp[..., None] * shape).astype(np.float32)
    win = (e >= 625) & (e <= 675)
    return e, counts, (edge_amp[..., None] * shape[win]).sum(-1), win


def _exspy_signal(e, counts):
    import exspy

    s = exspy.signals.EELSSpectrum(counts)
    ax = s.axes_manager[-1]
    ax.offset, ax.scale, ax.units, ax.name = float(e[0]), float(e[1] - e[0]), "eV", "Energy loss"
    return s


def bench_eels(n_full=256):
    from perovscope.io import read, save
    from perovscope.spectroscopy.maps import eels_background_map

    window = (580.0, 618.0)
    e, counts, truth, win = eels_data(scale=10.0)  # high counts: 2e5 counts/channel at 600 eV
    da = xr.DataArray(counts, dims=("y", "x", "energy"), coords={"energy": e})
    n_px = counts.shape[0] * counts.shape[1]
    # best of 15 for both tools: a few ms per call on a shared 2-core machine is noisy
    ds, t_ours = _timed(lambda: eels_background_map(da, window=window), repeat=15)
    ours_edge = ds["background_subtracted"].sel(energy=slice(625, 675)).sum("energy").values
    s = _exspy_signal(e, counts)
    ref, t_fast = _timed(lambda: s.remove_background(signal_range=window, background_type="PowerLaw",
                                                     fast=True, show_progressbar=False,
                                                     display=False, plot_remainder=False),
                        repeat=15)
    ref_edge = ref.data[..., win].sum(-1)
    # fit alone (no subtraction): our power-law fit vs exSpy's two-area estimate on every pixel
    from perovscope.spectroscopy.eels import power_law_background

    _, t_fit_ours = _timed(lambda: power_law_background(counts, e, window=window), repeat=15)
    _, t_fit_ref = _timed(lambda: _exspy_r(s, window), repeat=15)
    out = {"pixels": n_px, "channels": int(e.size),
           "compute_ours_px_per_s": n_px / t_ours, "compute_fast_px_per_s": n_px / t_fast,
           "compute_speedup_vs_fast": t_fast / t_ours,
           "fit_only_ours_px_per_s": n_px / t_fit_ours, "fit_only_fast_px_per_s": n_px / t_fit_ref,
           "fit_only_speedup_vs_fast": t_fit_ref / t_fit_ours,
           "high_counts_ours_edge_rel_rms": float(np.sqrt(np.mean((ours_edge / truth - 1) ** 2))),
           "high_counts_fast_edge_rel_rms": float(np.sqrt(np.mean((ref_edge / truth - 1) ** 2))),
           "agreement_r_median_rel": float(np.median(np.abs(
               ds["power_law_r"].values / _exspy_r(s, window) - 1)))}
    # whole task, low counts, on a file: load -> fit -> save, both tools, same spectra
    import hyperspy.api as hs

    e2, c2, truth2, _ = eels_data(96, 96, scale=0.02, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "si.hspy"
        s2 = _exspy_signal(e2, c2)
        s2.save(src)

        def ours_task(poisson):
            si = read(src)
            res = eels_background_map(si, window=window, poisson=poisson).compute()  # as the CLI
            save(res, Path(tmp) / f"ours_{poisson}.zarr")
            return res

        def ref_task():
            sig = hs.load(src)
            res = sig.remove_background(signal_range=window, background_type="PowerLaw", fast=False,
                                        show_progressbar=False, display=False, plot_remainder=False)
            res.save(Path(tmp) / "ref.hspy", overwrite=True)
            return res

        ours_task(False)  # warm-up of imports (reader modules)
        hs.load(src)
        res_ls, t_ls = _timed(ours_task, False, repeat=5)
        res_ml, t_ml = _timed(ours_task, True, repeat=5)
        ref_full, t_full = _timed(ref_task)
    win2 = (e2 >= 625) & (e2 <= 675)

    def rms(edge):
        return float(np.sqrt(np.mean((edge - truth2) ** 2)) / truth2.mean())

    out.update({
        "task_pixels": int(c2.shape[0] * c2.shape[1]),
        "task_ours_s": t_ls, "task_ours_poisson_s": t_ml, "task_full_s": t_full,
        "task_speedup_vs_full": t_full / t_ls,
        "low_counts_ours_ls_edge_rel_rms": rms(res_ls["background_subtracted"].sel(
            energy=slice(625, 675)).sum("energy").values),
        "low_counts_ours_poisson_edge_rel_rms": rms(res_ml["background_subtracted"].sel(
            energy=slice(625, 675)).sum("energy").values),
        "low_counts_full_edge_rel_rms": rms(ref_full.data[..., win2].sum(-1)),
    })
    return out


def _exspy_r(s, window):
    import hyperspy.api as hs

    pl = hs.model.components1D.PowerLaw()
    pl.estimate_parameters(s, window[0], window[1], only_current=False)
    return pl.r.map["values"]


# ---------------------------------------------------------------------------------------- EDX
def edx_data(ny=32, nx=32, seed=3):
    from perovscope.simulate.eds import element_spectra, energy_axis_eV, family_yields, render_eds
    from perovscope.spectroscopy.xray_lines import ELEMENTS

    els = ["Cs", "Pb", "Br", "Cl"]
    z = [ELEMENTS[el] for el in els]
    e = energy_axis_eV(2048, 10.0)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 0.9, (ny, nx))
    comp = np.stack([np.full_like(x, 0.2), np.full_like(x, 0.2), 0.6 * (1 - x), 0.6 * x], -1)
    spectra = element_spectra(els, z, e, beam_energy_keV=300.0)
    electrons, thick, dens = 5e9, 50.0, 60.0  # ~10^4 counts per spectrum
    counts = render_eds(comp, spectra, electrons_per_pixel=electrons, thickness_nm=thick,
                        atom_density_nm3=dens, seed=seed)
    # truth: alpha-line counts of each element's quantification family
    quant = {"Cs": ("L", "La"), "Pb": ("L", "La"), "Br": ("K", "Ka"), "Cl": ("K", "Ka")}
    truth = np.zeros(comp.shape)
    for i, (el, zz) in enumerate(zip(els, z, strict=True)):
        for fam, y, lines in family_yields(el, zz, beam_energy_keV=300.0, solid_angle_sr=0.7):
            if fam != quant[el][0]:
                continue
            from perovscope.spectroscopy.xray_lines import xray_lines

            ea = [ln.energy_eV for ln in xray_lines(el, family=fam) if ln.name == quant[el][1]][0]
            w = dict(lines)[ea]
            eff = -np.expm1(-(ea / 150.0) ** 2)
            truth[..., i] = electrons * comp[..., i] * thick * dens * y * w * eff
    return e, counts, truth, els, quant


def bench_edx(n_ref=16):
    import exspy

    from perovscope.spectroscopy.edx import fit_edx

    e, counts, truth, els, quant = edx_data()
    n_px = counts.shape[0] * counts.shape[1]
    fit, t_ours = _timed(lambda: fit_edx(counts, e, els, beam_energy_keV=300.0), repeat=3)
    sub = counts.reshape(-1, e.size)[:n_ref].astype(float)
    s = exspy.signals.EDSTEMSpectrum(sub)
    ax = s.axes_manager[-1]
    ax.offset, ax.scale, ax.units = float(e[0]) / 1e3, float(e[1] - e[0]) / 1e3, "keV"
    s.set_microscope_parameters(beam_energy=300.0, energy_resolution_MnKa=130.0)
    s.add_elements(els)
    s.add_lines([f"{el}_{quant[el][1]}" for el in els])

    def exspy_fit():
        m = s.create_model(auto_background=True, auto_add_lines=True)
        m.multifit(show_progressbar=False)
        ints = m.get_lines_intensity(xray_lines=[f"{el}_{quant[el][1]}" for el in els])
        return np.stack([i.data for i in ints], -1)

    ref, t_ref = _timed(exspy_fit)
    tr = truth.reshape(-1, len(els))[:n_ref]
    ours = fit.net_counts.reshape(-1, len(els))[:n_ref]

    def rel_rms(v):
        return [float(x) for x in np.sqrt(np.mean((v / tr - 1) ** 2, axis=0))]

    return {"pixels_ours": n_px, "pixels_ref": n_ref, "channels": int(e.size), "elements": els,
            "ours_px_per_s": n_px / t_ours, "ref_px_per_s": n_ref / t_ref,
            "speedup": (n_px / t_ours) / (n_ref / t_ref),
            "ours_net_rel_rms": rel_rms(ours), "ref_net_rel_rms": rel_rms(ref),
            "ours_net_rel_rms_all": [float(x) for x in np.sqrt(np.mean(
                (fit.net_counts.reshape(-1, 4) / truth.reshape(-1, 4) - 1) ** 2, axis=0))]}


def main() -> dict:
    logging.getLogger("hyperspy").setLevel(logging.ERROR)
    logging.getLogger("exspy").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")  # benchmark script only: silence the anchors' chatter
    results = {}
    for name, func in (("cl", bench_cl), ("eels", bench_eels), ("edx", bench_edx)):
        print(f"-- {name}", flush=True)
        results[name] = func()
        for k, v in results[name].items():
            print(f"   {k:40s} {v if not isinstance(v, float) else f'{v:.4g}'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=float))
    return results


if __name__ == "__main__":
    main()
