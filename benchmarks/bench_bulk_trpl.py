"""Side-by-side benchmark: perovscope's batched TCSPC reconvolution fit vs lifefit, per decay.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_bulk_trpl

Data: an ageing-like series of two-exponential decays (τ1 ∈ [0.8, 1.5] ns, τ2 ∈ [3, 8.1] ns,
α1 ∈ [0.2, 0.5], 10⁵ counts each, background 2 counts/channel, shift 0.1 ns) rendered from the
measured Horiba IRF of ``shared/data/bulk/trpl_tcspc/lifefit_irf.txt`` (binned ×2: 1024 channels of
54.9 ps) on a 4× finer grid, independently of either fit model, with Poisson noise.

* perovscope: :func:`perovscope.bulk.trpl.fit_decays` on all decays in one batched call (Poisson
  likelihood, the default, and unweighted least squares);
* lifefit (``lifefit.tcspc.Lifetime.reconvolution_fit``, the dedicated package a user would pick):
  one ``scipy.optimize.curve_fit`` per decay with NNLS amplitudes, timed on the first
  ``n_reference`` decays because 10 000 would take far longer than 2 minutes.

Both get the same start values: τ0 = (1, 5) ns and an IRF shift of 0. Results: per-decay throughput,
the speed ratio and each tool's errors on τ1, τ2 and the intensity-weighted mean against the truth,
written to ``benchmarks/results/bulk_trpl.json``.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np

from ._results import write_results

IRF_FILE = Path(__file__).resolve().parents[1].parent / "shared/data/bulk/trpl_tcspc/lifefit_irf.txt"
NS = 0.02743484 * 2
TAU0, SHIFT_NS, BG = (1.0, 5.0), 0.1, 2.0


def measured_irf():
    rows = [ln.split() for ln in IRF_FILE.read_text().splitlines()]
    counts = np.array([float(r[1]) for r in rows if len(r) == 2 and r[0].isdigit()])
    return counts[600:2648].reshape(1024, 2).sum(axis=1)


def simulate(n_decays: int, seed: int = 0, over: int = 4, chunk: int = 500):
    from scipy.signal import fftconvolve

    irf = measured_irf()
    n = irf.size
    clean = irf - irf[:150].mean()
    rng = np.random.default_rng(seed)
    tau = np.stack([rng.uniform(0.8, 1.5, n_decays), rng.uniform(3.0, 8.1, n_decays)], axis=1)
    a1 = rng.uniform(0.2, 0.5, n_decays)
    alpha = np.stack([a1, 1 - a1], axis=1)
    fine = (np.arange(n * over) + 0.5) / over
    g = np.interp(fine - 0.5 - SHIFT_NS / NS, np.arange(n), clean, left=0.0, right=0.0)
    g /= g.sum()
    y = np.empty((n_decays, n))
    for i in range(0, n_decays, chunk):  # rendering the truth, not part of any timing
        sl = slice(i, i + chunk)
        dec = np.einsum("nk,nkf->nf", alpha[sl], np.exp(-fine[None, None, :] * NS / tau[sl, :, None]))
        mu = fftconvolve(g[None, :], dec, axes=1)[:, : n * over].reshape(-1, n, over).sum(-1)
        mu *= (1e5 / mu.sum(axis=1))[:, None]
        y[sl] = rng.poisson(mu + BG)
    t_int = np.sum(alpha * tau**2, axis=1) / np.sum(alpha * tau, axis=1)
    return irf, y, tau, t_int


def run_perovscope(y, irf, statistic):
    from perovscope.bulk.trpl import fit_decays

    t = np.arange(y.shape[1]) * NS
    t0 = time.perf_counter()
    f = fit_decays(y, t, irf=irf, components=2, tau0=TAU0, shift=0.0, statistic=statistic)
    return f.taus, f.lifetimes.tau_intensity, f.flag, time.perf_counter() - t0


def run_lifefit(y, irf):
    import lifefit as lf

    ch = np.arange(1, y.shape[1] + 1)
    irf_arr = np.stack([ch, irf], axis=1)
    taus, t_int = np.full((len(y), 2), np.nan), np.full(len(y), np.nan)
    t0 = time.perf_counter()
    for i, row in enumerate(y):  # lifefit fits one decay per call
        life = lf.tcspc.Lifetime(np.stack([ch, row], axis=1), NS, irf_arr)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                life.reconvolution_fit(list(TAU0), irf_shift=0, verbose=False)
        except (RuntimeError, ValueError):
            continue
        order = np.argsort(life.fit_param["tau"])
        taus[i] = life.fit_param["tau"][order]
        t_int[i] = life.av_lifetime
    return taus, t_int, time.perf_counter() - t0


def errors(taus, t_int, true_tau, true_int):
    ok = np.all(np.isfinite(taus), axis=1) & np.isfinite(t_int)
    out = {"n_ok": int(ok.sum())}
    for name, est, tr in (("tau1", taus[:, 0], true_tau[:, 0]), ("tau2", taus[:, 1], true_tau[:, 1]),
                          ("tau_intensity", t_int, true_int)):
        d = est[ok] - tr[ok]
        out[name] = {"rms_ns": float(np.sqrt(np.mean(d * d))), "median_abs_ns": float(np.median(np.abs(d))),
                     "bias_ns": float(np.mean(d))}
    return out


def main(n_decays: int = 10_000, n_reference: int = 1000) -> dict:
    irf, y, tau, t_int = simulate(n_decays)
    results = {"n_decays": n_decays, "n_channels": int(y.shape[1]), "ns_per_channel": NS,
               "counts_per_decay": 1e5, "start_values": {"tau0_ns": TAU0, "shift_ns": 0.0},
               "load_average": os.getloadavg()}
    for stat in ("poisson", "least_squares"):
        taus, tint, flag, sec = run_perovscope(y, irf, stat)
        results[f"perovscope_{stat}"] = {"seconds": sec, "decays_per_s": n_decays / sec,
                                         "flags": np.bincount(flag, minlength=4).tolist(),
                                         "all": errors(taus, tint, tau, t_int),
                                         "subset": errors(taus[:n_reference], tint[:n_reference],
                                                          tau[:n_reference], t_int[:n_reference])}
    try:
        import lifefit  # noqa: F401
    except ImportError:
        results["lifefit"] = "not installed"
    else:
        taus, tint, sec = run_lifefit(y[:n_reference], irf)
        results["lifefit"] = {"n_decays": n_reference, "seconds": sec, "decays_per_s": n_reference / sec,
                              "errors": errors(taus, tint, tau[:n_reference], t_int[:n_reference])}
        for stat in ("poisson", "least_squares"):
            results[f"speed_ratio_{stat}"] = (results[f"perovscope_{stat}"]["decays_per_s"]
                                              / results["lifefit"]["decays_per_s"])
    return write_results("bulk_trpl", results)


if __name__ == "__main__":
    main()
