"""The ``composite`` sample: CsPbI3 particles in ZIF-62 glass (HAADF, EELS, CL with ground truth).

A thin FIB lamella (thinner than the particles, so every particle runs through it as a disk) holds
log-normally sized, non-overlapping CsPbI3 particles in agZIF-62 glass. Iodine has diffused out of
the particles into the glass with an erfc profile. Rendered on one (y, x) grid: a HAADF image
(Z-contrast), an EELS spectrum image around the I M4,5 edge, and a CL hyperspectral cube; plus an
EELS line scan at fine steps from a particle centre across its interface into the glass.

References
----------
.. [1] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6: ~10 nm thick FIB lamella; EELS at 200 kV, 0.5 eV/channel, convergence
   32 mrad, collection 29 mrad; I M4,5 edge at 619 eV, iodine up to ~10 nm outside grains; STEM-CL at
   100 keV, grating 150 grooves/mm (0.34 nm per channel), emission peak ~710 nm varying ±5 nm between
   particles, σ larger at particle edges, intensity not tied to particle size.
.. [2] S. J. Pennycook and D. E. Jesson, Ultramicroscopy 37, 14 (1991): HAADF ∝ Z^1.7.
.. [3] R. F. Egerton, *Electron Energy-Loss Spectroscopy in the Electron Microscope*, 3rd ed. (2011).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import composite_common as cc
from .composite_spectra import gaussian_emission, iodine_m45_edge, iodine_profile, power_law
from .haadf import HAADF_CROSS_SECTION_NM2, electrons_per_pixel, haadf_expected

__all__ = ["simulate_composite", "CSPBI3", "AGZIF62"]

#: CsPbI3 (γ phase, ~4.8 g/cm³) and agZIF-62 glass Zn(Im)1.75(bIm)0.25 (~1.56 g/cm³): formula, density.
CSPBI3 = ({"Cs": 1, "Pb": 1, "I": 3}, 4.8)
AGZIF62 = ({"Zn": 1, "C": 7, "N": 4, "H": 6.5}, 1.56)
_E_CHARGE = 1.602176634e-19


def _dose(current_pA: float, dwell_s: float, pixel_nm: float) -> float:
    """Electron dose (e/Å²) of one probe position: I·t/e over the pixel area."""
    return current_pA * 1e-12 * dwell_s / _E_CHARGE / (pixel_nm * 10.0) ** 2


def _linescan_geometry(centres, radii, k, *, extent, length, n_angles=24):
    """Direction (rad) from particle ``k``'s centre whose outward ray stays farthest from other particles."""
    angles = np.linspace(0, 2 * np.pi, n_angles, endpoint=False)
    t = np.linspace(radii[k], length, 64)
    py = centres[k, 0] + np.sin(angles)[:, None] * t[None, :]
    px = centres[k, 1] + np.cos(angles)[:, None] * t[None, :]
    others = np.arange(len(radii)) != k
    if others.any():
        d, _, _ = cc.disk_distance(py, px, centres[others, 0], centres[others, 1], radii[others])
        score = d.min(axis=1)
    else:
        score = np.zeros(n_angles)
    inside = (py.min(1) >= 0) & (py.max(1) <= extent[0]) & (px.min(1) >= 0) & (px.max(1) <= extent[1])
    score = np.where(inside, score, score - 1e6)
    return float(angles[int(np.argmax(score))])


