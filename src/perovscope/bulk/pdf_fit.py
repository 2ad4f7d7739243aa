"""Real-space refinement of a crystal model against measured PDFs, batched over a series of patterns.

:func:`fit_pdf` refines the scale, the lattice parameter (isotropic expansion of the cell), U_iso and —
on request — δ₁, δ₂, Q_damp, Q_broad and the low-r width ratio of :mod:`perovscope.bulk.pdf_model`
against G(r) over a fit range, for every pattern of a series at once with the batched
Levenberg–Marquardt of :func:`perovscope.spectroscopy.fitting.levenberg_marquardt` and analytic
Jacobians. Weights are ``1/dG²`` when the uncertainties are given. The agreement factor is PDFgui's

    Rw = √( Σ w (G_obs − G_calc)² / Σ w G_obs² ).

References
----------
.. [1] C. L. Farrow et al., "PDFfit2 and PDFgui: computer programs for studying nanostructure in
   crystals", J. Phys.: Condens. Matter 19, 335219 (2007).
.. [2] Th. Proffen and S. J. L. Billinge, "PDFFIT, a program for full profile structural refinement of
   the atomic pair distribution function", J. Appl. Cryst. 32, 572–575 (1999).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, check_axis, check_min_points
from .pdf_model import PARAMETERS, Crystal, crystal_pdf, pair_shells

__all__ = ["PDFFit", "fit_pdf", "DEFAULT_START"]

#: Start values of the parameters a fit does not get from the crystal or the data.
DEFAULT_START = {"uiso": 0.005, "delta1": 0.0, "delta2": 0.0, "qdamp": 0.0, "qbroad": 0.0, "sratio": 1.0}
_LOWER = {"scale": -np.inf, "a": 0.0, "uiso": 1e-6, "delta1": -np.inf, "delta2": -np.inf, "qdamp": 0.0,
          "qbroad": 0.0, "sratio": 0.05}
_UPPER = {"scale": np.inf, "a": np.inf, "uiso": 1.0, "delta1": np.inf, "delta2": np.inf, "qdamp": 1.0,
          "qbroad": 1.0, "sratio": 5.0}


class PDFFit(NamedTuple):
    """Result of :func:`fit_pdf`; ``values``/``std`` ``(..., 8)`` follow :data:`PARAMETERS` (``std`` 0 for
    fixed parameters), ``rw`` and ``reduced_chi2`` ``(...)``, ``fitted`` ``(..., n_fit)`` on ``r_fit``."""

    values: np.ndarray
    std: np.ndarray
    refined: tuple
    rw: np.ndarray
    reduced_chi2: np.ndarray
    fitted: np.ndarray
    r_fit: np.ndarray
    n_iter: np.ndarray
    flag: np.ndarray

    def __getattr__(self, name):  # fit.a, fit.uiso_std, ...
        base = name[:-4] if name.endswith("_std") else name
        if base in PARAMETERS:
            arr = self.std if name.endswith("_std") else self.values
            return arr[..., PARAMETERS.index(base)]
        raise AttributeError(name)


def fit_pdf(g, r, crystal: Crystal, *, sigma=None, r_range=(1.5, 10.0), qmax: float | None = None,
            rcut: float = 0.0, start: dict | None = None, refine=None, max_iter: int = 60,
            source: str | None = None) -> PDFFit:
    """Refine ``crystal`` against each G(r) of a series.

    Parameters
    ----------
    g : array_like (..., n)
        Measured G(r) (Å⁻²), a series along the leading axes.
    r : array_like (n,)
        Distances (Å), increasing.
    crystal : Crystal
        The structure (its cell gives the start lattice parameter and the axis ratios).
    sigma : array_like (..., n), optional
        Uncertainties dG of the data (weights ``1/dG²``).
    r_range : (float, float)
        Fit range (Å, inclusive).
    qmax : float, optional
        Qmax of the data's Fourier transform (termination ripples); None: none modelled.
    rcut : float
        Peaks below ``rcut`` (Å) are sharpened by ``sratio`` (refined when ``rcut > 0``).
    start : dict, optional
        Start values by name (:data:`PARAMETERS`); the scale defaults to the least-squares value.
    refine : sequence of str, optional
        Parameters refined (default ``scale, a, uiso`` and ``sratio`` when ``rcut > 0``); the others
        stay at their start values.
    max_iter : int
        Levenberg–Marquardt iterations.
    source : str, optional
        File name for error messages.

    Returns
    -------
    PDFFit
    """
    from ..spectroscopy.fitting import levenberg_marquardt

    rr = check_axis(r, name="r", min_points=10, source=source)
    if rr[0] > rr[-1]:
        raise InputError("r must increase")
    if rr[0] <= 0 and r_range[0] <= rr[0]:
        raise InputError("the fit range must start above r = 0")
    y = as_spectra(g, rr.size, name="G(r)", source=source)
    sel = (rr >= r_range[0] - 1e-9) & (rr <= r_range[1] + 1e-9) & (rr > 0)
    default = ("scale", "a", "uiso") + (("sratio",) if rcut > 0 else ())
    refine = tuple(refine) if refine is not None else default
    bad = [k for k in refine if k not in PARAMETERS]
    if bad:
        raise InputError(f"unknown parameters {bad}; choose from {PARAMETERS}")
    check_min_points(int(sel.sum()), len(refine) + 2, what=f"a PDF fit of {len(refine)} parameters",
                     source=source)
    rf, yf = rr[sel], y[..., sel]
    lead = yf.shape[:-1]
    yb = yf.reshape(-1, rf.size)
    sb = None if sigma is None else np.broadcast_to(as_spectra(sigma, rr.size, name="dG", source=source),
                                                    y.shape)[..., sel].reshape(yb.shape)
    values = dict(DEFAULT_START, scale=1.0, a=float(crystal.cell[0]), **(start or {}))
    unknown = [k for k in values if k not in PARAMETERS]
    if unknown:
        raise InputError(f"unknown start parameters {unknown}; choose from {PARAMETERS}")
    if "qbroad" in refine and values["qbroad"] == 0.0:
        values["qbroad"] = 1e-3  # dσ/dQ_broad vanishes at 0
    if "delta1" in refine or "delta2" in refine or "uiso" in refine:
        values["uiso"] = max(values["uiso"], 1e-5)
    s_max = 1.1 * max(values["a"] / crystal.cell[0], 1.0)
    shells = pair_shells(crystal, (rf[-1] + max(3.0, 12 * np.pi / qmax if qmax else 3.0) + 1.0) * s_max)
    base = np.array([values[k] for k in PARAMETERS], dtype=float)
    idx = [PARAMETERS.index(k) for k in refine]
    if "scale" not in refine or "scale" not in (start or {}):
        # least-squares scale at the start values, per pattern
        unit = base.copy()
        unit[0] = 1.0
        model1 = crystal_pdf(rf, unit, shells, qmax=qmax, rcut=rcut)
        wts = np.ones_like(yb) if sb is None else 1.0 / np.where(sb > 0, sb * sb, np.inf)
        sc = (wts * yb * model1).sum(-1) / np.maximum((wts * model1 * model1).sum(-1), 1e-300)
    else:
        sc = np.full(yb.shape[0], base[0])
    full0 = np.repeat(base[None], yb.shape[0], axis=0)
    if "scale" not in (start or {}):
        full0[:, 0] = sc

    def expand(p):
        full = np.repeat(base[None], p.shape[0], axis=0)
        full[:, idx] = p
        return full

    fixed_scale = "scale" not in refine
    if fixed_scale and "scale" not in (start or {}):
        base[0] = float(np.median(sc))

    def model(p):
        return crystal_pdf(rf, expand(p), shells, qmax=qmax, rcut=rcut)

    def jac(p):
        return crystal_pdf(rf, expand(p), shells, qmax=qmax, rcut=rcut, jacobian=idx)[1]

    p0 = full0[:, idx]
    lower = np.array([_LOWER[k] for k in refine])
    upper = np.array([_UPPER[k] for k in refine])
    fit = levenberg_marquardt(model, jac, yb, p0, lower=lower, upper=upper, sigma=sb, max_iter=max_iter)
    full = expand(np.where(np.isfinite(fit.params), fit.params, p0))
    full[~np.all(np.isfinite(fit.params), axis=1)] = np.nan
    std = np.zeros_like(full)
    std[:, idx] = fit.std
    fitted = crystal_pdf(rf, np.where(np.isfinite(full), full, base), shells, qmax=qmax, rcut=rcut)
    wts = np.ones_like(yb) if sb is None else 1.0 / np.where(sb > 0, sb * sb, np.inf)
    res = yb - fitted
    rw = np.sqrt((wts * res * res).sum(-1) / (wts * yb * yb).sum(-1))
    red = (wts * res * res).sum(-1) / max(rf.size - len(idx), 1)
    npar = len(PARAMETERS)
    return PDFFit(full.reshape(lead + (npar,)), std.reshape(lead + (npar,)), refine, rw.reshape(lead),
                  red.reshape(lead), fitted.reshape(lead + (rf.size,)), rf, fit.n_iter.reshape(lead),
                  fit.flag.reshape(lead))
