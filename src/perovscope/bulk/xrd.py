"""Powder X-ray diffraction: whole-pattern (Rietveld-type) refinement, weight fractions, series.

:func:`refine_pattern` fits the model of :mod:`.xrd_model` — a scale per phase, the free lattice
parameters of each crystal system, Caglioti U, V, W and Lorentzian X, Y widths (pseudo-Voigt of
Thompson, Cox and Hastings), zero shift, specimen displacement and a Chebyshev background, with
Kα1/Kα2 (or any set of lines) — to one pattern or to a whole series ``(..., n)`` in one call: the
batched Levenberg–Marquardt of :func:`perovscope.spectroscopy.fitting.levenberg_marquardt` runs all
patterns of a block together (no Python loop over patterns). Atomic positions and displacement
parameters stay as given (a structure-fixed Rietveld refinement, the usual quantitative phase
analysis set-up [1]_). Agreement is reported as Rwp, Rexp and GOF = Rwp/Rexp [2]_; weight
fractions follow from the scales by the Hill–Howard relation ``W_p = S_p(ZMV)_p / Σ S(ZMV)`` [3]_.

Crystallite sizes and microstrain (Scherrer, Williamson–Hall), peak search and indexing are in
:mod:`.xrd_peaks`; labelled (xarray) wrappers in :mod:`.xrd_xr`.

References
----------
.. [1] H. M. Rietveld, "A profile refinement method for nuclear and magnetic structures",
   J. Appl. Cryst. 2, 65 (1969).
.. [2] B. H. Toby, "R factors in Rietveld analysis: how good is good enough?", Powder Diffr. 21, 67
   (2006).
.. [3] R. J. Hill and C. J. Howard, "Quantitative phase analysis from neutron powder diffraction
   data using the Rietveld method", J. Appl. Cryst. 20, 467 (1987).
.. [4] L. B. McCusker et al., "Rietveld refinement guidelines", J. Appl. Cryst. 32, 36 (1999).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import levenberg_marquardt
from ._checks import as_spectra, ascending, check_axis, check_min_points, check_positive
from .xrd_model import PROFILE_NAMES, PatternModel, build_model, default_parameters
from .xrd_phases import get_phase, lattice_free_names
from .xrd_reflections import ReferencePattern, cell_from_free, radiation, reference_pattern
from .xrd_start import grid_start, linear_start

__all__ = ["XRDRefinement", "refine_pattern", "hill_howard", "reference_pattern", "ReferencePattern",
           "intensity_view", "REFINABLE", "DEFAULT_REFINE"]

#: Parameter groups :func:`refine_pattern` can refine (scales and background always are).
REFINABLE = ("zero", "displacement", "lattice", "U", "V", "W", "X", "Y", "B")
DEFAULT_REFINE = ("zero", "displacement", "lattice", "U", "V", "W", "X", "Y")
_BLOCK = 2.0e7  # pattern·peak·window elements per LM block (bounds memory)


class XRDRefinement(NamedTuple):
    """Result of :func:`refine_pattern`; leading shape ``(...)`` of the patterns, ``n_ph`` phases.

    Attributes
    ----------
    phases : tuple of str
    names : tuple of str
        Names of ``params`` (see :class:`~perovscope.bulk.xrd_model.PatternModel`).
    params, std : ndarray (..., P)
        Refined parameters and standard errors (NaN for fixed parameters).
    cell, cell_std : ndarray (..., n_ph, 6)
        a, b, c (Å), α, β, γ (deg) of each phase.
    scale, scale_std : ndarray (..., n_ph)
    weight_fraction, weight_fraction_std : ndarray (..., n_ph)
        Hill–Howard weight fractions (0–1).
    profile : ndarray (..., n_ph, 6)
        U, V, W (deg²), X, Y (deg), B (Å²) of each phase.
    zero, zero_std, displacement, displacement_std : ndarray (...)
        Zero shift (deg) and specimen displacement (mm; > 0 moves peaks to lower 2θ).
    rwp, rexp, gof, chi2 : ndarray (...)
        Weighted-profile and expected R (fractions), GOF = Rwp/Rexp, χ².
    calc, background : ndarray (..., n)
        Calculated pattern and its background.
    flag, n_iter : ndarray (...)
        Fit flags (:mod:`perovscope.spectroscopy.fitting`) and LM iterations (last stage).
    two_theta : ndarray (n,)
    model : PatternModel
    """

    phases: tuple
    names: tuple
    params: np.ndarray
    std: np.ndarray
    cell: np.ndarray
    cell_std: np.ndarray
    scale: np.ndarray
    scale_std: np.ndarray
    weight_fraction: np.ndarray
    weight_fraction_std: np.ndarray
    profile: np.ndarray
    zero: np.ndarray
    zero_std: np.ndarray
    displacement: np.ndarray
    displacement_std: np.ndarray
    rwp: np.ndarray
    rexp: np.ndarray
    gof: np.ndarray
    chi2: np.ndarray
    calc: np.ndarray
    background: np.ndarray
    flag: np.ndarray
    n_iter: np.ndarray
    two_theta: np.ndarray
    model: PatternModel


def hill_howard(scale, cell_mass, volume, *, cov=None):
    """Weight fractions ``W_p = S_p (ZMV)_p / Σ S (ZMV)`` ``(..., n_ph)`` and their standard errors.

    Parameters
    ----------
    scale : array_like (..., n_ph)
        Rietveld scale factors (intensity = S·m·|F|²·LP with |F|² of the whole cell).
    cell_mass : array_like (n_ph,) or (..., n_ph)
        Mass of the cell contents Z·M (g/mol).
    volume : array_like (..., n_ph)
        Cell volumes (Å³).
    cov : array_like (..., n_ph, n_ph), optional
        Covariance of the scales, propagated to the fractions (delta method).
    """
    s = np.asarray(scale, dtype=float)
    zmv = np.asarray(cell_mass, dtype=float) * np.asarray(volume, dtype=float)
    t = s * zmv
    total = t.sum(axis=-1, keepdims=True)
    w = t / total
    if cov is None:
        return w, np.full_like(w, np.nan)
    k = s.shape[-1]
    eye = np.eye(k)
    # ∂W_p/∂S_q = zmv_q (δ_pq − W_p) / Σ
    jac = (eye - w[..., :, None]) * (zmv / total)[..., None, :]
    var = np.einsum("...pq,...qr,...pr->...p", jac, np.asarray(cov, dtype=float), jac)
    return w, np.sqrt(np.maximum(var, 0.0))


def intensity_view(counts, *, scale: str = "linear"):
    """Intensities for display on a ``linear``, ``sqrt`` (counts ≥ 0) or ``log`` (counts > 0) scale."""
    y = np.asarray(counts, dtype=float)
    if scale == "linear":
        return y
    if scale == "sqrt":
        return np.sqrt(check_positive(y, name="counts", why="a square root is taken", allow_zero=True))
    if scale == "log":
        return np.log10(check_positive(y, name="counts", why="a logarithm is taken"))
    raise InputError(f"intensity scale must be 'linear', 'sqrt' or 'log', got {scale!r}")


def _bounds(model: PatternModel, p0):
    lo = np.full(model.n_params, -np.inf)
    hi = np.full(model.n_params, np.inf)
    lo[0], hi[0] = -2.0, 2.0
    lo[1], hi[1] = -3.0, 3.0
    for i, sl in enumerate(model.slices):
        k = len(lattice_free_names(model.phases[i]))
        lo[sl.start] = 0.0
        lat = slice(sl.start + 1, sl.start + 1 + k)
        lo[lat], hi[lat] = 0.95 * p0[lat], 1.05 * p0[lat]
        prof = sl.start + 1 + k
        lo[prof:prof + 6] = (-2.0, -2.0, 0.0, 0.0, 0.0, -5.0)
        hi[prof:prof + 6] = (2.0, 2.0, 4.0, 5.0, 5.0, 20.0)
    return lo, hi


def _free(model: PatternModel, groups) -> np.ndarray:
    free = [i for i, n in enumerate(model.names) if n.startswith("bkg") or n.endswith(".scale")]
    for g in groups:
        if g in ("zero", "displacement"):
            free.append(model.index(g))
        elif g == "lattice":
            for i, sl in enumerate(model.slices):
                free += list(range(sl.start + 1, sl.start + 1 + len(lattice_free_names(model.phases[i]))))
        elif g in PROFILE_NAMES:
            free += [model.index(n) for n in model.names if n.endswith(f".{g}")]
        else:
            raise InputError(f"cannot refine {g!r}; choose from {', '.join(REFINABLE)}")
    return np.array(sorted(set(free)))


def _lm(model, y, p, free, lo, hi, sigma, mask, max_iter):
    def fn(q):
        full = np.broadcast_to(p[0], (q.shape[0], p.shape[1])).copy()
        full[:, free] = q
        return model.evaluate(full)

    def jac(q):
        full = np.broadcast_to(p[0], (q.shape[0], p.shape[1])).copy()
        full[:, free] = q
        return model.jacobian(full, free)

    res = levenberg_marquardt(fn, jac, y, p[:, free], lower=lo[free], upper=hi[free], sigma=sigma,
                              mask=mask, max_iter=max_iter, tol=1e-5)
    out = p.copy()
    ok = np.all(np.isfinite(res.params), axis=1)
    out[:, free] = np.where(ok[:, None], res.params, p[:, free])
    return out, res


def refine_pattern(counts, two_theta, phases, *, sigma=None, wavelength="Cu", ka2_ratio: float = 0.5,
                   radius_mm: float = 240.0, monochromator_2theta: float = 0.0, background_order: int = 6,
                   refine=DEFAULT_REFINE, fwhm: float | None = None, search_strain: float = 0.01,
                   two_theta_range=None, n_fwhm: float = 12.0, max_iter: int = 60,
                   anomalous: bool = True, start=None) -> XRDRefinement:
    """Whole-pattern refinement of one powder pattern or a series ``(..., n)`` against ``phases``.

    Parameters
    ----------
    counts : array_like (..., n)
        Intensities on a shared 2θ axis; leading axes (temperature, time, position) are refined
        together in one batched call.
    two_theta : array_like (n,)
        2θ (deg), strictly monotonic (either direction).
    phases : sequence
        Built-in phase names, CIF paths or :class:`~perovscope.bulk.xrd_phases.CrystalPhase`.
    sigma : array_like (..., n), optional
        Standard deviations (default ``sqrt(max(counts, 1))``); points with σ ≤ 0 are left out.
    wavelength : str, float or Radiation
        ``"Cu"`` (Kα1 + Kα2), ``"CuKa1"``, another anode, or wavelength(s) in Å.
    ka2_ratio : float
        I(Kα2)/I(Kα1).
    radius_mm : float
        Goniometer radius, which converts the displacement term to millimetres.
    monochromator_2theta : float
        Monochromator 2θ (deg) in the polarization factor (0: none).
    background_order : int
        Order of the Chebyshev background.
    refine : sequence of str
        Groups refined besides scales and background: ``zero``, ``displacement``, ``lattice``,
        ``U``, ``V``, ``W``, ``X``, ``Y``, ``B`` (overall B per phase).
    fwhm : float, optional
        Approximate peak FWHM (deg) to start from; searched (0.05–0.4°) when omitted.
    search_strain : float
        Half-range of the isotropic cell scaling searched for the start (0 = start at the cell).
    two_theta_range : (float, float), optional
        2θ window refined.
    n_fwhm : float
        Peak window half-width in FWHMs.
    max_iter : int
        LM iterations per stage.
    anomalous : bool
        Include the Cromer–Liberman f', f'' at the X-ray energy.
    start : dict, optional
        Start (or, when not refined, fixed) values by parameter name: ``"zero"``,
        ``"displacement"``, a profile term for every phase (``"W"``) or for one (``"Si.W"``), a
        lattice parameter (``"Si.a"``). Typical use: the instrument's U, V, W (and X, Y) from a
        line-profile standard, kept fixed while the sample's X, Y are refined.

    Returns
    -------
    XRDRefinement

    Raises
    ------
    InputError
        Unsorted/duplicated 2θ, mismatched shapes, too few points for the parameters, unknown
        phase or refinable group, σ that are all non-positive.
    """
    x = check_axis(two_theta, name="two_theta", min_points=10)
    y = as_spectra(counts, x.size, name="counts")
    s = None if sigma is None else np.broadcast_to(np.asarray(sigma, dtype=float), y.shape)
    if s is not None and x[0] > x[-1]:
        s = s[..., ::-1]
    x, y = ascending(x, y, name="two_theta", min_points=10)
    if two_theta_range is not None:
        lo_t, hi_t = (float(v) for v in two_theta_range)
        keep = (x >= lo_t) & (x <= hi_t)
        x, y = x[keep], y[..., keep]
        s = None if s is None else s[..., keep]
    lead = y.shape[:-1]
    yf = y.reshape(-1, x.size)
    sf = (np.sqrt(np.maximum(yf, 1.0)) if s is None else s.reshape(-1, x.size))
    mask = np.isfinite(yf) & np.isfinite(sf) & (sf > 0)
    if not mask.any():
        raise InputError("sigma: no point has a positive, finite standard deviation")
    sf = np.where(mask, sf, 1.0)
    yf = np.where(mask, yf, 0.0)
    if not 0 < x[0] < x[-1] < 180:
        raise InputError(f"two_theta must lie within (0, 180) deg, got {x[0]:g}–{x[-1]:g}")
    phs = [get_phase(p) for p in (phases if isinstance(phases, (list, tuple)) else [phases])]
    if not phs:
        raise InputError("refine_pattern needs at least one phase")
    rad = radiation(wavelength, ka2_ratio=ka2_ratio)
    model = build_model(x, phs, rad, background_order=background_order, radius_mm=radius_mm,
                        monochromator_2theta=monochromator_2theta, n_fwhm=n_fwhm, anomalous=anomalous)
    groups = tuple(refine)
    free_all = _free(model, groups)
    check_min_points(int(mask.sum(axis=1).min()), free_all.size + 1, what="the whole-pattern refinement")
    p0 = default_parameters(model, fwhm=0.1 if fwhm is None else float(fwhm))
    lo, hi = _bounds(model, p0)
    given = _apply_start(model, p0, start or {})
    p = grid_start(model, yf, p0, strain=search_strain, fwhm=1.0 if (fwhm is not None or given) else None,
                   refine_lattice="lattice" in groups)
    p = linear_start(model, yf, p, sigma=sf, mask=mask)
    stage_a = tuple(g for g in groups if g in ("zero", "lattice", "W", "X"))
    n_peaks = sum(len(r) for r in model.reflections) * len(rad.wavelengths)
    block = max(1, int(_BLOCK // max(1, n_peaks * 200)))
    results = []
    with _single_thread_blas():
        _refine_blocks(model, yf, sf, mask, p, groups, stage_a, lo, hi, max_iter, block, results)
    return _assemble(model, results, yf, sf, mask, lead)


def _single_thread_blas():
    """BLAS limited to one thread: the LM's matrices are small and batched, and threads fight."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _refine_blocks(model, yf, sf, mask, p, groups, stage_a, lo, hi, max_iter, block, results):
    for start in range(0, yf.shape[0], block):
        rows = slice(start, start + block)
        pb = p[rows]
        for stage in ((stage_a, groups) if set(stage_a) != set(groups) else (groups,)):
            free = _free(model, stage)
            pb = _share_fixed(pb, free)
            pb, res = _lm(model, yf[rows], pb, free, lo, hi, sf[rows], mask[rows], max_iter)
        results.append((pb, res, free))


