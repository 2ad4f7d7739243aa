"""Strain maps at real detector sizes (128² EMPAD-like, 256² Medipix/Merlin-like) against simulator truth.

A 256² detector at the simulator's 0.11 /nm per px reaches 14 /nm: more disks than ``max_disks`` per
pattern, the weak perovskite (100) disks pushed out by stronger high-order ones, and the contact
layers' (ITO, Al) reflections in more patterns than the emitter's. The lattice must still be the
emitter's and the strain as accurate as its own reported uncertainty says.
"""

import numpy as np
import pytest
from scipy.ndimage import correlate

from perovscope.diffraction.analysis import strain_map
from perovscope.diffraction.disks import _kernel_sum, probe_kernel, synthetic_probe
from perovscope.diffraction.lattice import auto_basis
from perovscope.simulate import simulate_device

COMPONENTS = ("exx", "eyy", "exy", "theta")


@pytest.fixture(scope="module", params=[128, 256])
def device_maps(request):
    det = request.param
    tree = simulate_device(seed=3, n_frames=1, scan_shape=(24, 24), detector_shape=(det, det))
    da = tree["4dstem/4dstem"].isel(time=0).chunk({"scan_y": 6})
    truth = tree["truth/strain"].to_dataset().isel(time=0).compute()
    ds = strain_map(da, reference=truth["reference_mask"].values, phases=False)
    return det, ds, truth


def test_basis_is_the_emitter_lattice(device_maps):
    det, ds, truth = device_maps
    G = np.array(ds.attrs["basis"])                          # 1/nm, columns g1, g2
    a = float(truth.attrs["nominal_lattice_parameter_nm"])
    # the primitive (100)/(010) cell, area 1/a², or the centred (110)/(1-10) cell, 2/a², when the
    # weak (100) disks are not among the strongest; the reference lattice is within the 1 % misfit
    # (and Vegard spread) of the nominal one
    area = abs(np.linalg.det(G)) * a**2
    assert min(abs(area - 1), abs(area - 2) / 2) < 0.03, (det, area)
    rot = np.degrees(np.arctan2(G[1, 0], G[0, 0])) % 45.0   # the emitter sits at 10° (mod 45° of the cell)
    assert rot == pytest.approx(10.0, abs=1.0), (det, rot)


def test_strain_error_within_reported_uncertainty(device_maps):
    det, ds, truth = device_maps
    ok = np.isfinite(truth["exx"].values)
    fitted = ds["reason"].values[ok] == 0
    assert fitted.mean() >= 0.95, (det, fitted.mean())
    for k in COMPONENTS:
        err = (ds[k].values - truth[k].values)[ok]
        std = ds[k + "_std"].values[ok]
        good = np.isfinite(err)
        rms, rms_std = np.sqrt(np.mean(err[good] ** 2)), np.sqrt(np.mean(std[good] ** 2))
        # a calibrated σ gives RMS error ≈ RMS σ; 1.5× leaves room for the scatter of 500+ pixels and
        # the ≤ 1e-4 pixel-locking bias next to the interfaces (docs/diffraction.md, Accuracy)
        assert rms <= 1.5 * rms_std + (0.002 if k == "theta" else 5e-5), (det, k, rms, rms_std)
        assert rms <= (0.02 if k == "theta" else 4e-4), (det, k, rms)


def test_auto_basis_prefers_the_lattice_seen_in_most_patterns():
    # lattice A (|g| = 10) in 60 patterns; lattice B (|g| = 6, rotated 30°) in 40 patterns, no two
    # reflections closer than 2.8 (one disk diameter): the old "shortest peak anywhere" rule chose B
    def disks(g, n_pat, angle):
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        hk = np.array([(h, k) for h in range(-2, 3) for k in range(-2, 3)], float)
        q = g * hk @ np.array([[c, s], [-s, c]])
        qx = np.broadcast_to(q[:, 0], (n_pat, len(hk))).copy()
        qy = np.broadcast_to(q[:, 1], (n_pat, len(hk))).copy()
        inten = np.where((hk == 0).all(1), 1e5, 1e3)[None].repeat(n_pat, 0)
        return qx, qy, inten

    a, b = disks(10.0, 60, 0.0), disks(6.0, 40, 30.0)
    qx, qy, inten = (np.concatenate([u, v]) for u, v in zip(a, b, strict=True))
    G = auto_basis(qx, qy, inten, min_length=3.0)
    np.testing.assert_allclose(G, np.diag([10.0, 10.0]), atol=1e-9)


def test_kernel_sum_is_the_circular_correlation():
    # Σ K² I at candidate points (the Poisson variance of the correlation), including points whose
    # kernel window wraps around the detector edge, equals a direct wrapped correlation
    rng = np.random.default_rng(0)
    p = rng.poisson(5.0, (3, 40, 36)).astype(np.uint16)
    k2 = probe_kernel(synthetic_probe(3.2)) ** 2
    b = np.array([0, 1, 2, 2, 0, 1])
    y = np.array([20, 3, 38, 0, 10, 39])
    x = np.array([18, 30, 2, 35, 0, 17])
    ref = np.stack([correlate(p[i].astype(float), k2, mode="wrap") for i in range(3)])
    np.testing.assert_allclose(_kernel_sum(p, k2, b, y, x), ref[b, y, x], rtol=1e-12)
