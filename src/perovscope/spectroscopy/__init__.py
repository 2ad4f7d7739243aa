"""Spectrum images: EDX quantification, EELS background and profiles, CL/PL peak maps.

Shared physics tables: :mod:`perovscope.spectroscopy.xray_lines` (characteristic X-ray lines and the
EDX detector resolution) and :mod:`perovscope.spectroscopy.eels_edges` (EELS edge onsets).
"""

from .eels_edges import EDGES, Edge, edge_onset_eV
from .xray_lines import ELEMENTS, XrayLine, detector_fwhm_eV, xray_lines

__all__ = ["EDGES", "Edge", "edge_onset_eV", "ELEMENTS", "XrayLine", "detector_fwhm_eV",
           "xray_lines"]
