"""Binning and low-rank denoising (PCA with Poisson normalisation, NMF) of spectrum images.

Low-count EDX maps are dominated by Poisson noise whose variance equals the mean, so plain PCA ranks
components by noise level rather than chemistry. Keenan & Kotula's weighting divides the data matrix
by ``sqrt(g hᵀ)`` (``g`` per-pixel totals, ``h`` mean spectrum) so that the noise is homoscedastic
when the expected counts are close to rank one (``μ_ij ≈ g_i h_j / total``), truncates to
``n_components`` and undoes the scaling. In layered specimens (a device cross-section: metal, oxide,
perovskite and polymer layers with very different spectra and totals) that rank-one noise model
fails; scaling the channels only (``pixel_normalise=False``: divide by ``sqrt(h)``, the Poisson
standard deviation of the mean spectrum) keeps the noise of the peak channels from dominating
without dividing each pixel by its own noisy total. On the simulated PeLED cross-section at its
default EDX dose this gives the smallest quantification error (see docs/spectroscopy.md).
NMF needs no weighting (it works on counts).

References
----------
.. [1] M. R. Keenan and P. G. Kotula, "Accounting for Poisson noise in the multivariate analysis of
   ToF-SIMS spectrum images", Surf. Interface Anal. 36, 203 (2004).
.. [2] D. D. Lee and H. S. Seung, "Learning the parts of objects by non-negative matrix
   factorization", Nature 401, 788 (1999).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["bin_spectrum_image", "denoise_pca", "denoise_nmf"]


def bin_spectrum_image(spectra, factor=(2, 2)):
    """Sum blocks of ``factor`` pixels over the two axes before the spectral axis.

    Trailing rows/columns that do not fill a block are dropped. Counts are summed (not averaged),
    so Poisson statistics are preserved and integer dtypes stay integer.

    Parameters
    ----------
    spectra : array_like (..., ny, nx, n)
    factor : (int, int)
    """
    s = np.asarray(spectra)
    fy, fx = (int(v) for v in factor)
    if fy < 1 or fx < 1 or s.ndim < 3:
        raise InputError(f"factor={factor!r}: two positive integers and a (..., y, x, n) array needed")
    ny, nx = s.shape[-3] // fy, s.shape[-2] // fx
    if ny == 0 or nx == 0:
        raise InputError(f"factor={factor!r}: larger than the map {s.shape[-3:-1]}")
    s = s[..., :ny * fy, :nx * fx, :]
    shp = s.shape[:-3] + (ny, fy, nx, fx, s.shape[-1])
    return s.reshape(shp).sum(axis=(-4, -2))


def _flatten(spectra):
    s = np.asarray(spectra, dtype=float)
    if s.ndim < 2:
        raise InputError("spectra: need a spectrum image (..., n) with at least two pixels")
    return s.reshape(-1, s.shape[-1]), s.shape


def denoise_pca(spectra, *, n_components: int, poisson: bool = True, pixel_normalise: bool = True):
    """Low-rank reconstruction of a spectrum image by PCA (SVD), Poisson-weighted by default.

    Parameters
    ----------
    spectra : array_like (..., n)
        Counts.
    n_components : int
        Components kept.
    poisson : bool
        Poisson scaling before the decomposition (recommended for counts): channels divided by
        ``sqrt(h)`` (``h`` the mean spectrum) and, with ``pixel_normalise``, pixels by ``sqrt(g)``
        (``g`` their totals) — Keenan–Kotula.
    pixel_normalise : bool
        Include the per-pixel factor of the Poisson scaling. ``False`` (channel scaling only) is
        better for specimens whose pixels have very different spectra and totals (layers).

    Returns
    -------
    ndarray
        Denoised spectra, same shape, float.

    References
    ----------
    Keenan & Kotula (2004).
    """
    x, shape = _flatten(spectra)
    if not 1 <= n_components <= min(x.shape):
        raise InputError(f"n_components={n_components!r}: between 1 and {min(x.shape)}")
    from sklearn.utils.extmath import randomized_svd

    finite = np.isfinite(x)
    x = np.where(finite, x, 0.0)
    if poisson:
        g = (np.sqrt(np.maximum(x.sum(axis=1), 1e-12))[:, None] if pixel_normalise
             else np.ones((x.shape[0], 1)))
        # channel scale: Poisson sd of the mean spectrum (floor: 1e-3 counts per channel)
        h = np.sqrt(np.maximum(x.mean(axis=0), 1e-3))[None, :]
        xs = x / g / h
    else:
        xs = x
    mean = xs.mean(axis=0, keepdims=True)
    u, sv, vt = randomized_svd(xs - mean, n_components, random_state=0)
    rec = (u * sv) @ vt + mean
    if poisson:
        rec = rec * g * h
    return np.where(finite, rec, np.nan).reshape(shape)


def denoise_nmf(spectra, *, n_components: int, max_iter: int = 400):
    """Low-rank non-negative reconstruction of a count spectrum image (scikit-learn NMF,
    Kullback–Leibler loss = Poisson likelihood).

    References
    ----------
    Lee & Seung (1999).
    """
    x, shape = _flatten(spectra)
    if not 1 <= n_components <= min(x.shape):
        raise InputError(f"n_components={n_components!r}: between 1 and {min(x.shape)}")
    from sklearn.decomposition import NMF

    finite = np.isfinite(x)
    x = np.clip(np.where(finite, x, 0.0), 0, None)
    model = NMF(n_components=n_components, init="nndsvda", beta_loss="kullback-leibler",
                solver="mu", max_iter=max_iter, random_state=0)
    w = model.fit_transform(x)
    rec = w @ model.components_
    return np.where(finite, rec, np.nan).reshape(shape)
