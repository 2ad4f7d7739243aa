"""Every parameter of :func:`perovscope.simulate.simulate_device`: default, unit, meaning, source.

Rates of the degradation model are effective values chosen so that each effect reported in the operando
PeLED study (Nature 2026 [1]_: Cl⁻ loss, AlCl₃ growth, Pb particles, strain build-up then collapse, rising
voltage and falling EL) is visible within the default eight frames; physical constants cite their source.

References
----------
.. [1] "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
   doi:10.1038/s41586-026-10238-8.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .materials import check_fraction, emitter_lattice_parameter_nm

__all__ = ["PARAMETERS", "DEFAULTS", "validate"]

# name, default, unit, description (source)
PARAMETERS: tuple[tuple[str, object, str, str], ...] = (
    ("seed", 0, "", "random seed; equal seeds give identical trees"),
    ("noise", True, "", "Poisson counting noise; False stores the expected counts as floats (for tests)"),
    ("n_frames", 8, "", "frames of the operando series"),
    ("frame_interval_s", 30.0, "s", "time between frames (constant-current run of a few minutes, "
     "Nature 2026, operando PeLED study)"),
    ("log_per_frame", 10, "", "bias-log samples per frame interval"),
    ("scan_shape", (48, 48), "px", "4D-STEM probe positions (scan_y, scan_x) over the field of view"),
    ("detector_shape", (96, 96), "px", "4D-STEM detector pixels (ky, kx); square"),
    ("haadf_shape", (192, 192), "px", "HAADF image pixels; defines the field of view"),
    ("haadf_pixel_nm", 0.8, "nm", "HAADF pixel size"),
    ("eds_shape", (32, 32), "px", "EDX spectrum-image pixels over the same field of view"),
    ("eds_channels", 2048, "", "EDX channels"),
    ("eds_channel_eV", 10.0, "eV", "EDX channel width (0–20.48 keV)"),
    ("beam_energy_keV", 300.0, "keV", "accelerating voltage (aberration-corrected STEM, "
     "Nature 2026, operando PeLED study)"),
    ("convergence_semiangle_mrad", 1.0, "mrad", "4D-STEM nanobeam convergence semi-angle"),
    ("k_pixel_size_inv_nm", 0.11, "1/nm", "detector pixel size in reciprocal space"),
    ("camera_length_mm", 115.0, "mm", "nominal camera length recorded in the metadata"),
    ("dose_4dstem_e_per_A2", 500.0, "e/Å²", "4D-STEM dose per frame (≈5e5 e per pattern at 3.2 nm steps: "
     "enough disk counts for ~5e-4 strain precision)"),
    ("dwell_4dstem_s", 1e-3, "s", "4D-STEM dwell time per probe position"),
    ("haadf_dose_e_per_A2", 100.0, "e/Å²", "HAADF dose per frame: low-dose imaging of a halide perovskite "
     "(≲1e2 e/Å² per frame, Nature 2026, operando PeLED study; the 8 frames total 8e2 e/Å²); lets a "
     "critical Pb nucleus be seen"),
    ("haadf_dwell_s", 2e-6, "s", "HAADF dwell time per pixel"),
    ("haadf_convergence_mrad", 25.0, "mrad", "probe convergence for HAADF/EDX (aberration-corrected)"),
    ("haadf_exponent", 1.7, "", "Z exponent of HAADF contrast (Hartel et al. 1996)"),
    ("haadf_dark_counts", 0.0, "counts", "mean dark counts added per HAADF pixel"),
    ("eds_dose_e_per_A2", 5e4, "e/Å²", "EDX dose per frame"),
    ("eds_dwell_s", 5e-3, "s", "EDX dwell time per pixel per frame"),
    ("eds_solid_angle_sr", 0.7, "sr", "EDX collection solid angle (four-quadrant SDD)"),
    ("fwhm_mn_ka_eV", 130.0, "eV", "EDX resolution at Mn Kα (silicon drift detector)"),
    ("lamella_thickness_nm", 50.0, "nm", "nominal (mean) FIB lamella thickness"),
    ("curtain_amplitude", 0.08, "", "RMS relative thickness variation of FIB curtaining stripes, which run "
     "along the growth direction so vary along x (Giannuzzi & Stevie 2005; Schaffer et al. 2012)"),
    ("curtain_correlation_nm", 2.0, "nm", "lateral correlation length of the curtaining stripes (fine end of "
     "streak widths; also stands in for the grain-to-grain contrast along the layers)"),
    ("thickness_roughness", 0.015, "", "RMS relative local (isotropic) thickness roughness of the lamella"),
    ("thickness_roughness_correlation_nm", 2.0, "nm", "correlation length of the local thickness roughness"),
    ("eds_subpixel_nm", 0.5, "nm", "sampling step of the EDX pixel-area integration (the probe is rastered "
     "over each spectrum-image pixel, so a pixel records its area average)"),
    ("glass_nm", 8.0, "nm", "visible glass substrate (top of the field of view)"),
    ("ito_nm", 22.0, "nm", "visible ITO anode"),
    ("htl_nm", 28.0, "nm", "hole-transport layer (PVK)"),
    ("emitter_nm", 40.0, "nm", "CsPb(Br,Cl)3 emitter (typical 30–50 nm PeLED emitter)"),
    ("etl_nm", 30.0, "nm", "electron-transport layer (TPBi)"),
    ("lif_nm", 1.5, "nm", "LiF interlayer"),
    ("roughness_nm", 1.0, "nm", "RMS interface roughness"),
    ("roughness_correlation_nm", 12.0, "nm", "lateral correlation length of the roughness"),
    ("interface_width_nm", 0.6, "nm", "erf intermixing width of every interface"),
    ("x_cl", 0.3, "", "initial Cl fraction x of CsPb(Br1-xClx)3 (sky-blue emitter)"),
    ("misfit_strain", 0.01, "", "in-plane compressive misfit at each emitter interface (1 %)"),
    ("misfit_decay_nm", 4.0, "nm", "decay length of the misfit away from the interfaces"),
    ("misfit_buildup", 0.5, "", "relative growth of the misfit until collapse_time_s"),
    ("poisson_ratio", 0.3, "", "Poisson ratio of the emitter (biaxial response -2ν/(1-ν))"),
    ("interface_tilt_coupling", 0.05, "", "lattice tilt per interface slope angle near interfaces"),
    ("emitter_orientation_deg", 10.0, "deg", "in-plane orientation of the emitter [001] pattern"),
    ("cl_diffusivity_nm2_s", 5.0, "nm²/s", "Cl⁻ diffusivity in the emitter (5e-14 cm²/s)"),
    ("cl_drift_velocity_nm_s", 0.1, "nm/s", "field-driven Cl⁻ drift velocity towards the cathode"),
    ("cl_extraction_velocity_nm_s", 0.1, "nm/s", "Cl⁻ transfer velocity from emitter into the ETL"),
    ("n_preexisting_clusters", 4, "", "Pb-rich clusters (PbX2/CsPb2X5) present before bias"),
    ("cluster_radius_nm", (2.0, 3.0), "nm", "radius range of the pre-existing clusters"),
    ("n_pb_particles", 10, "", "particles nucleating during the run"),
    ("pb_metal_fraction", 0.7, "", "fraction of new particles that are metallic Pb (rest PbX2/CsPb2X5)"),
    ("pb_critical_radius_nm", 1.5, "nm", "critical nucleus radius r* = 2γΩ/Δμ of classical nucleation "
     "theory: a particle appears with r = r* at its nucleation time (Pb: γ≈0.5 J/m², Ω=3.0e-29 m³, Δμ=2eη "
     "with η≈60 mV gives 1.5 nm; Porter & Easterling 2009 §5.1; Kashchiev 2000 ch. 3)"),
    ("particle_growth_nm2_s", 0.05, "nm²/s", "diffusion-limited growth constant k of r² = r0² + 2kt"),
    ("collapse_time_s", 140.0, "s", "onset of lattice collapse near the interfaces"),
    ("collapse_tau_s", 40.0, "s", "time constant of the collapse"),
    ("collapse_length_nm", 6.0, "nm", "depth of the collapse from each emitter interface"),
    ("strain_relax_tau_s", 60.0, "s", "relaxation time of the misfit after collapse"),
    ("current_A", 1e-7, "A", "constant (galvanostatic) bias current"),
    ("turn_on_voltage_V", 2.9, "V", "built-in/turn-on voltage of a sky-blue PeLED (~Eg/e)"),
    ("series_resistance_ohm", 5e6, "Ω", "initial series resistance of the lamella device"),
    ("alcl3_resistance_ohm_per_nm", 2e6, "Ω/nm", "series resistance per nm of insulating AlCl3"),
    ("damage_resistance_ohm", 5e6, "Ω", "extra resistance of fully collapsed interfaces"),
    ("el_initial", 1.0, "a.u.", "electroluminescence at t = 0"),
    ("trap_strength", 0.02, "", "EL quenching per metallic-Pb particle area (r²/r_ref²)"),
    ("trap_reference_radius_nm", 1.0, "nm", "reference radius of the trap term"),
    ("voltage_noise_V", 0.002, "V", "Gaussian noise of the logged voltage"),
    ("el_noise_rel", 0.005, "", "relative Gaussian noise of the logged EL"),
    ("drift_step_px", 0.3, "px", "random-walk step (σ per axis) of the HAADF drift per frame"),
    ("drift_velocity_px", (0.35, -0.2), "px/frame", "steady HAADF drift per frame (y, x)"),
    ("bragg_fraction", 0.4, "", "fraction of electrons in Bragg disks for crystalline material"),
    ("diffuse_fraction", 0.3, "", "fraction in the diffuse ring for amorphous material"),
    ("thermal_diffuse_fraction", 0.05, "", "fraction in the thermal-diffuse background"),
    ("thermal_diffuse_k_inv_nm", 1.5, "1/nm", "decay constant of the thermal-diffuse background"),
)

DEFAULTS: dict[str, object] = {name: default for name, default, _u, _d in PARAMETERS}

_POSITIVE = ("frame_interval_s", "haadf_pixel_nm", "eds_channel_eV", "beam_energy_keV",
             "convergence_semiangle_mrad", "k_pixel_size_inv_nm", "camera_length_mm",
             "dose_4dstem_e_per_A2", "dwell_4dstem_s", "haadf_dose_e_per_A2", "haadf_dwell_s",
             "haadf_convergence_mrad", "haadf_exponent", "eds_dose_e_per_A2", "eds_dwell_s",
             "eds_solid_angle_sr", "fwhm_mn_ka_eV", "lamella_thickness_nm", "emitter_nm",
             "misfit_decay_nm", "roughness_correlation_nm", "collapse_tau_s", "collapse_length_nm",
             "strain_relax_tau_s", "current_A", "pb_critical_radius_nm",
             "curtain_correlation_nm", "thickness_roughness_correlation_nm", "eds_subpixel_nm",
             "trap_reference_radius_nm",
             "thermal_diffuse_k_inv_nm")
_NON_NEGATIVE = ("glass_nm", "ito_nm", "htl_nm", "etl_nm", "lif_nm", "roughness_nm", "interface_width_nm",
                 "misfit_buildup", "cl_diffusivity_nm2_s", "cl_extraction_velocity_nm_s",
                 "particle_growth_nm2_s", "collapse_time_s", "turn_on_voltage_V", "series_resistance_ohm",
                 "alcl3_resistance_ohm_per_nm", "damage_resistance_ohm", "el_initial", "trap_strength",
                 "voltage_noise_V", "el_noise_rel", "drift_step_px", "haadf_dark_counts",
                 "curtain_amplitude", "thickness_roughness")
_FRACTIONS = ("x_cl", "pb_metal_fraction", "bragg_fraction", "diffuse_fraction",
              "thermal_diffuse_fraction")
_COUNTS = ("n_frames", "log_per_frame", "eds_channels", "n_preexisting_clusters", "n_pb_particles")
_SHAPES = ("scan_shape", "detector_shape", "haadf_shape", "eds_shape")


def _num(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r}: expected a number") from None
    if not np.isfinite(v):
        raise InputError(f"{name}={value!r}: must be finite")
    return v


def validate(kwargs: dict) -> dict:
    """Fill defaults, check every value, and add derived ``a_ref_nm``; raise InputError naming the bad one."""
    unknown = sorted(set(kwargs) - set(DEFAULTS))
    if unknown:
        raise InputError(f"unknown parameter(s) {', '.join(unknown)}; see docs/simulate.md for the list")
    p = {**DEFAULTS, **kwargs}
    for name in _POSITIVE:
        p[name] = _num(name, p[name])
        if p[name] <= 0:
            raise InputError(f"{name}={p[name]!r}: must be > 0")
    for name in _NON_NEGATIVE:
        p[name] = _num(name, p[name])
        if p[name] < 0:
            raise InputError(f"{name}={p[name]!r}: must be >= 0")
    for name in _FRACTIONS:
        p[name] = check_fraction(name, p[name])
    if p["bragg_fraction"] + p["thermal_diffuse_fraction"] >= 1 or \
            p["diffuse_fraction"] + p["thermal_diffuse_fraction"] >= 1:
        raise InputError("bragg_fraction/diffuse_fraction + thermal_diffuse_fraction must be < 1")
    for name in _COUNTS:
        v = p[name]
        if isinstance(v, bool) or int(v) != v or int(v) < (1 if name in ("n_frames", "log_per_frame",
                                                                         "eds_channels") else 0):
            raise InputError(f"{name}={v!r}: must be a non-negative integer (n_frames, log_per_frame, "
                             "eds_channels >= 1)")
        p[name] = int(v)
    for name in _SHAPES:
        v = p[name]
        if np.ndim(v) != 1 or len(v) != 2 or any(int(s) != s or int(s) < 2 for s in v):
            raise InputError(f"{name}={v!r}: must be two integers >= 2")
        p[name] = (int(v[0]), int(v[1]))
    if p["detector_shape"][0] != p["detector_shape"][1]:
        raise InputError(f"detector_shape={p['detector_shape']}: the simulated detector must be square")
    lo, hi = (_num("cluster_radius_nm", r) for r in np.broadcast_to(p["cluster_radius_nm"], (2,)))
    if not 0 < lo <= hi:
        raise InputError(f"cluster_radius_nm={p['cluster_radius_nm']!r}: need 0 < min <= max")
    p["cluster_radius_nm"] = (lo, hi)
    p["misfit_strain"] = _num("misfit_strain", p["misfit_strain"])
    if abs(p["misfit_strain"]) >= 0.2:
        raise InputError(f"misfit_strain={p['misfit_strain']}: |misfit| must be < 0.2")
    for name in ("poisson_ratio",):
        p[name] = _num(name, p[name])
        if not 0 <= p[name] < 0.5:
            raise InputError(f"{name}={p[name]}: must lie in [0, 0.5)")
    for name in ("cl_drift_velocity_nm_s", "interface_tilt_coupling", "emitter_orientation_deg"):
        p[name] = _num(name, p[name])
    p["drift_velocity_px"] = tuple(_num("drift_velocity_px", v)
                                   for v in np.broadcast_to(p["drift_velocity_px"], (2,)))
    seed = p["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed={seed!r}: must be a non-negative integer")
    p["seed"] = int(seed)
    p["noise"] = bool(p["noise"])
    p["a_ref_nm"] = float(emitter_lattice_parameter_nm(p["x_cl"]))
    return p