def _apply_start(model: PatternModel, p0, start) -> bool:
    """Write ``start`` values into ``p0``; True when a profile term was given."""
    profile = False
    for key, value in start.items():
        names = [key] if key in model.names else [n for n in model.names if n.endswith(f".{key}")]
        if not names or (key not in model.names and key not in PROFILE_NAMES):
            known = ", ".join(model.names[2 + model.n_bkg:])
            raise InputError(f"start: unknown parameter {key!r}; use zero, displacement, "
                             f"{', '.join(PROFILE_NAMES)} or one of {known}")
        for n in names:
            p0[model.index(n)] = float(value)
        profile |= key.rsplit(".", 1)[-1] in PROFILE_NAMES
    return profile


def _share_fixed(p, free):
    """Fixed parameters must be the same for every pattern of a block (the first pattern's)."""
    out = np.repeat(p[:1], len(p), axis=0)
    out[:, free] = p[:, free]
    return out


def _assemble(model: PatternModel, results, y, sigma, mask, lead) -> XRDRefinement:
    p = np.concatenate([r[0] for r in results])
    free = results[0][2]
    nrow, npar = p.shape
    std = np.full((nrow, npar), np.nan)
    cov = np.zeros((nrow, npar, npar))
    std[:, free] = np.concatenate([r[1].std for r in results])
    cov[:, free[:, None], free[None, :]] = np.concatenate([r[1].cov for r in results])
    flag = np.concatenate([r[1].flag for r in results])
    n_iter = np.concatenate([r[1].n_iter for r in results])
    calc, bkg, _ = model.evaluate(p, components=True)
    w = mask / sigma**2
    chi2 = np.sum(w * (y - calc) ** 2, axis=1)
    sw = np.sum(w * y * y, axis=1)
    dof = np.maximum(mask.sum(axis=1) - free.size, 1)
    rwp = np.sqrt(chi2 / sw)
    rexp = np.sqrt(dof / sw)
    nph = len(model.phases)
    cell = np.stack([model.lattice(i, p) for i in range(nph)], axis=1)
    cell_std = np.zeros_like(cell)
    scale_idx = np.array([sl.start for sl in model.slices])
    profile = np.stack([p[:, sl.stop - 6:sl.stop] for sl in model.slices], axis=1)
    for i, sl in enumerate(model.slices):
        names = lattice_free_names(model.phases[i])
        sd = std[:, sl.start + 1:sl.start + 1 + len(names)]
        cell_std[:, i] = cell_from_free(sd, names, np.zeros(6))
    volume = np.array([[_volume(c) for c in row] for row in cell])
    mass = np.array([ph.cell_mass for ph in model.phases])
    cov_s = cov[:, scale_idx[:, None], scale_idx[None, :]]
    wf, wf_std = hill_howard(p[:, scale_idx], mass, volume, cov=cov_s)

    def r(a):
        return a.reshape(lead + a.shape[1:])

    return XRDRefinement(
        tuple(ph.name for ph in model.phases), model.names, r(p), r(std), r(cell), r(cell_std),
        r(p[:, scale_idx]), r(std[:, scale_idx]), r(wf), r(wf_std), r(profile), r(p[:, 0]), r(std[:, 0]),
        r(p[:, 1]), r(std[:, 1]), r(rwp), r(rexp), r(rwp / rexp), r(chi2), r(calc), r(bkg), r(flag),
        r(n_iter), model.x, model)


def _volume(c) -> float:
    a, b, cc = c[:3]
    ca, cb, cg = np.cos(np.radians(c[3:]))
    return float(a * b * cc * np.sqrt(max(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg, 0.0)))
