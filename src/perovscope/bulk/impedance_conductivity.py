"""From impedance spectra to conductivity: R_DC from the arc, σ = l/(R·A), and the Arrhenius fit.

* :func:`arc_intercepts` fits a circle to the dominant arc of each Nyquist plot (−Z'' against Z') and
  returns its intersections with the real axis: the low-frequency one is the DC (bulk) resistance
  R_DC, read as "the right intersection of the half circle with the x axis" [1]_. A depressed arc
  (R‖CPE) is still exactly a circle, with its centre below the axis [2]_, so the intercept is not
  biased by the depression. The arc's points are the contiguous run around the largest local maximum
  of −Z'' that stays above ``min_fraction`` of it, between the neighbouring minima (where an electrode
  spike or a second arc begins). The circle is the algebraic (Kåsa) fit [3]_, batched.
* :func:`conductivity`: σ = l / (R · A) in S/cm from a thickness in mm and an area in mm².
* :func:`arrhenius_fit`: ln(σT) = ln σ₀ − E_a/(k_B T) by (weighted) linear least squares, giving E_a
  and its standard error; vectorised over several samples.

References
----------
.. [1] J. T. S. Irvine, D. C. Sinclair and A. R. West, "Electroceramics: characterization by impedance
   spectroscopy", Adv. Mater. 2, 132 (1990).
.. [2] K. S. Cole and R. H. Cole, "Dispersion and absorption in dielectrics", J. Chem. Phys. 9, 341
   (1941).
.. [3] I. Kåsa, "A circle fitting procedure and its error analysis", IEEE Trans. Instrum. Meas. 25, 8
   (1976).
.. [4] A. R. West, Solid State Chemistry and its Applications, 2nd ed., Wiley (2014), §8.3 (ionic
   conductivity, σT Arrhenius form).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import ascending, check_min_points, check_positive
from .impedance import prepare_spectra

__all__ = ["ArcIntercepts", "arc_intercepts", "conductivity", "ArrheniusFit", "arrhenius_fit",
           "BOLTZMANN_EV", "to_kelvin"]

#: Boltzmann constant in eV/K (CODATA 2018, exact).
BOLTZMANN_EV = 8.617333262e-5


class ArcIntercepts(NamedTuple):
    """Circle fitted to the dominant arc; every field ``(...)``.

    ``r_dc`` and ``r_hf`` are the low- and high-frequency real-axis intercepts (Ω), ``centre_real``,
    ``centre_imag`` (of −Z'') and ``radius`` the circle, ``depression_deg`` the angle of the centre
    below the axis, ``f_apex`` the frequency of the arc's maximum (Hz), ``n_points`` the points used.
    """

    r_dc: np.ndarray
    r_hf: np.ndarray
    centre_real: np.ndarray
    centre_imag: np.ndarray
    radius: np.ndarray
    depression_deg: np.ndarray
    f_apex: np.ndarray
    n_points: np.ndarray


def arc_intercepts(frequency, impedance, *, min_fraction: float = 0.3,
                   source: str | None = None) -> ArcIntercepts:
    """Real-axis intercepts of the dominant impedance arc of each spectrum (batched).

    Parameters
    ----------
    frequency : array_like (n,)
        Frequencies (Hz), either direction.
    impedance : array_like (..., n) complex
        Spectra (arcs have ``Z'' < 0``).
    min_fraction : float
        Points with −Z'' above this fraction of the arc's apex (and between its neighbouring minima)
        enter the circle fit.

    Returns
    -------
    ArcIntercepts
        NaN where no arc (no interior maximum of −Z'', or fewer than 3 points on it) is found, or
        where the circle does not reach the real axis.
    """
    if not 0.0 < min_fraction < 1.0:
        raise InputError(f"min_fraction must lie in (0, 1), got {min_fraction}")
    f, z = prepare_spectra(frequency, impedance, source=source)
    lead, n = z.shape[:-1], z.shape[-1]
    zf = z.reshape(-1, n)
    x, y = zf.real, -zf.imag
    ys = y.copy()
    ys[:, 1:-1] = 0.25 * y[:, :-2] + 0.5 * y[:, 1:-1] + 0.25 * y[:, 2:]
    idx = np.arange(n)[None, :]
    interior = (idx > 0) & (idx < n - 1)
    left = np.concatenate([np.full((zf.shape[0], 1), np.inf), ys[:, :-1]], axis=1)
    right = np.concatenate([ys[:, 1:], np.full((zf.shape[0], 1), np.inf)], axis=1)
    is_max = interior & (ys > left) & (ys >= right) & (ys > 0)
    is_min = interior & (ys < left) & (ys <= right)
    has_arc = is_max.any(axis=1)
    apex = np.argmax(np.where(is_max, ys, -np.inf), axis=1)
    lo = np.max(np.where(is_min & (idx < apex[:, None]), idx, 0), axis=1)
    hi = np.min(np.where(is_min & (idx > apex[:, None]), idx, n - 1), axis=1)
    above = (ys > min_fraction * ys[np.arange(zf.shape[0]), apex][:, None]) & (idx >= lo[:, None]) \
        & (idx <= hi[:, None])
    run = np.cumsum(~above, axis=1)
    use = above & (run == run[np.arange(zf.shape[0]), apex][:, None]) & has_arc[:, None]
    npts = np.sum(use, axis=1)
    w = use.astype(float)
    a = np.stack([x, y, np.ones_like(x)], axis=-1)  # x² + y² + D x + E y + F = 0
    b = -(x * x + y * y)
    ata = np.einsum("nk,nki,nkj->nij", w, a, a) + 1e-300 * np.eye(3)
    atb = np.einsum("nk,nki,nk->ni", w, a, b)
    ok = npts >= 3
    sol = np.full((zf.shape[0], 3), np.nan)
    if ok.any():
        sol[ok] = np.linalg.solve(ata[ok], atb[ok][:, :, None])[:, :, 0]
    xc, yc = -sol[:, 0] / 2.0, -sol[:, 1] / 2.0
    r2 = xc * xc + yc * yc - sol[:, 2]
    radius = np.sqrt(np.where(r2 > 0, r2, np.nan))
    half = np.sqrt(np.where(r2 - yc * yc >= 0, r2 - yc * yc, np.nan))
    depression = np.degrees(np.arcsin(np.clip(-yc / radius, -1.0, 1.0)))
    f_apex = np.where(has_arc, f[apex], np.nan)
    out = [xc + half, xc - half, xc, yc, radius, depression, f_apex, npts]
    return ArcIntercepts(*(np.asarray(v).reshape(lead) for v in out))


def conductivity(resistance, *, thickness_mm=None, area_mm2=None):
    """σ = l / (R · A) in S/cm.

    Parameters
    ----------
    resistance : array_like (...)
        Resistance R (Ω), e.g. R_DC from :func:`arc_intercepts`.
    thickness_mm : float or array_like
        Sample thickness l (mm), between the electrodes.
    area_mm2 : float or array_like
        Electrode area A (mm²).

    Raises
    ------
    InputError
        Missing or non-positive geometry (names ``--thickness``/``--area``), non-positive resistance.
    """
    missing = [name for name, v in (("thickness (--thickness MM)", thickness_mm),
                                    ("area (--area MM2)", area_mm2)) if v is None]
    if missing:
        raise InputError(f"a conductivity needs the sample geometry: give the {' and the '.join(missing)}; "
                         "σ = l/(R·A)")
    length = check_positive(thickness_mm, name="thickness (--thickness)", why="σ = l/(R·A)")
    area = check_positive(area_mm2, name="area (--area)", why="σ = l/(R·A)")
    r = np.asarray(resistance, dtype=float)
    if np.any(r <= 0):
        raise InputError("resistance must be positive for a conductivity; check the arc intercept")
    return (length / 10.0) / (r * area / 100.0)


def to_kelvin(temperature, unit: str = "C") -> np.ndarray:
    """Temperatures in K from °C (``"C"``) or K (``"K"``), checked positive."""
    t = np.asarray(temperature, dtype=float)
    u = unit.strip().upper().lstrip("°")
    if u in ("C", "DEGC", "CELSIUS"):
        t = t + 273.15
    elif u not in ("K", "KELVIN"):
        raise InputError(f"temperature unit must be C or K, got {unit!r}")
    return check_positive(t, name="temperature (K)", why="1/T is taken")


class ArrheniusFit(NamedTuple):
    """``ln(σT) = ln σ₀ − E_a/(k_B T)``: ``ea_ev``, ``ea_std_ev``, ``ln_prefactor`` (ln of S·K/cm, or of
    S/cm without the T factor), its std, ``r_squared``; fields ``(...)``."""

    ea_ev: np.ndarray
    ea_std_ev: np.ndarray
    ln_prefactor: np.ndarray
    ln_prefactor_std: np.ndarray
    r_squared: np.ndarray


def arrhenius_fit(temperature, sigma, *, unit: str = "C", sigma_std=None,
                  times_temperature: bool = True) -> ArrheniusFit:
    """Activation energy from a temperature series of conductivities.

    Parameters
    ----------
    temperature : array_like (m,)
        Measurement temperatures (°C by default; ``unit="K"``), strictly monotonic.
    sigma : array_like (..., m)
        Conductivities (S/cm), positive.
    unit : {"C", "K"}
        Unit of ``temperature``.
    sigma_std : array_like (..., m), optional
        Standard errors of σ: weights ``(σ/δσ)²`` on ln σ, and E_a errors from them; otherwise equal
        weights and errors from the scatter about the line (needs ≥ 3 temperatures).
    times_temperature : bool
        Fit ln(σT) (the form for ionic hopping) or plain ln σ.

    Returns
    -------
    ArrheniusFit

    Raises
    ------
    InputError
        Unsorted or duplicated temperatures, fewer than 3 points, non-positive σ or T.
    """
    t_k = to_kelvin(temperature, unit)
    t_k, s = ascending(t_k, sigma, name="temperature", min_points=2)
    check_min_points(t_k.size, 3, what="an Arrhenius fit with an uncertainty")
    s = check_positive(s, name="conductivity", why="ln σ is taken")
    xv = 1.0 / t_k
    yv = np.log(s * t_k) if times_temperature else np.log(s)
    if sigma_std is not None:
        ds = np.asarray(sigma_std, dtype=float)
        if t_k[0] != to_kelvin(temperature, unit)[0]:
            ds = ds[..., ::-1]
        w = np.where(ds > 0, (s / np.where(ds > 0, ds, 1.0)) ** 2, 0.0)
    else:
        w = np.ones_like(yv)
    sw = np.sum(w, axis=-1)
    mx = np.sum(w * xv, axis=-1) / sw
    my = np.sum(w * yv, axis=-1) / sw
    sxx = np.sum(w * (xv - mx[..., None]) ** 2, axis=-1)
    sxy = np.sum(w * (xv - mx[..., None]) * (yv - my[..., None]), axis=-1)
    slope = sxy / sxx
    icpt = my - slope * mx
    res = yv - (icpt[..., None] + slope[..., None] * xv)
    ssr = np.sum(w * res * res, axis=-1)
    sst = np.sum(w * (yv - my[..., None]) ** 2, axis=-1)
    m = t_k.size
    scale = ssr / (m - 2) if sigma_std is None else np.ones_like(ssr)
    var_slope = scale / sxx
    var_icpt = scale * (1.0 / sw + mx * mx / sxx)
    return ArrheniusFit(-slope * BOLTZMANN_EV, np.sqrt(var_slope) * BOLTZMANN_EV, icpt, np.sqrt(var_icpt),
                        1.0 - ssr / np.where(sst > 0, sst, np.nan))
