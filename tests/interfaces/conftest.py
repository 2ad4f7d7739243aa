"""Synthetic device stacks and two-phase composites with known interfaces (small, seeded)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage
from scipy.special import erf

PX_NM = 0.5
H, W = 120, 80


def step(y, y0, width_px):
    """0 above, 1 below an interface at y0 broadened by a Gaussian of sd width_px (erf)."""
    return 0.5 * (1 + erf((y - y0) / (np.sqrt(2) * width_px)))


def layered_truth(n_frames=1, *, width_px=2.0, seed=0, extra_shift=0.0):
    """A 4-layer stack (rows = growth direction): one curved and two flat erf interfaces.

    Returns the feature DataArrays (haadf counts, Pb and Cl EDX counts) of shape (time, y, x), the
    true interface rows (n_frames, 3, W), the erf width (px) and the noise-free Cl fraction.
    """
    rng = np.random.default_rng(seed)
    x = np.arange(W)
    y = np.arange(H)[:, None]
    haadf_lv = [60.0, 300.0, 180.0, 90.0]
    pb_lv = [0.5, 12.0, 3.0, 0.5]
    cl_lv = [0.5, 3.0, 15.0, 1.0]
    feats = {"haadf": [], "pb": [], "cl": []}
    rows = np.zeros((n_frames, 3, W))
    for t in range(n_frames):  # loop over frames (fixture)
        ifs = [30.3 + 2.0 * np.sin(2 * np.pi * x / W), np.full(W, 62.7 + extra_shift * t),
               np.full(W, 90.2 + 1.5 * t)]
        rows[t] = ifs
        s = [step(y, yi[None, :], width_px) for yi in ifs]
        frac = [1 - s[0], s[0] - s[1], s[1] - s[2], s[2]]
        for name, lv in (("haadf", haadf_lv), ("pb", pb_lv), ("cl", cl_lv)):
            lam = sum(f * v for f, v in zip(frac, lv, strict=True))
            feats[name].append(rng.poisson(lam))
    coords = {"y": ("y", np.arange(H) * PX_NM, {"units": "nm"}),
              "x": ("x", np.arange(W) * PX_NM, {"units": "nm"})}
    out = [xr.DataArray(np.stack(v), dims=("time", "y", "x"), coords=coords, name=k,
                        attrs={"units": "counts"}) for k, v in feats.items()]
    return out, rows, width_px


@pytest.fixture(scope="module")
def layered():
    return layered_truth(2, extra_shift=0.8)


@pytest.fixture(scope="module")
def two_phase():
    """Random two-phase domains (phase A area fraction exactly 0.6 by construction) and Poisson EDX
    maps of Zn (phase A) and Al, P (phase B) blurred by a 1 px probe."""
    rng = np.random.default_rng(11)
    field = ndimage.gaussian_filter(rng.standard_normal((128, 128)), 5, mode="wrap")
    mask = field > np.quantile(field, 0.4)
    blur = lambda m: ndimage.gaussian_filter(m.astype(float), 1.0)  # noqa: E731
    zn = rng.poisson(1.0 + 9.0 * blur(mask))
    al = rng.poisson(1.0 + 6.0 * blur(~mask))
    p = rng.poisson(1.0 + 5.0 * blur(~mask))
    return mask, zn, al, p
