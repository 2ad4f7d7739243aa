"""Ground-truth node of the device simulation: strain, phases, composition, layers, particles, drift.

Strain convention (what a 4D-STEM strain analysis must recover)
---------------------------------------------------------------
x is the last (fastest) axis of both the scan and the detector, y the row axis (pointing down the
image). For every probe position the emitter's disks sit at exactly

    g = (I + ε + ω)^{-T} g_ref,   ε = [[exx, exy], [exy, eyy]],   ω = [[0, -θ], [θ, 0]] (θ in rad),

in (x, y) components, where ``g_ref`` are the disk positions averaged (as reciprocal-lattice vectors)
over ``reference_mask`` in frame 0. ``theta`` is stored in degrees; θ > 0 turns the lattice from +x
towards +y (counter-clockwise in the mathematical (x, y) frame, which appears clockwise on a y-down
display). exx = ∂u_x/∂x, eyy = ∂u_y/∂y, exy = ½(∂u_x/∂y + ∂u_y/∂x) for the displacement u that maps
the reference lattice onto the local one. Values are NaN where ``phase`` is not ``perovskite``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .materials import ELEMENTS, LAYER_NAMES, PHASE, PHASE_NAMES

__all__ = ["reference_deformation", "strain_components", "build_truth", "STRAIN_CONVENTION"]

STRAIN_CONVENTION = ("g = (I + eps + omega)^-T g_ref in (x, y) components; x = last axis of scan and "
                     "detector, y = rows (down); eps = [[exx, exy], [exy, eyy]]; omega = [[0, -t], [t, 0]], "
                     "t = theta in rad, theta > 0 turns +x towards +y; g_ref = mean reciprocal lattice "
                     "over reference_mask in frame 0; NaN where phase != perovskite")


def reference_deformation(fields: dict, *, p: dict, shape) -> tuple[np.ndarray, np.ndarray]:
    """``F_ref`` with ``F_ref^{-T} = mean(F^{-T})`` over the reference region, and that region (bool).

    The region: frame-0 perovskite farther than 3 misfit decay lengths from both emitter interfaces,
    wholly inside the emitter and free of particles; it falls back to all perovskite pixels when that
    is empty (tiny scans), and to the nominal lattice when there is no perovskite at all.
    """
    ke = LAYER_NAMES.index("emitter")
    perov = fields["phase"] == PHASE["perovskite"]
    far = np.minimum(fields["d_top_nm"], fields["d_bottom_nm"]) >= 3 * p["misfit_decay_nm"]
    clean = (fields["layer_weights"][..., ke] > 0.99) & (fields["matrix_fraction"] >= 1.0)
    mask = perov & far & clean
    if not mask.any():
        mask = perov
    if not mask.any():
        return np.eye(2), mask.reshape(shape)
    g = np.linalg.inv(fields["F"][mask]).transpose(0, 2, 1).mean(axis=0)
    return np.linalg.inv(g).T, mask.reshape(shape)


def strain_components(fields: dict, f_ref: np.ndarray) -> dict[str, np.ndarray]:
    """exx, eyy, exy, theta_deg of ``F F_ref^{-1}`` (NaN off the perovskite phase)."""
    f = fields["F"] @ np.linalg.inv(f_ref)
    ok = fields["phase"] == PHASE["perovskite"]
    nan = np.where(ok, 1.0, np.nan)
    return {"exx": (f[:, 0, 0] - 1) * nan, "eyy": (f[:, 1, 1] - 1) * nan,
            "exy": 0.5 * (f[:, 0, 1] + f[:, 1, 0]) * nan,
            "theta": np.degrees(0.5 * (f[:, 1, 0] - f[:, 0, 1])) * nan}


def _stack(fields, key, shape):
    return np.stack([np.asarray(f[key]).reshape(shape) for f in fields])


def build_truth(*, p, hist, stack, grids, drift, time, fields4, strain, ref_mask, fields_h, fields_e,
                g4coords, ehcoords) -> dict[str, xr.Dataset]:
    """All ``truth/...`` datasets keyed by their node path."""
    dsh, dse = ehcoords
    s4 = grids["4dstem"]["shape"]
    sdims = ("time", "scan_y", "scan_x")
    scoords = {"time": time, "scan_y": g4coords["scan_y"], "scan_x": g4coords["scan_x"]}
    one = {"units": "1"}
    phase_attrs = {"phase_names": list(PHASE_NAMES), "units": "1"}
    st = xr.Dataset(
        {k: (sdims, np.stack([s[k].reshape(s4) for s in strain]),
             {"units": "deg" if k == "theta" else "1"}) for k in ("exx", "eyy", "exy", "theta")},
        coords=scoords)
    st["phase"] = (sdims, _stack(fields4, "phase", s4), phase_attrs)
    st["lattice_parameter_nm"] = (sdims, _stack(fields4, "a_nm", s4), {"units": "nm"})
    st["cl_fraction"] = (sdims, _stack(fields4, "cl_fraction", s4), one)
    st["crystallinity"] = (sdims, _stack(fields4, "crystallinity", s4), one)
    st["reference_mask"] = (("scan_y", "scan_x"), ref_mask, {"units": "1"})
    st.attrs = {"convention": STRAIN_CONVENTION, "reference_frame": 0,
                "nominal_lattice_parameter_nm": p["a_ref_nm"],
                "emitter_orientation_deg": p["emitter_orientation_deg"], "zone_axis": [0, 0, 1]}

    se = grids["eds"]["shape"]
    comp = xr.Dataset(
        {"composition": (("time", "y", "x", "element"), 100.0 * _stack(fields_e, "composition",
                                                                        (*se, len(ELEMENTS))),
                         {"units": "at.%"}),
         "atom_density_nm3": (("time", "y", "x"), _stack(fields_e, "atom_density", se),
                              {"units": "1/nm^3"}),
         "thickness_nm": (("time", "y", "x"), _stack(fields_e, "thickness_nm", se), {"units": "nm"}),
         "phase": (("time", "y", "x"), _stack(fields_e, "phase", se), phase_attrs)},
        coords={"time": time, "y": dse["y"], "x": dse["x"], "element": ("element", list(ELEMENTS))})
    comp.attrs = {"lamella_thickness_nm": p["lamella_thickness_nm"],
                  "description": "atomic % of non-hydrogen atoms through the lamella averaged over each "
                                 "EDX pixel's area (atom-weighted), the pixel's mean atom density "
                                 "(thickness-weighted) and mean lamella thickness, so that thickness_nm x "
                                 "atom_density_nm3 x composition/100 is the mean column density of each "
                                 "element; phase at the pixel centre (Li has no X-ray line)"}

    sh = grids["haadf"]["shape"]
    xs = dsh["x"].values
    inames = stack.interface_names
    profiles = np.stack([np.stack([np.interp(xs, stack.x_nm, hk)
                                   for hk in stack.with_alcl3(a).heights_nm]) for a in hist.alcl3_nm])
    layers = xr.Dataset(
        {"label": (("time", "y", "x"), _stack(fields_h, "layer", sh),
                   {"units": "1", "layer_names": list(LAYER_NAMES)}),
         "phase": (("time", "y", "x"), _stack(fields_h, "phase", sh), phase_attrs),
         "thickness_nm": (("time", "y", "x"), _stack(fields_h, "thickness_nm", sh).astype(np.float32),
                          {"units": "nm", "description": "projected lamella thickness under each HAADF "
                                                         "pixel (FIB curtaining + local roughness)"}),
         "interface_y_nm": (("time", "interface"), profiles.mean(axis=2), {"units": "nm"}),
         "interface_profile_y_nm": (("time", "interface", "x"), profiles, {"units": "nm"})},
        coords={"time": time, "y": dsh["y"], "x": dsh["x"], "interface": ("interface", inames)})
    layers.attrs = {"layer_names": list(LAYER_NAMES),
                    "description": "label/phase per HAADF frame (drift included); interface positions "
                                   "in the frame-0 HAADF coordinates (specimen frame)"}

    npart = hist.particle_yx_nm.shape[0]
    parts = xr.Dataset(
        {"centre_y_nm": ("particle", hist.particle_yx_nm[:, 0], {"units": "nm"}),
         "centre_x_nm": ("particle", hist.particle_yx_nm[:, 1], {"units": "nm"}),
         "radius_nm": (("time", "particle"), hist.particle_radius_nm, {"units": "nm"}),
         "nucleation_frame": ("particle", hist.nucleation_frame, one),
         "nucleation_time_s": ("particle", hist.nucleation_time_s, {"units": "s"}),
         "phase": ("particle", np.array([PHASE[q] for q in hist.particle_phase], np.int16), phase_attrs),
         "phase_name": ("particle", np.array(hist.particle_phase, dtype=str)),
         "orientation_deg": ("particle", hist.particle_orientation_deg, {"units": "deg"}),
         "preexisting": ("particle", hist.preexisting)},
        coords={"time": time, "particle": ("particle", np.arange(npart))})

    drift_ds = xr.Dataset({"shift_y_px": ("time", drift[:, 0], {"units": "px"}),
                           "shift_x_px": ("time", drift[:, 1], {"units": "px"})}, coords={"time": time})
    drift_ds.attrs = {"description": "content of HAADF frame t is frame 0 translated by (+shift_y, "
                                     "+shift_x) pixels: feature at (r, c) in frame 0 is at (r + sy, c + sx)"}
    aff = xr.Dataset({k: (("matrix_row", "matrix_col"), grids[k]["affine"]) for k in ("4dstem", "eds",
                                                                                     "haadf")})
    aff.attrs = {"description": "[row_haadf, col_haadf] = A @ [row, col, 1] maps a modality's pixel "
                                "indices to HAADF frame-0 pixel indices"}
    per = p["log_per_frame"]
    root = xr.Dataset(
        {"alcl3_thickness_nm": ("time", hist.alcl3_nm, {"units": "nm"}),
         "voltage_V": ("time", hist.log_voltage_V[::per], {"units": "V"}),
         "el_intensity": ("time", hist.log_el[::per], {"units": "a.u."}),
         "misfit_amplitude": ("time", hist.misfit, one),
         "collapse_amplitude": ("time", hist.collapse, one),
         "mean_cl_fraction": ("time", (hist.cl_site / (hist.cl_site + hist.br_site)).mean(axis=1), one),
         "mean_cl_site_occupancy": ("time", hist.cl_site.mean(axis=1), one)},
        coords={"time": time}, attrs={"sample": "device"})
    log = xr.Dataset(
        {"current_A": ("log_time", np.full(hist.log_time_s.size, p["current_A"]), {"units": "A"}),
         "voltage_V": ("log_time", hist.log_voltage_V, {"units": "V"}),
         "el_intensity": ("log_time", hist.log_el, {"units": "a.u."}),
         "alcl3_thickness_nm": ("log_time", hist.log_alcl3_nm, {"units": "nm"})},
        coords={"log_time": ("log_time", hist.log_time_s, {"units": "s"})},
        attrs={"description": "noise-free electrical log at the bias_log sample times"})
    return {"truth": root, "truth/strain": st, "truth/composition": comp, "truth/layers": layers,
            "truth/particles": parts, "truth/drift": drift_ds, "truth/affine": aff,
            "truth/bias_log": log}
