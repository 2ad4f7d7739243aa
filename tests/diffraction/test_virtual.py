"""Virtual detectors, centre of mass and bad pixels against closed forms; eager == lazy."""

import dask.array as dsk
import numpy as np
import pytest
import xarray as xr

from perovscope.diffraction.detector import (
    annulus_mask,
    disk_mask,
    electron_wavelength_nm,
    find_bad_pixels,
    repair_bad_pixels,
)
from perovscope.diffraction.virtual import (
    beam_centre,
    center_of_mass,
    center_of_mass_map,
    virtual_image_map,
    virtual_images,
)
from perovscope.errors import InputError


def test_mask_areas_are_exact_to_antialiasing():
    # anti-aliased by 4×4 sub-samples: the area error is a perimeter effect, < 1 % for r ≥ 8 px
    m = disk_mask((128, 128), 20.0)
    assert m.sum() == pytest.approx(np.pi * 20**2, rel=0.01)
    a = annulus_mask((128, 128), 10.0, 30.0, centre=(60.0, 70.0))
    assert a.sum() == pytest.approx(np.pi * (30**2 - 10**2), rel=0.01)
    with pytest.raises(InputError, match="inner < outer"):
        annulus_mask((8, 8), 3, 2)


def test_virtual_images_equal_direct_sums_and_counts_stay_exact():
    rng = np.random.default_rng(0)
    data = rng.poisson(5.0, (3, 5, 32, 32)).astype(np.uint16)
    masks = np.stack([disk_mask((32, 32), 6.0), annulus_mask((32, 32), 8, 14), np.ones((32, 32))])
    out = virtual_images(data, masks)
    ref = np.einsum("abyx,myx->abm", data.astype(float), masks)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert np.array_equal(out[..., 2], data.sum((-2, -1)))   # integer counts reproduced exactly


def test_center_of_mass_of_shifted_disk_and_rotation():
    # a symmetric disk displaced by (dy, dx) has its CoM exactly there (up to the mask anti-aliasing)
    shifts = np.array([[1.25, -2.5], [0.0, 3.0], [-1.5, 0.5]])
    pats = np.stack([disk_mask((64, 64), 8.0, centre=(31.5 + dy, 31.5 + dx), supersample=16)
                     for dy, dx in shifts])
    c = center_of_mass(pats)
    np.testing.assert_allclose(c.com_y, shifts[:, 0], atol=2e-3)
    np.testing.assert_allclose(c.com_x, shifts[:, 1], atol=2e-3)
    r = center_of_mass(pats, rotation_deg=90.0)      # x' = -y, y' = x
    np.testing.assert_allclose(r.com_x, -shifts[:, 0], atol=2e-3)
    np.testing.assert_allclose(r.com_y, shifts[:, 1], atol=2e-3)
    np.testing.assert_allclose(c.magnitude, np.hypot(*shifts.T), atol=3e-3)


def _labelled(data, chunks=None):
    arr = dsk.from_array(data, chunks=chunks) if chunks else data
    return xr.DataArray(arr, dims=("scan_y", "scan_x", "ky", "kx"),
                        coords={"scan_y": ("scan_y", np.arange(data.shape[0]) * 2.0, {"units": "nm"})},
                        attrs={"units": "counts", "signal": "4dstem"})


def test_labelled_wrappers_eager_equals_lazy_with_odd_chunks(small_strained):
    data = small_strained.data
    eager = _labelled(data)
    lazy = _labelled(data, chunks=(4, 3, 96, 96))
    masks = {"bf": 6.0, "adf": (12.0, 40.0)}
    ve = virtual_image_map(eager, masks)
    vl = virtual_image_map(lazy, masks)
    assert vl["bf"].chunks is not None            # still lazy
    xr.testing.assert_allclose(ve, vl.compute(), rtol=1e-12)
    assert ve["bf"].attrs["units"] == "counts" and ve["bf"].dims == ("scan_y", "scan_x")
    ce, cl = center_of_mass_map(eager), center_of_mass_map(lazy)
    xr.testing.assert_allclose(ce, cl.compute(), rtol=1e-12)
    # the fixture's known descan: origin moves +1 px in y over the rows, -1 px in x over the columns
    cy = ce["com_y"].mean("scan_x").values
    assert cy[-1] - cy[0] > 0.3


def test_beam_centre_and_wavelength():
    m = disk_mask((100, 120), 10.0, centre=(30.3, 80.6))
    cy, cx = beam_centre(m * 50 + 1)
    assert (cy, cx) == pytest.approx((30.3, 80.6), abs=0.02)
    # 300 kV: λ = 1.9687 pm, 200 kV: 2.5079 pm (Kirkland table 2.2)
    assert electron_wavelength_nm(300) == pytest.approx(1.9687e-3, rel=1e-3)
    assert electron_wavelength_nm(200) == pytest.approx(2.5079e-3, rel=1e-3)


def test_bad_pixels_found_and_repaired(small_strained):
    s = small_strained
    bp = find_bad_pixels(s.data.mean((0, 1)), max_pattern=s.data.max((0, 1)), saturation=4000)
    assert np.array_equal(bp.mask, s.bad)         # 3 dead + 1 hot (also saturated) injected
    assert (bp.n_dead, bp.n_hot) == (3, 1)
    fixed = repair_bad_pixels(s.data[:2, :2], bp.mask)
    assert fixed[..., 60, 60].max() < 100 and fixed.dtype == np.float32
    np.testing.assert_array_equal(fixed[..., 20, 20], s.data[:2, :2, 20, 20])


def test_float32_fast_path_stays_exact_for_large_totals():
    # totals ≥ 2^24 counts are redone in float64, so integer sums stay exact
    data = np.full((3, 64, 64), 7, dtype=np.uint16)
    data[1] = 5000                                   # 5000 × 4096 = 20.48 M > 2^24
    out = virtual_images(data, np.stack([np.ones((64, 64)), disk_mask((64, 64), 10.0)]))
    assert out[1, 0] == 5000 * 4096 and out[0, 0] == 7 * 4096
    np.testing.assert_allclose(out[:, 1], data[:, 0, 0] * disk_mask((64, 64), 10.0).sum(), rtol=1e-6)
