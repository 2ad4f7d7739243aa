"""Spectral models of the ``composite`` sample: EELS power-law background, I M4,5 edge, iodine
interdiffusion profile and the Gaussian CL emission of CsPbI3 particles.

All functions are pure, vectorised over leading axes (``(..., n_channels)`` results) and take
keyword-only options.

References
----------
.. [1] R. F. Egerton, *Electron Energy-Loss Spectroscopy in the Electron Microscope*, 3rd ed.
   (Springer, 2011): power-law background A·E^-r (r typically 2-5, §4.4.2); M4,5 edges of 5th-row
   elements are "delayed" edges whose maximum lies tens of eV above the onset (§3.6-3.7).
.. [2] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6: I M4,5 onset at ~619 eV, background fitted 580-620 eV, iodine up to
   ~10 nm outside the grains after sintering at 350 °C; CL peak at ~710 nm varying ±5 nm between
   particles, σ larger at particle edges.
.. [3] J. Crank, *The Mathematics of Diffusion*, 2nd ed. (Oxford, 1975), §2.3: diffusion from a
   surface held at constant concentration, c(d) = c_s erfc(d / (2√(Dt))).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfc

from ..physics.edges import edge_onset_eV

__all__ = ["IODINE_M5_ONSET_EV", "IODINE_M4_ONSET_EV", "power_law", "iodine_m45_edge",
           "iodine_profile", "gaussian_emission"]


#: I M5 onset (eV) from the shared edge table (619 eV, Nat. Commun. 2023, CsPbI₃/ZIF-62 [2]_).
IODINE_M5_ONSET_EV = float(edge_onset_eV("I_M45"))
#: I M4 onset: M5 plus the 3d spin-orbit splitting of iodine (~11.5 eV; Egerton 2011 Appendix D).
IODINE_M4_ONSET_EV = IODINE_M5_ONSET_EV + 11.5


def power_law(energy: np.ndarray, A, r) -> np.ndarray:
    """Power-law background ``A · E^-r`` (counts per channel), broadcasting ``A``, ``r`` over ``(...)``.

    ``energy`` is the 1-D energy axis (eV); ``A`` and ``r`` have shape ``(...)``; the result has shape
    ``(..., n_energy)``. See [1]_.
    """
    A = np.asarray(A, dtype=float)[..., None]
    r = np.asarray(r, dtype=float)[..., None]
    return A * np.power(np.asarray(energy, dtype=float), -r)


def iodine_m45_edge(energy: np.ndarray, *, onsets_eV=(IODINE_M5_ONSET_EV, IODINE_M4_ONSET_EV),
                    weights=(3.0, 2.0), delay_eV: float = 25.0, decay_r: float = 3.0) -> np.ndarray:
    """Shape of the I M4,5 ionisation edge, normalised to a maximum of 1 (zero below the M5 onset).

    Each sub-edge j contributes ``w_j (1 − exp(−(E − E_j)/delay_eV)) (E/E_j)^-decay_r`` above its
    onset ``E_j``: a delayed rise (the M4,5 edges of 5th-row elements peak tens of eV past the onset
    [1]_) followed by a power-law decay. The M5:M4 weights 3:2 follow the 6:4 occupancy of the
    3d5/2 and 3d3/2 levels.

    Parameters
    ----------
    energy : (n,) array
        Energy-loss axis (eV).
    onsets_eV, weights : pairs
        Sub-edge onsets (default I M5 619 eV, I M4 631 eV [2]_) and relative weights.
    delay_eV : float
        1/e rise length of the delayed maximum.
    decay_r : float
        Exponent of the post-edge decay.

    Returns
    -------
    (n,) array, maximum 1 on a fine grid (exactly 0 below the first onset).
    """
    e = np.asarray(energy, dtype=float)

    def raw(ee):
        total = np.zeros_like(ee)
        for onset, w in zip(onsets_eV, weights, strict=True):
            eps = np.maximum(ee - onset, 0.0)
            total = total + w * (1.0 - np.exp(-eps / delay_eV)) * (ee / onset) ** (-decay_r)
        return total

    fine = np.linspace(min(onsets_eV), min(onsets_eV) + 20 * delay_eV, 4001)
    return raw(e) / raw(fine).max()


def iodine_profile(distance_nm, *, width_nm: float, interface_fraction: float) -> np.ndarray:
    """Relative iodine concentration against signed distance from the nearest particle surface.

    1 inside a particle (``distance < 0``), ``interface_fraction · erfc(distance / width_nm)``
    outside: diffusion into the glass from a surface held at constant concentration [3]_, with
    ``width_nm = 2√(Dt)`` (the concentration falls to 16 % of its surface value at one width and to
    0.5 % at two widths; the CsPbI₃/ZIF-62 study finds iodine up to ~10 nm out [2]_).
    """
    d = np.asarray(distance_nm, dtype=float)
    return np.where(d < 0, 1.0, interface_fraction * erfc(np.maximum(d, 0.0) / width_nm))


def gaussian_emission(wavelength: np.ndarray, centre, sigma, amplitude) -> np.ndarray:
    """Gaussian emission band ``amplitude · exp(−(λ − centre)² / (2σ²))`` on the wavelength axis.

    ``centre``, ``sigma``, ``amplitude`` have shape ``(...)`` (NaN centre/σ where nothing emits gives
    0 when ``amplitude`` is 0); the result is ``(..., n_wavelength)``. Model of the CL spectra of
    the CsPbI₃/ZIF-62 study [2]_, which were fitted pixel by pixel with one Gaussian.
    """
    lam = np.asarray(wavelength, dtype=float)
    c = np.nan_to_num(np.asarray(centre, dtype=float), nan=0.0)[..., None]
    s = np.nan_to_num(np.asarray(sigma, dtype=float), nan=1.0)[..., None]
    a = np.asarray(amplitude, dtype=float)[..., None]
    return a * np.exp(-0.5 * ((lam - c) / s) ** 2)
