"""Adapters between perovscope DataArrays and HyperSpy signals (HyperSpy is optional).

HyperSpy orders axes as navigation then signal, like perovscope's canonical dims, so the data are
passed without copying. Signal axes are the trailing ones: the detector plane ``(ky, kx)`` for 4D-STEM,
the spectral axis for spectra and spectrum images, and ``(y, x)`` for images. Uniform coordinates
become ``scale``/``offset`` axes; non-uniform ones become HyperSpy ``DataAxis`` arrays.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from .. import dims
from ..errors import InputError

__all__ = ["to_hyperspy", "from_hyperspy"]

_SIGNAL_TYPES = {"eds": "EDS_TEM", "eels": "EELS", "cl": "CL", "pl": "PL", "4dstem": "electron_diffraction"}
_SIGNAL_DIMS_1D = (dims.ENERGY, dims.WAVELENGTH, dims.TWO_THETA)


def _require_hyperspy():
    try:
        import hyperspy.api as hs
    except ImportError as exc:
        raise InputError("HyperSpy is not installed; install the 'bench' extra "
                         "(pip install 'perovscope[bench]') to convert to/from HyperSpy") from exc
    return hs


def _signal_dims(da: xr.DataArray) -> list[str]:
    if dims.ELEMENT in da.dims and dims.Y in da.dims and dims.X in da.dims:
        return [dims.Y, dims.X]  # element maps: a stack of images navigated by element
    if da.dims and da.dims[-1] in _SIGNAL_DIMS_1D:
        return [da.dims[-1]]
    if dims.KY in da.dims and dims.KX in da.dims:
        return [dims.KY, dims.KX]
    if da.ndim >= 2 and da.dims[-2:] == (dims.Y, dims.X):
        return [dims.Y, dims.X]
    return list(da.dims[-1:])


def _axis_dict(da: xr.DataArray, dim: str, navigate: bool) -> dict:
    numeric = dim in da.coords and np.asarray(da[dim].values).dtype.kind in "fiu"
    values = np.asarray(da[dim].values, dtype=float) if numeric else np.arange(da.sizes[dim], dtype=float)
    units = str(da[dim].attrs.get("units", "")) if numeric else ""
    out = {"name": dim, "units": "" if units == "px" else units, "navigate": navigate, "size": values.size}
    steps = np.diff(values)
    if values.size < 2 or np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        out["offset"] = float(values[0])
        out["scale"] = float(steps[0]) if values.size > 1 else 1.0
    else:
        out["axis"] = values
    return out


def to_hyperspy(da: xr.DataArray):
    """A HyperSpy signal sharing ``da``'s data (lazy signal when ``da`` is dask-backed).

    Parameters
    ----------
    da : xarray.DataArray
        A perovscope signal (canonical dims).

    Returns
    -------
    hyperspy.signal.BaseSignal
        With axes named after the dims, units in calibrated units, ``metadata.General.title`` and
        ``metadata.Signal.signal_type`` set from ``attrs``; the perovscope attributes are kept under
        ``original_metadata.perovscope``.
    """
    hs = _require_hyperspy()
    if not isinstance(da, xr.DataArray):
        raise InputError(f"to_hyperspy: expected an xarray.DataArray, got {type(da).__name__}")
    sig = _signal_dims(da)
    nav = [d for d in da.dims if d not in sig]
    da = da.transpose(*nav, *sig)
    axes = [_axis_dict(da, d, d in nav) for d in da.dims]
    kind = da.attrs.get("signal", "")
    attrs = {k: v for k, v in da.attrs.items() if k != "original_metadata"}
    metadata = {"General": {"title": str(da.attrs.get("title", da.name or ""))},
                "Signal": {"signal_type": _SIGNAL_TYPES.get(kind, "")}}
    if "beam_energy_keV" in da.attrs:
        metadata["Acquisition_instrument"] = {"TEM": {"beam_energy": da.attrs["beam_energy_keV"]}}
    original = {"perovscope": json.loads(json.dumps(attrs, default=str))}
    import dask.array as dsa

    lazy = isinstance(da.data, dsa.Array)
    signal = hs.signals.BaseSignal(da.data, axes=axes, metadata=metadata, original_metadata=original)
    signal = signal.transpose(signal_axes=len(sig))
    if lazy:
        signal = signal.as_lazy()
    if signal.metadata.Signal.signal_type:
        try:
            signal.set_signal_type(signal.metadata.Signal.signal_type)
        except Exception:  # noqa: BLE001, S110 - the extension package (exspy, pyxem) may be absent
            pass
    return signal


def from_hyperspy(signal) -> xr.DataArray:
    """A perovscope DataArray from a HyperSpy signal, through the same conversion as :func:`read`.

    The signal is passed as a RosettaSciIO-style dict (data, axes, metadata, original metadata) to the
    reader's converter, so dims, units and attributes follow the data model exactly as for files.
    """
    from ._signals import signal_to_dataarray

    if not hasattr(signal, "axes_manager") or not hasattr(signal, "data"):
        raise InputError(f"from_hyperspy: expected a HyperSpy signal, got {type(signal).__name__}")
    axes = []
    for i, ax in enumerate(signal.axes_manager._axes):
        entry = {"name": ax.name if isinstance(ax.name, str) else "", "units": ax.units
                 if isinstance(ax.units, str) else "", "size": ax.size, "navigate": ax.navigate,
                 "index_in_array": i}
        if getattr(ax, "is_uniform", True):
            entry.update(scale=ax.scale, offset=ax.offset)
        else:
            entry["axis"] = np.asarray(ax.axis)
        axes.append(entry)
    md = signal.metadata.as_dictionary()
    om = signal.original_metadata.as_dictionary()
    pv = om.get("perovscope", {})
    default = pv.get("signal") if isinstance(pv, dict) else None
    da = signal_to_dataarray({"data": signal.data, "axes": axes, "metadata": md, "original_metadata": om},
                             fmt="hyperspy", source=str(md.get("General", {}).get("original_filename", "")),
                             default_kind=default)
    return da
