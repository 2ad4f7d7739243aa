"""EDX spectrum images: line-family model, bremsstrahlung background, linear fit of every pixel.

Each element contributes one model column per X-ray family (K, L or M) whose lines fall on the axis:
Gaussians at the tabulated energies with the detector resolution of Fiori & Newbury, weighted by the
family's relative line intensities and scaled so that the fitted coefficient is the **net count of the
family's alpha line** (Kα, Lα or Mα). The background is a non-negative combination of Kramers-shaped
bremsstrahlung continua ``(E0 − E)/E`` attenuated by low-energy absorption ``exp(−(E_a/E)³)`` for a
ladder of absorption energies ``E_a`` (specimen self-absorption and detector window), or a low-order
Legendre polynomial. With the shapes fixed the model is linear, so every pixel is fitted at once by
batched non-negative least squares (:func:`perovscope.spectroscopy.fitting.linear_least_squares`).

References
----------
.. [1] H. A. Kramers, "On the theory of X-ray absorption and of the continuous X-ray spectrum",
   Phil. Mag. 46, 836 (1923).
.. [2] J. I. Goldstein et al., Scanning Electron Microscopy and X-Ray Microanalysis, 4th ed.,
   Springer (2018), ch. 16 (peak fitting, background modelling).
.. [3] C. E. Fiori and D. E. Newbury (1978), detector resolution scaling.
.. [4] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 34–35 (EDS spectrum processing in the TEM).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .fitting import linear_least_squares
from .xray_lines import XrayLine, detector_fwhm_eV, xray_lines

__all__ = ["EdxModel", "EdxFit", "edx_model", "fit_edx", "quantification_family"]

#: Absorption energies (eV) of the Kramers background ladder.
_ABSORPTION_LADDER_EV = (0.0, 200.0, 500.0, 1000.0, 2000.0)


class EdxModel(NamedTuple):
    """Design matrix of an EDX fit.

    Attributes
    ----------
    design : ndarray (n, k)
        Columns: one per (element, family), then the background columns.
    columns : tuple of str
        Column names, ``"Cu_K"``, ``"Pb_M"``, ..., ``"background_0"``.
    elements : tuple of str
        Element of each line column (background columns excluded).
    families : tuple of str
        Family of each line column.
    quant_columns : tuple of int
        For each requested element, the column used for quantification.
    quant_lines : tuple of str
        Line used for quantification per element, e.g. ``"Cl_Ka"``.
    n_lines : int
        Number of line columns (the background columns follow).
    nonneg : ndarray (k,) of bool
        Which coefficients are constrained to be non-negative.
    """

    design: np.ndarray
    columns: tuple
    elements: tuple
    families: tuple
    quant_columns: tuple
    quant_lines: tuple
    n_lines: int
    nonneg: np.ndarray


class EdxFit(NamedTuple):
    """Per-pixel EDX fit: ``net_counts``/``net_counts_std`` ``(..., n_elements)`` (quantification
    lines), ``coef`` ``(..., k)`` all columns, ``cost`` ``(...)``."""

    net_counts: np.ndarray
    net_counts_std: np.ndarray
    coef: np.ndarray
    cost: np.ndarray


def quantification_family(element: str, e_max_eV: float, *, beam_energy_keV: float = 200.0,
                          e_min_eV: float = 150.0) -> str:
    """Family conventionally used to quantify ``element``: K if its Kα lies on the axis and is
    excited with overvoltage ≥ 1.5, else L (if Lα ≥ 700 eV or no M), else M."""
    fams = {ln.family: ln for ln in xray_lines(element) if ln.name in ("Ka", "La", "Ma")}
    e0 = 1000.0 * beam_energy_keV
    in_axis = {f: ln for f, ln in fams.items() if e_min_eV <= ln.energy_eV <= e_max_eV}
    if "K" in in_axis and in_axis["K"].energy_eV * 1.5 <= e0:
        return "K"
    if "L" in in_axis and (in_axis["L"].energy_eV >= 700.0 or "M" not in in_axis) \
            and in_axis["L"].energy_eV * 1.5 <= e0:
        return "L"
    if "M" in in_axis:
        return "M"
    if in_axis:
        return sorted(in_axis)[0]
    raise InputError(f"elements: {element} has no K, L or M alpha line between {e_min_eV:g} and "
                     f"{e_max_eV:g} eV; remove it or extend the energy axis")


def _family_shape(lines: list[XrayLine], energy, fwhm_mn_ka):
    e = np.asarray(energy, dtype=float)
    de = np.abs(np.gradient(e))
    out = np.zeros_like(e)
    for ln in lines:
        sig = detector_fwhm_eV(ln.energy_eV, fwhm_mn_ka=fwhm_mn_ka) / (2 * np.sqrt(2 * np.log(2)))
        out += ln.weight * np.exp(-0.5 * ((e - ln.energy_eV) / sig) ** 2) / (sig * np.sqrt(2 * np.pi))
    return out * de  # counts per channel for unit alpha-line area


def edx_model(energy, elements, *, beam_energy_keV: float = 200.0, fwhm_mn_ka: float = 130.0,
              background: str = "kramers", n_background: int | None = None, fit_range=None
              ) -> EdxModel:
    """Build the linear EDX model (line families + background) on an energy axis (eV).

    Parameters
    ----------
    energy : array_like (n,)
        Channel energies in eV.
    elements : sequence of str
        Elements to fit (X-ray line table symbols).
    beam_energy_keV : float
        Accelerating voltage: lines above it are not excited; it is the Kramers end point.
    fwhm_mn_ka : float
        Detector resolution at Mn Kα, eV.
    background : {"kramers", "polynomial", "none"}
        Kramers continua with an absorption ladder (non-negative), or Legendre polynomials of degree
        ``< n_background`` (any sign).
    n_background : int, optional
        Background columns: default 5 (the whole absorption ladder) for ``kramers``, 8 for
        ``polynomial`` (fewer terms cannot follow a 0.2–20 keV continuum and bias the lines).
    fit_range : (float, float), optional
        Energy range (eV) used; columns are zero outside it. Default: 200 eV to the axis end.

    Returns
    -------
    EdxModel

    References
    ----------
    Kramers (1923); Goldstein et al. (2018) ch. 16; Fiori & Newbury (1978).
    """
    e = np.asarray(energy, dtype=float)
    if not elements:
        raise InputError("elements: give at least one element symbol, e.g. ['Cs', 'Pb', 'Br', 'Cl']")
    lo, hi = (200.0, float(e.max())) if fit_range is None else (float(fit_range[0]),
                                                                 float(fit_range[1]))
    inside = (e >= lo) & (e <= hi)
    if n_background is None:
        n_background = 8 if background == "polynomial" else len(_ABSORPTION_LADDER_EV)
    e0 = 1000.0 * beam_energy_keV
    cols, names, els, fams, quant_cols, quant_lines = [], [], [], [], [], []
    for el in elements:
        qfam = quantification_family(el, hi, beam_energy_keV=beam_energy_keV, e_min_eV=lo)
        for fam in ("K", "L", "M"):
            lines = [ln for ln in xray_lines(el, family=fam) if ln.energy_eV < e0]
            alpha = [ln for ln in lines if ln.name[1] == "a"]
            if not alpha or not (lo <= alpha[0].energy_eV <= hi):
                continue
            if fam == qfam:
                quant_cols.append(len(cols))
                quant_lines.append(f"{el}_{alpha[0].name}")
            cols.append(_family_shape(lines, e, fwhm_mn_ka) * inside)
            names.append(f"{el}_{fam}")
            els.append(el)
            fams.append(fam)
    n_lines = len(cols)
    if background == "kramers":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            kr = np.where(e > 0, np.clip(e0 - e, 0, None) / np.where(e > 0, e, 1.0), 0.0)
            for i, ea in enumerate(_ABSORPTION_LADDER_EV[:n_background]):
                col = kr * np.exp(-np.minimum((ea / np.where(e > 0, e, 1.0)) ** 3, 700.0))
                cols.append(col * inside / max(col[inside].max(), 1e-300))
                names.append(f"background_{i}")
    elif background == "polynomial":
        t = np.where(inside, 2.0 * (e - lo) / (hi - lo) - 1.0, 0.0)
        for i in range(n_background):
            c = np.zeros(i + 1)
            c[i] = 1.0
            cols.append(np.polynomial.legendre.legval(t, c) * inside)
            names.append(f"background_{i}")
    elif background != "none":
        raise InputError(f"background={background!r}: use 'kramers', 'polynomial' or 'none'")
    nonneg = np.ones(len(cols), dtype=bool)
    if background == "polynomial":
        nonneg[n_lines:] = False
    return EdxModel(np.stack(cols, axis=1), tuple(names), tuple(els), tuple(fams),
                    tuple(quant_cols), tuple(quant_lines), n_lines, nonneg)


def fit_edx(spectra, energy, elements, *, model: EdxModel | None = None, poisson: bool = False,
            **model_kwargs) -> EdxFit:
    """Fit line families and background to every EDX spectrum at once (batched NNLS).

    Parameters
    ----------
    spectra : array_like (..., n)
        Counts per channel.
    energy : array_like (n,)
        Channel energies in eV.
    elements : sequence of str
        Elements to fit.
    model : EdxModel, optional
        A prebuilt model (otherwise built with ``model_kwargs``, see :func:`edx_model`).
    poisson : bool
        Weight channels by the inverse Poisson variance of the fitted model (two reweighting
        passes after an unweighted fit) — slower: one Gram matrix per pixel. Default: ordinary least
        squares with one shared Gram matrix.

    Returns
    -------
    EdxFit
        ``net_counts`` of the quantification line of each element (see ``model.quant_lines``).

    References
    ----------
    Goldstein et al. (2018) ch. 16; Lawson & Hanson (1974).
    """
    m = model if model is not None else edx_model(energy, elements, **model_kwargs)
    y = np.asarray(spectra, dtype=float)
    fit = linear_least_squares(y, m.design, nonneg=m.nonneg)
    if poisson:
        # Poisson weights from the model, not the data (data weights bias every line low by ~1
        # count per channel): iteratively reweighted least squares, variance = max(model, 0.5)
        for _ in range(2):
            model = np.nan_to_num(fit.coef) @ m.design.T
            fit = linear_least_squares(y, m.design, nonneg=m.nonneg,
                                       sigma=np.sqrt(np.maximum(model, 0.5)))
    q = list(m.quant_columns)
    return EdxFit(fit.coef[..., q], fit.std[..., q], fit.coef, fit.cost)
