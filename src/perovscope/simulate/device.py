"""``simulate_device``: an operando sky-blue perovskite-LED lamella under constant current, with truth.

See ``docs/simulate.md`` for the data layout, the conventions and the physics; :mod:`.device_params`
lists every parameter with its default and reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import xarray as xr

from ..io.results import save
from ..progress import dask_progress
from .device_params import validate
from .device_render import (
    Session,
    eds_fields,
    grid_points,
    haadf_fields,
    prepare,
    render_4dstem_block,
    render_eds_frame,
    render_haadf_frame,
    rows_per_chunk,
)
from .device_truth import build_truth, reference_deformation, strain_components
from .fields import sample_fields
from .materials import ELEMENTS

__all__ = ["simulate_device", "stream_device", "device_grids", "write_bias_log_csv"]


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


def _coord(n, step, units, name):
    return xr.DataArray(np.arange(n) * step, dims=(name,), attrs={"units": units})



def _lazy(sess: Session, kind: str) -> da.Array:
    """Dask array of one modality whose blocks are rendered on demand (bounded memory)."""
    p, nf = sess.p, sess.p["n_frames"]
    dtype = sess.dtypes[kind]
    if kind == "4dstem":
        ny, nx = sess.grids["4dstem"]["shape"]
        step = rows_per_chunk(sess)
        rows = tuple(min(step, ny - r) for r in range(0, ny, step))
        det = p["detector_shape"]
        chunks = ((1,) * nf, rows, (nx,), (det[0],), (det[1],))

        def block(block_info=None):
            (t0, _), (r0, r1) = block_info[None]["array-location"][:2]
            return render_4dstem_block(sess, t0, r0, r1)
    else:
        shape = sess.grids[kind]["shape"]
        tail = (sess.energy.size,) if kind == "eds" else ()
        chunks = ((1,) * nf, (shape[0],), (shape[1],), *((n,) for n in tail))
        render = render_eds_frame if kind == "eds" else render_haadf_frame

        def block(block_info=None):
            return render(sess, block_info[None]["array-location"][0][0])
    return da.map_blocks(block, chunks=chunks, dtype=dtype, meta=np.empty((0,) * len(chunks), dtype))


def _truth_fields(sess: Session):
    """Per-frame truth arrays (small) on the three grids, and the strain reference."""
    p, nf = sess.p, sess.p["n_frames"]
    y4, x4 = grid_points(sess.grids["4dstem"])
    keep4 = ("phase", "a_nm", "cl_fraction", "crystallinity")
    fields4, strain = [], []
    f_ref = ref_mask = None
    for t in range(nf):
        f = sample_fields(y4.ravel(), x4.ravel(), stack=sess.stack, hist=sess.hist, frame=t, p=p,
                          lamella=sess.lamella)
        if t == 0:
            f_ref, ref_mask = reference_deformation(f, p=p, shape=sess.grids["4dstem"]["shape"])
        strain.append(strain_components(f, f_ref))
        fields4.append({k: f[k] for k in keep4})
    fields_h, fields_e = [], []
    for t in range(nf):
        fh, fe = haadf_fields(sess, t), eds_fields(sess, t)
        fields_h.append({k: fh[k] for k in ("layer", "phase", "thickness_nm")})
        fields_e.append({k: fe[k] for k in ("composition", "atom_density", "thickness_nm", "phase")})
    return fields4, strain, ref_mask, fields_h, fields_e


def _build_tree(p: dict) -> xr.DataTree:
    grids = device_grids(p)
    sess = prepare(p, grids)
    hist = sess.hist
    g4, gh, ge = grids["4dstem"], grids["haadf"], grids["eds"]
    hp, dk, det = p["haadf_pixel_nm"], sess.dk, p["detector_shape"]
    time = xr.DataArray(hist.frame_time_s, dims=("time",), attrs={"units": "s"})
    common = {"beam_energy_keV": p["beam_energy_keV"], "microscope": "perovscope.simulate",
              "acquired": "2026-03-11T10:00:00", "title": "operando PeLED lamella (simulated)"}
    ds4 = xr.DataArray(
        _lazy(sess, "4dstem"), dims=("time", "scan_y", "scan_x", "ky", "kx"), name="4dstem",
        coords={"time": time, "scan_y": _coord(g4["shape"][0], g4["step"][0], "nm", "scan_y"),
                "scan_x": _coord(g4["shape"][1], g4["step"][1], "nm", "scan_x"),
                "ky": ("ky", (np.arange(det[0]) - det[0] // 2) * dk, {"units": "1/nm"}),
                "kx": ("kx", (np.arange(det[1]) - det[1] // 2) * dk, {"units": "1/nm"})},
        attrs={**common, "units": "counts", "signal": "4dstem",
               "convergence_semiangle_mrad": p["convergence_semiangle_mrad"],
               "dose_e_per_A2": p["dose_4dstem_e_per_A2"], "dwell_time_s": p["dwell_4dstem_s"],
               "camera_length_mm": p["camera_length_mm"]})
    dsh = xr.DataArray(
        _lazy(sess, "haadf"), dims=("time", "y", "x"), name="haadf",
        coords={"time": time, "y": _coord(gh["shape"][0], hp, "nm", "y"),
                "x": _coord(gh["shape"][1], hp, "nm", "x")},
        attrs={**common, "units": "counts", "signal": "haadf", "dose_e_per_A2": p["haadf_dose_e_per_A2"],
               "dwell_time_s": p["haadf_dwell_s"], "convergence_semiangle_mrad": p["haadf_convergence_mrad"],
               "collection_semiangle_mrad": 70.0})
    dse = xr.DataArray(
        _lazy(sess, "eds"), dims=("time", "y", "x", "energy"), name="eds",
        coords={"time": time, "y": _coord(ge["shape"][0], ge["step"][0], "nm", "y"),
                "x": _coord(ge["shape"][1], ge["step"][1], "nm", "x"),
                "energy": ("energy", sess.energy, {"units": "eV"})},
        attrs={**common, "units": "counts", "signal": "eds", "dose_e_per_A2": p["eds_dose_e_per_A2"],
               "dwell_time_s": p["eds_dwell_s"], "live_time_s": p["eds_dwell_s"] * np.prod(ge["shape"]),
               "elements": [e for e in ELEMENTS if e != "Li"],
               "detector_elevation_deg": 18.0, "detector_azimuth_deg": 45.0})
    lt = hist.log_time_s
    r_log = np.random.default_rng([p["seed"], 7])
    v_meas = hist.log_voltage_V + r_log.normal(0.0, p["voltage_noise_V"], lt.size)
    el_meas = hist.log_el * (1 + r_log.normal(0.0, p["el_noise_rel"], lt.size))
    bias = xr.Dataset(
        {"current_A": ("time", np.full(lt.size, p["current_A"]), {"units": "A"}),
         "voltage_V": ("time", v_meas, {"units": "V"}),
         "el_intensity": ("time", el_meas, {"units": "a.u."})},
        coords={"time": ("time", lt, {"units": "s"})}, attrs={"signal": "bias_log"})
    tree = {"4dstem": ds4.to_dataset(), "haadf": dsh.to_dataset(), "eds": dse.to_dataset(),
            "bias_log": bias}
    fields4, strain, ref_mask, fields_h, fields_e = _truth_fields(sess)
    tree.update(build_truth(p=p, hist=hist, stack=sess.stack, grids=grids, drift=sess.drift, time=time,
                            fields4=fields4, strain=strain, ref_mask=ref_mask, fields_h=fields_h,
                            fields_e=fields_e, g4coords=ds4, ehcoords=(dsh, dse)))
    dt = xr.DataTree.from_dict(tree)
    dt.attrs = {"sample": "device", "seed": int(p["seed"]), "generator": "perovscope.simulate",
                "parameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()}}
    return dt


def simulate_device(*, lazy: bool = False, **kwargs) -> xr.DataTree:
    """Simulate an operando 4D-STEM + HAADF + EDX session of a perovskite LED lamella with truth.

    Parameters
    ----------
    lazy : bool
        Return the 4D-STEM, HAADF and EDX arrays as dask arrays rendered block by block on demand
        (one frame, or a band of scan rows, per block); the values are identical to the eager ones.
    **kwargs
        Any parameter of :data:`perovscope.simulate.device_params.PARAMETERS` (keyword only); each is
        documented there and in ``docs/simulate.md`` with its default and source. The most used:
        ``seed=0, n_frames=8, scan_shape=(48, 48), detector_shape=(96, 96), haadf_shape=(192, 192),
        eds_shape=(32, 32), x_cl=0.3, emitter_nm=40.0, dose_4dstem_e_per_A2=500.0, noise=True``.

    Returns
    -------
    xarray.DataTree
        Nodes ``4dstem``, ``haadf``, ``eds``, ``bias_log`` and ``truth`` (variables
        ``alcl3_thickness_nm``, ``voltage_V``, ``el_intensity``, ... over ``time``) with children
        ``truth/strain``, ``truth/composition``, ``truth/layers``, ``truth/particles``,
        ``truth/drift``, ``truth/affine``, ``truth/bias_log`` (see ``docs/simulate.md``).

    Raises
    ------
    InputError
        For an unknown parameter or a bad value (negative thickness, dose ≤ 0, x_cl outside [0, 1]),
        naming the parameter.

    References
    ----------
    "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
    doi:10.1038/s41586-026-10238-8.

    Examples
    --------
    >>> tree = simulate_device(seed=1, n_frames=2, scan_shape=(8, 8), detector_shape=(32, 32),
    ...                        haadf_shape=(32, 32), haadf_pixel_nm=4.8, eds_shape=(4, 4))
    >>> tree["4dstem/4dstem"].dims
    ('time', 'scan_y', 'scan_x', 'ky', 'kx')
    """
    tree = _build_tree(validate(kwargs))
    if lazy:
        return tree
    with dask.config.set(scheduler="threads"):
        return tree.compute()


def stream_device(path: str | os.PathLike, *, progress: bool = False, **kwargs) -> Path:
    """Simulate a device session straight into a zarr results store with bounded memory.

    The 4D-STEM, HAADF and EDX arrays are rendered block by block (a frame, or a band of scan rows
    of ~4 M detector pixels) while :func:`perovscope.io.save` writes them, so memory stays at a few
    blocks whatever the number of frames or the scan size. The store equals ``simulate_device``'s tree
    for the same parameters. Keyword arguments are those of :func:`simulate_device`.

    Returns
    -------
    pathlib.Path
        The written store (open it with :func:`perovscope.io.open_results`).
    """
    tree = _build_tree(validate(kwargs))
    with dask.config.set(scheduler="threads"), dask_progress(progress, label="simulating device"):
        return save(tree, path)


def write_bias_log_csv(tree_or_log, path: str | os.PathLike) -> Path:
    """Write the electrical log as ``time_s,current_A,voltage_V,el_intensity`` CSV (one row per sample).

    ``tree_or_log`` is a device tree (its ``bias_log`` node is used) or the log Dataset itself. This is
    the plain device-log format :func:`perovscope.io.read` reads back into the same Dataset.
    """
    log = tree_or_log["bias_log"].to_dataset() if isinstance(tree_or_log, xr.DataTree) else tree_or_log
    path = Path(path)
    cols = np.column_stack([log["time"].values, log["current_A"].values, log["voltage_V"].values,
                            log["el_intensity"].values])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, cols, delimiter=",", fmt="%.9g", header="time_s,current_A,voltage_V,el_intensity",
               comments="")
    return path
