"""Reference data shared by every area and by the simulator: elements, X-ray lines and yields, EELS edges.

This package sits under everything else and holds *tables*, never models: the analyses
(:mod:`perovscope.spectroscopy`, :mod:`perovscope.diffraction`) and the simulator
(:mod:`perovscope.simulate`) read the same reference numbers here and implement their physics
independently, so that a simulated data set can test an analysis without sharing its assumptions.

* :mod:`.elements`: symbol, atomic number Z and standard atomic weight.
* :mod:`.xray`: characteristic X-ray line energies and relative weights (Bearden 1967), fluorescence
  yields and absorption-edge energies (Elam, Ravel & Sieber 2002 via ``xraydb``), subshell occupancies,
  the EDX detector-resolution relation.
* :mod:`.edges`: EELS ionisation-edge onsets.
* :mod:`.lattices`: lattice parameters of reference crystals (the CsPbBr₃ / CsPbCl₃ end members).
"""

from .edges import EDGES, Edge, canonical_edge_name, edge_onset_eV, edges_in_range
from .elements import ATOMIC_NUMBER, ATOMIC_WEIGHT, atomic_number, atomic_weight
from .lattices import CSPBBR3_A_NM, CSPBCL3_A_NM
from .xray import (
    LINE_ELEMENTS,
    MN_KA_EV,
    XrayLine,
    alpha_line_fraction,
    detector_fwhm_eV,
    edge_energy_eV,
    fluorescence_yield,
    lines_in_range,
    subshell_occupancy,
    xray_lines,
)

__all__ = ["ATOMIC_NUMBER", "ATOMIC_WEIGHT", "atomic_number", "atomic_weight", "XrayLine", "xray_lines",
           "lines_in_range", "LINE_ELEMENTS", "MN_KA_EV", "detector_fwhm_eV", "edge_energy_eV",
           "fluorescence_yield", "subshell_occupancy", "alpha_line_fraction", "EDGES", "Edge",
           "canonical_edge_name", "edge_onset_eV", "edges_in_range", "CSPBBR3_A_NM", "CSPBCL3_A_NM"]
