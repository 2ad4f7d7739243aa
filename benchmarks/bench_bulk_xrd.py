"""Powder XRD: perovscope's batched whole-pattern refinement against the alternatives a user would pick.

The patterns: an in-situ series of γ-/δ-CsPbI₃ mixtures (Cu Kα1/Kα2, 10–50° 2θ, 0.02° steps, Poisson
counts) whose γ fraction and cells change along the series. They are rendered by an oracle written
here: structure factors from gemmi's own X-ray calculator on the CIF files, a dense Thompson–Cox–
Hastings pseudo-Voigt, Lorentz–polarization, and intensities ∝ W/(ZM·V) (so the truth is in weight
fractions). Three refinements of the same patterns, from the same start (tabulated cells, zero
shift 0, FWHM 0.1°):

The start policy is the same for all: tabulated cells, zero shift 0, FWHM 0.1°, then perovscope's
grid search over an isotropic cell scaling (±1.2 %) and a linear least-squares fit of scales and
background (xrayutilities gets the tabulated cells and its own linear scale).

* perovscope ``refine_pattern``: all patterns in one batched Levenberg–Marquardt call;
* ``scipy.optimize.least_squares`` (trf, finite-difference Jacobian) of the same model, one pattern
  at a time — what a user writes around a pattern model;
* xrayutilities ``PowderModel`` (fundamental-parameters profiles, lmfit least squares), the Python
  package for this job, on the first patterns only (one model evaluation takes seconds).

Recorded: time per pattern, speed ratios, and each tool's errors in weight fraction and lattice
parameters against the truth, in ``benchmarks/results/bulk_xrd.json``.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from ._results import write_results

N_SERIES = 64        # patterns refined by perovscope (one call)
N_SCIPY = 8          # of those, refined one by one with scipy
N_XU = 1             # of those, refined with xrayutilities
XU_MAXFEV = 250      # model evaluations allowed per xrayutilities fit
CU = (1.540593, 1.544414)
UVWXY = (0.004, -0.002, 0.003, 0.03, 0.01)
CELLS = {"gamma": (8.651, 8.832, 12.485), "delta": (10.458, 4.801, 17.776)}
SITES = {
    "gamma": ("P b n m", [("Cs", 0.00758, 0.03456, 0.25, 4.0), ("Pb", 0.5, 0, 0, 2.0),
                          ("I", 0.79662, 0.20392, 0.02593, 4.0), ("I", 0.44852, 0.00714, 0.25, 4.0)]),
    "delta": ("P n m a", [("Cs", 0.08128, 0.75, 0.32788, 2.5), ("Pb", 0.16185, 0.25, 0.06078, 1.5),
                          ("I", 0.02927, 0.25, 0.88769, 2.0), ("I", 0.16279, 0.25, 0.49796, 2.0),
                          ("I", 0.20368, 0.75, 0.71269, 2.0)]),
}


def write_cif(name, cell, path, *, pnma_from_pbnm=False):
    """A CIF with explicit symmetry operations (xrayutilities needs them)."""
    import gemmi

    hm, sites = SITES[name]
    if pnma_from_pbnm:  # Pbnm (a', b', c') -> Pnma (b', c', a'); x = y', y = z', z = x'
        cell = (cell[1], cell[2], cell[0])
        sites = [(e, y, z, x, b) for e, x, y, z, b in sites]
        hm = "P n m a"
    sg = gemmi.find_spacegroup_by_name(hm)
    lines = [f"data_{name}", "_chemical_formula_sum 'Cs I3 Pb'",
             *(f"_cell_length_{k} {v:.6f}" for k, v in zip("abc", cell, strict=True)),
             "_cell_angle_alpha 90", "_cell_angle_beta 90", "_cell_angle_gamma 90",
             f"_symmetry_space_group_name_H-M '{hm}'", "loop_", "_symmetry_equiv_pos_as_xyz",
             *(f"'{op.triplet()}'" for op in sg.operations()),
             "loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x",
             "_atom_site_fract_y", "_atom_site_fract_z", "_atom_site_B_iso_or_equiv",
             *(f"{e}{i + 1} {e} {x} {y} {z} {b}" for i, (e, x, y, z, b) in enumerate(sites))]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


def oracle(x, cif_paths, cells, fractions):
    """Noise-free pattern (independent of perovscope): gemmi |F|², dense TCH pseudo-Voigt."""
    import gemmi

    y = np.zeros_like(x)
    for path, cell, w in zip(cif_paths, cells, fractions, strict=True):
        small = gemmi.read_small_structure(str(path))
        small.cell = gemmi.UnitCell(*cell, 90, 90, 90)
        small.setup_cell_images()
        mass = sum(a.element.weight * a.occ for a in small.get_all_unit_cell_sites())
        small.change_occupancies_to_crystallographic()
        calc = gemmi.StructureFactorCalculatorX(small.cell)
        d_min = max(CU) / (2 * np.sin(np.radians((x[-1] + 2) / 2)))
        lines: dict = {}
        for hkl in itertools.product(*(range(-int(c / d_min) - 1, int(c / d_min) + 2) for c in cell)):
            if hkl != (0, 0, 0) and small.cell.calculate_d(hkl) >= d_min:
                key = round(small.cell.calculate_d(hkl), 7)
                f2 = abs(calc.calculate_sf_from_small_structure(small, hkl)) ** 2
                lines[key] = lines.get(key, 0.0) + f2
        d = np.array(sorted(lines))
        f2 = np.array([lines[k] for k in sorted(lines)])
        scale = w / (mass * small.cell.volume)
        for lam, ratio in zip(CU, (1.0, 0.5), strict=True):
            th = np.arcsin(lam / (2 * d))
            lp = (1 + np.cos(2 * th) ** 2) / (np.sin(th) ** 2 * np.cos(th))
            u, v, ww, xx, yy = UVWXY
            gg = np.sqrt(u * np.tan(th) ** 2 + v * np.tan(th) + ww)
            gl = xx / np.cos(th) + yy * np.tan(th)
            fw = (gg**5 + 2.69269 * gg**4 * gl + 2.42843 * gg**3 * gl**2 + 4.47163 * gg**2 * gl**3
                  + 0.07842 * gg * gl**4 + gl**5) ** 0.2
            q = gl / fw
            eta = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
            dx = x[:, None] - np.degrees(2 * th)[None, :]
            prof = eta * 2 / (np.pi * fw) / (1 + 4 * dx**2 / fw**2) + (1 - eta) * np.sqrt(
                4 * np.log(2) / np.pi) / fw * np.exp(-4 * np.log(2) * dx**2 / fw**2)
            y += (prof * (scale * f2 * lp * ratio)).sum(axis=1)
    return y


def series(cifs, n):
    rng = np.random.default_rng(7)
    x = np.arange(10.0, 50.0, 0.02)
    frac = np.linspace(0.05, 0.95, n)
    temps = np.linspace(25.0, 225.0, n)  # cells expand by up to 1 %
    ys, truth = [], []
    for f, t in zip(frac, temps, strict=True):
        e = 1 + 5e-5 * (t - 25)
        cells = [tuple(v * e for v in CELLS["gamma"]), tuple(v * e for v in CELLS["delta"])]
        y0 = oracle(x, cifs, cells, [f, 1 - f])
        ys.append(rng.poisson(y0 * 2e4 / y0.max() + 300 + 150 * np.exp(-(x - 10) / 12)).astype(float))
        truth.append((f, cells))
    return x, np.array(ys), truth


def run_perovscope(x, y, cifs):
    from perovscope.bulk.xrd import refine_pattern

    t0 = time.perf_counter()
    res = refine_pattern(y, x, [str(c) for c in cifs], anomalous=False, refine=("zero", "lattice", "W", "X"),
                         background_order=4, fwhm=0.1, search_strain=0.012)
    return res, time.perf_counter() - t0


def run_scipy(x, y, cifs):
    """scipy.optimize.least_squares of the same model, pattern by pattern, same start."""
    from scipy.optimize import least_squares

    from perovscope.bulk.xrd import _bounds, _free
    from perovscope.bulk.xrd_model import build_model, default_parameters
    from perovscope.bulk.xrd_phases import get_phase
    from perovscope.bulk.xrd_reflections import radiation
    from perovscope.bulk.xrd_start import grid_start, linear_start

    model = build_model(x, [get_phase(str(c)) for c in cifs], radiation("Cu"), background_order=4,
                        anomalous=False)
    p0 = default_parameters(model, fwhm=0.1)
    lo, hi = _bounds(model, p0)
    free = _free(model, ("zero", "lattice", "W", "X"))
    out, t0 = [], time.perf_counter()
    for yi in y:
        sig = np.sqrt(np.maximum(yi, 1.0))
        start = grid_start(model, yi[None], p0, strain=0.012, fwhm=0.1)  # perovscope's start, same policy
        start = linear_start(model, yi[None], start, sigma=sig[None])[0]

        def resid(q, start=start, yi=yi, sig=sig):
            p = start.copy()
            p[free] = q
            return (model.evaluate(p[None])[0] - yi) / sig

        fit = least_squares(resid, start[free], bounds=(lo[free], hi[free]), method="trf", x_scale="jac")
        p = start.copy()
        p[free] = fit.x
        out.append(p)
    elapsed = time.perf_counter() - t0
    p = np.array(out)
    from perovscope.bulk.xrd import hill_howard

    cells = np.stack([model.lattice(i, p) for i in range(2)], axis=1)
    vol = np.prod(cells[..., :3], axis=-1)
    wf, _ = hill_howard(p[:, [sl.start for sl in model.slices]], [ph.cell_mass for ph in model.phases], vol)
    return wf, cells, elapsed


def run_xrayutilities(x, y, cifs_pnma, n):
    import xrayutilities as xu

    mats = [xu.materials.Crystal.fromCIF(str(c)) for c in cifs_pnma]
    for m, name in zip(mats, ("gamma", "delta"), strict=True):
        m.name = name  # both are "Cs I3 Pb": distinct names keep the fit parameters apart
    out, t0 = [], time.perf_counter()
    for yi in y[:n]:
        powders = [xu.simpack.Powder(m, 0.5 / m.density, crystallite_size_gauss=1e6,
                                     crystallite_size_lor=80e-9) for m in mats]
        pm = xu.simpack.PowderModel(*powders, I0=1.0, fpsettings={"classoptions": {"oversampling": 2}})
        bkg = float(np.percentile(yi, 5))
        i0 = float(yi.max() - bkg) / max(float(pm.simulate(x).max()), 1e-30)  # peaks only, I0 = 1
        pm.set_background("polynomial", p=[0.0, bkg])  # numpy order: highest power first
        params = pm.create_fitparameters()
        for name in list(params):
            vary = (name.endswith(("_a", "_b", "_c", "_volume", "_crystallite_size_lor"))
                    or name in ("primary_beam_intensity",) or name.startswith("background_coeff"))
            params[name].set(vary=vary and "_at" not in name)
        params["primary_beam_intensity"].set(value=i0)
        fit = pm.fit(params, x, yi, std=np.sqrt(np.maximum(yi, 1.0)), maxfev=XU_MAXFEV)
        vols = [fit.params[f"phase_{m.name}_volume"].value for m in mats]
        mass = [v * m.density for v, m in zip(vols, mats, strict=True)]
        lat = [[fit.params[f"phase_{m.name}_{k}"].value for k in "abc"] for m in mats]
        out.append((np.array(mass) / sum(mass), lat))
        pm.close()
    return out, time.perf_counter() - t0


def errors(wf, cells, truth):
    f = np.array([t[0] for t in truth])
    d_wt = np.abs(np.asarray(wf)[:, 0] - f) * 100
    a_true = np.array([t[1][0][0] for t in truth])
    d_a = np.abs(np.asarray(cells)[:, 0, 0] - a_true)
    return {"wt_pct_mean_abs_error": float(d_wt.mean()), "wt_pct_max_abs_error": float(d_wt.max()),
            "gamma_a_mean_abs_error_A": float(d_a.mean()), "gamma_a_max_abs_error_A": float(d_a.max())}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cifs = [write_cif("gamma", CELLS["gamma"], Path(tmp) / "gamma.cif"),
                write_cif("delta", CELLS["delta"], Path(tmp) / "delta.cif")]
        gamma_pnma = write_cif("gamma", CELLS["gamma"], Path(tmp) / "gamma_pnma.cif", pnma_from_pbnm=True)
        cifs_pnma = [gamma_pnma, cifs[1]]
        x, y, truth = series(cifs, N_SERIES)
        res, t_pv = run_perovscope(x, y, cifs)
        out = {"patterns": N_SERIES, "points_per_pattern": int(x.size),
               "perovscope": {"seconds_total": t_pv, "seconds_per_pattern": t_pv / N_SERIES,
                              **errors(res.weight_fraction, res.cell, truth),
                              "subset_scipy": errors(res.weight_fraction[:N_SCIPY], res.cell[:N_SCIPY],
                                                     truth[:N_SCIPY]),
                              "subset_xrayutilities": errors(res.weight_fraction[:N_XU], res.cell[:N_XU],
                                                             truth[:N_XU]),
                              "median_gof": float(np.median(res.gof))}}
        wf, cells, t_sp = run_scipy(x, y[:N_SCIPY], cifs)
        out["scipy_least_squares"] = {"patterns": N_SCIPY, "seconds_per_pattern": t_sp / N_SCIPY,
                                      **errors(wf, cells, truth[:N_SCIPY])}
        out["speed_ratio_scipy_over_perovscope"] = (t_sp / N_SCIPY) / (t_pv / N_SERIES)
        try:
            import xrayutilities  # noqa: F401
        except ImportError:
            out["xrayutilities"] = "not installed"
        else:
            xu_out, t_xu = run_xrayutilities(x, y, cifs_pnma, N_XU)
            wf_xu = np.array([o[0] for o in xu_out])
            # xrayutilities reports γ in the Pnma setting: a(Pbnm) = c(Pnma)
            cells_xu = np.array([[[o[1][0][2], o[1][0][0], o[1][0][1]], o[1][1]] for o in xu_out])
            out["xrayutilities"] = {"patterns": N_XU, "seconds_per_pattern": t_xu / N_XU,
                                    **errors(wf_xu, cells_xu, truth[:N_XU]),
                                    "note": "fundamental-parameters profile fitted to TCH pseudo-Voigt data"}
            out["speed_ratio_xrayutilities_over_perovscope"] = (t_xu / N_XU) / (t_pv / N_SERIES)
    return write_results("bulk_xrd", out)


if __name__ == "__main__":
    main()
