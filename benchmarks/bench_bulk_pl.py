"""Side-by-side benchmark: two-Gaussian PL decompositions, perovscope's batched fit vs lmfit, per spectrum.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_bulk_pl

Data: 10 000 simulated PL spectra on a photon-energy axis (1.5–2.0 eV, 1024 channels): a main band
(centre 1.73–1.77 eV, FWHM 60–90 meV) and a low-energy component 50–80 meV below it (FWHM
100–140 meV, 20–45 % of the area), 2·10⁵ counts in all, on a sloping background of ≈ 20 counts per
channel, with Poisson noise. The truth is rendered by integrating each Gaussian over every channel
(error functions), independently of both fit models.

* perovscope: :func:`perovscope.bulk.peak_fit.fit_peaks` (two Gaussians on a linear baseline,
  unweighted least squares) on all spectra, in batches of 2 500 (to bound memory);
* lmfit: ``GaussianModel() + GaussianModel() + LinearModel()`` fitted spectrum by spectrum (the usual
  choice of a user), timed on the first ``n_reference`` spectra when all 10 000 would take more
  than 2 minutes.

Both get the same start values for every spectrum, from one shared policy: the peak position ``p``
and FWHM ``w`` of each spectrum (:func:`perovscope.bulk.pl.pl_peak`), centres ``(p − 0.6·w, p)``,
widths ``(1.0, 0.7) × median(w)``, and the areas and baseline that ``fit_peaks`` derives from these
(height above the end-channel baseline × width), converted to lmfit's parameters. Results: spectra
per second for each tool, the speed ratio, and each tool's errors on the low component's share and
on both centres against the truth, written to ``benchmarks/results/bulk_pl.json``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ._results import write_results

N_CHANNELS = 1024
X = np.linspace(1.5, 2.0, N_CHANNELS)
FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def simulate(n: int, seed: int = 0):
    """``(counts (n, 1024), truth dict)``: bin-integrated Gaussians on a linear background, Poisson."""
    from scipy.special import erf

    rng = np.random.default_rng(seed)
    c2 = rng.uniform(1.73, 1.77, n)
    w2 = rng.uniform(0.06, 0.09, n)
    c1 = c2 - rng.uniform(0.05, 0.08, n)
    w1 = rng.uniform(0.10, 0.14, n)
    share1 = rng.uniform(0.20, 0.45, n)
    total = 2e5
    dx = X[1] - X[0]
    edges = np.concatenate([X - dx / 2, [X[-1] + dx / 2]])

    def binned(c, w, area):
        s = (w * FWHM_TO_SIGMA)[:, None]
        cdf = 0.5 * (1.0 + erf((edges[None, :] - c[:, None]) / (np.sqrt(2.0) * s)))
        return area[:, None] * np.diff(cdf, axis=1)

    t = (X - X.mean()) / (0.5 * (X[-1] - X[0]))
    b0, b1 = rng.uniform(15, 25, n), rng.uniform(-5, 5, n)
    clean = (binned(c1, w1, share1 * total) + binned(c2, w2, (1 - share1) * total)
             + b0[:, None] + b1[:, None] * t)
    y = rng.poisson(clean).astype(float)
    return y, {"c1": c1, "c2": c2, "w1": w1, "w2": w2, "share1": share1}


def start_values(y):
    """The shared start policy: per-spectrum centres, shared widths, and fit_peaks' own p0."""
    from perovscope.bulk.peak_fit import _layout, _start
    from perovscope.bulk.pl import pl_peak

    peak = pl_peak(y, X, smooth=5, baseline="linear")
    w = np.where(np.isfinite(peak.fwhm), peak.fwhm, np.nanmedian(peak.fwhm))
    centres = np.stack([peak.position - 0.6 * w, peak.position], axis=-1)
    fwhm = np.array([1.0, 0.7]) * np.nanmedian(w)
    t = (X - 0.5 * (X[0] + X[-1])) / (0.5 * (X[-1] - X[0]))
    shapes = ("gaussian", "gaussian")
    p0 = _start(y, X, t, shapes, centres, fwhm, 1, _layout(shapes, 1))
    return centres, fwhm, p0


def run_perovscope(y, centres, fwhm, batch: int = 2500):
    from perovscope.bulk.peak_fit import fit_peaks

    out = {"share1": [], "c1": [], "c2": [], "flag": []}
    t0 = time.perf_counter()
    for i in range(0, y.shape[0], batch):  # batches bound the memory; each batch is one fit
        fit = fit_peaks(y[i:i + batch], X, centres=centres[i:i + batch], fwhm=fwhm, shape="gaussian",
                        baseline_order=1)
        order = np.argsort(fit.centre, axis=-1)
        share = np.take_along_axis(fit.share, order, -1)
        cen = np.take_along_axis(fit.centre, order, -1)
        out["share1"].append(share[:, 0])
        out["c1"].append(cen[:, 0])
        out["c2"].append(cen[:, 1])
        out["flag"].append(fit.flag)
    elapsed = time.perf_counter() - t0
    return {k: np.concatenate(v) for k, v in out.items()}, elapsed


