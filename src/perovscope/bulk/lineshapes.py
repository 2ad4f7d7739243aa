"""Peak profiles of spectroscopy with their analytic derivatives: Gaussian, Lorentzian, pseudo-Voigt, Voigt.

Every profile is area-normalised and parametrised by what a spectroscopist reports: the integrated
area, the centre and the full width at half maximum (the Voigt by its Gaussian σ and Lorentzian γ).
Functions broadcast: parameters ``(N, 1)`` against an axis ``(n,)`` give ``(N, n)`` values, so a
batch of spectra is evaluated at once. ``*_jac`` return the profile and its derivatives with respect
to each shape parameter, in the order of :data:`PARAMETERS`, for the batched Levenberg–Marquardt fit
of :mod:`perovscope.bulk.peak_fit`.

References
----------
.. [1] G. K. Wertheim, M. A. Butler, K. W. West and D. N. E. Buchanan, "Determination of the Gaussian
   and Lorentzian content of experimental line shapes", Rev. Sci. Instrum. 45, 1369 (1974)
   (pseudo-Voigt).
.. [2] J. J. Olivero and R. L. Longbothum, "Empirical fits to the Voigt line width: a brief review",
   J. Quant. Spectrosc. Radiat. Transfer 17, 233 (1977) (Voigt FWHM).
.. [3] F. W. J. Olver et al., NIST Handbook of Mathematical Functions, CUP (2010), §7.10 (derivative of
   the Faddeeva function, w'(z) = −2 z w(z) + 2i/√π).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PARAMETERS", "gaussian", "lorentzian", "pseudo_voigt", "voigt", "profile", "profile_jac",
           "peak_height", "voigt_fwhm"]

_G = 4.0 * np.log(2.0)
_GNORM = np.sqrt(_G / np.pi)
_SQRT2 = np.sqrt(2.0)
_SQRT2PI = np.sqrt(2.0 * np.pi)

#: Parameters of each profile, in the order used by :func:`profile_jac` and the fits.
PARAMETERS = {
    "gaussian": ("area", "centre", "fwhm"),
    "lorentzian": ("area", "centre", "fwhm"),
    "pseudo_voigt": ("area", "centre", "fwhm", "eta"),
    "voigt": ("area", "centre", "sigma", "gamma"),
}


def _gauss_unit(x, c, w):
    return _GNORM / w * np.exp(-_G * ((x - c) / w) ** 2)


def _lorentz_unit(x, c, w):
    u = 2.0 * (x - c) / w
    return (2.0 / (np.pi * w)) / (1.0 + u * u)


def gaussian(x, area, centre, fwhm):
    """Area-normalised Gaussian ``area·√(4ln2/π)/w·exp(−4ln2 (x−c)²/w²)``."""
    return area * _gauss_unit(x, centre, fwhm)


def lorentzian(x, area, centre, fwhm):
    """Area-normalised Lorentzian ``area·(2/πw)/(1 + 4(x−c)²/w²)``."""
    return area * _lorentz_unit(x, centre, fwhm)


def pseudo_voigt(x, area, centre, fwhm, eta):
    """``η·L + (1−η)·G`` with a common FWHM (Wertheim et al. 1974)."""
    return area * (eta * _lorentz_unit(x, centre, fwhm) + (1.0 - eta) * _gauss_unit(x, centre, fwhm))


def _faddeeva(x, centre, sigma, gamma):
    from scipy.special import wofz

    z = ((x - centre) + 1j * gamma) / (sigma * _SQRT2)
    return z, wofz(z)


def voigt(x, area, centre, sigma, gamma):
    """Area-normalised Voigt profile: a Gaussian of σ convolved with a Lorentzian of half width γ."""
    _, w = _faddeeva(x, centre, sigma, gamma)
    return area * w.real / (sigma * _SQRT2PI)


def voigt_fwhm(sigma, gamma):
    """FWHM of a Voigt profile (Olivero & Longbothum 1977, accurate to 0.02 %)."""
    fg = 2.0 * np.sqrt(2.0 * np.log(2.0)) * np.asarray(sigma)
    fl = 2.0 * np.asarray(gamma)
    return 0.5346 * fl + np.sqrt(0.2166 * fl * fl + fg * fg)


_EVAL = {"gaussian": gaussian, "lorentzian": lorentzian, "pseudo_voigt": pseudo_voigt, "voigt": voigt}


def _check_shape(shape: str) -> None:
    if shape not in PARAMETERS:
        from ..errors import InputError

        raise InputError(f"unknown peak shape {shape!r}; choose one of {', '.join(PARAMETERS)}")


def profile(shape: str, x, *params):
    """Evaluate the profile called ``shape`` (a key of :data:`PARAMETERS`) with its parameters."""
    _check_shape(shape)
    return _EVAL[shape](x, *params)


def profile_jac(shape: str, x, *params):
    """The profile and its derivatives with respect to its parameters (order of :data:`PARAMETERS`).

    Returns
    -------
    value : ndarray
        The profile, broadcast of ``x`` against the parameters.
    derivatives : list of ndarray
        ``∂value/∂p`` for each parameter, same shape as ``value``.
    """
    _check_shape(shape)
    if shape == "voigt":
        area, c, s, g = params
        z, w = _faddeeva(x, c, s, g)
        dw = -2.0 * z * w + 2j / np.sqrt(np.pi)
        norm = 1.0 / (s * _SQRT2PI)
        unit = w.real * norm
        d_c = (dw * (-1.0 / (s * _SQRT2))).real * norm
        d_g = (dw * (1j / (s * _SQRT2))).real * norm
        d_s = -unit / s + (dw * (-z / s)).real * norm
        return area * unit, [unit, area * d_c, area * d_s, area * d_g]
    area, c, fw = params[:3]
    gu = _gauss_unit(x, c, fw) if shape != "lorentzian" else None
    lu = _lorentz_unit(x, c, fw) if shape != "gaussian" else None
    if gu is not None:
        t = (x - c) / fw
        g_c = gu * 2.0 * _G * t / fw
        g_w = gu * (2.0 * _G * t * t - 1.0) / fw
    if lu is not None:
        u = 2.0 * (x - c) / fw
        q = 1.0 + u * u
        l_c = lu * 2.0 * u / q * 2.0 / fw
        l_w = lu * (2.0 * u * u / q - 1.0) / fw
    if shape == "gaussian":
        return area * gu, [gu, area * g_c, area * g_w]
    if shape == "lorentzian":
        return area * lu, [lu, area * l_c, area * l_w]
    eta = params[3]
    unit = eta * lu + (1.0 - eta) * gu
    return area * unit, [unit, area * (eta * l_c + (1.0 - eta) * g_c),
                         area * (eta * l_w + (1.0 - eta) * g_w), area * (lu - gu)]


def peak_height(shape: str, *params):
    """Maximum of the profile (its value at the centre)."""
    _check_shape(shape)
    return _EVAL[shape](params[1], *params)
