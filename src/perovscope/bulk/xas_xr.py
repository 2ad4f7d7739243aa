"""Labelled XAS: μ(E) as an :class:`xarray.DataArray` in, normalisation, χ(k) and χ(R) as a Dataset out.

:func:`xas_dataset` runs :func:`perovscope.bulk.xas.normalize`, :func:`perovscope.bulk.xas_exafs.autobk`,
:func:`~perovscope.bulk.xas_exafs.xftf` and :func:`~perovscope.bulk.xas_exafs.first_shell_peak` on
every spectrum of a DataArray ``(..., energy)`` — a series over temperature, time or files — in one
batched pass, and returns the per-spectrum numbers over the leading dimensions and the curves over
``energy``, ``k`` and ``r``, every variable with ``attrs["units"]``. :func:`xas_table` flattens it into
one row per spectrum.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from .xas import normalize
from .xas_exafs import autobk, first_shell_peak, xftf

__all__ = ["xas_dataset", "xas_table"]


def xas_dataset(mu: xr.DataArray, *, dim: str = "energy", e0=None, search=None, pre_range=(-150.0, -30.0),
                post_range=(150.0, None), post_order: int = 2, rbkg: float = 1.0, bkg_kweight: float = 1.0,
                kweight: float = 2.0, k_range=(3.0, None), dk: float = 1.0, r_range=(1.0, 6.0)) -> xr.Dataset:
    """Normalise, extract χ(k) and Fourier transform every spectrum of ``mu``.

    Parameters
    ----------
    mu : xarray.DataArray
        Absorption over ``dim`` (an energy coordinate in eV) and any leading dimensions.
    dim : str
        The energy dimension.
    e0, search, pre_range, post_range, post_order
        See :func:`perovscope.bulk.xas.normalize`.
    rbkg, bkg_kweight
        See :func:`perovscope.bulk.xas_exafs.autobk` (``kweight`` there).
    kweight, k_range, dk
        Fourier transform: k-weight, window (Å⁻¹; ``None`` = end of data minus dk/2) and taper.
    r_range : (float, float)
        Where the first-shell peak of |χ(R)| is searched (Å).

    Returns
    -------
    xarray.Dataset
        Over the leading dims: ``e0``, ``edge_step``, ``pre_min``, ``pre_max``, ``post_min``,
        ``post_max`` (eV), ``r_first_shell`` (Å), ``chir_first_shell``; over ``(..., energy)``: ``mu``,
        ``norm``, ``flat``, ``pre_edge``, ``post_edge``, ``background``; over ``(..., k)``: ``chi``
        and ``chi_k2`` (χ k^kweight); over ``(..., r)``: ``chir_mag``, ``chir_re``, ``chir_im``.
    """
    if not isinstance(mu, xr.DataArray) or dim not in mu.dims:
        raise InputError(f"mu must be a DataArray with a {dim!r} dimension")
    da = mu.transpose(..., dim)
    if dim not in da.coords:
        raise InputError(f"mu has no {dim!r} coordinate; add the energies in eV")
    units = da[dim].attrs.get("units")
    nr = normalize(da[dim].values, da.values, e0=e0, pre_range=pre_range, post_range=post_range,
                   post_order=post_order, search=search, units=units)
    y = da.values if da[dim].values[0] < da[dim].values[-1] else da.values[..., ::-1]
    bk = autobk(nr.energy, y, e0=nr.e0, edge_step=nr.edge_step, rbkg=rbkg, kweight=bkg_kweight)
    kmin, kmax = k_range
    ft = xftf(bk.k, bk.chi, kweight=kweight, kmin=kmin, kmax=kmax, dk=dk)
    rpk, hpk = first_shell_peak(ft.r, ft.magnitude, rmin=max(r_range[0], rbkg), rmax=r_range[1])
    lead = da.dims[:-1]
    lc = {c: da.coords[c] for c in da.coords if set(da.coords[c].dims) <= set(lead)}
    chir_units = f"Å^-{kweight + 1:g}"

    def per(a, units, desc):
        return xr.DataArray(a, dims=lead, coords=lc, attrs={"units": units, "long_name": desc})

    def curve(a, d, axis, units, desc):
        return xr.DataArray(a, dims=lead + (d,), coords={**lc, d: axis},
                            attrs={"units": units, "long_name": desc})

    eax = (dim, nr.energy, {"units": "eV"})
    kax = ("k", bk.k, {"units": "1/Å"})
    rax = ("r", ft.r, {"units": "Å"})
    ds = xr.Dataset({
        "e0": per(nr.e0, "eV", "edge energy (derivative maximum)"),
        "edge_step": per(nr.edge_step, "1", "edge step Δμ₀"),
        "pre_min": per(nr.pre_range[..., 0], "eV", "pre-edge fit range, start"),
        "pre_max": per(nr.pre_range[..., 1], "eV", "pre-edge fit range, end"),
        "post_min": per(nr.post_range[..., 0], "eV", "post-edge fit range, start"),
        "post_max": per(nr.post_range[..., 1], "eV", "post-edge fit range, end"),
        "r_first_shell": per(rpk, "Å", "first-shell peak of |χ(R)| (not phase corrected)"),
        "chir_first_shell": per(hpk, chir_units, "|χ(R)| at the first-shell peak"),
        "mu": curve(y, dim, eax, str(da.attrs.get("units", "1")), "absorption μ(E)"),
        "norm": curve(nr.norm, dim, eax, "1", "normalised μ(E)"),
        "flat": curve(nr.flat, dim, eax, "1", "flattened normalised μ(E)"),
        "pre_edge": curve(nr.pre_edge, dim, eax, "1", "pre-edge line"),
        "post_edge": curve(nr.post_edge, dim, eax, "1", "post-edge polynomial"),
        "background": curve(bk.bkg, dim, eax, "1", "spline background μ₀(E)"),
        "chi": curve(bk.chi, "k", kax, "1", "EXAFS χ(k)"),
        "chi_kw": curve(bk.chi * bk.k**kweight, "k", kax, f"Å^-{kweight:g}", f"χ(k) k^{kweight:g}"),
        "k_window": xr.DataArray(ft.window, dims=("k",), coords={"k": kax}, attrs={"units": "1"}),
        "chir_mag": curve(ft.magnitude, "r", rax, chir_units, "|χ(R)|"),
        "chir_re": curve(ft.chir.real, "r", rax, chir_units, "Re χ(R)"),
        "chir_im": curve(ft.chir.imag, "r", rax, chir_units, "Im χ(R)"),
    })
    ds.attrs.update(rbkg=rbkg, bkg_kweight=bkg_kweight, kweight=kweight, n_spline=bk.n_spline,
                    k_min=float(kmin), k_max=float(bk.k[-1] - dk / 2 if kmax is None else kmax), dk=dk,
                    post_order=post_order, window="hanning")
    return ds


def xas_table(ds: xr.Dataset, *, label_dims=None) -> xr.Dataset:
    """One row per spectrum of :func:`xas_dataset`'s result: E₀, edge step, fit ranges, first shell."""
    cols = ("e0", "edge_step", "pre_min", "pre_max", "post_min", "post_max", "r_first_shell",
            "chir_first_shell")
    lead = ds["e0"].dims
    flat = ds[list(cols)].stack(row=lead) if lead else ds[list(cols)].expand_dims(row=[0])
    flat = flat.reset_index("row", drop=True) if lead else flat
    out = xr.Dataset({c: ("row", np.asarray(flat[c].values).reshape(-1), {"units": ds[c].attrs["units"]})
                      for c in cols})
    return out.assign_coords(row=np.arange(out.sizes["row"]))
