"""Colour of emission spectra: CIE 1931 XYZ and xy, CIE 1976 u′v′, dominant wavelength and purity.

Tristimulus values are ``X = ∫ S(λ)·x̄(λ) dλ`` (and Y, Z likewise) with the CIE 1931 2° colour-matching
functions (360–830 nm, 1 nm; the CIE table as distributed with colour-science [3]_, shipped in
:mod:`.colour_cie1931`), interpolated linearly onto the
spectrum's own wavelengths (zero outside their range) and integrated with the trapezoid rule. ``S`` is
taken as spectral power per nm; ``quantity="photons"`` converts photon counts per nm to power (×1/λ).

The dominant wavelength is where the ray from the white point through the sample's (x, y) leaves the
chromaticity diagram: the intersection with the spectral locus (a polyline through the 1-nm locus
points), interpolated between the two neighbouring wavelengths. When the ray meets the line of purples
first, the complementary wavelength (the backward ray's intersection) is returned as a negative number,
as the CIE does. Beyond 700 nm the locus is a single point, so dominant wavelengths stop at 700 nm
(the purple line joins 700 nm and 360 nm). The (excitation) purity is the distance from the white
point to the sample divided by
the distance from the white point to that intersection (the locus or the purple line) [1]_, [2]_.

References
----------
.. [1] CIE 015:2018, *Colorimetry*, 4th ed., Commission Internationale de l'Éclairage (2018), §9.1
   (dominant wavelength and excitation purity).
.. [2] G. Wyszecki and W. S. Stiles, *Color Science*, 2nd ed., Wiley (1982), §3.3.
.. [3] T. Mansencal, M. Mauderer, M. Parsons et al., colour-science (Colour), Zenodo (2024),
   doi:10.5281/zenodo.3757045.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ._checks import as_spectra, ascending, check_axis_kind

__all__ = ["WHITE_POINTS", "Chromaticity", "cmfs_1931", "spectral_locus", "chromaticity_of",
           "dominant_wavelength", "chromaticity"]

#: White points (CIE 1931 2° xy) used for the dominant wavelength and purity.
WHITE_POINTS = {"E": (1.0 / 3.0, 1.0 / 3.0), "D65": (0.31270, 0.32900), "C": (0.31006, 0.31616),
                "D50": (0.34567, 0.35850)}


class Chromaticity(NamedTuple):
    """Colour of each spectrum ``(...)``: tristimulus values, xy, u′v′, dominant wavelength (nm,
    negative = complementary), excitation purity (0–1) and whether the wavelength is complementary."""

    X: np.ndarray
    Y: np.ndarray
    Z: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u_prime: np.ndarray
    v_prime: np.ndarray
    dominant_wavelength: np.ndarray
    purity: np.ndarray
    complementary: np.ndarray


def cmfs_1931():
    """``(wavelength (n,), x̄ȳz̄ (n, 3))`` of the CIE 1931 2° standard observer (360–830 nm, 1 nm)."""
    from .colour_cie1931 import cmfs

    return cmfs()


@functools.cache
def spectral_locus():
    """``(wavelength (n,), xy (n, 2))`` of the spectral locus, 360–830 nm."""
    lam, v = cmfs_1931()
    return lam, v[:, :2] / v.sum(axis=1, keepdims=True)


def _white(white) -> np.ndarray:
    if isinstance(white, str):
        if white not in WHITE_POINTS:
            raise InputError(f"white={white!r}: choose one of {', '.join(WHITE_POINTS)} or give (x, y)")
        return np.array(WHITE_POINTS[white])
    w = np.asarray(white, dtype=float)
    if w.shape != (2,) or not (0 < w[0] < 1 and 0 < w[1] < 1):
        raise InputError(f"white={white!r}: give a white point as (x, y) inside the diagram")
    return w


def dominant_wavelength(xy, *, white="E"):
    """Dominant (or negative complementary) wavelength and excitation purity of chromaticities.

    Parameters
    ----------
    xy : array_like (..., 2)
        CIE 1931 chromaticity coordinates.
    white : str or (float, float)
        White point: ``"E"`` (equal energy), ``"D65"``, ``"C"``, ``"D50"`` or (x, y).

    Returns
    -------
    wavelength, purity, complementary : ndarray (...)
    """
    xy = np.asarray(xy, dtype=float)
    if xy.shape[-1] != 2:
        raise InputError(f"xy must end with an axis of 2 (x, y), got shape {xy.shape}")
    w = _white(white)
    lam, locus = spectral_locus()
    red = lam <= 700.0  # beyond 700 nm the locus is one point (x, y) = (0.7347, 0.2653)
    lam, locus = lam[red], locus[red]
    q0, q1 = locus[:-1], locus[1:]
    keep = np.hypot(*(q1 - q0).T) > 1e-9  # the red end repeats points
    q0, q1, l0, l1 = q0[keep], q1[keep], lam[:-1][keep], lam[1:][keep]
    d = xy - w

    def hit(direction, a, b):
        """Ray ``w + t·direction`` against segments ``a→b``: (t, s) with NaN where they miss."""
        e = b - a
        den = direction[..., None, 0] * e[:, 1] - direction[..., None, 1] * e[:, 0]
        r = a - w
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (r[:, 0] * e[:, 1] - r[:, 1] * e[:, 0]) / den
            s = (r[:, 0] * direction[..., None, 1] - r[:, 1] * direction[..., None, 0]) / den
        ok = (np.abs(den) > 1e-15) & (t > 1e-12) & (s >= 0) & (s <= 1)
        return np.where(ok, t, np.nan), s

    t_sp, s_sp = hit(d, q0, q1)
    t_pu, _ = hit(d, locus[-1:], locus[:1])
    with np.errstate(invalid="ignore"):
        t_first = np.nanmin(np.where(np.isfinite(t_sp), t_sp, np.inf), axis=-1)
    complementary = np.isfinite(t_pu[..., 0]) & (t_pu[..., 0] < t_first * (1.0 - 1e-9))
    t_back, s_back = hit(-d, q0, q1)
    t_use = np.where(complementary[..., None], t_back, t_sp)
    s_use = np.where(complementary[..., None], s_back, s_sp)
    filled = np.where(np.isfinite(t_use), t_use, np.inf)
    j = np.argmin(filled, axis=-1)
    found = np.isfinite(np.take_along_axis(filled, j[..., None], -1)[..., 0])
    s = np.take_along_axis(s_use, j[..., None], -1)[..., 0]
    wl = l0[j] + s * (l1[j] - l0[j])
    wl = np.where(found, np.where(complementary, -wl, wl), np.nan)
    t_edge = np.where(complementary, t_pu[..., 0], t_first)
    with np.errstate(divide="ignore", invalid="ignore"):
        purity = np.where(np.isfinite(t_edge), 1.0 / t_edge, np.nan)
    zero = np.hypot(d[..., 0], d[..., 1]) < 1e-12
    return np.where(zero, np.nan, wl), np.where(zero, 0.0, purity), complementary


def chromaticity_of(spectra, wavelength, *, white="E", quantity: str = "power", units: str | None = None,
                    source: str | None = None) -> Chromaticity:
    """CIE 1931 colour of every spectrum of a batch.

    Parameters
    ----------
    spectra : array_like (..., n)
        Emission spectra per nm on the shared axis ``wavelength`` (convert a per-eV spectrum with
        :func:`perovscope.bulk.pl.to_wavelength_axis`).
    wavelength : array_like (n,)
        Wavelength in nm (either direction).
    white : str or (float, float)
        White point for the dominant wavelength and purity.
    quantity : {"power", "photons"}
        What the spectrum counts: spectral power, or photons (converted to power with 1/λ).
    units : str, optional
        Units of the axis; an energy unit raises.
    source : str, optional
        File name for error messages.

    Returns
    -------
    Chromaticity
    """
    check_axis_kind(units, required="wavelength", name="wavelength", source=source)
    lam, s = ascending(wavelength, spectra, name="wavelength", min_points=3, source=source)
    s = as_spectra(s, lam.size, source=source)
    if quantity not in ("power", "photons"):
        raise InputError(f"quantity={quantity!r}: choose 'power' or 'photons'")
    if quantity == "photons":
        s = s / lam
    c_lam, c_val = cmfs_1931()
    if lam[-1] < c_lam[0] or lam[0] > c_lam[-1]:
        raise InputError(f"{source + ': ' if source else ''}the spectrum ({lam[0]:g}–{lam[-1]:g} nm) lies "
                         "outside the visible range of the colour-matching functions (360–830 nm)")
    cmf = np.stack([np.interp(lam, c_lam, c_val[:, k], left=0.0, right=0.0) for k in range(3)], axis=-1)
    xyz = np.trapezoid(s[..., :, None] * cmf, lam, axis=-2)
    total = xyz.sum(axis=-1)
    if np.any(total <= 0):
        raise InputError(f"{source + ': ' if source else ''}a spectrum has no positive visible intensity; "
                         "its chromaticity is undefined")
    xy = xyz[..., :2] / total[..., None]
    den = xyz[..., 0] + 15 * xyz[..., 1] + 3 * xyz[..., 2]
    wl, purity, comp = dominant_wavelength(xy, white=white)
    return Chromaticity(xyz[..., 0], xyz[..., 1], xyz[..., 2], xy[..., 0], xy[..., 1], 4 * xyz[..., 0] / den,
                        9 * xyz[..., 1] / den, wl, purity, comp)


def chromaticity(da, **kwargs):
    """Labelled :func:`chromaticity_of`: a DataArray over ``wavelength`` (nm) or ``energy`` (eV, turned
    into a per-nm spectrum with the Jacobian) → Dataset over the other dimensions."""
    import xarray as xr

    from .pl import to_wavelength_axis

    if "wavelength" in da.dims:
        dim = "wavelength"
        da = da.transpose(..., dim)
        lam, values = da[dim].values, da.values
    elif "energy" in da.dims:
        dim = "energy"
        da = da.transpose(..., dim)
        lam, values = to_wavelength_axis(da.values, da[dim].values)
    else:
        raise InputError(f"the spectrum has dimensions {da.dims}; expected 'wavelength' or 'energy'")
    c = chromaticity_of(values, lam, source=da.attrs.get("source_file"), **kwargs)
    units = {"X": "1", "Y": "1", "Z": "1", "x": "1", "y": "1", "u_prime": "1", "v_prime": "1",
             "dominant_wavelength": "nm", "purity": "1", "complementary": "1"}
    lead = da.dims[:-1]
    data = {k: xr.Variable(lead, np.asarray(getattr(c, k)), attrs={"units": u}) for k, u in units.items()}
    return xr.Dataset(data, coords={d: da[d] for d in lead if d in da.coords},
                      attrs={"observer": "CIE 1931 2°", "white": str(kwargs.get("white", "E"))})
