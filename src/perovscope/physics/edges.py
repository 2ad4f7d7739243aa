"""Core-loss EELS edge onsets (eV) for the elements met in perovskite and glass-composite samples.

Onsets are the threshold energies listed in the EELS Atlas (Ahn & Krivanek 1983; Gatan EELS Atlas)
and, for edges the Atlas lists only as binding energies, the electron binding energies of Fuggle &
Mårtensson (1980) / Williams' table in the X-ray Data Booklet. For spin–orbit split edges the onset is
the lower-energy component (e.g. I M4,5 starts at the M5 threshold, 619 eV); the components are kept
in :attr:`Edge.components`. Delayed (white-line-free) M4,5 edges of the 4d and 5d elements rise a few
tens of eV above threshold; the onset is still the threshold.

References
----------
.. [1] C. C. Ahn and O. L. Krivanek, EELS Atlas, Gatan Inc. & ASU HREM Facility (1983).
.. [2] J. C. Fuggle and N. Mårtensson, "Core-level binding energies in metals",
   J. Electron Spectrosc. Relat. Phenom. 21, 275 (1980).
.. [3] A. C. Thompson et al., X-ray Data Booklet, LBNL (2009), table 1-1 (G. P. Williams).
.. [4] R. F. Egerton, Electron Energy-Loss Spectroscopy in the Electron Microscope, 3rd ed.,
   Springer (2011), appendix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import InputError

__all__ = ["Edge", "EDGES", "edge_onset_eV", "edges_in_range", "canonical_edge_name"]


class Edge(NamedTuple):
    """One ionisation edge.

    Attributes
    ----------
    name : str
        Canonical name ``"<El>_<shell>"``, e.g. ``"I_M45"``, ``"O_K"``, ``"Ti_L23"``.
    element : str
        Chemical symbol.
    shell : str
        ``"K"``, ``"L23"``, ``"L1"``, ``"M45"``, ``"M23"``, ``"N45"``, ``"N67"``, ``"O45"``.
    onset_eV : float
        Threshold of the lowest-energy component, eV.
    components : tuple of (str, float)
        Subshell thresholds, e.g. ``(("M5", 619.0), ("M4", 631.0))``.
    """

    name: str
    element: str
    shell: str
    onset_eV: float
    components: tuple


# element, shell, ((subshell, eV), ...)
_RAW = [
    ("B", "K", (("K", 188.0),)),
    ("C", "K", (("K", 284.0),)),
    ("N", "K", (("K", 401.0),)),
    ("O", "K", (("K", 532.0),)),
    ("F", "K", (("K", 685.0),)),
    ("Na", "K", (("K", 1072.0),)),
    ("Na", "L23", (("L3", 31.0),)),
    ("Mg", "K", (("K", 1305.0),)),
    ("Mg", "L23", (("L3", 51.0),)),
    ("Al", "K", (("K", 1560.0),)),
    ("Al", "L23", (("L3", 73.0),)),
    ("Al", "L1", (("L1", 118.0),)),
    ("Si", "K", (("K", 1839.0),)),
    ("Si", "L23", (("L3", 99.0),)),
    ("Si", "L1", (("L1", 149.0),)),
    ("P", "K", (("K", 2146.0),)),
    ("P", "L23", (("L3", 132.0),)),
    ("S", "L23", (("L3", 165.0),)),
    ("S", "K", (("K", 2472.0),)),
    ("Cl", "L23", (("L3", 200.0), ("L2", 202.0))),
    ("Cl", "L1", (("L1", 270.0),)),
    ("Cl", "K", (("K", 2822.0),)),
    ("K", "L23", (("L3", 294.0), ("L2", 296.0))),
    ("Ca", "L23", (("L3", 346.0), ("L2", 350.0))),
    ("Ti", "L23", (("L3", 456.0), ("L2", 462.0))),
    ("Ti", "K", (("K", 4966.0),)),
    ("V", "L23", (("L3", 513.0), ("L2", 521.0))),
    ("Cr", "L23", (("L3", 575.0), ("L2", 584.0))),
    ("Mn", "L23", (("L3", 640.0), ("L2", 651.0))),
    ("Fe", "L23", (("L3", 708.0), ("L2", 721.0))),
    ("Co", "L23", (("L3", 779.0), ("L2", 794.0))),
    ("Ni", "L23", (("L3", 855.0), ("L2", 872.0))),
    ("Cu", "L23", (("L3", 931.0), ("L2", 951.0))),
    ("Zn", "L23", (("L3", 1020.0), ("L2", 1043.0))),
    ("Zn", "M23", (("M3", 87.0), ("M2", 90.0))),
    ("Br", "L23", (("L3", 1550.0), ("L2", 1596.0))),
    ("Br", "M45", (("M5", 69.0), ("M4", 70.0))),
    ("Br", "M23", (("M3", 182.0), ("M2", 189.0))),
    ("Sr", "L23", (("L3", 1940.0), ("L2", 2007.0))),
    ("Sr", "M45", (("M5", 133.0), ("M4", 135.0))),
    ("Sr", "M23", (("M3", 269.0), ("M2", 280.0))),
    ("Zr", "M45", (("M5", 180.0), ("M4", 182.0))),
    ("Pd", "M45", (("M5", 335.0), ("M4", 340.0))),
    ("Ag", "M45", (("M5", 367.0), ("M4", 373.0))),
    ("In", "M45", (("M5", 443.0), ("M4", 451.0))),
    ("Sn", "M45", (("M5", 485.0), ("M4", 494.0))),
    ("Sb", "M45", (("M5", 528.0), ("M4", 537.0))),
    ("Te", "M45", (("M5", 572.0), ("M4", 582.0))),
    ("I", "M45", (("M5", 619.0), ("M4", 631.0))),
    ("I", "N45", (("N5", 50.0), ("N4", 50.0))),
    ("Cs", "M45", (("M5", 726.0), ("M4", 740.0))),
    ("Cs", "N45", (("N5", 78.0), ("N4", 80.0))),
    ("Ba", "M45", (("M5", 781.0), ("M4", 796.0))),
    ("La", "M45", (("M5", 832.0), ("M4", 849.0))),
    ("Ce", "M45", (("M5", 883.0), ("M4", 901.0))),
    ("Nd", "M45", (("M5", 978.0), ("M4", 1000.0))),
    ("Sm", "M45", (("M5", 1080.0), ("M4", 1106.0))),
    ("Gd", "M45", (("M5", 1185.0), ("M4", 1217.0))),
    ("Pb", "M45", (("M5", 2484.0), ("M4", 2586.0))),
    ("Pb", "N45", (("N5", 413.0), ("N4", 435.0))),
    ("Pb", "N67", (("N7", 136.0), ("N6", 142.0))),
    ("Pb", "O45", (("O5", 19.0), ("O4", 22.0))),
    ("Bi", "M45", (("M5", 2580.0), ("M4", 2688.0))),
    ("Th", "N45", (("N5", 677.0), ("N4", 714.0))),
]

#: Canonical edge name → :class:`Edge`.
EDGES: dict[str, Edge] = {
    f"{el}_{shell}": Edge(f"{el}_{shell}", el, shell, comps[0][1], comps)
    for el, shell, comps in _RAW
}

_SHELL_RE = re.compile(r"^([A-Z][a-z]?)[\s_-]*([KLMNO])\s*([0-9,\s]*)$")


def canonical_edge_name(name: str) -> str:
    """Normalise an edge name: ``"I M4,5"``, ``"I_M45"``, ``"I M45"`` and ``"I_M5"`` → ``"I_M45"``."""
    if not isinstance(name, str):
        raise InputError(f"edge={name!r}: give an edge name such as 'I_M45' or 'O K'")
    m = _SHELL_RE.match(name.strip())
    if m is None:
        raise InputError(f"edge={name!r}: not an edge name; use e.g. 'I_M45', 'O_K', 'Ti L2,3'")
    el, letter, digits = m.group(1), m.group(2), re.sub(r"[\s,]", "", m.group(3))
    candidate = f"{el}_{letter}{digits}"
    if candidate in EDGES:
        return candidate
    # a single subshell ("I_M5", "Ti_L3") maps to the combined edge that contains it
    for edge in EDGES.values():
        if edge.element == el and any(sub == f"{letter}{digits}" for sub, _ in edge.components):
            return edge.name
    known = sorted(e.name for e in EDGES.values() if e.element == el)
    raise InputError(f"edge={name!r}: not tabulated" + (f"; {el} has {', '.join(known)}" if known
                                                         else "; see perovscope.physics.EDGES"))


def edge_onset_eV(name: str) -> float:
    """Onset (threshold) energy of an edge in eV, e.g. ``edge_onset_eV("I M4,5") == 619.0``.

    References
    ----------
    Ahn & Krivanek (1983) EELS Atlas; Fuggle & Mårtensson (1980).
    """
    return EDGES[canonical_edge_name(name)].onset_eV


def edges_in_range(e_min_eV: float, e_max_eV: float, *, elements=None) -> list[Edge]:
    """Edges whose onset lies in ``[e_min_eV, e_max_eV]``, sorted by onset, optionally per element."""
    out = [e for e in EDGES.values() if e_min_eV <= e.onset_eV <= e_max_eV
           and (elements is None or e.element in elements)]
    return sorted(out, key=lambda e: e.onset_eV)
