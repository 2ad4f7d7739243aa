"""Side-by-side benchmark: perovscope's batched five-band Raman fit vs lmfit, per spectrum.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_bulk_raman

Data: a series of 10 000 simulated Raman spectra, 1024 channels over 800–1300 cm⁻¹ — five Gaussian
bands of a silicate glass (centres 950, 1010, 1080, 1150, 1190 cm⁻¹ each moved by up to ±3 cm⁻¹,
FWHM 50–70 cm⁻¹, heights 2–20 × 10³ counts varying ±20 % across the series) on a quadratic baseline,
with Poisson noise, generated from the formulas here independently of either fit.

* perovscope: :func:`perovscope.bulk.raman.fit_bands` (five Gaussians, the quadratic baseline fitted
  with them) on blocks of 1000 spectra — one batched Levenberg–Marquardt call per block;
* lmfit (``GaussianModel`` × 5 + ``QuadraticModel``, the tool a user would otherwise pick): one fit
  per spectrum, timed on the first ``n_reference`` spectra because 10 000 would take more than
  2 minutes.

Both get the same start values: centres (950, 1010, 1080, 1150, 1190) cm⁻¹, FWHM 60 cm⁻¹, heights
from the data at the start centres above the straight line through the end channels (the policy of
:func:`~perovscope.bulk.peak_fit.fit_peaks`), the baseline from that line. Results: spectra per
second, the speed ratio, and both tools' centre (cm⁻¹) and relative area errors against the truth,
written to ``benchmarks/results/bulk_raman.json``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ._results import write_results

CENTRES = np.array([950.0, 1010.0, 1080.0, 1150.0, 1190.0])
FWHM0 = 60.0
G = 4 * np.log(2)


def simulate(n: int, n_channels: int = 1024, seed: int = 7):
    """Spectra (n, channels), axis, and the true centres, FWHM and areas (n, 5)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(800.0, 1300.0, n_channels)
    centre = CENTRES + rng.uniform(-3, 3, (n, 5))
    fwhm = np.array([55.0, 70.0, 55.0, 60.0, 50.0]) * rng.uniform(0.9, 1.1, (n, 5))
    height = np.array([6e3, 8e3, 20e3, 4e3, 2e3]) * rng.uniform(0.8, 1.2, (n, 5))
    area = height * fwhm * np.sqrt(np.pi / G)
    t = (x - 1050.0) / 250.0
    base = (3000 + rng.uniform(-300, 300, (n, 1))) + (-1200 + rng.uniform(-100, 100, (n, 1))) * t + 400 * t**2
    lam = base + np.sum(
        height[..., None] * np.exp(-G * ((x - centre[..., None]) / fwhm[..., None]) ** 2), axis=1
    )
    return rng.poisson(lam).astype(float), x, centre, fwhm, area


def start_values(y, x):
    """Shared start policy: line through the end channels; heights above it at the start centres."""
    m = max(len(x) // 20, 3)
    xl, xr = x[:m].mean(), x[-m:].mean()
    yl, yr = y[:, :m].mean(1), y[:, -m:].mean(1)
    slope = (yr - yl) / (xr - xl)
    idx = np.searchsorted(x, CENTRES)
    line = yl[:, None] + slope[:, None] * (x[idx] - xl)
    height = np.maximum(y[:, idx] - line, 1.0)
    return height, yl - slope * xl, slope


def run_perovscope(y, x, block: int = 1000):
    from perovscope.bulk.raman import fit_bands

    out = {"centre": [], "area": []}
    t0 = time.perf_counter()
    for s in range(0, y.shape[0], block):  # blocks bound the (block, n, P) Jacobian in memory
        fit = fit_bands(
            y[s : s + block],
            x,
            centres=CENTRES,
            fwhm=np.full(5, FWHM0),
            shape="gaussian",
            baseline="fit",
            order=2,
        )
        out["centre"].append(fit.centre)
        out["area"].append(fit.area)
    return time.perf_counter() - t0, np.concatenate(out["centre"]), np.concatenate(out["area"])


def run_lmfit(y, x):
    from lmfit.models import GaussianModel, QuadraticModel

    model = QuadraticModel(prefix="b_")
    for k in range(5):
        model = model + GaussianModel(prefix=f"g{k}_")
    height, c0, c1 = start_values(y, x)
    sigma0 = FWHM0 / np.sqrt(8 * np.log(2))
    centre, area = np.empty((y.shape[0], 5)), np.empty((y.shape[0], 5))
    t0 = time.perf_counter()
    for i in range(y.shape[0]):  # lmfit fits one spectrum per call
        pars = model.make_params(b_a=0.0, b_b=c1[i], b_c=c0[i])
        for k in range(5):
            pars[f"g{k}_center"].set(value=CENTRES[k])
            pars[f"g{k}_sigma"].set(value=sigma0, min=1.0)
            pars[f"g{k}_amplitude"].set(value=height[i, k] * sigma0 * np.sqrt(2 * np.pi), min=0.0)
        res = model.fit(y[i], pars, x=x)
        centre[i] = [res.params[f"g{k}_center"].value for k in range(5)]
        area[i] = [res.params[f"g{k}_amplitude"].value for k in range(5)]
    return time.perf_counter() - t0, centre, area


def _errors(centre, area, true_c, true_a):
    ok = np.all(np.isfinite(centre), axis=1)
    dc = np.abs(centre[ok] - true_c[ok])
    da = np.abs(area[ok] / true_a[ok] - 1.0)
    return {
        "converged_fraction": float(ok.mean()),
        "centre_mae_cm": [float(v) for v in dc.mean(0)],
        "centre_median_abs_cm": float(np.median(dc)),
        "centre_p95_abs_cm": float(np.percentile(dc, 95)),
        "area_median_rel": float(np.median(da)),
        "area_p95_rel": float(np.percentile(da, 95)),
    }


def main(n: int | None = None, n_reference: int | None = None) -> dict:
    n = int(os.environ.get("BENCH_RAMAN_N", n or 10_000))
    n_ref = int(os.environ.get("BENCH_RAMAN_NREF", n_reference or 1000))
    y, x, true_c, _, true_a = simulate(n)
    t_pv, c_pv, a_pv = run_perovscope(y, x)
    t_lm, c_lm, a_lm = run_lmfit(y[:n_ref], x)
    result = {
        "data": {
            "spectra": n,
            "channels": int(x.size),
            "bands": 5,
            "model": "5 Gaussians + quadratic baseline",
            "noise": "Poisson",
        },
        "perovscope": {
            "spectra": n,
            "seconds": t_pv,
            "spectra_per_s": n / t_pv,
            **_errors(c_pv, a_pv, true_c, true_a),
            "same_subset": _errors(c_pv[:n_ref], a_pv[:n_ref], true_c[:n_ref], true_a[:n_ref]),
        },
        "lmfit": {
            "spectra": n_ref,
            "seconds": t_lm,
            "spectra_per_s": n_ref / t_lm,
            **_errors(c_lm, a_lm, true_c[:n_ref], true_a[:n_ref]),
            "note": f"timed on the first {n_ref} spectra: 10 000 would take > 2 minutes",
        },
    }
    result["speed_ratio"] = result["perovscope"]["spectra_per_s"] / result["lmfit"]["spectra_per_s"]
    return write_results("bulk_raman", result)


if __name__ == "__main__":
    main()
