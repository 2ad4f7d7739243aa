"""Kinematic nanobeam electron diffraction (4D-STEM) patterns, vectorised over probe positions.

With a convergent probe of semi-angle α every Bragg reflection ``g`` becomes a uniformly filled disk of
radius ``α/λ`` (1/nm) centred at ``g`` [1]_. For a crystal deformed by the (small or finite) deformation
gradient ``F = I + ε + ω`` relative to a reference lattice, real-space lattice vectors transform as
``a' = F a`` and reciprocal vectors as ``g' = F^{-T} g`` [2]_, so each disk centre is

    g'(r) = F(r)^{-T} R(φ) g_ref,

with ``R(φ)`` the in-plane orientation of the crystal on the detector. Disk intensities are
structure-factor-like (from :mod:`perovscope.diffraction.phases`, flattened as ``|F_g|`` to mimic
dynamical saturation in a ~50 nm lamella [1]_). Amorphous material gives a diffuse ring (Gaussian in
``|k|`` at its first-neighbour peak) and every pattern carries a weak thermal-diffuse background.

Rendering: all disk centres of a batch of patterns are splatted bilinearly (four weights per disk) onto
zero-padded detectors, convolved with one anti-aliased disk template by batched real FFTs and cropped.
Bilinear splatting followed by a symmetric template preserves each disk's centre of mass exactly, so
disk positions are sub-pixel exact. Counts are Poisson at the electrons per probe position.

References
----------
.. [1] J. M. Zuo and J. C. H. Spence, Advanced Transmission Electron Microscopy, Springer (2017),
   ch. 6 (convergent-beam and nanobeam diffraction) and ch. 3 (kinematic structure factor).
.. [2] C. Ophus, "Four-dimensional scanning transmission electron microscopy (4D-STEM): from scanning
   nanodiffraction to ptychography and beyond", Microsc. Microanal. 25, 563 (2019) — strain from
   ``g' = (I + ε)^{-T} g``.
.. [3] E. J. Kirkland, Advanced Computing in Electron Microscopy, 3rd ed., Springer (2020), ch. 2
   (relativistic electron wavelength).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

__all__ = ["electron_wavelength_nm", "disk_template", "ring_template", "splat_disks",
           "render_patterns", "deformation_gradient"]


def electron_wavelength_nm(beam_energy_keV: float) -> float:
    """Relativistic electron wavelength λ (nm) at ``beam_energy_keV`` [3]_."""
    e = float(beam_energy_keV) * 1e3
    return 1239.8419843 / np.sqrt(e * (2 * 510998.95 + e))


def disk_template(radius_px: float, *, supersample: int = 8) -> np.ndarray:
    """Anti-aliased uniform disk of ``radius_px`` (area-weighted by supersampling), sum 1, odd size."""
    half = int(np.ceil(radius_px)) + 1
    n = 2 * half + 1
    sub = (np.arange(n * supersample) + 0.5) / supersample - half - 0.5
    yy, xx = np.meshgrid(sub, sub, indexing="ij")
    inside = (yy ** 2 + xx ** 2 <= radius_px ** 2).astype(float)
    t = inside.reshape(n, supersample, n, supersample).mean(axis=(1, 3))
    return t / t.sum()


def ring_template(shape, k_px: float, width_px: float) -> np.ndarray:
    """Diffuse ring ``exp(-(|k| - k₀)² / 2w²)`` on the detector (centre at ``shape // 2``), sum 1."""
    ny, nx = shape
    ky = np.arange(ny) - ny // 2
    kx = np.arange(nx) - nx // 2
    k = np.hypot(ky[:, None], kx[None, :])
    r = np.exp(-0.5 * ((k - k_px) / width_px) ** 2)
    return r / r.sum()


def deformation_gradient(exx, eyy, exy, theta_rad) -> np.ndarray:
    """``F = I + ε + ω`` in (x, y) components, shape (..., 2, 2); ω_yx = +θ turns +x towards +y."""
    exx, eyy, exy, th = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                               for v in (exx, eyy, exy, theta_rad)))
    f = np.empty((*exx.shape, 2, 2))
    f[..., 0, 0] = 1 + exx
    f[..., 0, 1] = exy - th
    f[..., 1, 0] = exy + th
    f[..., 1, 1] = 1 + eyy
    return f


