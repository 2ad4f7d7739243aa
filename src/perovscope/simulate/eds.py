"""STEM-EDX spectrum images from composition maps: characteristic lines, Kramers bremsstrahlung, Poisson.

For a thin specimen each beam electron produces, per atom of element *i* in the column, on average

* ``σ_s ω_s Ω/4π`` characteristic photons of shell family *s* (K, L, M), shared among the lines of the
  family in proportion to their tabulated weights, each line a Gaussian of FWHM given by the detector
  resolution (≈ 130 eV at Mn Kα, Fiori–Newbury scaling), integrated exactly over every channel;
* ``dσ_B/dE · Ω/4π`` bremsstrahlung photons per eV with Kramers' thin-target cross-section
  ``dσ_B/dE = (16π / 3√3) α r_e² m_e c² Z² / (T E)`` (T: beam kinetic energy, E: photon energy).

The characteristic yields (Casnati ionisation cross-section of the alpha subshell, tabulated
fluorescence yields and radiative branching, tabulated line weights) and the Kramers continuum come
from :mod:`perovscope.simulate.xray_emission`, the simulator's own generation model, written
independently of the Cliff–Lorimer k-factor model of :mod:`perovscope.spectroscopy` (they share
reference tables from :mod:`perovscope.physics`, never a model), so that quantifying simulated
spectra tests the analysis. The spectrum of a pixel is the matrix product of its atom column
densities ``n t c_i`` with the per-element spectra, times the electrons per pixel; counts are Poisson.
A detector efficiency ``1 - exp(-(E/E_w)²)`` models the loss of soft X-rays below ``E_w``.

References
----------
.. [1] H. A. Kramers, "On the theory of X-ray absorption and of the continuous X-ray spectrum",
   Phil. Mag. 46, 836 (1923).
.. [2] E. Casnati, A. Tartari and C. Baraldi, J. Phys. B 15, 155 (1982) — ionisation cross-section.
.. [3] D. B. Williams and C. B. Carter, Transmission Electron Microscopy, 2nd ed., Springer (2009),
   ch. 4 (ionisation cross-section, fluorescence yield) and ch. 32–35 (X-ray spectrometry).
.. [4] W. T. Elam, B. D. Ravel and J. R. Sieber, Radiat. Phys. Chem. 63, 121 (2002) — ω, edges.
.. [5] C. E. Fiori and D. E. Newbury, Scanning Electron Microsc. 1, 401 (1978) — resolution scaling.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..errors import InputError
from ..physics.xray import detector_fwhm_eV
from .xray_emission import (
    bremsstrahlung_cross_section,
    detector_efficiency,
    family_yields,
    fluorescence_yield,
    ionisation_cross_section_nm2,
)

__all__ = ["ionisation_cross_section_nm2", "fluorescence_yield", "family_yields",
           "bremsstrahlung_cross_section", "element_spectra", "eds_expected", "render_eds",
           "energy_axis_eV"]


def energy_axis_eV(n_channels: int = 2048, channel_eV: float = 10.0, offset_eV: float = 0.0):
    """Channel-centre energies (eV) of an EDX spectrum."""
    if n_channels < 1 or channel_eV <= 0:
        raise InputError(f"n_channels={n_channels}, channel_eV={channel_eV}: must be positive")
    return offset_eV + channel_eV * (np.arange(n_channels) + 0.5)


def element_spectra(elements, atomic_numbers, energy_eV, *, beam_energy_keV: float = 300.0,
                    solid_angle_sr: float = 0.7, fwhm_mn_ka: float = 130.0,
                    efficiency_edge_eV: float = 150.0, bremsstrahlung: bool = True):
    """Detected photons per channel per electron per (atom/nm²) of each element.

    Parameters
    ----------
    elements : sequence of str
        Element symbols; elements without tabulated lines (e.g. Li) contribute bremsstrahlung only.
    atomic_numbers : sequence of int
        Z of each element.
    energy_eV : array_like, shape (n_channel,)
        Equally spaced channel-centre energies.
    beam_energy_keV : float
        Beam kinetic energy.
    solid_angle_sr : float
        Detector collection solid angle (0.7 sr for a four-quadrant Super-X).
    fwhm_mn_ka : float
        Detector resolution at Mn Kα (eV).
    efficiency_edge_eV : float
        Soft-X-ray efficiency scale E_w of ``1 - exp(-(E/E_w)²)``.
    bremsstrahlung : bool
        Include the continuum.

    Returns
    -------
    numpy.ndarray, shape (n_element, n_channel)
        In nm² per channel, so that ``spectrum = N_e (column_density @ result)`` with column
        densities in atoms/nm².
    """
    e = np.asarray(energy_eV, dtype=float)
    if e.ndim != 1 or e.size < 2:
        raise InputError("energy_eV: need a 1-D axis of at least two channels")
    de = float(e[1] - e[0])
    edges = np.concatenate([e - de / 2, [e[-1] + de / 2]])
    eff = detector_efficiency(e, efficiency_edge_eV=efficiency_edge_eV)
    out = np.zeros((len(elements), e.size))
    for i, (el, z) in enumerate(zip(elements, atomic_numbers, strict=True)):
        for _fam, y, lines in family_yields(el, z, beam_energy_keV=beam_energy_keV,
                                            solid_angle_sr=solid_angle_sr):
            for energy, w in lines:
                sig = detector_fwhm_eV(energy, fwhm_mn_ka=fwhm_mn_ka) / (2 * np.sqrt(2 * np.log(2)))
                cdf = 0.5 * (1 + erf((edges - energy) / (np.sqrt(2) * sig)))
                effl = detector_efficiency(energy, efficiency_edge_eV=efficiency_edge_eV)
                out[i] += y * w * effl * np.diff(cdf)
        if bremsstrahlung:
            out[i] += (bremsstrahlung_cross_section(e, z, beam_energy_keV=beam_energy_keV)
                       * de * solid_angle_sr / (4 * np.pi) * eff)
    return out


def eds_expected(composition, spectra, *, electrons_per_pixel: float, thickness_nm=50.0,
                 atom_density_nm3=60.0):
    """Expected counts ``(..., n_channel)`` of composition maps ``(..., n_element)`` (fractions).

    ``spectra`` comes from :func:`element_spectra`; thickness and atom density broadcast over the
    leading axes. The work is one matrix product over all pixels.
    """
    c = np.asarray(composition, dtype=float)
    t = np.asarray(thickness_nm, dtype=float)
    if np.any(t < 0):
        raise InputError("thickness_nm: the specimen thickness must be >= 0 nm")
    col = c * (np.asarray(atom_density_nm3, dtype=float) * t)[..., None]
    return float(electrons_per_pixel) * (col @ np.asarray(spectra))


def render_eds(composition, spectra, *, electrons_per_pixel: float, rng=None, seed: int = 0,
               dtype=np.uint16, **kwargs):
    """Poisson-noisy EDX spectrum image (counts); keyword arguments as :func:`eds_expected`.

    ``dtype`` is widened automatically to ``uint32`` when counts would overflow it.
    """
    mean = eds_expected(composition, spectra, electrons_per_pixel=electrons_per_pixel, **kwargs)
    rng = np.random.default_rng(seed) if rng is None else rng
    counts = rng.poisson(mean)
    if counts.size and counts.max() > np.iinfo(dtype).max:
        dtype = np.uint32
    return counts.astype(dtype)