def simulate_composite(
    *,
    seed: int = 0,
    image_shape: tuple[int, int] = (96, 96),
    pixel_size_nm: float = 2.5,
    n_particles: int = 10,
    particle_diameter_nm: float = 36.0,
    particle_diameter_sd_nm: float = 10.0,
    particle_gap_nm: float = 10.0,
    lamella_thickness_nm: float = 10.0,
    probe_current_pA: float = 50.0,
    haadf_dose_e_per_A2: float = 40.0,
    haadf_dwell_time_s: float = 4e-6,
    haadf_cross_section_nm2: float = HAADF_CROSS_SECTION_NM2,
    eels_energy_start_eV: float = 560.0,
    eels_dispersion_eV: float = 0.5,
    eels_channels: int = 360,
    eels_background_counts: float = 2000.0,
    eels_particle_background_factor: float = 1.5,
    power_law_r_glass: float = 3.2,
    power_law_r_particle: float = 2.9,
    eels_edge_counts: float = 400.0,
    iodine_width_nm: float = 6.0,
    iodine_interface_fraction: float = 0.5,
    linescan_step_nm: float = 0.5,
    eels_dwell_time_s: float = 0.05,
    cl_centre_nm: float = 710.0,
    cl_centre_spread_nm: float = 2.5,
    cl_sigma_nm: float = 14.0,
    cl_sigma_spread: float = 0.05,
    cl_edge_broadening: float = 0.3,
    cl_peak_counts: float = 2000.0,
    cl_peak_counts_spread: float = 0.35,
    cl_background_counts: float = 5.0,
    cl_dark_fraction: float = 0.0,
    cl_wavelength_start_nm: float = 620.0,
    cl_dispersion_nm: float = 0.34,
    cl_channels: int = 530,
    cl_dwell_time_s: float = 0.05,
    noise: bool = True,
) -> xr.DataTree:
    """Simulate CsPbI3 particles in ZIF-62 glass: HAADF image, EELS SI + line scan, CL cube, truth.

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same tree.
    image_shape, pixel_size_nm : (rows, cols), float
        Grid shared by HAADF, EELS spectrum image and CL cube (2.5 nm pixels resolve the ~10 nm
        iodine halo [1]_).
    n_particles, particle_diameter_nm, particle_diameter_sd_nm : int, float, float
        Number of particles and the mean and standard deviation (nm) of their log-normal diameters.
    particle_gap_nm : float
        Minimum glass gap between particles (keeps iodine halos apart).
    lamella_thickness_nm : float
        FIB lamella thickness (~10 nm in [1]_); particles are thicker and run through it.
    probe_current_pA : float
        Probe current of the EELS and CL acquisitions (sets their dose attribute with the dwell).
    haadf_dose_e_per_A2, haadf_dwell_time_s : float
        HAADF dose and dwell (metadata).
    haadf_cross_section_nm2 : float
        Effective HAADF cross-section per unit Z^1.7 [2]_: a pixel's expected counts are
        ``electrons · (1 − exp(−σ n t Σ c_i Z_i^1.7))`` (:func:`perovscope.simulate.haadf_expected`).
    eels_energy_start_eV, eels_dispersion_eV, eels_channels : float, float, int
        Energy-loss axis (0.5 eV/channel as in [1]_; default 560-740 eV covers the 580-620 eV
        background window and the I M4,5 edge).
    eels_background_counts : float
        Background counts per channel at 600 eV in the glass.
    eels_particle_background_factor : float
        Background at 600 eV in a particle relative to the glass (heavier, more inelastic scattering).
    power_law_r_glass, power_law_r_particle : float
        Power-law exponents r of the background A·E^-r (typical 2-5, Egerton [3]_ §4.4.2).
    eels_edge_counts : float
        Edge counts per channel at the I M4,5 maximum for full CsPbI3 iodine content.
    iodine_width_nm, iodine_interface_fraction : float
        Iodine outside particles: ``c = interface_fraction · erfc(d / width)`` at distance ``d`` from
        the particle surface (relative to the iodine content of CsPbI3).
    linescan_step_nm : float
        Step of the EELS line scan from the largest particle's centre out into the glass.
    eels_dwell_time_s, cl_dwell_time_s : float
        Dwell per EELS / CL probe position (metadata and dose).
    cl_centre_nm, cl_centre_spread_nm : float
        Mean and particle-to-particle standard deviation of the CL peak (710 ± 5 nm at ±2 sd [1]_).
    cl_sigma_nm, cl_sigma_spread : float
        Gaussian σ at a particle's centre and its relative particle-to-particle spread.
    cl_edge_broadening : float
        σ grows as ``σ_k (1 + b ρ²)`` with ρ = radial position / radius (larger at edges [1]_).
    cl_peak_counts, cl_peak_counts_spread : float
        Median peak counts per channel and log-normal spread of per-particle CL amplitudes, drawn
        independently of size [1]_. A few thousand counts let a per-pixel Gaussian fit reach
        ≲0.05 nm centre and ≲1 % σ precision (Cramér-Rao for Poisson data).
    cl_background_counts : float
        Flat CL background (dark counts) per channel.
    cl_dark_fraction : float
        Fraction of particles that do not emit (FIB-damaged grains at the lamella surfaces show no CL
        in [1]_); their truth centre/σ are NaN and amplitude 0 (``truth/particles/cl_emits``).
    cl_wavelength_start_nm, cl_dispersion_nm, cl_channels : float, float, int
        Wavelength axis (0.34 nm per channel as in [1]_).
    noise : bool
        Poisson counts (int32); ``False`` returns the expected counts (float64) for testing.

    Returns
    -------
    xarray.DataTree
        ``haadf`` (y, x); ``eels`` (y, x, energy) spectrum image; ``eels_1`` (x, energy) line scan
        (``x`` = distance along the line); ``cl`` (y, x, wavelength); ``truth`` with ``iodine_profile``
        (distance), ``iodine_width_nm``, ``iodine_interface_fraction``, and children ``particles``,
        ``haadf``, ``eels``, ``eels_1``, ``cl`` (see docs/simulate.md).

    Raises
    ------
    InputError
        For a non-positive size/dose/count parameter, a fraction outside [0, 1], or a crowded field.
    """
    params = dict(locals())
    shape = cc.check_shape("image_shape", image_shape)
    px = cc.check_positive("pixel_size_nm", pixel_size_nm)
    n = cc.check_count("n_particles", n_particles)
    dmean = cc.check_positive("particle_diameter_nm", particle_diameter_nm)
    dsd = cc.check_positive("particle_diameter_sd_nm", particle_diameter_sd_nm, allow_zero=True)
    gap = cc.check_positive("particle_gap_nm", particle_gap_nm, allow_zero=True)
    thick = cc.check_positive("lamella_thickness_nm", lamella_thickness_nm)
    for name in ("probe_current_pA", "haadf_dose_e_per_A2", "haadf_dwell_time_s", "haadf_cross_section_nm2",
                 "eels_dispersion_eV",
                 "eels_background_counts", "eels_particle_background_factor", "iodine_width_nm",
                 "linescan_step_nm", "eels_dwell_time_s", "cl_centre_nm", "cl_sigma_nm", "cl_peak_counts",
                 "cl_dispersion_nm", "cl_dwell_time_s", "eels_energy_start_eV", "cl_wavelength_start_nm"):
        cc.check_positive(name, params[name])
    for name in ("eels_edge_counts", "cl_centre_spread_nm", "cl_sigma_spread", "cl_edge_broadening",
                 "cl_peak_counts_spread", "cl_background_counts", "power_law_r_glass",
                 "power_law_r_particle"):
        cc.check_positive(name, params[name], allow_zero=True)
    cc.check_fraction("iodine_interface_fraction", iodine_interface_fraction)
    cc.check_fraction("cl_dark_fraction", cl_dark_fraction)
    cc.check_count("eels_channels", eels_channels, minimum=8)
    cc.check_count("cl_channels", cl_channels, minimum=8)

    rng = cc.make_rng(seed)
    extent = (shape[0] * px, shape[1] * px)
    diam = cc.lognormal_sizes(rng, n, dmean, dsd)
    radii = diam / 2
    centres = cc.place_disks(rng, radii, extent, gap=gap, margin=px, what="n_particles")
    cl_c = rng.normal(cl_centre_nm, cl_centre_spread_nm, n)
    cl_s = cl_sigma_nm * rng.lognormal(0.0, cl_sigma_spread, n)
    cl_a = cl_peak_counts * rng.lognormal(0.0, cl_peak_counts_spread, n)

    yy, xx = np.meshgrid(np.arange(shape[0]) * px, np.arange(shape[1]) * px, indexing="ij")
    dist, nearest, radial = cc.disk_distance(yy, xx, centres[:, 0], centres[:, 1], radii)
    inside = dist < 0
    label = np.where(inside, nearest + 1, 0).astype(np.int32)
    coords = {"y": cc.spatial_coord(shape[0], px, "y"), "x": cc.spatial_coord(shape[1], px, "x")}

    # --- HAADF: Z-contrast of the particle / glass column through the lamella
    elements = ("C", "N", "Zn", "I", "Cs", "Pb")
    (fp, n_p), (fg, n_g) = cc.atom_columns(*CSPBI3, elements), cc.atom_columns(*AGZIF62, elements)
    composition = np.where(inside[..., None], fp, fg)
    haadf_exp = haadf_expected(composition, [cc.ATOMIC_NUMBER[e] for e in elements],
                               electrons_per_pixel=electrons_per_pixel(haadf_dose_e_per_A2, px),
                               thickness_nm=thick, atom_density_nm3=np.where(inside, n_p, n_g),
                               cross_section_nm2=haadf_cross_section_nm2)
    haadf = xr.DataArray(cc.counts(rng, haadf_exp, noise=noise), dims=("y", "x"), coords=coords,
                         name="haadf", attrs={
                             "units": "counts", "signal": "haadf", "beam_energy_keV": 100.0,
                             "convergence_semiangle_mrad": 32.0, "collection_semiangle_mrad": 80.0,
                             "dwell_time_s": haadf_dwell_time_s, "dose_e_per_A2": haadf_dose_e_per_A2,
                             "title": "HAADF CsPbI3 / agZIF-62", "microscope": "simulated"})

    # --- EELS: power law + I M4,5 edge scaled by the local iodine content
    energy = eels_energy_start_eV + eels_dispersion_eV * np.arange(eels_channels)
    edge_shape = iodine_m45_edge(energy)

    def eels_model(distance, occupancy):
        """Background A, r, iodine content and the float32 edge counts (the stored truth)."""
        frac = iodine_profile(distance, width_nm=iodine_width_nm,
                              interface_fraction=iodine_interface_fraction)
        r = power_law_r_glass + (power_law_r_particle - power_law_r_glass) * occupancy
        b600 = eels_background_counts * (1 + (eels_particle_background_factor - 1) * occupancy)
        A = b600 * 600.0 ** r
        edge = (eels_edge_counts * frac).astype(np.float32)[..., None] * edge_shape.astype(np.float32)
        return A, r, frac, edge

    e_coord = cc.axis_coord(energy, "energy", "eV")
    eels_attrs = {"units": "counts", "signal": "eels", "beam_energy_keV": 200.0,
                  "convergence_semiangle_mrad": 32.0, "collection_semiangle_mrad": 29.0,
                  "dwell_time_s": eels_dwell_time_s, "microscope": "simulated"}
    A, r, frac, edge = eels_model(dist, inside.astype(float))
    eels_counts = cc.render_rows(rng, shape[0], lambda rows: power_law(energy, A[rows], r[rows]) + edge[rows],
                                 noise=noise)
    eels = xr.DataArray(eels_counts, dims=("y", "x", "energy"),
                        coords={**coords, "energy": e_coord}, name="eels",
                        attrs={**eels_attrs, "title": "EELS spectrum image, I M4,5",
                               "dose_e_per_A2": _dose(probe_current_pA, eels_dwell_time_s, px)})
    truth_eels = xr.Dataset({
        "edge_signal": (("y", "x", "energy"), edge, {"units": "counts"}),
        "power_law_A": (("y", "x"), A, {"units": "counts eV^r"}),
        "power_law_r": (("y", "x"), r, {"units": "1"}),
        "iodine_fraction": (("y", "x"), frac, {"units": "1"}),
        "distance_to_interface_nm": (("y", "x"), dist, {"units": "nm"}),
        "particle_label": (("y", "x"), label, {"units": "1"}),
    }, coords={**coords, "energy": e_coord})

    # --- EELS line scan from the largest particle's centre across its interface
    k = int(np.argmax(radii))
    length = radii[k] + max(5 * iodine_width_nm, 20.0)
    angle = _linescan_geometry(centres, radii, k, extent=extent, length=length)
    s = np.arange(int(np.floor(length / linescan_step_nm)) + 1) * linescan_step_nm
    ly, lx = centres[k, 0] + np.sin(angle) * s, centres[k, 1] + np.cos(angle) * s
    ldist, _, _ = cc.disk_distance(ly, lx, centres[:, 0], centres[:, 1], radii)
    lA, lr, lfrac, ledge = eels_model(ldist, (ldist < 0).astype(float))
    s_coord = cc.axis_coord(s, "x", "nm")
    eels_1 = xr.DataArray(cc.counts(rng, power_law(energy, lA, lr) + ledge, noise=noise),
                          dims=("x", "energy"),
                          coords={"x": s_coord, "energy": e_coord}, name="eels_1",
                          attrs={**eels_attrs, "title": "EELS line scan across a particle/glass interface",
                                 "dose_e_per_A2": _dose(probe_current_pA, eels_dwell_time_s,
                                                        linescan_step_nm)})
    line_attrs = {"start_y_nm": float(centres[k, 0]), "start_x_nm": float(centres[k, 1]),
                  "direction_deg": float(np.degrees(angle)), "particle": k + 1,
                  "interface_position_nm": float(radii[k])}
    truth_line = xr.Dataset({
        "edge_signal": (("x", "energy"), ledge, {"units": "counts"}),
        "power_law_A": (("x",), lA, {"units": "counts eV^r"}),
        "power_law_r": (("x",), lr, {"units": "1"}),
        "iodine_fraction": (("x",), lfrac, {"units": "1"}),
        "distance_to_interface_nm": (("x",), ldist, {"units": "nm"}),
    }, coords={"x": s_coord, "energy": e_coord}, attrs=line_attrs)

    # --- CL: one Gaussian per particle, σ growing towards the particle edge
    wavelength = cl_wavelength_start_nm + cl_dispersion_nm * np.arange(cl_channels)
    emits = np.ones(n, bool)
    if cl_dark_fraction > 0:  # drawn only when asked, so the default random stream is unchanged
        emits = rng.uniform(size=n) >= cl_dark_fraction
    cl_c, cl_s = np.where(emits, cl_c, np.nan), np.where(emits, cl_s, np.nan)
    cl_a = np.where(emits, cl_a, 0.0)
    lit = inside & emits[nearest]
    c_map = np.where(lit, cl_c[nearest], np.nan)
    s_map = np.where(lit, cl_s[nearest] * (1 + cl_edge_broadening * np.minimum(radial, 1) ** 2), np.nan)
    a_map = np.where(lit, cl_a[nearest], 0.0)
    cl_counts = cc.render_rows(rng, shape[0], lambda rows: cl_background_counts + gaussian_emission(
        wavelength, c_map[rows], s_map[rows], a_map[rows]), noise=noise)
    w_coord = cc.axis_coord(wavelength, "wavelength", "nm")
    cl = xr.DataArray(cl_counts, dims=("y", "x", "wavelength"),
                      coords={**coords, "wavelength": w_coord}, name="cl", attrs={
                          "units": "counts", "signal": "cl", "beam_energy_keV": 100.0,
                          "dwell_time_s": cl_dwell_time_s, "exposure_s": cl_dwell_time_s,
                          "dose_e_per_A2": _dose(probe_current_pA, cl_dwell_time_s, px),
                          "grating_grooves_per_mm": 150, "title": "STEM-CL CsPbI3 / agZIF-62",
                          "microscope": "simulated"})
    truth_cl = xr.Dataset({
        "cl_centre_nm": (("y", "x"), c_map, {"units": "nm"}),
        "cl_sigma_nm": (("y", "x"), s_map, {"units": "nm"}),
        "cl_amplitude": (("y", "x"), a_map, {"units": "counts"}),
        "particle_label": (("y", "x"), label, {"units": "1"}),
        "cl_background_counts": ((), cl_background_counts, {"units": "counts"}),
    }, coords=coords)

    pid = xr.DataArray(np.arange(1, n + 1), dims=("particle",), attrs={"units": "1"})
    particles = xr.Dataset({
        "centre_y_nm": (("particle",), centres[:, 0], {"units": "nm"}),
        "centre_x_nm": (("particle",), centres[:, 1], {"units": "nm"}),
        "diameter_nm": (("particle",), diam, {"units": "nm"}),
        "cl_centre_nm": (("particle",), cl_c, {"units": "nm"}),
        "cl_sigma_nm": (("particle",), cl_s, {"units": "nm"}),
        "cl_amplitude": (("particle",), cl_a, {"units": "counts"}),
        "cl_emits": (("particle",), emits, {"units": "1"}),
    }, coords={"particle": pid})
    dgrid = np.arange(-20.0, 60.0 + 1e-9, 0.1)
    truth = xr.Dataset({
        "iodine_profile": (("distance",), iodine_profile(dgrid, width_nm=iodine_width_nm,
                                                         interface_fraction=iodine_interface_fraction),
                           {"units": "1",
                            "description": "iodine relative to CsPbI3 vs distance from particle surface"}),
        "iodine_width_nm": ((), iodine_width_nm, {"units": "nm"}),
        "iodine_interface_fraction": ((), iodine_interface_fraction, {"units": "1"}),
    }, coords={"distance": cc.axis_coord(dgrid, "distance", "nm")})
    truth_haadf = xr.Dataset({"particle_label": (("y", "x"), label, {"units": "1"})}, coords=coords)

    pjson = cc.parameters_json("composite", params)
    for da in (haadf, eels, eels_1, cl):
        da.attrs.update(cc.reader_attrs("composite", pjson))
    return xr.DataTree.from_dict({
        "/": xr.Dataset(attrs={"sample": "composite", "seed": seed, "simulation": pjson}),
        "/haadf": haadf.to_dataset(), "/eels": eels.to_dataset(), "/eels_1": eels_1.to_dataset(),
        "/cl": cl.to_dataset(), "/truth": truth, "/truth/particles": particles,
        "/truth/haadf": truth_haadf, "/truth/eels": truth_eels, "/truth/eels_1": truth_line,
        "/truth/cl": truth_cl,
    })
