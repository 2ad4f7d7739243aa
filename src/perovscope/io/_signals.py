"""Convert RosettaSciIO signal dicts into perovscope's data model.

Each RosettaSciIO reader returns a list of plain dicts (``data``, ``axes``, ``metadata``,
``original_metadata``). Here each becomes one :class:`xarray.DataArray` whose dimensions are the
canonical names of :mod:`perovscope.dims`, chosen from the signal kind and each axis's name and unit,
whose coordinates are in canonical units (nm, 1/nm, eV, s), and whose attributes carry the normalised
acquisition metadata plus the original metadata as a JSON string. Several signals become an
:class:`xarray.DataTree` with one node per signal, named by kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .. import dims
from ..errors import FormatError
from ._lazy import guard_lazy
from ._metadata import ELEMENT_SYMBOLS, normalise_metadata, signal_quantity_units
from ._units import canonical_unit, dumps_json, is_uncalibrated

__all__ = ["signal_to_dataarray", "assemble"]

_SPECTRAL = (dims.ENERGY, dims.WAVELENGTH, dims.TWO_THETA)


@dataclass
class _Axis:
    name: str
    units: str
    size: int
    navigate: bool
    values: np.ndarray  # in the file's units
    dim: str | None = None


def _axis_from_dict(ax: dict, size: int, source: str) -> _Axis:
    name = str(ax.get("name") or "")
    units = "" if ax.get("units") is None else str(ax.get("units"))
    navigate = bool(ax.get("navigate", False))
    try:
        if ax.get("axis") is not None:
            values = np.asarray(ax["axis"], dtype=float).ravel()
        else:
            scale = float(ax.get("scale", 1.0) if ax.get("scale") is not None else 1.0)
            offset = float(ax.get("offset", 0.0) if ax.get("offset") is not None else 0.0)
            values = offset + scale * np.arange(size, dtype=float)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{source}: the calibration of axis {name!r} is not numeric ({exc}); the file "
                          "is corrupt") from exc
    if values.size != size:
        raise FormatError(f"{source}: axis {name!r} has {values.size} values for {size} data points; "
                          "the file is corrupt")
    return _Axis(name, units, size, navigate, values)


#: Titles of element maps: a symbol, optionally followed by a line or the technique ("Fe", "Fe-EELS",
#: "Fe K", "Cu_Ka", "Ti L2,3").
_ELEMENT_TITLE = re.compile(r"^\s*([A-Z][a-z]?)(?:[\s_\-]+(EELS|EDS|EDX|[KLMN](?:a|b|\d(?:,?\d)?)?))?\s*$",
                            re.IGNORECASE)


def element_map_title(title: str) -> tuple[str, str] | None:
    """``(symbol, technique)`` when ``title`` names an element map (``"Fe-EELS"`` → ``("Fe", "eels")``),
    else None. The technique is ``"eels"`` for EELS maps and ``"eds"`` otherwise."""
    m = _ELEMENT_TITLE.match(title or "")
    if m is None:
        return None
    symbol = m.group(1)[0].upper() + m.group(1)[1:].lower()
    if symbol not in ELEMENT_SYMBOLS or (m.group(1) != symbol and m.group(2) is None):
        return None
    return symbol, "eels" if (m.group(2) or "").upper() == "EELS" else "eds"


def _classify(ax: _Axis) -> str | None:
    """Spectral or time dimension from an axis name/unit; None for spatial (or unknown) axes."""
    name, unit = ax.name.lower(), canonical_unit(ax.units)[0]
    if unit == "eV" or "energy" in name:
        return dims.ENERGY
    if "wavelength" in name:
        return dims.WAVELENGTH
    if "theta" in name or "2θ" in name:
        return dims.TWO_THETA
    if unit == "s" or name in ("time", "frame", "frames"):
        return dims.TIME
    return None


def _signal_kind(signal_type: str, title: str, spectral: dict, n_sig: int, n_nav: int,
                 default: str | None) -> str:
    st = signal_type.lower()
    if "eds" in st or "edx" in st:
        return "eds"
    if "eels" in st:
        return "eels"
    if st.startswith("cl"):
        return "cl"
    if "luminescence" in st:  # LumiSpy's generic type: the format's default (pl for LabSpec) decides
        return default if default in ("cl", "pl") else "cl"
    if st == "pl":
        return "pl"
    if "diffraction" in st and n_sig == 2 and n_nav >= 1:
        return "4dstem"
    if dims.ENERGY in spectral:
        ax = spectral[dims.ENERGY]
        if "x-ray" in ax.name.lower() or ax.units.lower() == "kev":
            return "eds"
        if "loss" in ax.name.lower():
            return "eels"
        return default or "spectrum"
    if dims.WAVELENGTH in spectral:
        return default or "cl"
    if dims.TWO_THETA in spectral:
        return "xrd"
    if n_sig == 2 and n_nav >= 2:
        return "4dstem"
    if default:
        return default
    upper = title.upper()
    if "HAADF" in upper:
        return "haadf"
    if re.search(r"\bADF|\bDF\d|\bDF\b", upper):
        return "adf"
    if re.search(r"\bBF\b|\bABF\b", upper):
        return "bf"
    if re.search(r"BSE|\bASB\b|BSD", upper):
        return "bse"
    if re.search(r"\bSE\b|\bSEI\b", upper):
        return "sem"
    if element_map_title(title) is not None and n_sig + n_nav == 2:
        return "element_map"
    if n_sig + n_nav == 1:
        return "line_profile"
    return "image"


def _spatial_names(n: int, leading: tuple[str, ...]) -> list[str]:
    """Names for ``n`` spatial axes whose last ones are ``leading``; extra leading axes -> time."""
    if n == 0:
        return []
    names = list(leading[-n:]) if n <= len(leading) else list(leading)
    extra = n - len(names)
    prefix = [dims.TIME] + [f"axis_{i}" for i in range(1, extra)] if extra > 0 else []
    return prefix + names


def _drop_axis(data, index: int):
    key = tuple(0 if i == index else slice(None) for i in range(data.ndim))
    return data[key]


def signal_to_dataarray(signal: dict, *, fmt: str, source: str, default_kind: str | None = None
                        ) -> xr.DataArray:
    """One RosettaSciIO signal dict -> a labelled DataArray in canonical dims and units."""
    data = signal["data"]
    raw_axes = list(signal.get("axes") or [])
    if len(raw_axes) != data.ndim:
        raise FormatError(f"{source}: {len(raw_axes)} axes described for data of shape {data.shape}")
    if any(int(s) == 0 for s in data.shape):
        raise FormatError(f"{source}: the file holds an empty array of shape {data.shape}")
    order = sorted(range(len(raw_axes)), key=lambda i: raw_axes[i].get("index_in_array", i))
    axes = [_axis_from_dict(raw_axes[i], int(data.shape[k]), source) for k, i in enumerate(order)]
    # size-1 axes without calibration carry no information (e.g. a 1x2048 "spectrum image")
    for i in reversed(range(len(axes))):
        if axes[i].size == 1 and is_uncalibrated(axes[i].units) and len(axes) > 1:
            data = _drop_axis(data, i)
            del axes[i]
    data = guard_lazy(data, source)
    for ax in axes:
        ax.dim = _classify(ax)
    spectral = {ax.dim: ax for ax in axes if ax.dim in _SPECTRAL}
    spatial = [ax for ax in axes if ax.dim is None]
    n_sig = sum(not ax.navigate for ax in spatial)
    n_nav = len(spatial) - n_sig
    meta_md = signal.get("metadata") or {}
    signal_type = str((meta_md.get("Signal") or {}).get("signal_type") or "")
    title = str((meta_md.get("General") or {}).get("title") or "")
    kind = _signal_kind(signal_type, title, spectral, n_sig, n_nav, default_kind)
    if kind == "4dstem":
        nav = [ax for ax in spatial if ax.navigate]
        sig = [ax for ax in spatial if not ax.navigate]
        for ax, name in zip(nav, _spatial_names(len(nav), (dims.SCAN_Y, dims.SCAN_X)), strict=True):
            ax.dim = name
        for ax, name in zip(sig, _spatial_names(len(sig), (dims.KY, dims.KX)), strict=True):
            ax.dim = name
    else:
        for ax, name in zip(spatial, _spatial_names(len(spatial), (dims.Y, dims.X)), strict=True):
            ax.dim = name
    seen = {}
    for ax in axes:  # guarantee unique names even for odd files (two energy axes, ...)
        if ax.dim in seen:
            seen[ax.dim] += 1
            ax.dim = f"{ax.dim}_{seen[ax.dim]}"
        else:
            seen[ax.dim] = 0
    coords = {}
    for ax in axes:
        unit, factor = canonical_unit(ax.units)
        if unit == "px":
            values = np.arange(ax.size, dtype=float)
        else:
            values = ax.values * factor
        if ax.dim == dims.TIME and unit == "px":
            unit = "frame"
        # a pandas index is taken as is (xarray would otherwise probe optional array libraries)
        coords[ax.dim] = xr.Variable(ax.dim, pd.Index(values), attrs={"units": unit,
                                                                      "long_name": ax.name or ax.dim})
    is_map = len(spatial) > 0 and bool(spectral)
    meta, mapped = normalise_metadata(signal, fmt=fmt, kind=kind, is_map=is_map)
    attrs = {"signal": kind, "units": signal_quantity_units(mapped, data.dtype), "source_file": source,
             "format": fmt}
    attrs.update(meta)
    if kind == "element_map":
        attrs["element"], attrs["technique"] = element_map_title(title)
    # formats that keep no original tags (hspy re-saves) carry their metadata tree instead
    attrs["original_metadata"] = dumps_json(signal.get("original_metadata") or mapped)
    da = xr.DataArray(data, dims=[ax.dim for ax in axes], coords=coords, attrs=attrs, name=kind)
    order_dims = [d for d in da.dims if d not in dims.CANONICAL_DIMS] + \
        [d for d in dims.CANONICAL_DIMS if d in da.dims]
    return da.transpose(*order_dims)


def _stack_element_maps(maps: list[xr.DataArray]) -> xr.DataArray | None:
    """Element maps of one technique and shape stacked along ``element`` (None if shapes differ)."""
    first = maps[0]
    if any(m.shape != first.shape or m.dims != first.dims for m in maps):
        return None
    titles = [str(m.attrs.get("title", "")) for m in maps]
    symbols = [str(m.attrs.get("element") or t) for m, t in zip(maps, titles, strict=True)]
    if len(set(symbols)) < len(symbols):  # the same element twice (two lines): label by title
        symbols = titles
    bare = []
    for m in maps:
        m = m.copy(deep=False)
        m.attrs = {}
        bare.append(m)
    stacked = xr.concat(bare, dim=dims.ELEMENT, coords="minimal", compat="override", join="override")
    element = xr.Variable(dims.ELEMENT, symbols, attrs={"units": "symbol", "long_name": "element"})
    stacked = stacked.assign_coords({dims.ELEMENT: element}).transpose(..., dims.ELEMENT)
    stacked.attrs = {k: v for k, v in first.attrs.items() if k != "element"}
    stacked.attrs["title"] = f"{first.attrs.get('technique', 'eds').upper()} element maps"
    stacked.attrs["titles"] = titles
    stacked.attrs["elements"] = symbols
    stacked.name = "element_map"
    return stacked


def _group_element_maps(arrays: list[xr.DataArray]) -> list[xr.DataArray]:
    """Stack the element maps of each technique (EDS, EDX or EELS) and shape; copy the EDS element
    list to the EDS spectrum images that lack one."""
    groups: dict[tuple, list[xr.DataArray]] = {}
    for a in arrays:
        if a.attrs.get("signal") == "element_map":
            groups.setdefault((a.attrs.get("technique", "eds"), a.dims, a.shape), []).append(a)
    out = [a for a in arrays if a.attrs.get("signal") != "element_map"]
    for (technique, *_), maps in groups.items():
        stacked = _stack_element_maps(maps) if len(maps) > 1 else None
        out.extend([stacked] if stacked is not None else maps)
        if technique == "eds" and stacked is not None:
            elements = sorted({e for e in stacked.attrs["elements"] if e in ELEMENT_SYMBOLS},
                              key=ELEMENT_SYMBOLS.index)
            for a in out:
                if a.attrs.get("signal") == "eds" and "elements" not in a.attrs and elements:
                    a.attrs["elements"] = elements
    return out


def _node_kind(da: xr.DataArray) -> str:
    kind = str(da.attrs.get("signal", "signal"))
    if kind == "element_map" and da.attrs.get("technique") == "eels":
        return "element_map_eels"
    return kind


def assemble(arrays: list[xr.DataArray], *, source: str, fmt: str) -> xr.DataArray | xr.DataTree:
    """A single DataArray, or a DataTree with one node per signal named by kind (``haadf``, ``eds``,
    ``eds_1``...). Element maps of one technique and shape are stacked along ``element`` (EDS maps
    in ``element_map``, EELS maps in ``element_map_eels``; ``attrs["titles"]`` keeps the file's
    titles); the list of EDS elements is copied to the spectrum images that lack one. Every signal
    the reader returned is kept."""
    arrays = _group_element_maps(arrays)
    if len(arrays) == 1:
        return arrays[0]
    # within a kind, the largest signal gets the plain name
    ranked = sorted(range(len(arrays)), key=lambda i: (-arrays[i].ndim, -arrays[i].size, i))
    counts: dict[str, int] = {}
    names: dict[int, str] = {}
    for i in ranked:
        kind = _node_kind(arrays[i])
        n = counts.get(kind, 0)
        names[i] = kind if n == 0 else f"{kind}_{n}"
        counts[kind] = n + 1
    children = {}
    for i in ranked:  # main signals (largest first) lead the listing
        name = names[i]
        children[name] = xr.DataTree(dataset=arrays[i].rename(name).to_dataset())
    return xr.DataTree(children=children, dataset=xr.Dataset(attrs={"source_file": source, "format": fmt}))
