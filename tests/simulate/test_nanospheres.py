"""Known-answer tests of the ``nanospheres`` sample (CsPbBr3 nanocrystals in SiO2 spheres)."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.errors import InputError
from perovscope.simulate.nanospheres import simulate_nanospheres

HR = dict(hr_shape=(256, 256), hr_pixel_size_nm=0.04, n_nanocrystals=1)


@pytest.fixture(scope="module")
def default_tree():
    return simulate_nanospheres(seed=0)


def test_deterministic_per_seed():
    kw = dict(overview_shape=(128, 128), n_spheres=5, **HR)
    a, b = simulate_nanospheres(seed=2, **kw), simulate_nanospheres(seed=2, **kw)
    c = simulate_nanospheres(seed=3, **kw)
    for node in ("haadf/haadf", "tem/tem", "truth/spheres/diameter_nm",
                 "truth/nanocrystals/fringe_orientation_deg"):
        np.testing.assert_array_equal(a[node].values, b[node].values)
    assert not np.array_equal(a["haadf/haadf"].values, c["haadf/haadf"].values)


def test_population_statistics_match_paper(default_tree):
    s = default_tree["truth/spheres"]
    d = s.diameter_nm.values
    n = d.size
    assert n >= 100
    # He et al., ACS Energy Lett. 2023: 200 ± 26 nm; within 4 standard errors (sd of a sample sd ≈ sd/√(2n))
    assert abs(d.mean() - 200) < 4 * 26 / np.sqrt(n)
    assert abs(d.std(ddof=1) - 26) < 4 * 26 / np.sqrt(2 * n) * 1.5
    nc = default_tree["truth/overview_nanocrystals/diameter_nm"].values
    assert nc.size > 1000
    assert abs(nc.mean() - 8.6) < 4 * 1.3 / np.sqrt(nc.size)
    assert abs(nc.std(ddof=1) - 1.3) < 4 * 1.3 / np.sqrt(2 * nc.size) * 1.5
    # spheres do not overlap and lie inside the field of view
    cy, cx, r = s.centre_y_nm.values, s.centre_x_nm.values, d / 2
    dist = np.hypot(cy[:, None] - cy[None], cx[:, None] - cx[None])
    np.fill_diagonal(dist, np.inf)
    assert np.all(dist >= r[:, None] + r[None] + 5.0 - 1e-9)
    extent = default_tree["haadf/haadf"].shape[0] * 6.0
    assert np.all((cy - r >= 0) & (cy + r <= extent) & (cx - r >= 0) & (cx + r <= extent))
    # every overview nanocrystal lies inside its sphere
    o = default_tree["truth/overview_nanocrystals"]
    k = o.sphere.values - 1
    rr = np.sqrt((o.centre_y_nm.values - cy[k]) ** 2 + (o.centre_x_nm.values - cx[k]) ** 2
                 + o.centre_z_nm.values**2)
    assert np.all(rr <= r[k] + 1e-9)


def test_haadf_tracks_projected_thickness_and_is_poisson_off_spheres(default_tree):
    h = default_tree["haadf/haadf"].values.astype(float)
    t = default_tree["truth/haadf/thickness_nm"].values
    lab = default_tree["truth/haadf/sphere_label"].values
    assert np.corrcoef(h[lab > 0], t[lab > 0])[0, 1] > 0.8
    # far (> 3 px) from every sphere only the carbon support contributes: constant mean, var = mean
    from scipy.ndimage import binary_dilation

    far = ~binary_dilation(lab > 0, iterations=3)
    m = h[far]
    assert m.size > 10000
    assert abs(m.var() / m.mean() - 1) < 4 * np.sqrt(2 / m.size) + 4 / np.sqrt(m.size * m.mean())
    # sphere label area equals the disk area within the perimeter error (6 nm pixels)
    d = default_tree["truth/spheres/diameter_nm"].values
    area = np.bincount(lab.ravel(), minlength=d.size + 1)[1:] * 36.0
    assert np.all(np.abs(area - np.pi * d**2 / 4) < np.pi * d * 6.0 + 36.0)


def test_fringe_spacing_and_orientation_from_fft_of_noiseless_hr_image():
    tree = simulate_nanospheres(seed=7, overview_shape=(64, 64), n_spheres=2, sphere_diameter_nm=100.0,
                                sphere_diameter_sd_nm=0.0, hr_shape=(256, 256), hr_pixel_size_nm=0.04,
                                n_nanocrystals=1, amorphous_contrast=0.0, noise=False)
    img = tree["tem/tem"].values
    px = 0.04
    p = np.abs(np.fft.fftshift(np.fft.fft2(img - img.mean()))) ** 2
    k = np.fft.fftshift(np.fft.fftfreq(256, px))
    ky, kx = np.meshgrid(k, k, indexing="ij")
    kr = np.hypot(ky, kx)
    p[kr < 1.0] = 0  # the particle envelope lives at low frequency
    iy, ix = np.unravel_index(np.argmax(p), p.shape)
    spacing = 1 / kr[iy, ix]
    # pixel-limited resolution: Δk = 1/(N px) → Δd = d² Δk
    dk = 1 / (256 * px)
    assert abs(spacing - 0.33) <= 0.33**2 * dk
    theta = np.degrees(np.arctan2(ky[iy, ix], kx[iy, ix])) % 180
    truth = float(tree["truth/nanocrystals/fringe_orientation_deg"][0])
    diff = abs((theta - truth + 90) % 180 - 90)
    assert diff <= np.degrees(dk / kr[iy, ix]) * 1.5  # one frequency bin of angular resolution


def test_fringe_orientations_random_and_spacing_truth(default_tree):
    th = default_tree["truth/nanocrystals/fringe_orientation_deg"].values
    assert np.all((th >= 0) & (th < 180)) and np.unique(th).size == th.size
    assert float(default_tree["truth/fringe_spacing_nm"]) == 0.33
    tem = default_tree["tem/tem"]
    assert tem.attrs["signal"] == "tem" and tem.x.attrs["units"] == "nm"
    assert float(tem.x[1] - tem.x[0]) <= 0.05
    lab = default_tree["truth/tem/nanocrystal_label"].values
    assert set(np.unique(lab)) == set(range(th.size + 1))


@pytest.mark.parametrize("kwargs, name", [
    ({"sphere_diameter_nm": -1}, "sphere_diameter_nm"),
    ({"overview_dose_e_per_A2": 0}, "overview_dose_e_per_A2"),
    ({"nanocrystal_volume_fraction": 1.2}, "nanocrystal_volume_fraction"),
    ({"hr_pixel_size_nm": 0.2}, "hr_pixel_size_nm"),
    ({"n_spheres": 5000}, "n_spheres"),
])
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(InputError, match=name):
        simulate_nanospheres(**{"overview_shape": (64, 64), "n_spheres": 2, **HR, **kwargs})
