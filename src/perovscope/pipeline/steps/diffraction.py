"""Step ``strain``: strain, rotation, phase and crystallinity of every 4D-STEM frame.

One lattice reference serves the whole session, so that strain is comparable between frames: the
reference region and its mean lattice ``G0`` are taken from frame ``reference_frame`` (0) in
:func:`prepare`. Every frame is then measured with :func:`perovscope.diffraction.strain_map` (indexed
with frame 0's basis, so that the same reflections carry the same indices in every frame) against the
same region *of that frame*, and re-referenced to frame 0's ``G0`` exactly: with
``g = F_t^{-T} G0_t`` per pattern and ``G0_t = F_r^{-T} G0`` for the frame's reference lattice,
``g = (F_t F_r)^{-T} G0``, so the total deformation is ``F = F_t F_r`` (``F = I + ε + ω``). A lattice
that expands with time (Cl loss, Vegard) therefore shows up as tensile strain.

A frame is never loaded whole: it is read lazily and the disks are found chunk by chunk of scan
positions, the chunk size and threads from ``--memory-budget`` (:mod:`perovscope.pipeline.memory`,
:mod:`._stream`); a streamed frame gives the same results as the frame in memory, to the last bit.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...diffraction import strain_map
from ...diffraction.calibration import calibration_from_coords
from ._common import finish_dataset, read_lazy
from ._stream import probe_template, stream_chunks

__all__ = ["DEFAULTS", "prepare", "frame", "rereference"]

DEFAULTS = {"reference": "interior", "reference_margin_nm": 12.0, "reference_frame": 0, "min_disks": 5}

_COMPONENTS = ("exx", "eyy", "exy", "theta")


def _measure(ctx, index: int, *, reference, basis=None) -> xr.Dataset:
    raw = read_lazy(ctx, "4dstem", index)
    plan = ctx.stream_plan(raw)
    if getattr(raw.data, "chunks", None) is not None and raw.nbytes <= plan.chunk_bytes:
        raw = raw.compute()             # a frame within one chunk is read as one
    chunks = stream_chunks(raw, plan.chunk_bytes)
    da = raw if chunks is None else raw.chunk(chunks)
    cal = calibration_from_coords(raw)
    with ctx.compute_scope(plan.threads):
        probe = probe_template(raw, calibration=cal, chunk_bytes=plan.chunk_bytes)
        return strain_map(da, probe=probe, calibration=cal, reference=reference, basis=basis,
                          min_disks=int(ctx.params["min_disks"]), chunk_bytes=plan.chunk_bytes)


def interior_mask(ds: xr.Dataset, margin_nm: float) -> np.ndarray:
    """Pixels of the indexed lattice farther than ``margin_nm`` from any other pixel (its interior).

    The indexed lattice is where the strain is finite and the phase is the most common one there
    (the emitter); the distance to the nearest pixel outside it, minus half a pixel (the boundary
    lies between pixel centres), must exceed ``margin_nm``: a misfit decaying from the interfaces
    over λ is below 5 % of its interface value beyond 3λ.
    """
    from scipy import ndimage

    crystal = np.isfinite(ds["exx"].values)
    if "phase" in ds and crystal.any():
        labels = ds["phase"].values[crystal]
        labels = labels[labels >= 0]
        if labels.size:
            crystal &= ds["phase"].values == np.bincount(labels).argmax()
    step = [float(abs(ds[d].values[1] - ds[d].values[0])) if d in ds.coords and ds.sizes[d] > 1 else 1.0
            for d in ds["exx"].dims]
    dist = ndimage.distance_transform_edt(np.pad(crystal, 1), sampling=step)[1:-1, 1:-1]
    return crystal & (dist - 0.5 * min(step) > margin_nm)


def prepare(ctx) -> dict:
    """Reference region, indexing basis and reference lattice ``G0`` from the reference frame.

    ``reference="interior"`` (default): the interior of the indexed lattice of the reference frame
    (see :func:`interior_mask`; falls back to ``"auto"`` when empty); ``"auto"``: the least-strained
    region of :func:`perovscope.diffraction.strain.auto_reference_mask`; or a boolean mask over the
    scan.

    Returns
    -------
    dict
        ``reference_mask`` (nested lists of bool over the scan), ``basis`` and ``reference_basis``
        (2×2, columns g1, g2 in 1/nm), ``phase_names``.
    """
    ref, index = ctx.params["reference"], int(ctx.params["reference_frame"])
    if not isinstance(ref, str):
        ref = np.asarray(ref, bool)
    ds = _measure(ctx, index, reference="auto" if isinstance(ref, str) else ref)
    if isinstance(ref, str) and ref == "interior":
        mask = interior_mask(ds, float(ctx.params["reference_margin_nm"]))
        if mask.sum() >= 9:
            ds = _measure(ctx, index, reference=mask, basis=np.asarray(ds.attrs["basis"], float))
    return {"reference_mask": ds["reference_mask"].values.tolist(), "basis": ds.attrs["basis"],
            "reference_basis": ds.attrs["reference_basis"],
            "phase_names": list(ds["phase"].attrs.get("phase_names", []))}


def rereference(ds: xr.Dataset, g0_frame, g0_session) -> dict[str, np.ndarray]:
    """Strain components relative to ``g0_session`` from a map measured against ``g0_frame``.

    Parameters
    ----------
    ds : xarray.Dataset
        ``exx, eyy, exy, theta`` (deg) relative to the lattice ``g0_frame``.
    g0_frame, g0_session : array_like (2, 2)
        Reference lattices (columns g1, g2) of the map and of the session.

    Returns
    -------
    dict
        ``exx, eyy, exy, theta`` relative to ``g0_session`` (theta in degrees).
    """
    m = np.asarray(g0_frame, float) @ np.linalg.inv(np.asarray(g0_session, float))   # = F_r^-T
    f_r = np.linalg.inv(m).T
    t = np.deg2rad(ds["theta"].values)
    f = np.empty(t.shape + (2, 2))
    f[..., 0, 0] = 1 + ds["exx"].values
    f[..., 1, 1] = 1 + ds["eyy"].values
    f[..., 0, 1] = ds["exy"].values - t
    f[..., 1, 0] = ds["exy"].values + t
    tot = f @ f_r
    return {"exx": tot[..., 0, 0] - 1, "eyy": tot[..., 1, 1] - 1,
            "exy": 0.5 * (tot[..., 0, 1] + tot[..., 1, 0]),
            "theta": np.rad2deg(0.5 * (tot[..., 1, 0] - tot[..., 0, 1]))}


def frame(ctx, index: int, prepared: dict) -> xr.Dataset:
    """Strain map of one frame against the session reference (see the module docstring).

    Returns
    -------
    xarray.Dataset over ``(scan_y, scan_x)``
        ``exx, eyy, exy`` (1), ``theta`` (deg) and their ``_std``; ``phase`` (int16, -1 none; names
        in ``attrs["phase_names"]``), ``crystallinity``, ``lattice_parameter_nm``,
        ``cl_fraction_vegard``, ``reason`` (lattice-fit reason code), ``reference_mask``.
    """
    mask = np.asarray(prepared["reference_mask"], bool)
    ds = _measure(ctx, index, reference=mask, basis=np.asarray(prepared["basis"], float))
    comps = rereference(ds, ds.attrs["reference_basis"], prepared["reference_basis"])
    dims = ds["exx"].dims
    out = xr.Dataset(coords={d: ds[d] for d in dims if d in ds.coords})
    for name in _COMPONENTS:
        unit = "deg" if name == "theta" else "1"
        out[name] = (dims, comps[name], {"units": unit})
        out[name + "_std"] = (dims, ds[name + "_std"].values, {"units": unit})
    out["phase"] = (dims, ds["phase"].values.astype(np.int16),
                    {"units": "1", "phase_names": list(ds["phase"].attrs.get("phase_names", []))})
    out["crystallinity"] = (dims, ds["crystallinity"].values, {"units": "1"})
    out["lattice_parameter_nm"] = (dims, ds["lattice_parameter_nm"].values, {"units": "nm"})
    out["cl_fraction_vegard"] = (dims, ds["cl_fraction"].values,
                                 {"units": "1", "long_name": "Cl fraction x from the lattice parameter"})
    out["reason"] = ds["reason"].reset_coords(drop=True)
    out["reference_mask"] = (dims, mask, {"units": "1"})
    out.attrs.update(reference_basis=list(prepared["reference_basis"]), basis_units="1/nm",
                     strain_convention=ds.attrs.get("strain_convention", ""))
    return finish_dataset(out, step="strain")
