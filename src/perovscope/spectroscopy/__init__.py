"""Spectrum images: EDX quantification, EELS background and profiles, CL/PL peak maps.

Shared physics tables: :mod:`perovscope.spectroscopy.xray_lines` (characteristic X-ray lines and the
EDX detector resolution), :mod:`perovscope.spectroscopy.xray_generation` (the thin-foil X-ray
generation model shared with the EDX simulator; theoretical k-factors) and
:mod:`perovscope.spectroscopy.eels_edges` (EELS edge onsets). Labelled
(xarray) entry points are in :mod:`perovscope.spectroscopy.maps`; array cores in ``fitting``, ``cl``,
``eels``, ``edx``, ``quantification``, ``decomposition`` and ``statistics`` (see docs/spectroscopy.md).
"""

from ._common import bad_pixel_mask, count_bad_pixels
from .eels_edges import EDGES, Edge, edge_onset_eV
from .maps import (
                   cl_peak_map,
                   edx_quantify_map,
                   eels_background_map,
                   eels_edge_map,
                   eels_normalise_map,
                   zero_loss_map,
)
from .xray_generation import theoretical_k_factors
from .xray_lines import ELEMENTS, XrayLine, detector_fwhm_eV, xray_lines

__all__ = ["EDGES", "Edge", "edge_onset_eV", "ELEMENTS", "XrayLine", "detector_fwhm_eV",
           "xray_lines", "bad_pixel_mask", "count_bad_pixels", "cl_peak_map", "edx_quantify_map",
           "eels_background_map", "eels_edge_map", "eels_normalise_map", "zero_loss_map",
           "theoretical_k_factors"]
