"""Labelled (xarray) wrappers: CL peak maps, EELS background removal and edge maps, EDX quantification.

Each wrapper takes a spectrum image ``DataArray`` with a spectral dimension (``energy`` in eV or
``wavelength`` in nm) as its last core dimension and any leading dimensions (``time``, ``y``, ``x``,
``scan_y``, ...). The core array functions run block by block through ``dask`` (the spectral axis is
kept whole, pixels are chunked), so memory is bounded by the chunk size; numpy input gives numpy
output, dask input stays lazy.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from ..calibrations import required_attr
from ..errors import InputError
from ._common import spectral_dim, window_slice
from ._powerlaw_eval import single_thread_blas, subtract_power_law
from .cl import fit_gaussian
from .edx import edx_model, fit_edx
from .eels import edge_signal, power_law_background, zero_loss_centre
from .quantification import cliff_lorimer

__all__ = ["cl_peak_map", "eels_background_map", "eels_edge_map", "edx_quantify_map",
           "zero_loss_map", "eels_normalise_map", "PIXELS_PER_BLOCK"]

#: Pixels per block for eager inputs (bounds memory of the batched Jacobians).
PIXELS_PER_BLOCK = 1024


def _is_lazy(da) -> bool:
    return hasattr(da.data, "dask")


def _prepare(da, spec):
    """Put the spectral axis last; for dask input rechunk to blocks of about ``PIXELS_PER_BLOCK``
    pixels with the whole spectral axis (bounded memory, and few enough blocks that per-block
    overhead does not dominate)."""
    lead = [d for d in da.dims if d != spec]
    da = da.transpose(*lead, spec)
    if not _is_lazy(da):
        return da, False
    chunks, budget = {spec: -1}, PIXELS_PER_BLOCK
    for d in reversed(lead):  # fill the fastest dims first
        chunks[d] = max(1, min(da.sizes[d], budget))
        budget = max(1, budget // da.sizes[d]) if chunks[d] == da.sizes[d] else 1
    return da.chunk(chunks), True


def _apply(func, da, spec, out_dims, out_sizes, lazy, exclude=(), dtype=float):
    """Run ``func`` (block (..., n) -> (..., *out_sizes)) over all pixels of ``da``.

    Lazy input: ``xarray.apply_ufunc(dask="parallelized")`` block by block. Eager input: the same
    function on numpy blocks of ``PIXELS_PER_BLOCK`` pixels in a loop over blocks (no graph overhead).
    """
    def flat(block):  # every core sees (pixels, n) and returns (pixels, ...)
        block = np.asarray(block)
        out = func(block.reshape(-1, block.shape[-1]))
        return out.reshape(block.shape[:-1] + out.shape[1:])

    if lazy:
        return xr.apply_ufunc(flat, da, input_core_dims=[[spec]], output_core_dims=[out_dims],
                              exclude_dims=set(exclude), dask="parallelized", output_dtypes=[dtype],
                              dask_gufunc_kwargs={"output_sizes": out_sizes, "allow_rechunk": False})
    arr = np.asarray(da.data)
    lead = arr.shape[:-1]
    flat = arr.reshape(-1, arr.shape[-1])
    starts = range(0, max(flat.shape[0], 1), PIXELS_PER_BLOCK)
    if len(starts) > 1:  # blocks on threads: numpy releases the GIL in the heavy array work
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(starts), os.cpu_count() or 1)) as pool:
            parts = list(pool.map(lambda i: func(flat[i:i + PIXELS_PER_BLOCK]), starts))
    else:
        parts = [func(flat)]
    out = np.concatenate(parts, axis=0).reshape(lead + tuple(out_sizes[d] for d in out_dims))
    dims = [d for d in da.dims if d != spec] + list(out_dims)
    return xr.DataArray(out, dims=dims, coords=_spatial_coords(da, spec))


def _count_flags(ds):
    """For eager results: pixel counts per flag in attrs (lazy results are counted after compute)."""
    flag = ds["flag"]
    if not _is_lazy(flag):
        values = np.asarray(flag.values)
        ds.attrs.update(n_pixels=int(values.size), n_masked=int(np.sum(values == 3)),
                        n_failed=int(np.sum(values == 2)), n_iteration_limit=int(np.sum(values == 1)))
    return ds


def _spatial_coords(da, spec):
    return {k: v for k, v in da.coords.items() if spec not in v.dims}


_CL_FIELDS = ("centre", "sigma", "fwhm", "amplitude", "intensity", "centre_std", "sigma_std",
              "fwhm_std", "amplitude_std", "intensity_std")


def cl_peak_map(da: xr.DataArray, *, n_components: int = 1, window=None, poisson: bool = False,
                max_iter: int = 60) -> xr.Dataset:
    """Per-pixel Gaussian fit of a CL/PL spectrum image (see :func:`~.cl.fit_gaussian`).

    Returns
    -------
    xarray.Dataset
        ``centre, sigma, fwhm, amplitude, intensity`` and their ``*_std`` in the spectral unit of
        ``da`` (a ``component`` dimension is added only when ``n_components == 2``), ``offset``,
        ``flag`` (0 ok, 1 iteration limit, 2 failed, 3 masked input, 4 no peak).

    References
    ----------
    CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
    doi:10.1038/s41467-023-43247-6 (STEM-CL Gaussian maps of CsPbI₃ particles).
    """
    spec = spectral_dim(da)
    da, lazy = _prepare(da, spec)
    x = np.asarray(da[spec].values, dtype=float)
    if window is not None:
        window_slice(x, window, name="window")
    k = n_components
    nf = len(_CL_FIELDS) * k + 3

    def core(block):
        f = fit_gaussian(block, x, n_components=k, window=window, poisson=poisson, max_iter=max_iter)
        parts = [getattr(f, name) for name in _CL_FIELDS]
        parts += [f.offset[..., None], f.flag[..., None].astype(float), f.cost[..., None]]
        return np.concatenate(parts, axis=-1)

    out = _apply(core, da, spec, ["_field"], {"_field": nf}, lazy)
    unit = da[spec].attrs.get("units", "nm" if spec == "wavelength" else "eV")
    iunit = f"{da.attrs.get('units', 'counts')} {unit}"
    units = {"centre": unit, "sigma": unit, "fwhm": unit, "amplitude": da.attrs.get("units", "counts"),
             "intensity": iunit}
    ds = xr.Dataset(coords=_spatial_coords(da, spec))
    for i, name in enumerate(_CL_FIELDS):
        v = out.isel(_field=slice(i * k, (i + 1) * k)).rename(_field="component")
        v = v.isel(component=0, drop=True) if k == 1 else v
        ds[name] = v.assign_attrs(units=units[name.removesuffix("_std")])
    base = len(_CL_FIELDS) * k
    ds["offset"] = out.isel(_field=base, drop=True).assign_attrs(units=da.attrs.get("units", "counts"))
    ds["flag"] = out.isel(_field=base + 1, drop=True).astype(np.int8).assign_attrs(
        units="1", description="0 ok, 1 iteration limit, 2 failed, 3 masked input, 4 no peak")
    ds["cost"] = out.isel(_field=base + 2, drop=True).assign_attrs(units="chi2")
    ds.attrs.update(signal="cl", spectral_dim=spec, model=f"{k} Gaussian(s) + offset")
    return _count_flags(ds)


def eels_background_map(da: xr.DataArray, *, window, poisson: bool = False, crop: bool = True
                        ) -> xr.Dataset:
    """Power-law background fitted in ``window`` (eV) and subtracted from every spectrum.

    Returns
    -------
    xarray.Dataset
        ``background_subtracted`` (on the energy axis from the window start when ``crop``),
        ``power_law_A``, ``power_law_r`` (+ ``*_std``), ``flag``.

    References
    ----------
    Egerton (2011) §4.4; CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering,
    Nat. Commun. 14 (2023), doi:10.1038/s41467-023-43247-6 (580–620 eV window before I M4,5, crop from
    580 eV).
    """
    spec = spectral_dim(da)
    da, lazy = _prepare(da, spec)
    e = np.asarray(da[spec].values, dtype=float)
    sl = window_slice(e, window, name="window")
    start = sl.start if crop else 0
    e_out = e[start:]

    n_out = e_out.size
    # float32 spectra stay float32 (half the bytes to write); float64 stays float64
    out_dtype = np.result_type(da.dtype, np.float32)
    # background exp(ln B0 - r ln(E/E_start)): a rank-K expansion evaluated by one matrix product
    log_rel = np.log(e_out / e_out[0])
    log_e0 = float(np.log(e_out[0]))

    def fit_fields(block):
        f = power_law_background(block, e, window=window, poisson=poisson)
        return np.stack([f.A, f.r, f.A_std, f.r_std, f.flag.astype(float)], axis=-1)

    def subtract_into(out, block, amp, expo, limit_blas=True):
        with np.errstate(invalid="ignore", divide="ignore"):
            ln_b0 = np.log(amp) - expo * log_e0
        subtract_power_law(out, block[:, start:], ln_b0, expo, log_rel, limit_blas=limit_blas)

    if not lazy:  # fit and subtract block by block (cache-friendly), straight into the outputs
        arr = np.asarray(da.data)
        flat = arr.reshape(-1, arr.shape[-1])
        fields = np.empty((flat.shape[0], 5))
        sub_flat = np.empty((flat.shape[0], n_out), dtype=out_dtype)

        def run(i):
            sl_px = slice(i, i + PIXELS_PER_BLOCK)
            fields[sl_px] = fit_fields(flat[sl_px])
            subtract_into(sub_flat[sl_px], flat[sl_px], fields[sl_px, 0], fields[sl_px, 1],
                          limit_blas=False)

        starts = range(0, max(flat.shape[0], 1), PIXELS_PER_BLOCK)
        with single_thread_blas():  # we thread over blocks: no nested BLAS threads
            if len(starts) > 1:  # numpy releases the GIL in the heavy array work
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=min(len(starts), os.cpu_count() or 1)) as pool:
                    list(pool.map(run, starts))
            else:
                run(0)
        fit_data = fields.reshape(arr.shape[:-1] + (5,))
        sub_data = sub_flat.reshape(arr.shape[:-1] + (n_out,))
    else:
        def core_sub(block, amp, expo):
            lead = block.shape[:-1]
            out = np.empty((int(np.prod(lead)), n_out), dtype=out_dtype)
            subtract_into(out, block.reshape(-1, block.shape[-1]), amp.reshape(-1), expo.reshape(-1))
            return out.reshape(lead + (n_out,))

        fit = _apply(fit_fields, da, spec, ["_field"], {"_field": 5}, lazy)
        sub = xr.apply_ufunc(core_sub, da, fit.isel(_field=0, drop=True),
                             fit.isel(_field=1, drop=True), input_core_dims=[[spec], [], []],
                             output_core_dims=[["_e_out"]], dask="parallelized",
                             output_dtypes=[out_dtype], dask_gufunc_kwargs={"output_sizes": {
                                 "_e_out": n_out}})
        fit_data, sub_data = fit.data, sub.data
    # one Dataset construction (no per-variable alignment)
    lead_dims = tuple(d for d in da.dims if d != spec)
    units = da.attrs.get("units", "counts")
    a_units = f"{units} eV^r"
    coords = dict(_spatial_coords(da, spec))
    coords[spec] = xr.Variable(spec, e_out, dict(da[spec].attrs))
    ds = xr.Dataset({
        "background_subtracted": (lead_dims + (spec,), sub_data, {
            "units": units, "signal": "eels", "description": "counts minus power-law background"}),
        "power_law_A": (lead_dims, fit_data[..., 0], {"units": a_units,
                                                      "description": "A in A*E^-r, E in eV"}),
        "power_law_r": (lead_dims, fit_data[..., 1], {"units": "1"}),
        "power_law_A_std": (lead_dims, fit_data[..., 2], {"units": a_units}),
        "power_law_r_std": (lead_dims, fit_data[..., 3], {"units": "1"}),
        "flag": (lead_dims, fit_data[..., 4].astype(np.int8), {
            "units": "1", "description": "0 ok, 1 iteration limit, 2 failed, 3 masked input"}),
    }, coords=coords)
    ds.attrs.update(signal="eels", background_window_eV=[float(v) for v in window],
                    model="power law A*E^-r", fit="poisson-ml" if poisson else "least-squares")
    return _count_flags(ds)


def eels_edge_map(da: xr.DataArray, *, edges, background_window, width: float = 50.0,
                  poisson: bool = False) -> xr.DataArray:
    """Background-subtracted integrated edge counts per pixel, with an ``edge`` dimension.

    ``edges`` are names (``"I_M45"``) or ``(start, end)`` windows in eV; see
    :func:`~.eels.edge_signal`.
    """
    spec = spectral_dim(da)
    da, lazy = _prepare(da, spec)
    e = np.asarray(da[spec].values, dtype=float)
    edges = list(edges)
    edge_signal(np.ones((1, e.size)), e, edges=edges, background_window=background_window,
                width=width)  # validates the windows before any lazy work

    def core(block):
        return edge_signal(block, e, edges=edges, background_window=background_window, width=width,
                           poisson=poisson)[0]

    out = _apply(core, da, spec, ["edge"], {"edge": len(edges)}, lazy)
    labels = [e if isinstance(e, str) else f"{e[0]:g}-{e[1]:g} eV" for e in edges]
    return out.assign_coords(edge=labels).assign_attrs(
        units=da.attrs.get("units", "counts"), signal="element_map",
        description="background-subtracted integrated edge counts")


def eels_normalise_map(da: xr.DataArray, *, start: float | None = None, end: float | None = None
                       ) -> xr.DataArray:
    """Divide every spectrum by its integrated core-loss intensity between ``start`` and ``end`` (eV).

    Removes pixel-to-pixel changes of the total inelastic scattering (thickness, current) before
    comparing spectra, as in the CsPbI₃/ZIF-62 study (Nat. Commun. 2023; spectra normalised by the
    total integrated core-loss intensity). Pixels with a non-positive integral become NaN. Lazy input
    stays lazy.
    """
    spec = spectral_dim(da)
    e = np.asarray(da[spec].values, dtype=float)
    lo = float(e.min()) if start is None else start
    hi = float(e.max()) if end is None else end
    sl = window_slice(e, (lo, hi), name="start/end")
    total = da.isel({spec: sl}).sum(spec)
    out = (da / total.where(total > 0)).assign_attrs(da.attrs)
    out.attrs.update(units="1/channel", description=f"normalised by the counts in {lo:g}-{hi:g} eV")
    return out


def zero_loss_map(da: xr.DataArray, *, window=(-10.0, 10.0), tolerance_eV: float | None = None
                  ) -> xr.DataArray:
    """Zero-loss-peak centre (eV) of every low-loss spectrum, with a centring verdict in attrs.

    ``attrs["centred"]`` is True when every finite centre lies within ``tolerance_eV`` of 0
    (default: one channel), ``attrs["max_offset_eV"]`` the largest offset (computed eagerly only
    for numpy input). Shift the energy axis (or realign per pixel) before core-loss analysis when
    it is not centred (Nat. Commun. 2023, CsPbI₃/ZIF-62, checked ZLP centring at 0 eV first).
    """
    spec = spectral_dim(da)
    da, lazy = _prepare(da, spec)
    e = np.asarray(da[spec].values, dtype=float)
    window_slice(e, window, name="window")
    tol = float(abs(e[1] - e[0])) if tolerance_eV is None else float(tolerance_eV)

    def core(block):
        return zero_loss_centre(block, e, window=window)[:, None]

    out = _apply(core, da, spec, ["_f"], {"_f": 1}, lazy).isel(_f=0, drop=True)
    out = out.assign_attrs(units="eV", description="zero-loss peak centre", tolerance_eV=tol)
    if not lazy:
        off = float(np.nanmax(np.abs(out.values))) if np.isfinite(out.values).any() else np.nan
        out.attrs.update(max_offset_eV=off, centred=bool(off <= tol))
    return out


def edx_quantify_map(da: xr.DataArray, elements, *, beam_energy_keV: float | None = None,
                     k_factors=None, fwhm_mn_ka: float = 130.0, background: str = "kramers",
                     poisson: bool = False, fit_range=None, quantify=None) -> xr.Dataset:
    """Fit every EDX spectrum (line families + background) and quantify with Cliff–Lorimer.

    ``elements`` are all fitted (list every element whose lines are present, so that overlaps are
    modelled); ``quantify`` (default: all of them) are the elements normalised to 100 at.% —
    e.g. only the cations and halides of the emitter, leaving out C or Cu from the support. The
    atomic/weight percent of the other elements are NaN.

    Returns
    -------
    xarray.Dataset
        ``net_counts`` and ``net_counts_std`` (counts), ``atomic_percent`` and ``weight_percent``, all
        with an ``element`` dimension; attrs list the quantification lines and k-factors used.

    References
    ----------
    Goldstein et al. (2018) ch. 16; Cliff & Lorimer (1975).
    """
    spec = spectral_dim(da)
    da, lazy = _prepare(da, spec)
    e = np.asarray(da[spec].values, dtype=float)
    kv = required_attr(da, "beam_energy_keV", given=beam_energy_keV,
                       option="--beam-energy-keV KV (beam_energy_keV= in Python)")
    elements = list(elements)
    model = edx_model(e, elements, beam_energy_keV=kv, fwhm_mn_ka=fwhm_mn_ka,
                      background=background, fit_range=fit_range)
    fams = [model.families[c] for c in model.quant_columns]
    n = len(elements)
    quantify = list(elements) if quantify is None else list(quantify)
    missing = [el for el in quantify if el not in elements]
    if missing or not quantify:
        raise InputError(f"quantify={quantify!r}: must be a non-empty subset of elements {elements}")
    qidx = [elements.index(el) for el in quantify]
    qfams = [fams[i] for i in qidx]

    def core(block):
        f = fit_edx(block, e, elements, model=model, poisson=poisson)
        return np.concatenate([f.net_counts, f.net_counts_std], axis=-1)

    out = _apply(core, da, spec, ["_field"], {"_field": 2 * n}, lazy)
    net = out.isel(_field=slice(0, n)).rename(_field="element").assign_coords(element=elements)
    net_sd = out.isel(_field=slice(n, 2 * n)).rename(_field="element").assign_coords(
        element=elements)
    q0 = cliff_lorimer(np.ones((1, len(quantify))), quantify, families=qfams, k_factors=k_factors,
                       beam_energy_keV=kv)

    def quant(block):
        q = cliff_lorimer(block[..., qidx], quantify, families=qfams, k_factors=q0.k_factors,
                          beam_energy_keV=kv)
        at = np.full(block.shape, np.nan)
        wt = np.full(block.shape, np.nan)
        at[..., qidx] = q.atomic_percent
        wt[..., qidx] = q.weight_percent
        return np.concatenate([at, wt], axis=-1)

    qa = xr.apply_ufunc(quant, net, input_core_dims=[["element"]], output_core_dims=[["_q"]],
                        dask="parallelized", output_dtypes=[float],
                        dask_gufunc_kwargs={"output_sizes": {"_q": 2 * n}})
    at = qa.isel(_q=slice(0, n)).rename(_q="element").assign_coords(element=elements)
    wt = qa.isel(_q=slice(n, 2 * n)).rename(_q="element").assign_coords(element=elements)
    ds = xr.Dataset({
        "net_counts": net.assign_attrs(units="counts"),
        "net_counts_std": net_sd.assign_attrs(units="counts"),
        "atomic_percent": at.assign_attrs(units="at.%"),
        "weight_percent": wt.assign_attrs(units="wt.%"),
    })
    ds["element"].attrs["units"] = "1"
    ds.attrs.update(signal="eds", beam_energy_keV=kv, quant_lines=list(model.quant_lines),
                    k_factors=dict(q0.k_factors), quantified=quantify, background=background,
                    fwhm_mn_ka=fwhm_mn_ka,
                    method="Cliff-Lorimer, thin foil")
    return ds
