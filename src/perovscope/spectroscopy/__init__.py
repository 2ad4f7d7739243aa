"""Spectrum images: EDX quantification, EELS background and profiles, CL/PL peak maps.

Reference data (X-ray lines, fluorescence yields, edges, EELS onsets) live in :mod:`perovscope.physics`;
``xray_lines`` and ``eels_edges`` here re-export them. :mod:`perovscope.spectroscopy.xray_generation`
is the analysis' own thin-foil model behind the theoretical k-factors; the EDX simulator renders with
an independent model (:mod:`perovscope.simulate.xray_emission`), so simulated data test it. Labelled
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
