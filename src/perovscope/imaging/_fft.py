"""Batched Fourier helpers shared by registration and lattice-fringe analysis (private).

The matrix-multiply ("upsampled") DFT evaluates a discrete Fourier transform on a fine grid in a small
region only, for a whole stack of arrays at once, as in Guizar-Sicairos et al. (2008).

References
----------
.. [1] M. Guizar-Sicairos, S. T. Thurman and J. R. Fienup, "Efficient subpixel image registration
   algorithms", Opt. Lett. 33, 156-158 (2008). :doi:`10.1364/OL.33.000156`
"""

from __future__ import annotations

import numpy as np

__all__ = ["upsampled_dft", "tukey_window_2d", "parabolic_peak_offset"]


def upsampled_dft(data: np.ndarray, region_size: int, upsample: float, offsets: np.ndarray
                  ) -> np.ndarray:
    """Inverse DFT of ``data`` sampled every ``1/upsample`` pixel in a small region, batched.

    Parameters
    ----------
    data : ndarray, shape (n, H, W), complex
        Spectra in numpy FFT layout (zero frequency at index 0).
    region_size : int
        Number of fine samples along each axis.
    upsample : float
        Samples per pixel of the output grid.
    offsets : ndarray, shape (n, 2)
        Position (in fine samples) of the region's first sample, per array.

    Returns
    -------
    ndarray, shape (n, region_size, region_size), complex
        ``sum_k data[k] * exp(+2 pi i k (u - offset) / (N upsample))`` (unnormalised inverse DFT).
    """
    n, h, w = data.shape
    ky = np.fft.fftfreq(h) * h
    kx = np.fft.fftfreq(w) * w
    u = np.arange(region_size, dtype=float)
    pos_y = u[None, :] - offsets[:, 0:1]                                          # (n, R)
    pos_x = u[None, :] - offsets[:, 1:2]
    ker_y = np.exp((2j * np.pi / (h * upsample)) * pos_y[:, :, None] * ky[None, None, :])  # (n, R, H)
    ker_x = np.exp((2j * np.pi / (w * upsample)) * kx[None, :, None] * pos_x[:, None, :])  # (n, W, R)
    return ker_y @ data @ ker_x


def tukey_window_2d(shape: tuple[int, int], alpha: float = 0.2) -> np.ndarray:
    """Separable Tukey (tapered cosine) window: flat centre, cosine taper on a fraction ``alpha``."""
    from scipy.signal.windows import tukey

    return np.outer(tukey(shape[0], alpha), tukey(shape[1], alpha))


def parabolic_peak_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-sample offset (in [-0.5, 0.5]) of a peak from three samples around its maximum."""
    denom = left - 2.0 * centre + right
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(denom < 0, 0.5 * (left - right) / denom, 0.0)
    return np.clip(off, -0.5, 0.5)
