"""Crystal-model PDF: pair shells, the Qmax termination, analytic derivatives, a batched fit with known
truth, and PDFgui's refinement of the Ni standard."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.pdf_fit import fit_pdf
from perovscope.bulk.pdf_model import PARAMETERS, Crystal, crystal_pdf, cubic_crystal, pair_shells, terminate
from perovscope.errors import InputError

NI = "bulk/pdf/pdfgui_Ni_2-8.chi.gr"


def test_fcc_shells_and_number_density():
    sh = pair_shells(cubic_crystal("fcc", 3.52), 7.0)
    a = 3.52
    assert sh.distance[:5] == pytest.approx(a * np.sqrt([0.5, 1.0, 1.5, 2.0, 2.5]), abs=1e-6)
    assert sh.multiplicity[:5] == pytest.approx([12, 6, 24, 12, 24])  # coordination numbers
    assert sh.n_atoms == 4 and sh.volume == pytest.approx(a ** 3)
    # a two-site crystal: weights enter as w_i w_j / <w>²
    rock = Crystal((5.64,) * 3 + (90.0,) * 3, np.array([(0, 0, 0), (0.5, 0.5, 0.5)]), np.array([11.0, 17.0]))
    s = pair_shells(rock, 5.0)
    assert s.distance[0] == pytest.approx(5.64 * np.sqrt(3) / 2)
    assert s.multiplicity[0] == pytest.approx(8 * 2 * 11 * 17 / (2 * 14.0 ** 2))


def test_termination_is_a_low_pass_filter():
    dr = 0.01
    r = dr * np.arange(1, 3001)
    smooth = np.sin(3.0 * r) * np.exp(-0.5 * ((r - 15) / 2) ** 2)  # band-limited far below Qmax
    assert np.allclose(terminate(smooth, dr, 25.0), smooth, atol=1e-10)
    sharp = np.exp(-0.5 * ((r - 10) / 0.02) ** 2)
    cut = terminate(sharp, dr, 20.0)
    assert cut.max() < 0.5 and np.trapezoid(cut, r) == pytest.approx(np.trapezoid(sharp, r), rel=1e-2)


def test_analytic_jacobian_matches_finite_differences():
    sh = pair_shells(cubic_crystal("fcc", 3.52), 16.0)
    r = np.arange(150, 1001) * 0.01
    p = np.array([0.8, 3.53, 0.006, 0.3, 1.5, 0.02, 0.01, 0.85])
    _, jac = crystal_pdf(r, p, sh, qmax=30.0, rcut=3.0, jacobian=range(len(PARAMETERS)))
    for j in range(len(PARAMETERS)):
        h = 1e-6 * max(abs(p[j]), 1e-2)
        up, dn = p.copy(), p.copy()
        up[j] += h
        dn[j] -= h
        num = (crystal_pdf(r, up, sh, qmax=30.0, rcut=3.0)
               - crystal_pdf(r, dn, sh, qmax=30.0, rcut=3.0)) / (2 * h)
        assert np.max(np.abs(num - jac[:, j])) <= 1e-5 * np.max(np.abs(num)) + 1e-9, PARAMETERS[j]


def test_batched_fit_recovers_known_parameters():
    cr = cubic_crystal("fcc", 3.60)
    sh = pair_shells(cr, 20.0)
    r = np.arange(1, 2001) * 0.01
    truth = np.array([[0.7, 3.55, 0.004, 0, 0, 0.02, 0, 1], [0.9, 3.60, 0.006, 0, 0, 0.02, 0, 1],
                      [1.1, 3.65, 0.008, 0, 0, 0.02, 0, 1.0]])
    clean = crystal_pdf(r, truth, sh, qmax=25.0)
    sig = 0.05
    data = clean + sig * np.random.default_rng(4).standard_normal(clean.shape)
    fit = fit_pdf(data, r, cr, sigma=np.full_like(data, sig), qmax=25.0, r_range=(1.5, 15.0),
                  start={"qdamp": 0.02})
    assert np.all(fit.flag == 0) and fit.fitted.shape == (3, 1351)
    for name in ("a", "uiso", "scale"):
        j = PARAMETERS.index(name)
        err = np.abs(fit.values[:, j] - truth[:, j])
        assert np.all(err < 4 * fit.std[:, j]), name
    assert np.all(fit.a_std < 2e-4) and np.all(np.abs(fit.reduced_chi2 - 1) < 0.15)


def test_reproduces_pdfgui_ni_refinement(data_file):
    from perovscope.io.pdf_gr import read_pdf_gr

    ds = read_pdf_gr(data_file(NI))
    # PDFgui's project: fcc Ni over 1.5–10 Å, Qmax 40 Å⁻¹ and Qdamp 0.001 Å⁻¹ fixed, refined a, U_iso,
    # scale and the width ratio 'sratio' for r < rcut = 3 Å: a = 3.53175(4) Å, U = 0.005195(8) Å², Rw 0.0961
    fit = fit_pdf(ds.G.values, ds.r.values, cubic_crystal("fcc", 3.52), sigma=ds.dG.values,
                  qmax=ds.attrs["qmax"], rcut=3.0, start={"qdamp": 0.001, "uiso": 0.00126})
    assert fit.a == pytest.approx(3.53175, abs=1e-4)
    assert fit.uiso == pytest.approx(0.005195, rel=0.01)
    assert fit.rw == pytest.approx(0.096, abs=0.002)
    assert fit.a_std == pytest.approx(3.5e-5, rel=0.3) and fit.scale == pytest.approx(0.6697, rel=0.005)
    assert fit.sratio == pytest.approx(0.787, abs=0.005)


def test_fit_bad_input():
    cr = cubic_crystal("fcc", 3.52)
    r = np.arange(1, 1001) * 0.01
    g = np.zeros_like(r)
    with pytest.raises(InputError, match="unknown parameters"):
        fit_pdf(g, r, cr, refine=("a", "b"))
    with pytest.raises(InputError, match="at least"):
        fit_pdf(g, r, cr, r_range=(2.0, 2.02))
    with pytest.raises(InputError, match="not sorted"):
        fit_pdf(g, np.r_[r[:500], r[500:][::-1]], cr)
    with pytest.raises(InputError, match="unknown cubic"):
        cubic_crystal("hcp", 3.0)
