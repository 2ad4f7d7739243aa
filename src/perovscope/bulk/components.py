"""Per-component results of a batched peak fit, shared by the PL, Raman and XPS result tables.

:class:`ComponentFields` holds what every component fit reports — centres, widths, areas, heights
and area shares with their standard errors, the reduced χ² and the fit flag — and
:func:`component_fields` takes them from a :class:`~perovscope.bulk.peak_fit.PeakFit`. The result
tables of :func:`perovscope.bulk.pl.decompose_pl`, :func:`perovscope.bulk.raman.fit_bands` and
:func:`perovscope.bulk.xps.fit_components` extend it with their own arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .peak_fit import PeakFit

__all__ = ["ComponentFields", "component_fields"]

_PER_COMPONENT = ("centre", "centre_std", "fwhm", "fwhm_std", "area", "area_std", "height", "share",
                  "share_std")


@dataclass(frozen=True, eq=False)
class ComponentFields:
    """Component fields ``(..., k)`` (``centre`` … ``share_std``) and per-spectrum ``redchi``, ``flag``
    ``(...)``: the reduced χ² (or residual variance) and the flags of the fit."""

    centre: np.ndarray
    centre_std: np.ndarray
    fwhm: np.ndarray
    fwhm_std: np.ndarray
    area: np.ndarray
    area_std: np.ndarray
    height: np.ndarray
    share: np.ndarray
    share_std: np.ndarray
    redchi: np.ndarray
    flag: np.ndarray


def component_fields(fit: PeakFit, order=None) -> dict:
    """The :class:`ComponentFields` of ``fit`` as keyword arguments.

    Parameters
    ----------
    fit : PeakFit
        A result of :func:`~perovscope.bulk.peak_fit.fit_peaks`.
    order : array_like of int (..., k), optional
        Reorder the components along the last axis (``np.take_along_axis``); default the fit's order.
    """
    out = {}
    for name in _PER_COMPONENT:
        value = getattr(fit, name)
        out[name] = value if order is None else np.take_along_axis(value, order, axis=-1)
    out.update(redchi=fit.redchi, flag=fit.flag)
    return out