def run_lmfit(y, p0, n: int):
    from lmfit.models import GaussianModel, LinearModel

    model = GaussianModel(prefix="g1_") + GaussianModel(prefix="g2_") + LinearModel(prefix="l_")
    x_mid, x_half = 0.5 * (X[0] + X[-1]), 0.5 * (X[-1] - X[0])
    res = {"share1": np.full(n, np.nan), "c1": np.full(n, np.nan), "c2": np.full(n, np.nan),
           "ok": np.zeros(n, bool)}
    t0 = time.perf_counter()
    for i in range(n):  # the reference tool fits one spectrum at a time
        p = p0[i]
        params = model.make_params(g1_amplitude=p[0], g1_center=p[1], g1_sigma=p[2] * FWHM_TO_SIGMA,
                                   g2_amplitude=p[3], g2_center=p[4], g2_sigma=p[5] * FWHM_TO_SIGMA,
                                   l_slope=p[7] / x_half, l_intercept=p[6] - p[7] * x_mid / x_half)
        try:
            r = model.fit(y[i], params, x=X)
        except Exception:  # noqa: BLE001 — a failed reference fit counts as a failure, not a crash
            continue
        a = np.array([r.params["g1_amplitude"].value, r.params["g2_amplitude"].value])
        c = np.array([r.params["g1_center"].value, r.params["g2_center"].value])
        o = np.argsort(c)
        res["share1"][i] = a[o][0] / a.sum()
        res["c1"][i], res["c2"][i] = c[o]
        res["ok"][i] = bool(r.success)
    return res, time.perf_counter() - t0


def errors(est, truth, n):
    out = {}
    for key in ("share1", "c1", "c2"):
        d = est[key][:n] - truth[key][:n]
        good = np.isfinite(d)
        out[key] = {"median_abs": float(np.median(np.abs(d[good]))),
                    "rms": float(np.sqrt(np.mean(d[good] ** 2))),
                    "bias": float(np.mean(d[good])), "n_nonfinite": int(np.sum(~good))}
    d = np.abs(est["share1"][:n] - truth["share1"][:n])
    out["fraction_share_off_by_more_than_0.1"] = float(np.mean(~(d <= 0.1)))
    return out


def main(n_spectra: int = 10_000, n_reference: int | None = None, seed: int = 0) -> dict:
    load_start = [round(v, 2) for v in os.getloadavg()]
    y, truth = simulate(n_spectra, seed=seed)
    centres, fwhm, p0 = start_values(y)
    pv, t_pv = run_perovscope(y, centres, fwhm)
    # estimate lmfit's cost on 50 spectra, then time it on all of them if that takes < 2 minutes
    probe, t_probe = run_lmfit(y, p0, 50)
    per_fit = t_probe / 50
    if n_reference is None:
        n_reference = n_spectra if per_fit * n_spectra < 120 else 1000
    lm, t_lm = run_lmfit(y, p0, n_reference)
    rate_pv, rate_lm = n_spectra / t_pv, n_reference / t_lm
    result = {
        "data": {"n_spectra": n_spectra, "channels": N_CHANNELS, "axis_eV": [float(X[0]), float(X[-1])],
                 "counts_per_spectrum": 2e5, "noise": "Poisson", "seed": seed},
        "perovscope": {"spectra": n_spectra, "seconds": t_pv, "spectra_per_s": rate_pv,
                       "fraction_flag_ok": float(np.mean(pv["flag"] == 0)),
                       "errors_all": errors(pv, truth, n_spectra),
                       "errors_on_reference_subset": errors(pv, truth, n_reference)},
        "lmfit": {"spectra": n_reference, "seconds": t_lm, "spectra_per_s": rate_lm,
                  "estimated_seconds_for_all": per_fit * n_spectra,
                  "timed_on_subset": n_reference < n_spectra,
                  "fraction_success": float(np.mean(lm["ok"])), "errors": errors(lm, truth, n_reference)},
        "speed_ratio_perovscope_over_lmfit": rate_pv / rate_lm,
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15_at_start": load_start,
        "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()],
    }
    return write_results("bulk_pl", result)


if __name__ == "__main__":
    main()
