"""Side-by-side benchmark: perovscope.bulk.impedance vs impedance.py on a series of simulated spectra.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_bulk_impedance

Data: ``N`` spectra of the battery circuit R0-p(R1,C1)-p(R2-Wo1,C2) (57 frequencies, 10 mHz–1 MHz)
with elements drawn log-uniformly around the impedance.py example's values and 0.2 % Gaussian noise
on Z' and Z''. Both tools fit with modulus weighting from the *same* start values: the automatic
starts perovscope finds (``CircuitFit.start``) are handed to ``impedance.models.circuits.CustomCircuit``
as ``initial_guess``. perovscope is timed on the whole batch twice — with its automatic start
(DRT, candidates, screening: the whole task) and from the given starts (the fitter alone);
impedance.py is timed spectrum by spectrum on the first ``n_ref`` (all of them when that takes less
than two minutes, otherwise at least 1000, and the throughput is compared per spectrum).
Accuracy: relative error of every element against the truth, for both tools.

Results are printed and written to ``benchmarks/results/bulk_impedance.json``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ._results import write_results

CIRCUIT = "R0-p(R1,C1)-p(R2-Wo1,C2)"
#: log-uniform ranges of the true elements (R0, R1, C1, R2, Wo1_Z0, Wo1_tau, C2)
RANGES = [(0.01, 0.03), (0.005, 0.02), (1.0, 5.0), (0.003, 0.01), (0.03, 0.1), (5.0, 50.0), (0.1, 0.5)]
NOISE = 0.002


def simulate(n: int, seed: int = 0):
    from perovscope.bulk.impedance_circuits import circuit_impedance

    rng = np.random.default_rng(seed)
    f = np.logspace(-2, 6, 57)
    lo, hi = np.log(np.array(RANGES)).T
    truth = np.exp(lo + (hi - lo) * rng.random((n, len(RANGES))))
    z = circuit_impedance(CIRCUIT, f, truth)
    z = z + NOISE * np.abs(z) * (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape))
    return f, z, truth


def _errors(params, truth) -> dict:
    rel = np.abs(params / truth - 1.0)
    worst = np.nanmax(np.where(np.isfinite(rel), rel, np.inf), axis=1)
    names = ["R0", "R1", "C1", "R2", "Wo1_Z0", "Wo1_tau", "C2"]
    return {"median_rel_error": {k: float(np.nanmedian(rel[:, i])) for i, k in enumerate(names)},
            "p95_rel_error": {k: float(np.nanpercentile(rel[:, i], 95)) for i, k in enumerate(names)},
            "fraction_all_within_5pct": float(np.mean(worst < 0.05)),
            "fraction_all_within_1pct": float(np.mean(worst < 0.01))}


def fit_reference(f, z, starts):
    from impedance.models.circuits import CustomCircuit

    out = np.full(starts.shape, np.nan)
    for i in range(z.shape[0]):
        c = CustomCircuit(CIRCUIT, initial_guess=list(starts[i]))
        try:
            c.fit(f, z[i], weight_by_modulus=True)
            out[i] = c.parameters_
        except (RuntimeError, ValueError):  # curve_fit gives up: counted as a miss
            pass
    return out


def main(n: int = 10_000, budget_s: float = 120.0) -> dict:
    from perovscope.bulk.impedance import fit_circuit

    warnings.filterwarnings("ignore")  # benchmark script only: impedance.py and scipy chatter
    f, z, truth = simulate(n)
    t0 = time.perf_counter()
    auto = fit_circuit(f, z, CIRCUIT, weighting="modulus")
    t_auto = time.perf_counter() - t0
    t0 = time.perf_counter()
    given = fit_circuit(f, z, CIRCUIT, weighting="modulus", p0=auto.start)
    t_given = time.perf_counter() - t0
    # impedance.py: estimate its speed on 50 spectra, then run as many as fit in the budget (>= 1000)
    t0 = time.perf_counter()
    fit_reference(f, z[:50], auto.start[:50])
    per = (time.perf_counter() - t0) / 50
    n_ref = n if per * n <= budget_s else min(n, max(1000, int(budget_s / per)))
    t0 = time.perf_counter()
    ref = fit_reference(f, z[:n_ref], auto.start[:n_ref])
    t_ref = time.perf_counter() - t0
    per_ref = t_ref / n_ref
    results = {
        "circuit": CIRCUIT, "n_spectra": n, "n_frequencies": int(f.size), "noise_relative": NOISE,
        "weighting": "modulus", "start_policy": "perovscope automatic starts, given to both tools",
        "perovscope_auto_s": t_auto, "perovscope_given_start_s": t_given,
        "perovscope_auto_per_spectrum_ms": 1e3 * t_auto / n,
        "perovscope_given_per_spectrum_ms": 1e3 * t_given / n,
        "impedance_py_n_spectra": n_ref, "impedance_py_s": t_ref,
        "impedance_py_per_spectrum_ms": 1e3 * per_ref,
        "impedance_py_projected_s_for_all": per_ref * n,
        "speed_ratio_auto": per_ref / (t_auto / n), "speed_ratio_given_start": per_ref / (t_given / n),
        "perovscope_auto": _errors(auto.params, truth),
        "perovscope_auto_on_impedance_py_subset": _errors(auto.params[:n_ref], truth[:n_ref]),
        "perovscope_given_start_on_subset": _errors(given.params[:n_ref], truth[:n_ref]),
        "impedance_py": _errors(ref, truth[:n_ref]),
        "perovscope_flags": {str(k): int(v) for k, v in zip(*np.unique(auto.flag, return_counts=True),
                                                               strict=True)},
    }
    for k, v in results.items():
        print(f"{k:45s} {v if not isinstance(v, float) else f'{v:.4g}'}")
    return write_results("bulk_impedance", results, show=False, default=float)


if __name__ == "__main__":
    main()
