"""Labelled 4D-STEM workflow: disks over dask chunks of scan positions, then lattice, strain, phases.

The only pass over the (possibly larger-than-memory) data is :func:`bragg_disks_map`: every chunk of
scan positions (detector axes whole) is turned into a small table of disks plus two pattern totals.
Everything after that — the Bragg-vector map, the lattice fits, the reference, strain with uncertainty,
phase matching, reason codes — works on those tables in memory, so memory is bounded by the chunk size.

References
----------
.. [1] C. Ophus, Microsc. Microanal. 25, 563 (2019).
.. [2] B. H. Savitzky et al., Microsc. Microanal. 27, 712 (2021).
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from ..errors import FitError, InputError
from .calibration import Calibration, calibration_from_coords, pixel_size_from_convergence
from .detector import disk_mask
from .disks import DISK_FIELDS, BraggDisks, disk_model_parameters, find_bragg_disks
from .lattice import REASONS, LatticeFit, auto_basis, fit_lattice
from .phase_map import candidate_lattices, match_phases, pattern_basis
from .probe import estimate_probe, measure_probe
from .strain import auto_reference_mask, reference_basis, rotate_strain, strain_from_basis
from .virtual import _single_thread_blas, virtual_images

__all__ = ["estimate_probe", "bragg_disks_map", "strain_map", "REASONS"]

_N_STATS = 2  # total counts, counts inside the central (bright-field) disk
_POST_BLOCK = 4096  # patterns per block of the in-memory lattice/phase fits
_G_MAX_PHASES = 8.0  # 1/nm, largest reflection used for the library's zone lattices


#: Patterns processed together inside a chunk: 32 keeps the FFT and fit intermediates (a few MB)
#: in cache (25–30 % faster per core than 64 on a 1 MB-L2 CPU) and bounds memory.
_SUB_BLOCK = 32


def _block(patterns, *, probe, centre, bf_radius, bad_mask, opts):
    """Disks and totals of a block ``(..., ky, kx)`` → ``(..., max_disks·7 + 2)`` (one pass)."""
    ny, nx = patterns.shape[-2:]
    lead = patterns.shape[:-2]
    flat = patterns.reshape(-1, ny, nx)
    masks = np.stack([np.ones((ny, nx)), disk_mask((ny, nx), bf_radius, centre=centre)])
    if bad_mask is not None:
        masks = masks * ~np.asarray(bad_mask, bool)
    out = np.empty((flat.shape[0], opts["max_disks"] * len(DISK_FIELDS) + _N_STATS))
    with _single_thread_blas():
        for i in range(0, flat.shape[0], _SUB_BLOCK):  # sub-blocks of patterns bound the memory
            sub = flat[i:i + _SUB_BLOCK]
            d = find_bragg_disks(sub, probe, bad_mask=bad_mask, single_thread_blas=False, **opts)
            out[i:i + _SUB_BLOCK] = np.concatenate([d.stacked().reshape(len(sub), -1),
                                                    virtual_images(sub, masks, single_thread_blas=False)], -1)
    return out.reshape(*lead, out.shape[-1])


def _scan_chunks(da: xr.DataArray, chunk_bytes: int) -> dict:
    """Chunks over scan positions holding ≤ ``chunk_bytes`` of detector data; detector axes whole.

    Chunk edges follow the stored chunks of the file (``encoding["preferred_chunks"]``, e.g. a zarr
    store's) where there are any, else the current dask chunks, so no stored chunk is split between
    two dask chunks (each would decode it).
    """
    per = da.shape[-1] * da.shape[-2] * da.dtype.itemsize
    n = max(1, int(chunk_bytes // per))
    nav = list(da.dims[:-2])
    stored = da.encoding.get("preferred_chunks") or {}
    chunks = {"ky": -1, "kx": -1}
    for d in reversed(nav):                 # fill the fastest scan axis first
        size = da.sizes[d]
        current = stored.get(d) or (max(da.chunksizes[d]) if da.chunksizes else size)
        c = min(size, current, n)
        if c < current and current % c:     # a divisor of the stored chunk, if one is close
            c = max((k for k in range(1, c + 1) if current % k == 0), default=c)
        chunks[d] = c
        n = max(1, n // c)
    return chunks


def _probe_sample(da: xr.DataArray, max_patterns: int = 512) -> xr.DataArray:
    """About ``max_patterns`` patterns for the probe measurement, as whole dask chunks of ``da`` spread
    evenly over the scan (at least one): a partial read, where patterns spread one by one over the
    scan would decode every stored chunk. The DataArray itself when it is in memory."""
    arr = da.data
    if getattr(arr, "chunks", None) is None:
        return da
    nb = arr.numblocks[:-2]
    per = int(np.prod([max(c) for c in arr.chunks[:-2]]))
    n_blocks = int(np.prod(nb))
    k = min(n_blocks, max(1, round(max_patterns / per)))
    if k == n_blocks:
        return da
    import dask.array as dsa

    picks = np.unique(((np.arange(k) + 0.5) * n_blocks / k).astype(int))
    parts = [arr.blocks[np.unravel_index(i, nb)].reshape(-1, *arr.shape[-2:]) for i in picks]
    sample = xr.DataArray(dsa.concatenate(parts), dims=("pattern", "ky", "kx"), attrs=da.attrs)
    return sample.assign_coords({c: da[c] for c in ("ky", "kx") if c in da.coords})


def bragg_disks_map(da: xr.DataArray, probe=None, *, calibration: Calibration | None = None,
                    bad_mask=None, max_disks: int = 48, chunk_bytes: int = 32 * 2**20,
                    probe_radius_px: float | None = None, **options) -> xr.Dataset:
    """Bragg disks of every pattern (lazy over the scan chunks of ``da``), as an xarray Dataset.

    Variables over ``(..., disk)``: ``y``, ``x`` (detector px), ``intensity``, ``snr``, ``quality``,
    ``sigma_y``, ``sigma_x``; over the scan: ``total_counts``, ``bf_counts``. ``options`` go to
    :func:`.disks.find_bragg_disks` (``min_snr``, ``refine``, ...). A dask-backed ``da`` is split
    further where its chunks exceed ``chunk_bytes`` (memory is bounded by workers × chunk size).
    Without a ``probe`` the template is measured from the data (:func:`.probe.measure_probe`, radius
    ``probe_radius_px`` when given) and the cross-check with the metadata is kept in the attributes
    (``probe_radius_source``, ``probe_radius_measured_px``, ``probe_radius_metadata_px``, ``probe_note``).
    """
    if da.ndim < 3 or da.dims[-2:] != ("ky", "kx"):
        raise InputError(f"expected a 4D-STEM DataArray with detector dims ('ky', 'kx'), got {da.dims}")
    cal = calibration or calibration_from_coords(da)
    data = da
    if getattr(da.data, "chunks", None) is not None:
        # enough chunks to keep every worker busy to the end (≥ 4 per core), none below a sub-block
        per = da.shape[-1] * da.shape[-2] * da.dtype.itemsize
        balanced = da.size * da.dtype.itemsize // (4 * (os.cpu_count() or 1))
        data = da.chunk(_scan_chunks(da, min(chunk_bytes, max(_SUB_BLOCK * per, balanced))))
    if probe is None:
        estimate = measure_probe(_probe_sample(da), calibration=cal, probe_radius_px=probe_radius_px)
        probe, probe_attrs = estimate.template, estimate.attrs()
    else:
        probe, probe_attrs = np.asarray(probe, float), {"probe_radius_source": "template given"}
    centre = cal.centre
    model = disk_model_parameters(probe)
    radius = model[0]
    nf = len(DISK_FIELDS)
    n_out = max_disks * nf + _N_STATS
    opts = dict(options, max_disks=max_disks)
    opts.setdefault("disk_model", model)
    out = xr.apply_ufunc(
        _block, data, input_core_dims=[["ky", "kx"]], output_core_dims=[["feature"]],
        dask="parallelized", output_dtypes=[np.float64],
        kwargs={"probe": probe, "centre": centre, "bf_radius": radius + 2.0, "bad_mask": bad_mask,
                "opts": opts},
        dask_gufunc_kwargs={"output_sizes": {"feature": n_out}},
    )
    disks = out.isel(feature=slice(0, max_disks * nf))
    nav = list(da.dims[:-2])
    ds = xr.Dataset()
    shaped = disks.data.reshape(disks.shape[:-1] + (max_disks, nf))
    for i, name in enumerate(DISK_FIELDS):
        ds[name] = (nav + ["disk"], shaped[..., i])
    ds["total_counts"] = (nav, out.isel(feature=-2).data)
    ds["bf_counts"] = (nav, out.isel(feature=-1).data)
    for name in nav:
        if name in da.coords:
            ds = ds.assign_coords({name: da[name]})
    for n in ("y", "x", "sigma_y", "sigma_x"):
        ds[n].attrs["units"] = "px"
    ds["intensity"].attrs["units"] = "counts"
    ds.attrs.update(probe_attrs)
    ds.attrs.update(probe_radius_px=radius, calibration=cal.to_attrs())
    return ds


def _classify(fit_reason, disks: BraggDisks, total, bf, *, min_disks, vacuum_fraction, amorphous_index):
    """Reason codes and the crystallinity index (Bragg / all scattered intensity)."""
    inten = np.nan_to_num(disks.intensity)
    central = np.max(inten, -1)
    bragg = inten.sum(-1) - central
    scattered = np.clip(total - central, 1e-9, None)
    cryst = np.clip(bragg / scattered, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, 1.0 - bf / total, np.nan)
    reason = fit_reason.copy()
    few = reason == REASONS["too_few_disks"]
    reason[few & (frac < vacuum_fraction)] = REASONS["vacuum"]
    reason[few & (frac >= vacuum_fraction) & (cryst < amorphous_index)] = REASONS["amorphous"]
    reason[~np.isfinite(total)] = REASONS["fit_failed"]
    return reason, np.where(np.isfinite(total), cryst, np.nan)


def strain_map(da: xr.DataArray, *, probe=None, calibration: Calibration | None = None,
               reference="auto", basis=None, min_disks: int = 5, phases=True,
               vacuum_fraction: float = 0.05, amorphous_index: float = 0.05, bad_mask=None,
               interface_angle_deg=None, disks: xr.Dataset | None = None, **options) -> xr.Dataset:
    """Strain (with uncertainty), rotation, phase and crystallinity maps of a 4D-STEM DataArray.

    Parameters
    ----------
    da : xarray.DataArray ``(time?, scan_y, scan_x, ky, kx)``
        Counts; numpy- or dask-backed (chunk over scan positions).
    probe : array, optional
        Vacuum probe or template; default :func:`estimate_probe`.
    calibration : Calibration, optional
        Default from the ``kx`` coordinate (1/nm or px), optical axis at the detector centre.
    reference : "auto" or bool array over the scan
        Region the strain is measured against; "auto" picks the least-strained crystalline area
        (:func:`.strain.auto_reference_mask`), on the first frame when there is a ``time`` axis.
    basis : array (2, 2), optional
        Lattice basis (columns g1, g2, calibrated units); default from the Bragg-vector map.
    phases : bool or sequence of Phase / str
        Match each pattern to the phase library (``True``), to the given phases only (library names
        or :class:`Phase` objects, e.g. from :func:`phase_from_cif`), or not at all (``False``).
        Needs a pixel size in 1/nm.
    interface_angle_deg : float or array over the scan, optional
        Direction of the interface (degrees from +x towards +y); adds the strain in the interface
        frame, ``e_tt`` (tangential), ``e_nn`` (normal), ``e_tn`` and their ``*_std``.
    disks : xarray.Dataset, optional
        Result of :func:`bragg_disks_map` to reuse (skips the pass over the data).
    **options
        Passed to :func:`bragg_disks_map`: ``probe_radius_px`` (set the disk radius by hand),
        ``max_disks``, ``chunk_bytes``, and the disk-detection options (``min_snr``, ``refine``, ...).

    Returns
    -------
    xarray.Dataset
        ``exx, eyy, exy, theta`` (deg) and ``*_std``; ``reason`` (uint8, see ``flag_meanings``),
        ``n_disks``, ``residual``, ``crystallinity``, ``reference_mask`` and, with ``phases``,
        ``phase`` (index into attr ``phase_names``, -1 none), ``phase_confidence``,
        ``lattice_parameter_nm``, ``cl_fraction``.
    """
    cal = calibration or calibration_from_coords(da)
    if disks is None:
        disks = bragg_disks_map(da, probe, calibration=cal, bad_mask=bad_mask, **options)
    disks = disks.compute()
    nav = list(disks["total_counts"].dims)
    nav_shape = disks["total_counts"].shape
    n_pat = int(np.prod(nav_shape))
    d = BraggDisks(*(disks[n].values.reshape(n_pat, -1) for n in DISK_FIELDS))      # views
    total = disks["total_counts"].values.reshape(n_pat)
    bf = disks["bf_counts"].values.reshape(n_pat)
    radius = float(disks.attrs["probe_radius_px"])
    if cal.pixel_size_inv_nm is None and da.attrs.get("convergence_semiangle_mrad") and \
            da.attrs.get("beam_energy_keV"):
        cal = cal.with_(pixel_size_inv_nm=pixel_size_from_convergence(
            radius, convergence_semiangle_mrad=float(da.attrs["convergence_semiangle_mrad"]),
            beam_energy_keV=float(da.attrs["beam_energy_keV"])))
    scale = np.sqrt(abs(np.linalg.det(cal.matrix)))
    min_len = 2.0 * radius * scale
    note = ""
    try:
        if basis is None:   # the Bragg-vector map of ≤ 8192 patterns spread over the whole dataset
            sub = np.unique(np.linspace(0, n_pat - 1, min(n_pat, 8192)).astype(int))
            qx, qy = cal.to_reciprocal(d.y[sub], d.x[sub])
            G = auto_basis(qx, qy, d.intensity[sub], min_length=min_len)
        else:
            G = np.asarray(basis, float)
    except FitError as exc:  # no lattice anywhere: every pattern gets NaN and a reason code
        G, note = np.diag([1e6, 1e6]), str(exc)
    out = {"origin": np.empty((n_pat, 2)), "basis": np.empty((n_pat, 2, 2)), "cov_x": np.empty((n_pat, 3, 3)),
           "cov_y": np.empty((n_pat, 3, 3)), "residual": np.empty(n_pat),
           "n_disks": np.empty(n_pat, np.int16), "reason": np.empty(n_pat, np.uint8),
           "crystallinity": np.empty(n_pat)}
    if phases and cal.pixel_size_inv_nm is not None:
        # zone lattices only need reflections out to a few of their shortest vectors (every library
        # phase's reduced cell lies within 8 /nm); beyond, a large detector only adds computing time
        g_max = min(0.5 * min(da.shape[-2:]) * cal.pixel_size_inv_nm * 1.5, _G_MAX_PHASES)
        cands = candidate_lattices(None if phases is True else list(phases), g_max=g_max)
        out.update(phase=np.empty(n_pat, np.int16), phase_confidence=np.empty(n_pat),
                   lattice_parameter_nm=np.empty(n_pat), cl_fraction=np.empty(n_pat))
    with _single_thread_blas():        # stacks of 3×3 solves: BLAS threads only add overhead
        for i in range(0, n_pat, _POST_BLOCK):  # blocks of patterns bound the memory of the fits
            b = slice(i, min(n_pat, i + _POST_BLOCK))
            db = BraggDisks(*(f[b] for f in d))
            qx, qy, sig = cal.to_reciprocal(db.y, db.x, db.sigma_y, db.sigma_x)
            fit = fit_lattice(qx, qy, sig, db.intensity, G, min_disks=min_disks)
            reason, cryst = _classify(fit.reason, db, total[b], bf[b], min_disks=min_disks,
                                      vacuum_fraction=vacuum_fraction, amorphous_index=amorphous_index)
            for k, v in (("origin", fit.origin), ("basis", fit.basis), ("cov_x", fit.cov_x),
                         ("cov_y", fit.cov_y), ("residual", fit.residual), ("n_disks", fit.n_disks),
                         ("reason", reason), ("crystallinity", cryst)):
                out[k][b] = v
            if "phase" in out:
                own = pattern_basis(qx, qy, sig, db.intensity, min_length=min_len, min_disks=min_disks)
                pm = match_phases(own.basis, cands)
                crystalline = ~np.isin(reason, [REASONS["vacuum"], REASONS["amorphous"]]) & \
                    (cryst >= amorphous_index)
                out["phase"][b] = np.where(crystalline, pm.label, -1)
                out["phase_confidence"][b] = pm.confidence
                out["lattice_parameter_nm"][b] = pm.lattice_parameter_nm
                out["cl_fraction"][b] = pm.cl_fraction
                phase_names = pm.names
    out = {k: v.reshape(nav_shape + v.shape[1:]) for k, v in out.items()}
    fit = LatticeFit(out["origin"], out["basis"], out["cov_x"], out["cov_y"], out["residual"], out["n_disks"],
                     out["reason"])
    reason, cryst = out["reason"], out["crystallinity"]
    first = (0,) if "time" in nav else ()
    if isinstance(reference, str):
        if reference != "auto":
            raise InputError(f"reference must be 'auto' or a boolean mask, got {reference!r}")
        ref_mask = None if note else auto_reference_mask(fit.basis[first])
    else:
        ref_mask = np.asarray(reference, bool)
        if ref_mask.shape != fit.basis[first].shape[:-2]:
            raise InputError(f"reference mask shape {ref_mask.shape} does not match the scan "
                             f"{fit.basis[first].shape[:-2]}")
    if note:
        ref_mask = np.zeros(fit.basis[first].shape[:-2], bool)
        G0, cov0 = G, None
    else:
        G0, cov0 = reference_basis(fit.basis[first], ref_mask, cov_x=fit.cov_x[first],
                                   cov_y=fit.cov_y[first])
    st = strain_from_basis(fit.basis, G0, cov_x=fit.cov_x, cov_y=fit.cov_y, reference_cov=cov0)
    ds = xr.Dataset(coords={k: disks[k] for k in nav if k in disks.coords})
    for name in ("exx", "eyy", "exy", "theta"):
        unit = "deg" if name == "theta" else "1"
        ds[name] = (nav, getattr(st, name), {"units": unit})
        ds[name + "_std"] = (nav, getattr(st, name + "_std"),
                             {"units": unit, "long_name": f"standard uncertainty of {name}"})
    if interface_angle_deg is not None:
        for name, val in rotate_strain(st, interface_angle_deg).items():
            ds[name] = (nav, np.broadcast_to(val, reason.shape), {"units": "1"})
        ds.attrs["interface_angle_deg"] = np.asarray(interface_angle_deg, float).tolist()
    ds["reason"] = (nav, reason.astype(np.uint8), {"units": "1", "flag_values": list(REASONS.values()),
                                                   "flag_meanings": " ".join(REASONS)})
    ds["n_disks"] = (nav, fit.n_disks.astype(np.int16), {"units": "1"})
    ds["beam_qx"] = (nav, fit.origin[..., 0], {"units": cal.units, "long_name": "direct-beam position "
                                                "(descan), x, relative to the calibration centre"})
    ds["beam_qy"] = (nav, fit.origin[..., 1], {"units": cal.units, "long_name": "direct-beam position, y"})
    ds["residual"] = (nav, fit.residual, {"units": cal.units})
    ds["crystallinity"] = (nav, cryst, {"units": "1", "long_name": "Bragg / scattered intensity"})
    ref_dims = nav[1:] if first else nav
    ds["reference_mask"] = (ref_dims, ref_mask, {"units": "1"})
    if "phase" in out:
        ds["phase"] = (nav, out["phase"], {"units": "1", "phase_names": phase_names})
        ds["phase_confidence"] = (nav, out["phase_confidence"], {"units": "1"})
        ds["lattice_parameter_nm"] = (nav, out["lattice_parameter_nm"], {"units": "nm"})
        ds["cl_fraction"] = (nav, out["cl_fraction"], {"units": "1", "long_name": "Vegard Cl fraction x"})
    ds.attrs.update({k: v for k, v in disks.attrs.items() if k.startswith("probe_")})
    ds.attrs.update(note=note, probe_radius_px=radius, basis=G.tolist(), reference_basis=G0.tolist(),
                    basis_units=cal.units,
                    calibration=cal.to_attrs(), signal="map",
                    strain_convention="g = (I + eps + omega)^-T g_ref, (x, y) components, x = last axis; "
                                      "theta > 0 turns +x towards +y")
    return ds
