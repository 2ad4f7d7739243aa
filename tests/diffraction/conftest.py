"""Synthetic 4D-STEM with ground truth for the diffraction tests (and the diffraction benchmark).

A cubic perovskite seen down [001] on a 96×96 detector: disks at known positions from a known lattice,
deformed by a known strain field with a 1 % misfit decaying away from a horizontal interface, a small
rotation field, linear descan of the central beam, a diffuse background, Poisson noise, plus vacuum,
amorphous and metallic-Pb regions and a few dead/hot detector pixels.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from perovscope.diffraction.phases import reciprocal_lattice, vegard_lattice_parameter_nm

REASONS = {"crystal": 0, "vacuum": 1, "amorphous": 2, "pb": 3}


def _render(shape, ys, xs, amps, radius, n_sub=32):
    """Sum of uniform hard-edged disks into patterns ``(P, ny, nx)``, pixel-integrated.

    Each pixel gets the exact fraction of its area inside the disk along x (chord length) integrated
    over ``n_sub`` sub-rows in y (midpoint rule), accurate to ~1e-3 px in the disk centroid.
    ``ys``, ``xs``, ``amps``: (P, D) centres (px) and integrated counts.
    """
    P, D = ys.shape
    ny, nx = shape
    h = int(np.ceil(radius + 2))
    off = np.arange(-h, h + 1)
    w = len(off)
    out = np.zeros((P, ny + 2 * h + 2, nx + 2 * h + 2))
    sub = (np.arange(n_sub) + 0.5) / n_sub - 0.5
    for i0 in range(0, P, 64):  # chunks of patterns (memory), vectorised inside
        cy, cx, am = ys[i0:i0 + 64], xs[i0:i0 + 64], np.nan_to_num(amps[i0:i0 + 64])
        iy = np.round(cy).astype(int)[..., None] + off                 # (p, D, w)
        ix = np.round(cx).astype(int)[..., None] + off
        yrel = iy[..., None] + sub - cy[..., None, None]               # (p, D, w, n_sub)
        half = np.sqrt(np.clip(radius**2 - yrel**2, 0, None))          # chord half-length
        lo = np.maximum(ix[..., None, :, None] - 0.5, cx[..., None, None, None] - half[..., :, None, :])
        hi = np.minimum(ix[..., None, :, None] + 0.5, cx[..., None, None, None] + half[..., :, None, :])
        frac = np.clip(hi - lo, 0, None).mean(-1)                      # (p, D, w, w)
        val = frac * (am / (np.pi * radius**2))[..., None, None]
        pidx = np.broadcast_to(np.arange(i0, i0 + len(cy))[:, None, None, None], val.shape)
        yy = np.broadcast_to(iy[..., :, None] + h + 1, val.shape)
        xx = np.broadcast_to(ix[..., None, :] + h + 1, val.shape)
        ok = (yy >= 0) & (yy < out.shape[1]) & (xx >= 0) & (xx < out.shape[2]) & (val > 0)
        np.add.at(out, (pidx[ok], yy[ok], xx[ok]), val[ok])
    del w
    return out[:, h + 1:h + 1 + ny, h + 1:h + 1 + nx]


def make_strained_4dstem(*, scan=(24, 20), det=96, pixel_inv_nm=0.1, x_cl=0.3, radius_px=4.0,
                         electrons=2.0e5, interface_row=6, misfit=0.01, decay_rows=2.0, base_angle_deg=7.0,
                         descan_px=1.0, seed=0, noise=True, with_defects=True):
    """Simulate a strained perovskite [001] nanodiffraction scan with its ground truth.

    Rows ``< interface_row`` hold vacuum (first row), amorphous material and — in a 3×3 patch — metallic
    Pb [001]; rows ``>= interface_row`` hold perovskite with ``exx = misfit·exp(-(row-i)/decay)``,
    ``eyy = -0.4 exx``, ``exy = 0.3 exx``, and a rotation ``θ = 0.1°·sin(2π col/ncol)``; strain is
    measured relative to the bulk lattice (the far rows are unstrained to < 1e-5).
    ``electrons`` is the beam dose per pattern (≈ 1000 e/Å² at a 1 nm probe step).
    """
    rng = np.random.default_rng(seed)
    ny, nx = scan
    P = ny * nx
    row, col = np.mgrid[:ny, :nx]
    pb = np.zeros(scan, bool)
    pb[2:5, 3:6] = True
    crystal = (row >= interface_row) & ~pb
    d = np.clip(row - interface_row, 0, None).astype(float)
    exx = np.where(crystal, misfit * np.exp(-d / decay_rows), np.nan)
    eyy, exy = -0.4 * exx, 0.3 * exx
    theta = np.where(crystal, 0.1 * np.sin(2 * np.pi * col / nx), np.nan)
    region = np.full(scan, REASONS["amorphous"])
    region[crystal] = REASONS["crystal"]
    region[0] = REASONS["vacuum"]
    region[pb] = REASONS["pb"]
    a = vegard_lattice_parameter_nm(x_cl)
    rl = reciprocal_lattice("CsPbBr3_cubic", (0, 0, 1), 0.5 * det * pixel_inv_nm * 1.45)
    hk = rl.hkl[:, :2]
    inten = np.sqrt(rl.intensity)
    phi = np.deg2rad(base_angle_deg)
    rot = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    G0 = rot / a                                               # columns g1, g2 in (x, y), 1/nm
    t = np.deg2rad(np.nan_to_num(theta))
    F = np.empty(scan + (2, 2))
    F[..., 0, 0] = 1 + np.nan_to_num(exx)
    F[..., 1, 1] = 1 + np.nan_to_num(eyy)
    F[..., 0, 1] = np.nan_to_num(exy) - t
    F[..., 1, 0] = np.nan_to_num(exy) + t
    G = np.linalg.inv(np.swapaxes(F, -1, -2)) @ G0               # g = F^-T g0
    cy = (det - 1) / 2 + descan_px * (row / ny - 0.5)
    cx = (det - 1) / 2 - descan_px * (col / nx - 0.5)
    gxy = np.einsum("...ij,dj->...di", G, hk.astype(float))      # (ny, nx, D, 2) 1/nm
    ys = cy[..., None] + gxy[..., 1] / pixel_inv_nm
    xs = cx[..., None] + gxy[..., 0] / pixel_inv_nm
    amp = 0.3 * electrons * inten / inten.sum() * rng.uniform(0.7, 1.3, ys.shape)
    amp[~crystal] = np.nan
    # metallic Pb [011]: {111} and {200} disks (as in the device simulator)
    rpb = reciprocal_lattice("Pb", (0, 1, 1), 0.5 * det * pixel_inv_nm * 1.45)
    Dp = min(len(rpb.hkl), ys.shape[-1])
    pby = rpb.gy[:Dp] / pixel_inv_nm
    pbx = rpb.gx[:Dp] / pixel_inv_nm
    ys[pb, :Dp], xs[pb, :Dp] = cy[pb][:, None] + pby, cx[pb][:, None] + pbx
    ys[pb, Dp:], xs[pb, Dp:] = np.nan, np.nan
    amp[pb, :Dp] = 0.3 * electrons / Dp
    ys, xs = np.nan_to_num(ys, nan=-100.0), np.nan_to_num(xs, nan=-100.0)
    central = np.where(region == REASONS["vacuum"], 0.95, 0.5) * electrons
    allys = np.concatenate([cy[..., None], ys], -1).reshape(P, -1)
    allxs = np.concatenate([cx[..., None], xs], -1).reshape(P, -1)
    allamp = np.concatenate([central[..., None], np.nan_to_num(amp)], -1).reshape(P, -1)
    patt = _render((det, det), allys, allxs, allamp, radius_px)
    patt = gaussian_filter(patt, (0, 0.5, 0.5))
    yy, xx = np.mgrid[:det, :det]
    r = np.hypot(yy[None] - cy.reshape(P, 1, 1), xx[None] - cx.reshape(P, 1, 1))
    halo = 1.0 / (1 + (r / 15.0) ** 2) ** 1.5
    ring = np.exp(-0.5 * ((r * pixel_inv_nm - 1 / 0.32) / 0.35) ** 2)
    amorph = (region == REASONS["amorphous"]).reshape(P, 1, 1)
    diffuse = np.where(amorph, ring / ring.sum((1, 2), keepdims=True) * 0.4,
                       halo / halo.sum((1, 2), keepdims=True) * 0.2)
    diffuse[(region == REASONS["vacuum"]).ravel()] *= 0.1
    lam = patt + diffuse * electrons + 0.02
    data = rng.poisson(lam).astype(np.uint16) if noise else lam
    bad = np.zeros((det, det), bool)
    if with_defects:
        bad[10, 70] = bad[80, 15] = bad[33, 60] = True       # dead
        data[..., 10, 70] = data[..., 80, 15] = data[..., 33, 60] = 0
        bad[60, 60] = True                                   # hot
        data[..., 60, 60] = 5000 if noise else 5000.0
    # truth relative to the reference region, as the simulator defines it: F_ref^-T = mean(F^-T) there
    ref = crystal & (row >= interface_row + 5 * decay_rows)
    if not ref.any():
        ref = crystal.copy()
    finv_t = np.linalg.inv(np.swapaxes(F, -1, -2))
    f_ref = np.linalg.inv(finv_t[ref].mean(0)).T
    fr = F @ np.linalg.inv(f_ref)
    nan = np.where(crystal, 1.0, np.nan)
    exx, eyy = (fr[..., 0, 0] - 1) * nan, (fr[..., 1, 1] - 1) * nan
    exy = 0.5 * (fr[..., 0, 1] + fr[..., 1, 0]) * nan
    theta = np.degrees(0.5 * (fr[..., 1, 0] - fr[..., 0, 1])) * nan
    probe = gaussian_filter(_render((31, 31), np.array([[15.0]]), np.array([[15.0]]), np.array([[1.0]]),
                                    radius_px)[0], 0.5)
    return types.SimpleNamespace(
        data=data.reshape(ny, nx, det, det), lam=lam.reshape(ny, nx, det, det), exx=exx, eyy=eyy, exy=exy,
        theta=theta, reference_mask=ref, probe=probe / probe.max(),
        region=region, crystal=crystal, origin_y=cy, origin_x=cx, G0=G0, G=G,
        disk_y=ys, disk_x=xs, disk_amp=amp, hk=hk, pixel_inv_nm=pixel_inv_nm, radius_px=radius_px,
        a_nm=a, x_cl=x_cl, bad=bad, interface_row=interface_row, base_angle_deg=base_angle_deg,
        valid=crystal)


@pytest.fixture(scope="session")
def strained():
    """Default synthetic scan (24×20 positions, 96×96 detector, 2e5 e⁻ per pattern)."""
    return make_strained_4dstem()


@pytest.fixture(scope="session")
def small_strained():
    """A 9×7 scan for eager/lazy and CLI tests."""
    return make_strained_4dstem(scan=(9, 7), interface_row=3, decay_rows=1.5, seed=3)


@pytest.fixture(scope="session")
def make_scan():
    """The generator itself, for tests that need other doses or noise-free data."""
    return make_strained_4dstem
