"""The ``nanospheres`` sample: CsPbBr3 nanocrystals inside SiO2 nanospheres (overview + HR images).

Two images at the two scales the size statistics need: a HAADF-STEM overview of ~100 silica spheres
(200 ± 26 nm) whose volume holds many CsPbBr3 nanocrystals (bright speckle), and a high-resolution
TEM image inside a sphere where individual nanocrystals (8.6 ± 1.3 nm) show {111} lattice fringes
(0.33 nm) at random orientations.

References
----------
.. [1] M. He, Q. Zhang, F. Carulli, A. Erroi et al., "Ultra-stable, solution-processable CsPbBr₃–SiO₂
   nanospheres for highly efficient color conversion in micro light-emitting diodes", ACS Energy Lett. 8,
   151–158 (2023), doi:10.1021/acsenergylett.2c02062: nanospheres 200 ± 26 nm, nanocrystals 8.6 ± 1.3 nm,
   fringes of 0.33 nm from the (111) planes, TEM electron dose rate 6500 e Å⁻² s⁻¹.
.. [2] S. J. Pennycook and D. E. Jesson, Ultramicroscopy 37, 14 (1991): HAADF ∝ Z^1.7.
.. [3] D. B. Williams and C. B. Carter, *Transmission Electron Microscopy*, 2nd ed. (Springer, 2009),
   ch. 28: lattice fringes as two-beam interference, I ∝ 1 + m cos(2π g·r + φ).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

from ..errors import InputError
from . import composite_common as cc
from .haadf import HAADF_CROSS_SECTION_NM2, electrons_per_pixel, haadf_expected

__all__ = ["simulate_nanospheres", "SIO2", "CSPBBR3", "CARBON"]

#: Silica (dense, collapsed pores, ~2.2 g/cm³), cubic CsPbBr3 (4.55 g/cm³), amorphous carbon support.
SIO2 = ({"Si": 1, "O": 2}, 2.2)
CSPBBR3 = ({"Cs": 1, "Pb": 1, "Br": 3}, 4.55)
CARBON = ({"C": 1}, 2.0)


def _uniform_in_spheres(rng, centres_yx, radii, counts):
    """Uniform random points (y, x, z) in each sphere ``k`` (``counts[k]`` points), all at once."""
    owner = np.repeat(np.arange(len(radii)), counts)
    v = rng.normal(size=(owner.size, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    rad = radii[owner] * rng.uniform(size=owner.size) ** (1 / 3)
    pts = v * rad[:, None]
    pts[:, 0] += centres_yx[owner, 0]
    pts[:, 1] += centres_yx[owner, 1]
    return owner, pts


def simulate_nanospheres(
    *,
    seed: int = 0,
    overview_shape: tuple[int, int] = (512, 512),
    overview_pixel_size_nm: float = 6.0,
    n_spheres: int = 100,
    sphere_diameter_nm: float = 200.0,
    sphere_diameter_sd_nm: float = 26.0,
    sphere_gap_nm: float = 5.0,
    nanocrystal_diameter_nm: float = 8.6,
    nanocrystal_diameter_sd_nm: float = 1.3,
    nanocrystal_volume_fraction: float = 0.05,
    support_thickness_nm: float = 10.0,
    overview_dose_e_per_A2: float = 2.0,
    overview_dwell_time_s: float = 4e-6,
    haadf_cross_section_nm2: float = HAADF_CROSS_SECTION_NM2,
    hr_shape: tuple[int, int] = (1024, 1024),
    hr_pixel_size_nm: float = 0.04,
    n_nanocrystals: int = 8,
    nanocrystal_gap_nm: float = 1.0,
    fringe_spacing_nm: float = 0.33,
    fringe_contrast: float = 0.25,
    nanocrystal_absorption_contrast: float = 0.15,
    amorphous_contrast: float = 0.03,
    hr_dose_rate_e_per_A2_s: float = 6500.0,
    hr_exposure_s: float = 1.0,
    beam_energy_keV: float = 200.0,
    noise: bool = True,
) -> xr.DataTree:
    """Simulate CsPbBr3-SiO2 nanospheres: HAADF overview, HRTEM of nanocrystals, and ground truth.

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same tree.
    overview_shape, overview_pixel_size_nm : (rows, cols), float
        Overview grid (512 × 6 nm holds 100 spheres of 200 nm at ~35 % coverage).
    n_spheres, sphere_diameter_nm, sphere_diameter_sd_nm : int, float, float
        Number of spheres and the mean and sd of their (log-normal) diameters: 200 ± 26 nm [1]_.
    sphere_gap_nm : float
        Minimum gap between spheres (dispersed, not cross-linked, after 600 °C sintering [1]_).
    nanocrystal_diameter_nm, nanocrystal_diameter_sd_nm : float
        Mean and sd of the (log-normal) nanocrystal diameters: 8.6 ± 1.3 nm [1]_.
    nanocrystal_volume_fraction : float
        Volume fraction of a sphere occupied by nanocrystals (sets their number per sphere).
    support_thickness_nm : float
        Amorphous carbon support film under the spheres.
    overview_dose_e_per_A2, overview_dwell_time_s : float
        Dose and dwell of the overview scan.
    haadf_cross_section_nm2 : float
        Effective HAADF cross-section per unit Z^1.7 [2]_: expected counts are
        ``electrons · (1 − exp(−σ Σ_i a_i Z_i^1.7))`` with a_i the atoms/nm² of element i in the
        column (:func:`perovscope.simulate.haadf_expected`).
    hr_shape, hr_pixel_size_nm : (rows, cols), float
        HR grid; 0.04 nm pixels sample the 0.33 nm fringes with 8 pixels per period.
    n_nanocrystals, nanocrystal_gap_nm : int, float
        Nanocrystals in the HR field (placed without overlap) and their minimum gap.
    fringe_spacing_nm : float
        Lattice-plane spacing of the fringes: 0.33 nm, CsPbBr3 (111) [1]_.
    fringe_contrast, nanocrystal_absorption_contrast : float
        Fringe modulation and mean darkening at a nanocrystal's thickest point (two-beam model [3]_).
    amorphous_contrast : float
        Relative rms of the amorphous-silica speckle (Gaussian random field, 0.15 nm correlation).
    hr_dose_rate_e_per_A2_s, hr_exposure_s : float
        HRTEM dose rate (6500 e Å⁻² s⁻¹ [1]_) and exposure.
    beam_energy_keV : float
        Accelerating voltage written to the metadata.
    noise : bool
        Poisson counts (int32); ``False`` returns the expected counts (float64) for testing.

    Returns
    -------
    xarray.DataTree
        ``haadf`` (y, x) overview; ``tem`` (y, x) high-resolution image; ``truth`` with
        ``fringe_spacing_nm`` and children ``spheres`` (sphere: ``centre_y_nm``, ``centre_x_nm``,
        ``diameter_nm``), ``nanocrystals`` (nanocrystal: ``centre_y_nm``, ``centre_x_nm``,
        ``diameter_nm``, ``fringe_orientation_deg``, ``fringe_phase_rad``) for the HR image,
        ``overview_nanocrystals`` (every nanocrystal of the overview: ``sphere``, ``centre_y_nm``,
        ``centre_x_nm``, ``centre_z_nm``, ``diameter_nm``), ``haadf`` (``sphere_label``,
        ``thickness_nm``) and ``tem`` (``nanocrystal_label``).

    Raises
    ------
    InputError
        For a non-positive size/dose, a fraction outside [0, 1], or a field too crowded to place the
        requested particles.
    """
    params = dict(locals())
    oshape = cc.check_shape("overview_shape", overview_shape)
    opx = cc.check_positive("overview_pixel_size_nm", overview_pixel_size_nm)
    ns = cc.check_count("n_spheres", n_spheres)
    hshape = cc.check_shape("hr_shape", hr_shape)
    hpx = cc.check_positive("hr_pixel_size_nm", hr_pixel_size_nm)
    nn = cc.check_count("n_nanocrystals", n_nanocrystals)
    for name in ("sphere_diameter_nm", "nanocrystal_diameter_nm", "overview_dose_e_per_A2",
                 "overview_dwell_time_s", "haadf_cross_section_nm2", "fringe_spacing_nm",
                 "hr_dose_rate_e_per_A2_s", "hr_exposure_s", "beam_energy_keV"):
        cc.check_positive(name, params[name])
    for name in ("sphere_diameter_sd_nm", "sphere_gap_nm", "nanocrystal_diameter_sd_nm",
                 "support_thickness_nm", "nanocrystal_gap_nm", "amorphous_contrast"):
        cc.check_positive(name, params[name], allow_zero=True)
    phi = cc.check_fraction("nanocrystal_volume_fraction", nanocrystal_volume_fraction)
    cc.check_fraction("fringe_contrast", fringe_contrast)
    cc.check_fraction("nanocrystal_absorption_contrast", nanocrystal_absorption_contrast)
    if fringe_spacing_nm < 2 * hpx:
        raise InputError(f"hr_pixel_size_nm: {hpx} nm cannot resolve fringes of {fringe_spacing_nm} nm "
                         "(needs at most half the spacing)")
    rng = cc.make_rng(seed)

    # --- overview: spheres (projected silica thickness) + nanocrystal speckle, HAADF Z-contrast
    sd = cc.lognormal_sizes(rng, ns, sphere_diameter_nm, sphere_diameter_sd_nm)
    sc = cc.place_disks(rng, sd / 2, (oshape[0] * opx, oshape[1] * opx), gap=sphere_gap_nm, margin=opx,
                        what="n_spheres")
    yy, xx = np.meshgrid(np.arange(oshape[0]) * opx, np.arange(oshape[1]) * opx, indexing="ij")
    dist, nearest, radial = cc.disk_distance(yy, xx, sc[:, 0], sc[:, 1], sd / 2)
    inside = dist < 0
    thickness = np.where(inside, sd[nearest] * np.sqrt(np.clip(1 - radial**2, 0, None)), 0.0)
    elements = ("C", "O", "Si", "Br", "Cs", "Pb")
    (f_s, n_s), (f_n, n_n), (f_c, n_c) = (cc.atom_columns(*m, elements) for m in (SIO2, CSPBBR3, CARBON))
    n_per = rng.poisson(phi * (sd / nanocrystal_diameter_nm) ** 3)
    owner, pts = _uniform_in_spheres(rng, sc, sd / 2, n_per)
    ncd = cc.lognormal_sizes(rng, owner.size, nanocrystal_diameter_nm, nanocrystal_diameter_sd_nm)
    iy = np.clip(np.rint(pts[:, 0] / opx).astype(np.int64), 0, oshape[0] - 1)
    ix = np.clip(np.rint(pts[:, 1] / opx).astype(np.int64), 0, oshape[1] - 1)
    # atoms/nm² of each element in every column: silica chord + carbon support + nanocrystals, which
    # replace silica (their projected volume is binned to pixels, then spread over ~1 px of probe)
    volume = np.bincount(iy * oshape[1] + ix, weights=np.pi / 6 * ncd**3,
                         minlength=oshape[0] * oshape[1]).reshape(oshape) / opx**2
    volume = gaussian_filter(volume, 0.5)
    column = (thickness[..., None] * n_s * f_s + support_thickness_nm * n_c * f_c
              + volume[..., None] * (n_n * f_n - n_s * f_s))
    total = column.sum(-1)
    h_exp = haadf_expected(column / total[..., None], [cc.ATOMIC_NUMBER[e] for e in elements],
                           electrons_per_pixel=electrons_per_pixel(overview_dose_e_per_A2, opx),
                           thickness_nm=1.0, atom_density_nm3=total,
                           cross_section_nm2=haadf_cross_section_nm2)
    ocoords = {"y": cc.spatial_coord(oshape[0], opx, "y"), "x": cc.spatial_coord(oshape[1], opx, "x")}
    haadf = xr.DataArray(cc.counts(rng, h_exp, noise=noise), dims=("y", "x"), coords=ocoords, name="haadf",
                         attrs={"units": "counts", "signal": "haadf", "beam_energy_keV": beam_energy_keV,
                                "convergence_semiangle_mrad": 25.0, "collection_semiangle_mrad": 70.0,
                                "dwell_time_s": overview_dwell_time_s,
                                "dose_e_per_A2": overview_dose_e_per_A2,
                                "title": "HAADF overview CsPbBr3-SiO2 nanospheres",
                                "microscope": "simulated"})

    # --- high resolution: nanocrystals with lattice fringes in amorphous silica (two-beam HRTEM)
    hd = cc.lognormal_sizes(rng, nn, nanocrystal_diameter_nm, nanocrystal_diameter_sd_nm)
    hc = cc.place_disks(rng, hd / 2, (hshape[0] * hpx, hshape[1] * hpx), gap=nanocrystal_gap_nm,
                        margin=hpx, what="n_nanocrystals")
    theta = rng.uniform(0.0, 180.0, nn)
    phase = rng.uniform(0.0, 2 * np.pi, nn)
    hy = np.arange(hshape[0]) * hpx
    hx = np.arange(hshape[1]) * hpx
    hyy, hxx = np.meshgrid(hy, hx, indexing="ij")
    hdist, hnear, hrad = cc.disk_distance(hyy, hxx, hc[:, 0], hc[:, 1], hd / 2, chunk=4)
    hin = hdist < 0
    tau = np.where(hin, np.sqrt(np.clip(1 - hrad**2, 0, None)), 0.0)  # chord / diameter
    t = np.radians(theta)[hnear]
    fringes = np.cos(2 * np.pi * (hxx * np.cos(t) + hyy * np.sin(t)) / fringe_spacing_nm + phase[hnear])
    speckle = rng.normal(size=hshape)
    speckle = gaussian_filter(speckle, 0.15 / hpx)
    speckle *= amorphous_contrast / max(speckle.std(), 1e-12)
    rel = (1 + speckle) * (1 - nanocrystal_absorption_contrast * tau + fringe_contrast * tau * fringes)
    hr_dose = hr_dose_rate_e_per_A2_s * hr_exposure_s
    t_exp = hr_dose * (hpx * 10) ** 2 * np.clip(rel, 0, None)
    hcoords = {"y": cc.spatial_coord(hshape[0], hpx, "y"), "x": cc.spatial_coord(hshape[1], hpx, "x")}
    tem = xr.DataArray(cc.counts(rng, t_exp, noise=noise), dims=("y", "x"), coords=hcoords, name="tem",
                       attrs={"units": "counts", "signal": "tem", "beam_energy_keV": beam_energy_keV,
                              "exposure_s": hr_exposure_s, "dose_e_per_A2": hr_dose,
                              "dose_rate_e_per_A2_s": hr_dose_rate_e_per_A2_s,
                              "title": "HRTEM CsPbBr3 nanocrystals in SiO2", "microscope": "simulated"})

    def table(dim, **cols):
        return xr.Dataset({k: ((dim,), v, {"units": u}) for k, (v, u) in cols.items()},
                          coords={dim: xr.DataArray(np.arange(1, len(next(iter(cols.values()))[0]) + 1),
                                                    dims=(dim,), attrs={"units": "1"})})

    spheres = table("sphere", centre_y_nm=(sc[:, 0], "nm"), centre_x_nm=(sc[:, 1], "nm"),
                    diameter_nm=(sd, "nm"), n_nanocrystals=(n_per, "1"))
    ncs = table("nanocrystal", centre_y_nm=(hc[:, 0], "nm"), centre_x_nm=(hc[:, 1], "nm"),
                diameter_nm=(hd, "nm"), fringe_orientation_deg=(theta, "deg"),
                fringe_phase_rad=(phase, "rad"))
    ncs["fringe_orientation_deg"].attrs["description"] = (
        "angle of the fringe wave vector (normal to the planes) from +x (columns) towards +y (rows)")
    onc = table("overview_nanocrystal", sphere=(owner + 1, "1"), centre_y_nm=(pts[:, 0], "nm"),
                centre_x_nm=(pts[:, 1], "nm"), centre_z_nm=(pts[:, 2], "nm"), diameter_nm=(ncd, "nm"))
    truth = xr.Dataset({"fringe_spacing_nm": ((), fringe_spacing_nm, {"units": "nm"})},
                       attrs={"fringe_plane": "CsPbBr3 (111)"})
    truth_haadf = xr.Dataset({
        "sphere_label": (("y", "x"), np.where(inside, nearest + 1, 0).astype(np.int32), {"units": "1"}),
        "thickness_nm": (("y", "x"), thickness, {"units": "nm"}),
    }, coords=ocoords)
    truth_tem = xr.Dataset({
        "nanocrystal_label": (("y", "x"), np.where(hin, hnear + 1, 0).astype(np.int32), {"units": "1"}),
    }, coords=hcoords)
    pjson = cc.parameters_json("nanospheres", params)
    for da in (haadf, tem):
        da.attrs.update(cc.reader_attrs("nanospheres", pjson))
    return xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"sample": "nanospheres", "seed": seed, "simulation": pjson}),
        "/haadf": haadf.to_dataset(), "/tem": tem.to_dataset(), "/truth": truth,
        "/truth/spheres": spheres, "/truth/nanocrystals": ncs, "/truth/overview_nanocrystals": onc,
        "/truth/haadf": truth_haadf, "/truth/tem": truth_tem,
    })
