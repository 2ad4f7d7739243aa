"""Side-by-side benchmark: perovscope's batched real-space PDF refinement vs PDFfit2 (diffpy.pdffit2).

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_bulk_pdf

* The real file: both refine fcc Ni against ``shared/data/bulk/pdf/pdfgui_Ni_2-8.chi.gr`` with the
  settings of the source's PDFgui project (1.5–10 Å, Qmax 40 Å⁻¹, Qdamp 0.001 Å⁻¹ fixed; a, U_iso, scale
  and sratio for r < 3 Å refined; weights 1/dG²), from the same start (a = 3.52 Å, U = 0.00126 Å²,
  scale 1, sratio 1).
* A series: ``n_patterns`` Ni PDFs *computed by PDFfit2* (so the truth is the reference tool's own
  model) for random a ∈ [3.50, 3.56] Å, U ∈ [0.004, 0.007] Å², scale ∈ [0.6, 0.8], sratio 0.8, with
  Gaussian noise of the real file's dG. perovscope refines all in one batched call; PDFfit2 one
  pattern per call (the first ``n_reference`` when the whole series would take over 2 minutes). Both
  start from a = 3.53 Å, U = 0.005 Å², scale 1 (PDFfit2) or its least-squares value (perovscope),
  sratio 1.

Results (patterns per second, the ratio, errors against the truth, the Ni values) are written to
``benchmarks/results/bulk_pdf.json``. If diffpy.pdffit2 is missing, only perovscope's numbers are kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ._results import write_results

DATA = Path(__file__).resolve().parents[1].parent / "shared/data/bulk/pdf/pdfgui_Ni_2-8.chi.gr"
QMAX, QDAMP, RCUT, RANGE = 40.0, 0.001, 3.0, (1.5, 10.0)


def _pdffit():
    from diffpy.pdffit2 import PdfFit, redirect_stdout

    redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115  (PDFfit2 keeps writing to it)
    return PdfFit


def _ni_structure(a, u):
    from diffpy.structure import Atom, Lattice, Structure

    atoms = [Atom("Ni", xyz) for xyz in ((0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0))]
    s = Structure(atoms, lattice=Lattice(a, a, a, 90, 90, 90))
    for atom in s:
        atom.Uisoequiv = u
    return s


def pdffit_refine(PdfFit, r, g, dg, start=(3.53, 0.005)):
    p = PdfFit()
    p.read_data_lists("X", QMAX, QDAMP, list(r), list(g), list(dg))
    p.add_structure(_ni_structure(*start))
    p.setvar("rcut", RCUT)
    for k in (1, 2, 3):
        p.constrain(p.lat(k), "@1")
    p.setpar(1, start[0])
    for i in range(1, 5):
        for u in (p.u11, p.u22, p.u33):
            p.constrain(u(i), "@20")
    p.setpar(20, start[1])
    p.constrain("sratio", "@10")
    p.setpar(10, 1.0)
    p.constrain("dscale", "@100")
    p.setpar(100, 1.0)
    p.pdfrange(1, *RANGE)
    p.refine()
    return np.array([p.getpar(100), p.getpar(1), p.getpar(20), p.getpar(10)]), p.getrw()


def pdffit_simulate(PdfFit, r, params):
    out = np.empty((len(params), r.size))
    for i, (scale, a, u, sratio) in enumerate(params):  # building the truth, not timed
        p = PdfFit()
        p.alloc("X", QMAX, QDAMP, float(r[0]), float(r[-1]), r.size)
        p.add_structure(_ni_structure(a, u))
        p.setvar("rcut", RCUT)
        p.setvar("sratio", sratio)
        p.setvar("dscale", scale)
        p.calc()
        out[i] = p.getpdf_fit()
    return out


def perovscope_refine(r, g, dg, start):
    from perovscope.bulk.pdf_fit import fit_pdf
    from perovscope.bulk.pdf_model import cubic_crystal

    fit = fit_pdf(g, r, cubic_crystal("fcc", start[0]), sigma=dg, qmax=QMAX, rcut=RCUT, r_range=RANGE,
                  start={"qdamp": QDAMP, "uiso": start[1]})
    return np.stack([fit.scale, fit.a, fit.uiso, fit.sratio], axis=-1), fit.rw, fit.flag


def errors(est, truth):
    ok = np.all(np.isfinite(est), axis=1)
    out = {"n_ok": int(ok.sum())}
    for j, name in enumerate(("scale", "a", "uiso", "sratio")):
        d = est[ok, j] - truth[ok, j]
        out[name] = {"rms": float(np.sqrt(np.mean(d * d))), "bias": float(np.mean(d))}
    return out


def main(n_patterns: int = 1000, n_reference: int = 200) -> dict:
    from perovscope.io.pdf_gr import read_pdf_gr

    ds = read_pdf_gr(DATA)
    r, g, dg = ds.r.values, ds.G.values, ds.dG.values
    results = {"settings": {"qmax": QMAX, "qdamp": QDAMP, "rcut": RCUT, "r_range": RANGE},
               "load_average": os.getloadavg(),
               "reported_pdfgui": {"a": 3.53175, "uiso": 0.005195, "rw": 0.096, "scale": 0.6697,
                                   "sratio": 0.787}}
    t0 = time.perf_counter()
    est, rw, _ = perovscope_refine(r, g, dg, (3.52, 0.00126))
    results["ni_perovscope"] = {"scale": float(est[0]), "a": float(est[1]), "uiso": float(est[2]),
                                "sratio": float(est[3]), "rw": float(rw), "seconds": time.perf_counter() - t0}
    try:
        PdfFit = _pdffit()
    except ImportError as exc:
        results["pdffit2"] = f"not installed ({exc})"
        PdfFit = None
    if PdfFit is not None:
        t0 = time.perf_counter()
        ref, rw_ref = pdffit_refine(PdfFit, r, g, dg, start=(3.52, 0.00126))
        results["ni_pdffit2"] = {"scale": float(ref[0]), "a": float(ref[1]), "uiso": float(ref[2]),
                                 "sratio": float(ref[3]), "rw": float(rw_ref),
                                 "seconds": time.perf_counter() - t0}
        rng = np.random.default_rng(0)
        truth = np.stack([rng.uniform(0.6, 0.8, n_patterns), rng.uniform(3.50, 3.56, n_patterns),
                          rng.uniform(0.004, 0.007, n_patterns), np.full(n_patterns, 0.8)], axis=1)
        clean = pdffit_simulate(PdfFit, r, truth)
        data = clean + dg * rng.standard_normal(clean.shape)
        results["series"] = {"n_patterns": n_patterns, "noise": "Gaussian, the file's dG",
                             "start": {"a": 3.53, "uiso": 0.005, "sratio": 1.0}}
        t0 = time.perf_counter()
        est, rw, flag = perovscope_refine(r, data, np.broadcast_to(dg, data.shape), (3.53, 0.005))
        sec = time.perf_counter() - t0
        results["perovscope_series"] = {"seconds": sec, "patterns_per_s": n_patterns / sec,
                                        "flags": np.bincount(flag, minlength=4).tolist(),
                                        "errors": errors(est, truth),
                                        "errors_subset": errors(est[:n_reference], truth[:n_reference])}
        ref = np.full((n_reference, 4), np.nan)
        t0 = time.perf_counter()
        for i in range(n_reference):  # PDFfit2 refines one pattern per call
            ref[i], _ = pdffit_refine(PdfFit, r, data[i], dg)
        sec_ref = time.perf_counter() - t0
        results["pdffit2_series"] = {"n_patterns": n_reference, "seconds": sec_ref,
                                     "patterns_per_s": n_reference / sec_ref,
                                     "errors": errors(ref, truth[:n_reference])}
        results["speed_ratio"] = results["perovscope_series"]["patterns_per_s"] / (n_reference / sec_ref)
        results["max_abs_difference_a"] = float(np.nanmax(np.abs(est[:n_reference, 1] - ref[:, 1])))
        results["max_rel_difference_uiso"] = float(np.nanmax(np.abs(est[:n_reference, 2] / ref[:, 2] - 1)))
    return write_results("bulk_pdf", results)


if __name__ == "__main__":
    main()
