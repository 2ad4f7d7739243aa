"""Characteristic X-ray lines and the EDX detector resolution, as used by the EDX analysis.

The tables live in :mod:`perovscope.physics` (shared with the simulator); this module keeps the names
the analysis has always used: ``ELEMENTS`` (symbol → Z of the elements in the line table) and
``ATOMIC_WEIGHTS`` (IUPAC 2013 standard atomic weights).
"""

from ..physics.elements import ATOMIC_WEIGHT as ATOMIC_WEIGHTS
from ..physics.xray import LINE_ELEMENTS as ELEMENTS
from ..physics.xray import MN_KA_EV, XrayLine, detector_fwhm_eV, lines_in_range, xray_lines

__all__ = ["XrayLine", "ELEMENTS", "ATOMIC_WEIGHTS", "xray_lines", "detector_fwhm_eV",
           "lines_in_range", "MN_KA_EV"]
