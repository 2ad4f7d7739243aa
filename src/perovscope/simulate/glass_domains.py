"""The ``glass-domains`` sample: a ZIF-62 MOF-glass / phosphate-glass composite (EDS + HAADF, truth).

Two glass phases fill the field: Zn-rich agZIF-62 domains (Zn, C, N, a little O) and Na/Al/P/F/O
phosphate-glass domains. The domain map is a Gaussian random field (white noise smoothed over the
domain correlation length) thresholded at the quantile that gives the requested area fraction of MOF
glass. Rendered on one (y, x) grid with the cores of :mod:`perovscope.simulate.eds` (Casnati
cross-sections, characteristic lines at their tabulated energies, Kramers bremsstrahlung, detector resolution,
Poisson counts) and :mod:`perovscope.simulate.haadf` (Z^1.7 contrast).

References
----------
.. [1] L. Longley et al., "Metal-organic framework and inorganic glass composites", Nat. Commun. 11,
   5800 (2020), doi:10.1038/s41467-020-19598-9: (ZIF-62)(glass)(50/50) by weight; inorganic glass
   (1−x)([Na2O]z[P2O5])−x([AlO3/2][AlF3]y); ZIF-62 = Zn(Im)1.75(bIm)0.25; EDS locates MOF domains by Zn
   and inorganic domains by Al and P; Na Kα (1.040 keV) and Zn Lα (1.012 keV) overlap.
.. [2] P. Whittle, "On stationary processes in the plane", Biometrika 41, 434 (1954); R. J. Adler,
   *The Geometry of Random Fields* (Wiley, 1981): level sets of smoothed Gaussian noise as a model of
   two-phase microstructures.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter

from . import composite_common as cc
from .eds import eds_expected, element_spectra, energy_axis_eV
from .haadf import HAADF_CROSS_SECTION_NM2, electrons_per_pixel, haadf_expected

__all__ = ["simulate_glass_domains", "GLASS_ELEMENTS", "mof_glass_formula", "phosphate_glass_formula"]

#: Elements of the composition arrays (``element`` dimension), in this order.
GLASS_ELEMENTS = ("C", "N", "O", "F", "Na", "Al", "P", "Zn")
#: Phase names of the ``phase`` dimension of the truth (index 0 = the ``domain == True`` phase).
PHASES = ("mof_glass", "phosphate_glass")


def mof_glass_formula(oxygen_at_percent: float = 2.0) -> dict[str, float]:
    """agZIF-62, Zn(Im)1.75(bIm)0.25 = Zn C7 N4 H6.5 [1]_, with O making ``oxygen_at_percent`` of the
    non-H atoms (adsorbed water and Zn-O-P bonding at domain surfaces proposed in [1]_)."""
    o = cc.check_fraction("mof_oxygen_at_percent", oxygen_at_percent / 100, open_high=True)
    return {"Zn": 1.0, "C": 7.0, "N": 4.0, "H": 6.5, "O": 12.0 * o / (1 - o)}


def phosphate_glass_formula(x: float = 0.25, z: float = 1.0, y: float = 1.0) -> dict[str, float]:
    """Atoms per unit of (1−x)([Na2O]z[P2O5]) − x([AlO3/2][AlF3]y) [1]_."""
    x = cc.check_fraction("phosphate_x", x)
    z = cc.check_positive("phosphate_z", z, allow_zero=True)
    y = cc.check_positive("phosphate_y", y, allow_zero=True)
    return {"Na": 2 * z * (1 - x), "P": 2 * (1 - x), "O": (5 + z) * (1 - x) + 1.5 * x,
            "Al": x * (1 + y), "F": 3 * x * y}


def domain_map(rng: np.random.Generator, shape: tuple[int, int], *, correlation_px: float,
               area_fraction: float) -> np.ndarray:
    """Boolean two-phase map: smoothed Gaussian noise above its (1 − area_fraction) quantile [2]_."""
    field = gaussian_filter(rng.normal(size=shape), correlation_px, mode="wrap")
    if area_fraction <= 0:
        return np.zeros(shape, bool)
    if area_fraction >= 1:
        return np.ones(shape, bool)
    n_true = int(round(area_fraction * field.size))
    order = np.argsort(field, axis=None, kind="stable")
    mask = np.zeros(field.size, bool)
    mask[order[field.size - n_true:]] = True  # exactly round(f N) pixels: the n_true highest values
    return mask.reshape(shape)


def simulate_glass_domains(
    *,
    seed: int = 0,
    image_shape: tuple[int, int] = (64, 64),
    pixel_size_nm: float = 25.0,
    mof_area_fraction: float = 0.5,
    domain_correlation_nm: float = 120.0,
    interface_width_nm: float = 0.0,
    mof_oxygen_at_percent: float = 2.0,
    phosphate_x: float = 0.25,
    phosphate_z: float = 1.0,
    phosphate_y: float = 1.0,
    mof_density_g_cm3: float = 1.56,
    phosphate_density_g_cm3: float = 2.6,
    thickness_nm: float = 100.0,
    beam_energy_keV: float = 200.0,
    dose_e_per_A2: float = 2000.0,
    dwell_time_s: float = 0.01,
    eds_channels: int = 1024,
    eds_channel_eV: float = 10.0,
    solid_angle_sr: float = 0.7,
    fwhm_mn_ka_eV: float = 130.0,
    haadf_dose_e_per_A2: float = 5.0,
    haadf_cross_section_nm2: float = HAADF_CROSS_SECTION_NM2,
    noise: bool = True,
) -> xr.DataTree:
    """Simulate an EDS spectrum image and HAADF image of a two-phase MOF-glass / phosphate-glass composite.

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same tree.
    image_shape, pixel_size_nm : (rows, cols), float
        Grid shared by the EDS map and the HAADF image.
    mof_area_fraction : float
        Fraction of the map covered by MOF glass, in [0, 1] (the paper's 50/50 by weight gives
        roughly 0.6 by volume; 0.5 by default).
    domain_correlation_nm : float
        Gaussian smoothing length of the random field (sets the domain size, ~2.5× this).
    interface_width_nm : float
        Interdiffusion across domain boundaries (Longley et al., Nat. Commun. 2020, report Na⁺
        entering the agZIF-62 domains [1]_): compositions are mixed with the domain indicator smoothed
        by a Gaussian of this σ; 0 keeps sharp interfaces. The ``domain`` truth mask is unchanged.
    mof_oxygen_at_percent : float
        Oxygen in the MOF glass (at.% of non-H atoms).
    phosphate_x, phosphate_z, phosphate_y : float
        Composition parameters of (1−x)([Na2O]z[P2O5])−x([AlO3/2][AlF3]y) [1]_.
    mof_density_g_cm3, phosphate_density_g_cm3 : float
        Mass densities (agZIF-62 glass ≈ 1.56 g/cm³; Na-Al-P-F-O glasses ≈ 2.6 g/cm³).
    thickness_nm : float
        Thin-section thickness (thin-film EDS and HAADF).
    beam_energy_keV, dose_e_per_A2, dwell_time_s : float
        EDS acquisition: accelerating voltage, dose and dwell (metadata). 2000 e/Å² on 25 nm pixels
        (≈ 1 nA for 10 ms) gives ~200 counts per pixel spectrum.
    eds_channels, eds_channel_eV : int, float
        Energy axis (channel centres from 0; 1024 × 10 eV reaches Zn Kα at 8.64 keV).
    solid_angle_sr, fwhm_mn_ka_eV : float
        Detector solid angle and resolution at Mn Kα.
    haadf_dose_e_per_A2, haadf_cross_section_nm2 : float
        HAADF dose and Z^1.7 cross-section (:func:`perovscope.simulate.haadf_expected`).
    noise : bool
        Poisson counts; ``False`` returns the expected counts (float64) for testing.

    Returns
    -------
    xarray.DataTree
        ``eds`` (y, x, energy[eV]) counts, ``haadf`` (y, x) counts, ``truth`` with ``domain`` (y, x
        bool, True = MOF glass), ``area_fraction`` (of the rendered map), ``requested_area_fraction``,
        ``composition`` (y, x, element) at.%, ``domain_composition`` (phase, element) at.%,
        ``atom_density_nm3`` (phase).

    Raises
    ------
    InputError
        For a non-positive size/dose or a fraction outside [0, 1].
    """
    params = dict(locals())
    shape = cc.check_shape("image_shape", image_shape)
    px = cc.check_positive("pixel_size_nm", pixel_size_nm)
    f = cc.check_fraction("mof_area_fraction", mof_area_fraction)
    cc.check_positive("interface_width_nm", interface_width_nm, allow_zero=True)
    for name in ("domain_correlation_nm", "mof_density_g_cm3", "phosphate_density_g_cm3", "thickness_nm",
                 "beam_energy_keV", "dose_e_per_A2", "dwell_time_s", "eds_channel_eV", "solid_angle_sr",
                 "fwhm_mn_ka_eV", "haadf_dose_e_per_A2", "haadf_cross_section_nm2"):
        cc.check_positive(name, params[name])
    cc.check_count("eds_channels", eds_channels, minimum=16)
    formulas = (mof_glass_formula(mof_oxygen_at_percent),
                phosphate_glass_formula(phosphate_x, phosphate_z, phosphate_y))
    cols = [cc.atom_columns(fm, rho, GLASS_ELEMENTS)
            for fm, rho in zip(formulas, (mof_density_g_cm3, phosphate_density_g_cm3), strict=True)]
    fractions = np.stack([c[0] for c in cols])          # (phase, element)
    densities = np.array([c[1] for c in cols])          # (phase,)

    rng = cc.make_rng(seed)
    domain = domain_map(rng, shape, correlation_px=domain_correlation_nm / px, area_fraction=f)
    weight = domain.astype(float)  # fraction of MOF glass in each pixel's column
    if interface_width_nm > 0:
        weight = gaussian_filter(weight, interface_width_nm / px, mode="wrap")
    # mix by atoms: column atoms of each phase ∝ its volume fraction × atom density
    w = weight[..., None]
    atoms = w * densities[0] * fractions[0] + (1 - w) * densities[1] * fractions[1]
    density = atoms.sum(-1)
    composition = atoms / density[..., None]
    z = [cc.ATOMIC_NUMBER[e] for e in GLASS_ELEMENTS]

    energy = energy_axis_eV(eds_channels, eds_channel_eV)
    spectra = element_spectra(GLASS_ELEMENTS, z, energy, beam_energy_keV=beam_energy_keV,
                              solid_angle_sr=solid_angle_sr, fwhm_mn_ka=fwhm_mn_ka_eV)
    eds_exp = eds_expected(composition, spectra, electrons_per_pixel=electrons_per_pixel(dose_e_per_A2, px),
                           thickness_nm=thickness_nm, atom_density_nm3=density)
    haadf_electrons = electrons_per_pixel(haadf_dose_e_per_A2, px, name="haadf_dose_e_per_A2")
    haadf_exp = haadf_expected(composition, z, electrons_per_pixel=haadf_electrons,
                               thickness_nm=thickness_nm, atom_density_nm3=density,
                               cross_section_nm2=haadf_cross_section_nm2)
    coords = {"y": cc.spatial_coord(shape[0], px, "y"), "x": cc.spatial_coord(shape[1], px, "x")}
    e_coord = cc.axis_coord(energy, "energy", "eV")
    eds_counts = cc.counts(rng, eds_exp, noise=noise)
    if noise and eds_counts.max(initial=0) <= np.iinfo(np.uint16).max:
        eds_counts = eds_counts.astype(np.uint16)  # as a Bruker/Velox map stores it
    eds = xr.DataArray(eds_counts, dims=("y", "x", "energy"), coords={**coords, "energy": e_coord},
                       name="eds", attrs={
                           "units": "counts", "signal": "eds", "beam_energy_keV": beam_energy_keV,
                           "dwell_time_s": dwell_time_s, "live_time_s": dwell_time_s * shape[0] * shape[1],
                           "real_time_s": dwell_time_s * shape[0] * shape[1], "dose_e_per_A2": dose_e_per_A2,
                           "detector_elevation_deg": 18.0, "elements": list(GLASS_ELEMENTS),
                           "title": "EDS ZIF-62 glass / phosphate glass", "microscope": "simulated"})
    haadf = xr.DataArray(cc.counts(rng, haadf_exp, noise=noise), dims=("y", "x"), coords=coords,
                         name="haadf", attrs={
                             "units": "counts", "signal": "haadf", "beam_energy_keV": beam_energy_keV,
                             "dwell_time_s": dwell_time_s, "dose_e_per_A2": haadf_dose_e_per_A2,
                             "title": "HAADF ZIF-62 glass / phosphate glass", "microscope": "simulated"})

    el = xr.DataArray(list(GLASS_ELEMENTS), dims=("element",))
    ph = xr.DataArray(list(PHASES), dims=("phase",))
    truth = xr.Dataset({
        "domain": (("y", "x"), domain, {"units": "1", "description": "True = MOF (agZIF-62) glass"}),
        "area_fraction": ((), float(domain.mean()), {"units": "1"}),
        "requested_area_fraction": ((), f, {"units": "1"}),
        "composition": (("y", "x", "element"), 100 * composition, {"units": "at.%"}),
        "domain_composition": (("phase", "element"), 100 * fractions, {"units": "at.%"}),
        "atom_density_nm3": (("phase",), densities, {"units": "1/nm^3"}),
    }, coords={**coords, "element": el, "phase": ph})
    pjson = cc.parameters_json("glass-domains", params)
    for da in (eds, haadf):
        da.attrs.update(cc.reader_attrs("glass-domains", pjson))
    return xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"sample": "glass-domains", "seed": seed, "simulation": pjson}),
        "/eds": eds.to_dataset(), "/haadf": haadf.to_dataset(), "/truth": truth,
    })
