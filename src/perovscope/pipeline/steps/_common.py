"""Helpers shared by the science steps: reading frames, names, units, affines of binned grids."""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from ...errors import InputError

__all__ = ["read_frame", "read_lazy", "slug", "finish_dataset", "binned_affine", "upstream", "frame_of",
           "interface_names", "EMITTER"]

#: Name of the emitter layer in the session's layer list (``ctx.layers``).
EMITTER = "emitter"


def read_lazy(ctx, modality: str, index: int) -> xr.DataArray:
    """Frame ``index`` of ``modality`` with no ``time`` coordinate left over, not computed (dask-backed
    where the file reads lazily: the 4D-STEM steps stream it in chunks, see :mod:`..memory`)."""
    da = ctx.read(modality, index)
    return da.drop_vars([c for c in da.coords if c not in da.dims], errors="ignore")


def read_frame(ctx, modality: str, index: int) -> xr.DataArray:
    """Frame ``index`` of ``modality`` with no ``time`` coordinate left over (computed)."""
    return read_lazy(ctx, modality, index).compute()


def upstream(ctx, name: str, *, optional: bool = False) -> xr.Dataset | None:
    """The finished result of step ``name``, or ``None`` when optional and absent."""
    if name in ctx.upstream:
        return ctx.upstream[name]
    if optional:
        return None
    raise InputError(f"step result {name!r} is needed but was not given (run that step first)")


def frame_of(ds: xr.Dataset, index: int) -> xr.Dataset:
    """Frame ``index`` (position along ``time``) of a stacked per-frame result."""
    out = ds.isel(time=index) if "time" in ds.dims else ds
    return out.drop_vars([c for c in out.coords if c not in out.dims], errors="ignore")


def slug(name: str) -> str:
    """Column-safe name: ``"HTL/emitter"`` -> ``"htl_emitter"``, ``"LiF+AlCl3+Al"`` -> ``"lif_alcl3_al"``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def interface_names(layer_names) -> list[str]:
    """``"upper/lower"`` for every pair of neighbouring layers."""
    names = list(layer_names)
    return [f"{a}/{b}" for a, b in zip(names[:-1], names[1:], strict=True)]


def finish_dataset(ds: xr.Dataset, *, step: str, default_units: str = "1") -> xr.Dataset:
    """Give every variable a ``units`` attribute (``default_units`` when missing) and name the step."""
    for name in ds.data_vars:
        ds[name].attrs.setdefault("units", default_units)
    ds.attrs["step"] = step
    return ds


def binned_affine(matrix, factor: int) -> np.ndarray:
    """Affine of a grid binned ``factor`` x ``factor`` from the affine of the unbinned grid.

    Binned pixel ``(r, c)`` covers unbinned pixels ``factor·r … factor·r + factor - 1``; its centre is
    unbinned ``factor·r + (factor - 1)/2``.
    """
    m = np.vstack([np.asarray(matrix, float), [0.0, 0.0, 1.0]])
    b = np.array([[factor, 0.0, (factor - 1) / 2], [0.0, factor, (factor - 1) / 2], [0.0, 0.0, 1.0]])
    return (m @ b)[:2]
