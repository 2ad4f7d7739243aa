"""PL series (ageing, temperature, illumination): retained intensity, peak shift and width change.

A series of spectra taken against time or temperature is summarised, relative to a reference spectrum
(the first, by default), by the retained integrated intensity ``100·I/I_ref`` (%), the shift of the
peak ``x − x_ref`` and the change of the FWHM ``w − w_ref``, each with the units of the axis. The same
numbers are computed for every trailing position at once (a map measured repeatedly, say).

The stability series of CsPbBr₃–SiO₂ nanospheres (94 % of the initial emission after 1000 h of blue
illumination, [1]_) is of this kind.

References
----------
.. [1] M. He, Q. Zhang, F. Carulli et al., "Ultra-stable, solution-processable CsPbBr₃–SiO₂ nanospheres
   for highly efficient color conversion in micro light-emitting diodes", ACS Energy Lett. 8, 151
   (2023).
.. [2] L. N. Quan, B. P. Rand, R. H. Friend et al., "Perovskites for next-generation optical sources",
   Chem. Rev. 119, 7444 (2019) (stability metrics of perovskite emitters).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .pl import pl_peak

__all__ = ["PLSeries", "series_changes", "pl_series", "pl_series_da"]


class PLSeries(NamedTuple):
    """Per spectrum of the series ``(m, ...)``: retained intensity (%), peak shift and FWHM change
    (axis units), and the underlying peak metrics."""

    retained_pct: np.ndarray
    shift: np.ndarray
    delta_fwhm: np.ndarray
    position: np.ndarray
    fwhm: np.ndarray
    integral: np.ndarray


def series_changes(integral, position, fwhm, *, reference: int = 0) -> PLSeries:
    """Changes of the peak metrics ``(m, ...)`` along the first axis, relative to ``reference``."""
    integral, position, fwhm = (np.asarray(v, dtype=float) for v in (integral, position, fwhm))
    if integral.ndim == 0 or integral.shape[0] < 1:
        raise InputError("a PL series needs at least one spectrum")
    m = integral.shape[0]
    if not -m <= reference < m:
        raise InputError(f"reference={reference}: the series has {m} spectra")
    ref_i = integral[reference]
    if np.any(ref_i == 0):
        raise InputError("the reference spectrum has zero integrated intensity; choose another reference")
    return PLSeries(100.0 * integral / ref_i, position - position[reference], fwhm - fwhm[reference],
                    position, fwhm, integral)


def pl_series(spectra, x, *, reference: int = 0, **peak_options) -> PLSeries:
    """:func:`~perovscope.bulk.pl.pl_peak` of a series ``(m, ..., n)`` and its changes along ``m``."""
    peak = pl_peak(spectra, x, **peak_options)
    return series_changes(peak.integral, peak.position, peak.fwhm, reference=reference)


def pl_series_da(da, *, dim: str = "time", reference: int = 0, **peak_options):
    """Labelled :func:`pl_series`: a DataArray with a series dimension ``dim`` (time, temperature,
    ...) and a ``wavelength`` or ``energy`` axis → Dataset of the changes over the other dims."""
    import xarray as xr

    axis = next((d for d in ("energy", "wavelength") if d in da.dims), None)
    if axis is None or dim not in da.dims:
        raise InputError(f"expected dimensions {dim!r} and 'wavelength' or 'energy', got {da.dims}")
    da = da.transpose(dim, ..., axis)
    res = pl_series(da.values, da[axis].values, reference=reference, **peak_options)
    xu = str(da[axis].attrs.get("units", "nm" if axis == "wavelength" else "eV"))
    lead = da.dims[:-1]
    units = {"retained_pct": "%", "shift": xu, "delta_fwhm": xu, "position": xu, "fwhm": xu,
             "integral": f"{da.attrs.get('units', 'a.u.')}·{xu}"}
    data = {k: xr.Variable(lead, getattr(res, k), attrs={"units": u}) for k, u in units.items()}
    return xr.Dataset(data, coords={d: da[d] for d in lead if d in da.coords},
                      attrs={"reference": int(reference), "series_dim": dim})
