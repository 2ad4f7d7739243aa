"""``simulate_device``: an operando sky-blue perovskite-LED lamella under constant current, with truth.

See ``docs/simulate.md`` for the data layout, the conventions and the physics; :mod:`.device_params`
lists every parameter with its default and reference.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .device_diffraction import device_lattices, frame_patterns
from .device_params import validate
from .device_truth import build_truth, reference_deformation, strain_components
from .eds import eds_expected, element_spectra, energy_axis_eV, render_eds
from .evolution import evolve
from .fields import sample_fields
from .fourdstem import electron_wavelength_nm
from .geometry import build_stack
from .haadf import electrons_per_pixel, haadf_expected, render_haadf
from .materials import ATOMIC_NUMBER, ELEMENTS

__all__ = ["simulate_device", "device_grids"]


def device_grids(p: dict) -> dict:
    """Pixel grids of the three modalities in the specimen frame (nm) and their affines to HAADF.

    Each modality's pixel ``(row, col)`` sits at specimen position ``origin + step * (row, col)``;
    the HAADF grid of frame 0 is the specimen frame itself (origin 0, step ``haadf_pixel_nm``).
    """
    hp = p["haadf_pixel_nm"]
    hy, hx = p["haadf_shape"]
    fov = (hy * hp, hx * hp)
    grids = {"haadf": {"shape": (hy, hx), "step": (hp, hp), "origin": (0.0, 0.0)}}
    for name, shape in (("4dstem", p["scan_shape"]), ("eds", p["eds_shape"])):
        step = (fov[0] / shape[0], fov[1] / shape[1])
        # a pixel of size `step` covering the same area as the HAADF pixels beneath it
        grids[name] = {"shape": tuple(shape), "step": step,
                       "origin": ((step[0] - hp) / 2, (step[1] - hp) / 2)}
    for g in grids.values():
        (oy, ox), (sy, sx) = g["origin"], g["step"]
        g["affine"] = np.array([[sy / hp, 0.0, oy / hp], [0.0, sx / hp, ox / hp]])
    return grids


def _points(grid, shift_px=(0.0, 0.0), hp=1.0):
    ny, nx = grid["shape"]
    (oy, ox), (sy, sx) = grid["origin"], grid["step"]
    yy = oy + sy * np.arange(ny) - shift_px[0] * hp
    xx = ox + sx * np.arange(nx) - shift_px[1] * hp
    return np.meshgrid(yy, xx, indexing="ij")


def _coord(n, step, units, name):
    return xr.DataArray(np.arange(n) * step, dims=(name,), attrs={"units": units})


def simulate_device(**kwargs) -> xr.DataTree:
    """Simulate an operando 4D-STEM + HAADF + EDX session of a perovskite LED lamella with truth.

    Parameters
    ----------
    **kwargs
        Any parameter of :data:`perovscope.simulate.device_params.DEFAULTS` (keyword only); each is
        documented there with its default and the reference behind it. The most used:
        ``seed=0, n_frames=8, scan_shape=(48, 48), detector_shape=(96, 96), haadf_shape=(192, 192),
        eds_shape=(32, 32), x_cl=0.3, emitter_nm=40.0, dose_4dstem_e_per_A2=200.0``.

    Returns
    -------
    xarray.DataTree
        Nodes ``4dstem``, ``haadf``, ``eds``, ``bias_log`` and ``truth`` (with ``truth/strain``,
        ``truth/composition``, ``truth/layers``, ``truth/particles``, ``truth/drift``,
        ``truth/affine``, ``truth/bias_log``), as documented in ``docs/simulate.md``.

    Raises
    ------
    InputError
        For an unknown parameter or a bad value (negative thickness, dose ≤ 0, x_cl outside [0, 1]),
        naming the parameter.

    References
    ----------
    Multimodal electron microscopy of halide perovskite interfacial dynamics, Nature (2026)
    (``shared/papers/002``).
    """
    p = validate(kwargs)
    ss = np.random.SeedSequence(p["seed"])
    r_geom, r_evo, r_drift, r_4d, r_haadf, r_eds, r_log = (np.random.default_rng(s)
                                                          for s in ss.spawn(7))
    grids = device_grids(p)
    hp = p["haadf_pixel_nm"]
    width = grids["haadf"]["shape"][1] * hp
    thick = {k: p[f"{k.lower()}_nm"] for k in ("glass", "ITO", "HTL", "emitter", "ETL", "LiF")}
    stack = build_stack(thick, width_nm=width, roughness_nm=p["roughness_nm"],
                        correlation_nm=p["roughness_correlation_nm"], rng=r_geom)
    hist = evolve(stack, rng=r_evo, n_frames=p["n_frames"], frame_interval_s=p["frame_interval_s"],
                  log_per_frame=p["log_per_frame"], emitter_nm=p["emitter_nm"], x_cl=p["x_cl"],
                  width_nm=width, p=p)
    nf = p["n_frames"]
    steps = r_drift.normal(0.0, p["drift_step_px"], (nf, 2)) + np.asarray(p["drift_velocity_px"])
    steps[0] = 0.0
    drift = np.cumsum(steps, axis=0)

    # --- 4D-STEM
    lam = electron_wavelength_nm(p["beam_energy_keV"])
    dk = p["k_pixel_size_inv_nm"]
    radius_px = p["convergence_semiangle_mrad"] * 1e-3 / lam / dk
    det = tuple(p["detector_shape"])
    g_max = np.hypot(det[0], det[1]) / 2 * dk + 2 * radius_px * dk
    lattices = device_lattices(x_cl=p["x_cl"], g_max=g_max)
    g4 = grids["4dstem"]
    y4, x4 = _points(g4)
    ne_4d = electrons_per_pixel(p["dose_4dstem_e_per_A2"], g4["step"], name="dose_4dstem_e_per_A2")
    noise = p["noise"]
    data4 = np.empty((nf, *g4["shape"], *det), dtype=np.uint16 if noise else np.float32)
    fields4 = []
    for t in range(nf):
        f = sample_fields(y4.ravel(), x4.ravel(), stack=stack, hist=hist, frame=t, p=p)
        fields4.append(f)
        mean = frame_patterns(f, lattices, p=p, detector_shape=det, dk=dk, disk_radius_px=radius_px)
        mean *= ne_4d
        counts = r_4d.poisson(mean) if noise else mean
        if noise and counts.max() > np.iinfo(data4.dtype).max:
            data4 = data4.astype(np.uint32)
        data4[t] = counts.reshape(*g4["shape"], *det)

    # --- HAADF with drift, EDX
    z = np.array([ATOMIC_NUMBER[e] for e in ELEMENTS], dtype=float)
    gh, ge = grids["haadf"], grids["eds"]
    ne_h = electrons_per_pixel(p["haadf_dose_e_per_A2"], gh["step"], name="haadf_dose_e_per_A2")
    ne_e = electrons_per_pixel(p["eds_dose_e_per_A2"], ge["step"], name="eds_dose_e_per_A2")
    energy = energy_axis_eV(p["eds_channels"], p["eds_channel_eV"])
    spectra = element_spectra(ELEMENTS, z, energy, beam_energy_keV=p["beam_energy_keV"],
                              solid_angle_sr=p["eds_solid_angle_sr"], fwhm_mn_ka=p["fwhm_mn_ka_eV"])
    haadf = np.empty((nf, *gh["shape"]), dtype=np.uint32 if noise else np.float64)
    eds = np.empty((nf, *ge["shape"], energy.size), dtype=np.uint16 if noise else np.float64)
    draw_h = render_haadf if noise else haadf_expected
    draw_e = render_eds if noise else eds_expected
    kw_h = {"rng": r_haadf} if noise else {}
    kw_e = {"rng": r_eds} if noise else {}
    fields_h, fields_e = [], []
    ye, xe = _points(ge)
    for t in range(nf):
        yh, xh = _points(gh, drift[t], hp)
        fh = sample_fields(yh, xh, stack=stack, hist=hist, frame=t, p=p)
        fields_h.append(fh)
        haadf[t] = draw_h(fh["composition"], z, electrons_per_pixel=ne_h, **kw_h,
                          thickness_nm=p["lamella_thickness_nm"], atom_density_nm3=fh["atom_density"],
                          exponent=p["haadf_exponent"], background=p["haadf_dark_counts"])
        fe = sample_fields(ye, xe, stack=stack, hist=hist, frame=t, p=p)
        fields_e.append(fe)
        counts = draw_e(fe["composition"], spectra, electrons_per_pixel=ne_e, **kw_e,
                        thickness_nm=p["lamella_thickness_nm"], atom_density_nm3=fe["atom_density"])
        if np.result_type(counts.dtype, eds.dtype) != eds.dtype:
            eds = eds.astype(np.result_type(counts.dtype, eds.dtype))
        eds[t] = counts

    # --- strain truth relative to the reference region of frame 0
    f_ref, ref_mask = reference_deformation(fields4[0], p=p, shape=g4["shape"])
    strain = [strain_components(f, f_ref) for f in fields4]

    time = xr.DataArray(hist.frame_time_s, dims=("time",), attrs={"units": "s"})
    common = {"beam_energy_keV": p["beam_energy_keV"], "microscope": "perovscope.simulate",
              "acquired": "2026-03-11T10:00:00", "title": "operando PeLED lamella (simulated)"}
    ds4 = xr.DataArray(
        data4, dims=("time", "scan_y", "scan_x", "ky", "kx"), name="4dstem",
        coords={"time": time, "scan_y": _coord(g4["shape"][0], g4["step"][0], "nm", "scan_y"),
                "scan_x": _coord(g4["shape"][1], g4["step"][1], "nm", "scan_x"),
                "ky": ("ky", (np.arange(det[0]) - det[0] // 2) * dk, {"units": "1/nm"}),
                "kx": ("kx", (np.arange(det[1]) - det[1] // 2) * dk, {"units": "1/nm"})},
        attrs={**common, "units": "counts", "signal": "4dstem",
               "convergence_semiangle_mrad": p["convergence_semiangle_mrad"],
               "dose_e_per_A2": p["dose_4dstem_e_per_A2"], "dwell_time_s": p["dwell_4dstem_s"],
               "camera_length_mm": p["camera_length_mm"]})
    dsh = xr.DataArray(
        haadf, dims=("time", "y", "x"), name="haadf",
        coords={"time": time, "y": _coord(gh["shape"][0], hp, "nm", "y"),
                "x": _coord(gh["shape"][1], hp, "nm", "x")},
        attrs={**common, "units": "counts", "signal": "haadf", "dose_e_per_A2": p["haadf_dose_e_per_A2"],
               "dwell_time_s": p["haadf_dwell_s"], "convergence_semiangle_mrad": p["haadf_convergence_mrad"],
               "collection_semiangle_mrad": [70.0, 200.0]})
    dse = xr.DataArray(
        eds, dims=("time", "y", "x", "energy"), name="eds",
        coords={"time": time, "y": _coord(ge["shape"][0], ge["step"][0], "nm", "y"),
                "x": _coord(ge["shape"][1], ge["step"][1], "nm", "x"),
                "energy": ("energy", energy, {"units": "eV"})},
        attrs={**common, "units": "counts", "signal": "eds", "dose_e_per_A2": p["eds_dose_e_per_A2"],
               "dwell_time_s": p["eds_dwell_s"], "live_time_s": p["eds_dwell_s"] * np.prod(ge["shape"]),
               "elements": [e for e in ELEMENTS if e != "Li"],
               "detector_elevation_deg": 18.0, "detector_azimuth_deg": 45.0})
    lt = hist.log_time_s
    v_meas = hist.log_voltage_V + r_log.normal(0.0, p["voltage_noise_V"], lt.size)
    el_meas = hist.log_el * (1 + r_log.normal(0.0, p["el_noise_rel"], lt.size))
    bias = xr.Dataset(
        {"current_A": ("time", np.full(lt.size, p["current_A"]), {"units": "A"}),
         "voltage_V": ("time", v_meas, {"units": "V"}),
         "el_intensity": ("time", el_meas, {"units": "a.u."})},
        coords={"time": ("time", lt, {"units": "s"})}, attrs={"signal": "bias_log"})
    tree = {"4dstem": ds4.to_dataset(), "haadf": dsh.to_dataset(), "eds": dse.to_dataset(),
            "bias_log": bias}
    tree.update(build_truth(p=p, hist=hist, stack=stack, grids=grids, drift=drift, time=time,
                            fields4=fields4, strain=strain, ref_mask=ref_mask, fields_h=fields_h,
                            fields_e=fields_e, g4coords=ds4, ehcoords=(dsh, dse)))
    dt = xr.DataTree.from_dict(tree)
    dt.attrs = {"sample": "device", "seed": int(p["seed"]), "generator": "perovscope.simulate",
                "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()}}
    return dt