def splat_disks(ky_px, kx_px, amplitude, *, padded: int, origin: int) -> np.ndarray:
    """Bilinearly splat point intensities onto padded detectors.

    ``ky_px, kx_px, amplitude`` are (n_pattern, n_spot) positions relative to the optical axis and
    weights; returns (n_pattern, padded, padded) with the optical axis at index ``origin``.
    """
    n = ky_px.shape[0]
    y = np.asarray(ky_px, dtype=float) + origin
    x = np.asarray(kx_px, dtype=float) + origin
    iy = np.floor(y).astype(np.int64)
    ix = np.floor(x).astype(np.int64)
    fy, fx = y - iy, x - ix
    ok = (iy >= 0) & (ix >= 0) & (iy < padded - 1) & (ix < padded - 1)
    amp = np.where(ok, amplitude, 0.0)
    iy, ix = np.where(ok, iy, 0), np.where(ok, ix, 0)
    base = (np.arange(n)[:, None] * padded + iy) * padded + ix
    idx = np.concatenate([base, base + 1, base + padded, base + padded + 1]).ravel()
    w = np.concatenate([amp * (1 - fy) * (1 - fx), amp * (1 - fy) * fx,
                        amp * fy * (1 - fx), amp * fy * fx]).ravel()
    flat = np.bincount(idx, weights=w, minlength=n * padded * padded)
    return flat.reshape(n, padded, padded)


def render_patterns(ky_px, kx_px, amplitude, *, detector_shape, disk_radius_px: float,
                    diffuse=None, diffuse_templates=None, batch: int = 256) -> np.ndarray:
    """Expected (noiseless) diffraction patterns, shape (n_pattern, ny, nx), float32.

    Parameters
    ----------
    ky_px, kx_px : array_like, shape (n_pattern, n_spot)
        Disk centres relative to the optical axis (detector pixel ``(ny // 2, nx // 2)``), in pixels;
        the direct beam is a spot like any other.
    amplitude : array_like, shape (n_pattern, n_spot)
        Integrated intensity of each disk (disks cut by the detector edge lose the part outside).
    detector_shape : (int, int)
        Square detector assumed for the padding (ny == nx).
    disk_radius_px : float
        Disk radius ``α / (λ Δk)`` in pixels.
    diffuse, diffuse_templates : array_like, optional
        ``(n_pattern, n_ring)`` weights and ``(n_ring, ny, nx)`` normalised diffuse templates
        (amorphous rings, thermal-diffuse background) added as one matrix product.
    batch : int
        Patterns per FFT batch (bounds memory to ~``batch × padded² × 12`` bytes).
    """
    ny, nx = detector_shape
    tpl = disk_template(disk_radius_px)
    half = tpl.shape[0] // 2
    padded = sfft.next_fast_len(max(ny, nx) + 2 * half + 2, real=True)
    origin = padded // 2
    off_y, off_x = origin - ny // 2, origin - nx // 2
    kern = np.zeros((padded, padded))
    kern[:tpl.shape[0], :tpl.shape[1]] = tpl
    kern = np.roll(kern, (-half, -half), axis=(0, 1))
    kern_f = sfft.rfft2(kern)
    n = ky_px.shape[0]
    out = np.empty((n, ny, nx), dtype=np.float32)
    if diffuse is not None:
        diffuse = np.asarray(diffuse)
        flat_templates = np.asarray(diffuse_templates).reshape(len(diffuse_templates), -1)
    for s in range(0, n, batch):
        sl = slice(s, min(n, s + batch))
        pts = splat_disks(ky_px[sl], kx_px[sl], amplitude[sl], padded=padded, origin=origin)
        conv = sfft.irfft2(sfft.rfft2(pts, workers=-1) * kern_f, s=(padded, padded), workers=-1)
        block = conv[:, off_y:off_y + ny, off_x:off_x + nx]
        if diffuse is not None:
            block = block + (diffuse[sl] @ flat_templates).reshape(-1, ny, nx)
        out[sl] = np.maximum(block, 0.0)  # FFT round-off
    return out
