"""Batched Fourier helpers shared by registration and lattice-fringe analysis (private).

The matrix-multiply ("upsampled") DFT evaluates a discrete Fourier transform on a fine grid in a small
region only, for a whole stack of arrays at once, as in Guizar-Sicairos et al. (2008).

References
----------
.. [1] M. Guizar-Sicairos, S. T. Thurman and J. R. Fienup, "Efficient subpixel image registration
   algorithms", Opt. Lett. 33, 156-158 (2008). :doi:`10.1364/OL.33.000156`
.. [2] L. Moisan, "Periodic plus smooth image decomposition", J. Math. Imaging Vis. 39, 161-179
   (2011). :doi:`10.1007/s10851-010-0227-1`
"""

from __future__ import annotations

import numpy as np

__all__ = ["upsampled_dft", "tukey_window_2d", "periodic_component", "parabolic_peak_offset"]


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


def periodic_component(frames: np.ndarray) -> np.ndarray:
    """Periodic component ``p = u - s`` of images ``(..., H, W)`` (Moisan's periodic + smooth split).

    ``s`` is the smooth image whose Laplacian equals the jumps of ``u`` across its opposite borders, so
    ``p`` has no border discontinuity when tiled periodically and, unlike a taper window, leaves the
    content's interior unweighted: no fixed envelope is added that would pull a correlation peak to
    zero shift [2]_. Batched over leading axes with one FFT.
    """
    u = np.asarray(frames, dtype=float)
    h, w = u.shape[-2:]
    v = np.zeros_like(u)
    dy = u[..., -1, :] - u[..., 0, :]
    dx = u[..., :, -1] - u[..., :, 0]
    v[..., 0, :] += dy
    v[..., -1, :] -= dy
    v[..., :, 0] += dx
    v[..., :, -1] -= dx
    den = (2 * np.cos(2 * np.pi * np.arange(h) / h)[:, None]
           + 2 * np.cos(2 * np.pi * np.arange(w) / w)[None, :] - 4)
    den[0, 0] = 1.0
    spec = np.fft.fft2(v) / den
    spec[..., 0, 0] = 0.0
    return u - np.fft.ifft2(spec).real


def parabolic_peak_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-sample offset (in [-0.5, 0.5]) of a peak from three samples around its maximum."""
    denom = left - 2.0 * centre + right
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(denom < 0, 0.5 * (left - right) / denom, 0.0)
    return np.clip(off, -0.5, 0.5)
