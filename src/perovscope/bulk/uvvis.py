"""UV-Vis absorption: the absorption edge λg (Eg = hc/λg) and Tauc band gaps, batched over series.

**Tauc analysis.** Near a band edge the absorption coefficient follows ``(α·hν)^(1/r) = B·(hν − Eg)``
with ``r = 1/2`` for direct allowed, ``3/2`` direct forbidden, ``2`` indirect allowed and ``3``
indirect forbidden transitions, so ``(α·hν)^(1/r)`` plotted against ``hν`` is a straight line that
meets the energy axis at ``Eg``. Absorbance may stand in for α (the intercept does not depend on the
scale). The linear window is chosen automatically and always reported:

1. the absorption rise is located on the absorbance smoothed over ``2·half + 1`` channels: from where
   it first exceeds 10 % to where it first exceeds 90 % of its rise above the sub-gap minimum
   (``search=`` replaces this region);
2. the local slope of the Tauc ordinate (a least-squares slope over ``2·half + 1`` channels,
   averaged over as many again so that noise in the slopes does not break a straight run) is
   largest at the steepest point of the rise, ``E*``;
3. the window is the contiguous run of channels around ``E*`` whose local slope is at least
   ``slope_fraction`` (0.8) of that maximum — the part of the rise that is straight to within 20 %
   of its slope (inside ``search`` when it is given) — and a straight line fitted there (ordinary
   least squares on the unsmoothed ordinate) is extrapolated to zero.

**Absorption edge.** The same window rule on absorbance against wavelength gives the straight part
of the edge; ``λg`` is where that line meets the baseline (zero, the sub-gap minimum, or a value)
and ``Eg = hc/λg = 1239.84/λg``.

References
----------
.. [1] J. Tauc, R. Grigorovici and A. Vancu, "Optical properties and electronic structure of
   amorphous germanium", Phys. Status Solidi 15, 627 (1966).
.. [2] E. A. Davis and N. F. Mott, "Conduction in non-crystalline systems V. Conductivity, optical
   absorption and photoconductivity in amorphous semiconductors", Philos. Mag. 22, 903 (1970).
.. [3] P. Makuła, M. Pacia and W. Macyk, "How to correctly determine the band gap energy of modified
   semiconductor photocatalysts based on UV–Vis spectra", J. Phys. Chem. Lett. 9, 6814 (2018).
.. [4] A. Escobedo-Morales, I. I. Ruiz-López, M. de L. Ruiz-Peralta et al., "Automated method for the
   determination of the band gap energy of pure and mixed powder samples using diffuse reflectance
   spectroscopy", Heliyon 5, e01505 (2019).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import PHOTON_EV_NM, as_spectra, ascending, check_axis_kind, check_min_points
from .uvvis_lines import first_index, line_fit, local_slope, moving_mean, run_around

__all__ = ["TRANSITIONS", "TaucFit", "EdgeFit", "tauc_fit", "absorption_edge", "absorbance_from",
           "tauc", "absorption_edge_da"]

#: Exponent ``1/r`` of ``(α·hν)^(1/r)`` for each transition kind.
TRANSITIONS = {"direct": 2.0, "indirect": 0.5, "direct-forbidden": 2.0 / 3.0, "indirect-forbidden": 1.0 / 3.0}


class TaucFit(NamedTuple):
    """Tauc band gap of each spectrum ``(...)``: gap (eV) and its standard error, the fitted line,
    the window ``e_lo..e_hi`` (eV) with its number of points and R², and the steepest point."""

    eg: np.ndarray
    eg_std: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    e_lo: np.ndarray
    e_hi: np.ndarray
    n_points: np.ndarray
    r2: np.ndarray
    e_steepest: np.ndarray
    exponent: float
    transition: str


class EdgeFit(NamedTuple):
    """Absorption edge ``(...)``: λg (nm) and Eg = hc/λg (eV) with standard errors, the line
    ``A = slope·λ + intercept`` over ``lambda_lo..lambda_hi`` (nm) and the baseline it meets."""

    lambda_g: np.ndarray
    lambda_g_std: np.ndarray
    eg: np.ndarray
    eg_std: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    lambda_lo: np.ndarray
    lambda_hi: np.ndarray
    baseline: np.ndarray
    r2: np.ndarray


def _default_half(n: int) -> int:
    return int(max(2, round(n / 100)))


def _rise_window(x, a, ordinate, *, half, slope_fraction, search, window):
    """The straight part of a rise of ``ordinate`` with ``x`` (both ascending); indices ``lo, hi``."""
    n = x.size
    idx = np.arange(n)
    if window is not None:
        lo_x, hi_x = sorted(float(v) for v in window)
        inside = np.flatnonzero((x >= lo_x) & (x <= hi_x))
        if inside.size < 3:
            raise InputError(f"window {lo_x:g}–{hi_x:g} holds {inside.size} points; a line needs at least 3")
        shape = ordinate.shape[:-1]
        lo, hi = np.full(shape, inside[0]), np.full(shape, inside[-1])
        steep = local_slope(x, ordinate, half)
        centre = inside[0] + np.argmax(steep[..., inside], axis=-1)
        return lo, hi, centre
    if search is not None:
        s_lo, s_hi = sorted(float(v) for v in search)
        region = np.broadcast_to((x >= s_lo) & (x <= s_hi), ordinate.shape)
        if not region[..., :].any():
            raise InputError(f"search range {s_lo:g}–{s_hi:g} lies outside the axis {x[0]:g}–{x[-1]:g}")
    else:
        sm = moving_mean(a, half)
        i_max = np.argmax(sm, axis=-1)
        below = idx <= i_max[..., None]
        a_min = np.min(np.where(below, sm, np.inf), axis=-1)
        rise = np.max(sm, axis=-1) - a_min
        start = first_index(below & (sm >= (a_min + 0.1 * rise)[..., None]), default=0)
        stop = first_index(below & (sm >= (a_min + 0.9 * rise)[..., None]), default=n - 1)
        region = (idx >= start[..., None]) & (idx <= stop[..., None])
    # local slopes over 2·half + 1 channels, smoothed once more over as many: the noise of a slope
    # estimate must not break a straight run (its maximum would otherwise be a noise excursion)
    steep = moving_mean(np.nan_to_num(local_slope(x, ordinate, half), nan=0.0), half)
    centre = np.argmax(np.where(region, steep, -np.inf), axis=-1)
    top = np.take_along_axis(steep, centre[..., None], axis=-1)
    ok = steep >= slope_fraction * top
    if search is not None:
        ok &= region
    lo, hi = run_around(ok, centre)
    short = (hi - lo) < 2
    w = max(1, half // 2)
    lo = np.where(short, np.clip(centre - w, 0, n - 1), lo)
    hi = np.where(short, np.clip(centre + w, 0, n - 1), hi)
    return lo, hi, centre


def _crossing(fit, level):
    """``x`` where the line meets ``y = level`` and its standard error (delta method)."""
    m, b = fit.slope, fit.intercept
    xg = (level - b) / m
    var = (fit.intercept_var / m**2 + (level - b) ** 2 * fit.slope_var / m**4
           + 2 * (level - b) * fit.covariance / m**3)
    return xg, np.sqrt(np.maximum(var, 0.0))


def tauc_fit(absorption, energy, *, transition: str = "direct", units: str | None = None,
             window=None, search=None, slope_fraction: float = 0.8, half: int | None = None,
             source: str | None = None) -> TaucFit:
    """Tauc band gap of every spectrum of a batch, with the linear window chosen automatically.

    Parameters
    ----------
    absorption : array_like (..., n)
        Absorption coefficient or absorbance (any scale) on the shared axis ``energy``.
    energy : array_like (n,)
        Photon energy in eV (either direction).
    transition : str
        ``"direct"``, ``"indirect"``, ``"direct-forbidden"`` or ``"indirect-forbidden"``.
    units : str, optional
        Units of the axis; a wavelength unit raises (convert with E = 1239.84/λ first).
    window : (float, float), optional
        Fit window in eV, instead of the automatic choice.
    search : (float, float), optional
        Energy range (eV) in which the steepest rise is sought (default: the 10–90 % rise).
    slope_fraction : float
        The window keeps channels whose local slope is at least this fraction of the steepest.
    half : int, optional
        Half-width (channels) of the smoothing and of the local slopes (default ``n/100``, ≥ 2).
    source : str, optional
        File name for error messages.

    Returns
    -------
    TaucFit
    """
    check_axis_kind(units, required="energy", name="energy", source=source)
    if transition not in TRANSITIONS:
        raise InputError(f"transition={transition!r}: choose one of {', '.join(TRANSITIONS)}")
    if not 0.0 < slope_fraction < 1.0:
        raise InputError(f"slope_fraction={slope_fraction}: must lie between 0 and 1")
    e, a = ascending(energy, absorption, name="energy", min_points=3, source=source)
    a = as_spectra(a, e.size, name="absorption", source=source)
    if np.any(e <= 0):
        raise InputError(f"{source + ': ' if source else ''}photon energies must be positive")
    half = _default_half(e.size) if half is None else int(half)
    check_min_points(e.size, 2 * half + 3, what="a Tauc analysis", source=source)
    p = TRANSITIONS[transition]
    ordinate = (np.maximum(a, 0.0) * e) ** p
    lo, hi, centre = _rise_window(e, a, ordinate, half=half, slope_fraction=slope_fraction, search=search,
                                  window=window)
    fit = line_fit(e, ordinate, lo, hi)
    eg, eg_std = _crossing(fit, 0.0)
    return TaucFit(eg, eg_std, fit.slope, fit.intercept, e[lo], e[hi], fit.n, fit.r2, e[centre], p,
                   transition)


def absorption_edge(absorbance, wavelength, *, baseline="zero", units: str | None = None, window=None,
                    search=None, slope_fraction: float = 0.8, half: int | None = None,
                    source: str | None = None) -> EdgeFit:
    """Absorption edge λg where the straight part of the edge meets the baseline; Eg = 1239.84/λg.

    Parameters
    ----------
    absorbance : array_like (..., n)
        Absorbance on the shared axis ``wavelength``.
    wavelength : array_like (n,)
        Wavelength in nm (either direction).
    baseline : {"zero", "min"} or float
        Level the edge line is extrapolated to: zero absorbance, the sub-gap minimum of the smoothed
        absorbance, or a given absorbance.
    units : str, optional
        Units of the axis; an energy unit raises.
    window, search : (float, float), optional
        Fit window / search range in nm.
    slope_fraction, half, source
        As for :func:`tauc_fit`.

    Returns
    -------
    EdgeFit
    """
    check_axis_kind(units, required="wavelength", name="wavelength", source=source)
    lam, a = ascending(wavelength, absorbance, name="wavelength", min_points=3, source=source)
    a = as_spectra(a, lam.size, name="absorbance", source=source)
    half = _default_half(lam.size) if half is None else int(half)
    check_min_points(lam.size, 2 * half + 3, what="an absorption-edge fit", source=source)
    # work on x = −λ so that the absorbance rises with x, as on an energy axis
    x, ar = -lam[::-1], a[..., ::-1]

    def flip(w):
        return None if w is None else (-float(w[1]), -float(w[0]))

    lo, hi, _ = _rise_window(x, ar, ar, half=half, slope_fraction=slope_fraction, search=flip(search),
                             window=flip(window))
    fit = line_fit(x, ar, lo, hi)
    if isinstance(baseline, str):
        if baseline == "zero":
            level = np.zeros(ar.shape[:-1])
        elif baseline == "min":
            sm = moving_mean(ar, half)
            below = np.arange(x.size) <= lo[..., None]
            level = np.min(np.where(below, sm, np.inf), axis=-1)
        else:
            raise InputError(f"baseline={baseline!r}: choose 'zero', 'min' or a number")
    else:
        level = np.full(ar.shape[:-1], float(baseline))
    xg, xg_std = _crossing(fit, level)
    lam_g = -xg
    eg = PHOTON_EV_NM / lam_g
    return EdgeFit(lam_g, xg_std, eg, eg * xg_std / np.abs(lam_g), -fit.slope, fit.intercept, -x[hi], -x[lo],
                   level, fit.r2)


def absorbance_from(values, quantity: str, *, thickness_cm: float | None = None):
    """Absorbance (or α in 1/cm with ``thickness_cm``) from what a spectrometer recorded.

    ``quantity``: ``"absorbance"``; ``"transmittance"`` (fraction) → ``−log10 T``; ``"reflectance"``
    (diffuse, fraction) → the Kubelka–Munk function ``(1 − R)²/2R`` (P. Kubelka and F. Munk,
    Z. Tech. Phys. 12, 593 (1931)), proportional to α; ``"absorption_coefficient"`` → unchanged.
    With a thickness, absorbance becomes ``α = ln(10)·A/d``.
    """
    v = np.asarray(values, dtype=float)
    if quantity in ("absorbance", "intensity", "counts"):
        out = v
    elif quantity == "transmittance":
        out = -np.log10(np.clip(v, 1e-12, None))
    elif quantity == "reflectance":
        r = np.clip(v, 1e-6, 1.0)
        out = (1.0 - r) ** 2 / (2.0 * r)
    elif quantity == "absorption_coefficient":
        return v
    else:
        raise InputError(f"quantity={quantity!r}: use absorbance, transmittance, reflectance or "
                         "absorption_coefficient")
    if thickness_cm is not None:
        if not thickness_cm > 0:
            raise InputError(f"thickness_cm={thickness_cm}: must be positive")
        if quantity == "reflectance":
            raise InputError("a Kubelka–Munk function is not converted with a thickness")
        out = np.log(10.0) * out / thickness_cm
    return out


def _spectral_dim(da):
    for dim in ("energy", "wavelength"):
        if dim in da.dims:
            return dim
    raise InputError(f"the spectrum has dimensions {da.dims}; expected an 'energy' or 'wavelength' axis")


def tauc(da, *, transition: str = "direct", **kwargs):
    """Labelled :func:`tauc_fit`: a DataArray over ``energy`` (eV) or ``wavelength`` (nm, converted to
    E = 1239.84/λ; absorbance is not a spectral density, so no Jacobian) → Dataset over the other dims."""
    import xarray as xr

    dim = _spectral_dim(da)
    da = da.transpose(..., dim)
    x = da[dim].values
    e = PHOTON_EV_NM / x if dim == "wavelength" else x
    fit = tauc_fit(da.values, e, transition=transition, source=da.attrs.get("source_file"), **kwargs)
    lead = {d: da[d] for d in da.dims[:-1] if d in da.coords}
    units = {"eg": "eV", "eg_std": "eV", "slope": "1/eV", "intercept": "1", "e_lo": "eV", "e_hi": "eV",
             "n_points": "1", "r2": "1", "e_steepest": "eV"}
    data = {k: xr.Variable(da.dims[:-1], np.asarray(getattr(fit, k)), attrs={"units": u})
            for k, u in units.items()}
    return xr.Dataset(data, coords=lead, attrs={"transition": transition, "exponent": fit.exponent})


def absorption_edge_da(da, **kwargs):
    """Labelled :func:`absorption_edge` for a DataArray over ``wavelength`` (nm) or ``energy`` (eV)."""
    import xarray as xr

    dim = _spectral_dim(da)
    da = da.transpose(..., dim)
    x = da[dim].values
    lam = PHOTON_EV_NM / x if dim == "energy" else x
    fit = absorption_edge(da.values, lam, source=da.attrs.get("source_file"), **kwargs)
    units = {"lambda_g": "nm", "lambda_g_std": "nm", "eg": "eV", "eg_std": "eV", "slope": "1/nm",
             "lambda_lo": "nm", "lambda_hi": "nm", "baseline": "1", "r2": "1"}
    data = {k: xr.Variable(da.dims[:-1], np.asarray(getattr(fit, k)), attrs={"units": u})
            for k, u in units.items()}
    return xr.Dataset(data, coords={d: da[d] for d in da.dims[:-1] if d in da.coords})
