"""Synthetic images with known ground truth for the imaging tests (small, seeded)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr


def fourier_shift(image, shift):
    """Shift a periodic image by a sub-pixel (dy, dx) exactly (content moves by +shift)."""
    ky = np.fft.fftfreq(image.shape[0])[:, None]
    kx = np.fft.fftfreq(image.shape[1])[None, :]
    phase = np.exp(-2j * np.pi * (ky * shift[0] + kx * shift[1]))
    return np.fft.ifft2(np.fft.fft2(image) * phase).real


def textured_scene(rng, shape, *, mean=200.0, contrast=120.0, sigma=2.0):
    """Smooth random texture (periodic, positive) like a HAADF image of an amorphous/nanoparticle film."""
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    field /= field.std()
    return np.maximum(mean + contrast * field, 1.0)


@pytest.fixture(scope="module")
def drift_series():
    """8 Poisson frames (96 x 96, mean 200 counts) with known sub-pixel drift relative to frame 0."""
    rng = np.random.default_rng(42)
    scene = textured_scene(rng, (96, 96))
    shifts = np.zeros((8, 2))
    shifts[1:] = np.cumsum(rng.uniform(-1.5, 1.5, (7, 2)), axis=0)
    frames = np.stack([rng.poisson(fourier_shift(scene, s).clip(0)) for s in shifts])
    return frames, shifts


def render_discs(shape, centres, radii, *, value=1.0, supersample=4):
    """Anti-aliased discs (area fraction per pixel from a supersampled grid)."""
    h, w = shape
    s = supersample
    yy = (np.arange(h * s) + 0.5) / s - 0.5
    xx = (np.arange(w * s) + 0.5) / s - 0.5
    img = np.zeros((h * s, w * s))
    for (cy, cx), r in zip(centres, radii, strict=True):  # loop over discs (test fixture)
        y0, y1 = int(max(0, (cy - r - 1) * s)), int(min(h * s, (cy + r + 2) * s))
        x0, x1 = int(max(0, (cx - r - 1) * s)), int(min(w * s, (cx + r + 2) * s))
        sub = (yy[y0:y1, None] - cy) ** 2 + (xx[None, x0:x1] - cx) ** 2 <= r ** 2
        img[y0:y1, x0:x1] = np.maximum(img[y0:y1, x0:x1], sub * value)
    return img.reshape(h, s, w, s).mean(axis=(1, 3))


def place_discs(rng, shape, radii, *, gap=3.0, margin=2.0):
    """Non-overlapping random centres for discs of the given radii (rejection sampling)."""
    centres = []
    for r in radii:  # loop over discs (test fixture)
        for _ in range(2000):
            c = rng.uniform([r + margin, r + margin], [shape[0] - r - margin, shape[1] - r - margin])
            if all(np.hypot(*(c - c2)) > r + r2 + gap for c2, r2 in zip(centres, radii, strict=False)):
                centres.append(c)
                break
        else:
            raise RuntimeError("could not place disc")
    return np.array(centres)


@pytest.fixture(scope="module")
def disc_image():
    """120 discs with log-normal diameters (mean 8.6 nm, sd 1.3 nm, like He et al.'s nanocrystals) at
    0.25 nm/px, bright on a dim matrix, blurred by a 1 px probe and with Poisson noise."""
    from scipy import ndimage

    rng = np.random.default_rng(7)
    px = 0.25
    mean, sd = 8.6, 1.3
    sig = np.sqrt(np.log(1 + (sd / mean) ** 2))
    d = rng.lognormal(np.log(mean) - sig ** 2 / 2, sig, 120)
    shape = (600, 600)
    radii = d / 2 / px
    centres = place_discs(rng, shape, radii)
    ideal = 20 + 200 * render_discs(shape, centres, radii)
    img = rng.poisson(ndimage.gaussian_filter(ideal, 1.0)).astype(np.uint16)
    da = xr.DataArray(img, dims=("y", "x"),
                      coords={"y": ("y", np.arange(shape[0]) * px, {"units": "nm"}),
                              "x": ("x", np.arange(shape[1]) * px, {"units": "nm"})},
                      attrs={"units": "counts", "signal": "haadf"}, name="haadf")
    return da, d, centres, radii


def fringe_image(rng, *, d_nm=0.33, angle_deg=35.0, px=0.03, shape=(256, 256), mean=50.0, amp=20.0):
    """Lattice fringes of spacing d_nm whose g-vector points at angle_deg (atan2(gy, gx), y down)."""
    r, c = np.mgrid[: shape[0], : shape[1]] * px
    th = np.radians(angle_deg)
    lam = mean + amp * np.cos(2 * np.pi * (c * np.cos(th) + r * np.sin(th)) / d_nm)
    return rng.poisson(lam).astype(float)


@pytest.fixture(scope="session")
def tools():
    """The fixture-building helpers, for tests that need their own variant."""
    from types import SimpleNamespace

    return SimpleNamespace(fourier_shift=fourier_shift, textured_scene=textured_scene,
                           render_discs=render_discs, place_discs=place_discs, fringe_image=fringe_image)
