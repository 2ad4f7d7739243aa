"""Lattice parameters of reference crystals (nm), tabulated from the crystallographic literature.

Only numbers live here; the phase library (:mod:`perovscope.diffraction.phases`) and the simulator
(:mod:`perovscope.simulate.materials`) each build their own models (structure factors, Vegard's law)
from them.

References
----------
.. [1] C. C. Stoumpos et al., "Crystal growth of the perovskite semiconductor CsPbBr3: a new material
   for high-energy radiation detection", Cryst. Growth Des. 13, 2722 (2013) — cubic CsPbBr3 above
   130 °C, a = 0.5874 nm.
.. [2] C. K. Møller, "The structure of perovskite-like caesium plumbo trihalides", Mat. Fys. Medd.
   Dan. Vid. Selsk. 32, 1 (1959) — cubic CsPbCl3, a = 0.5605 nm.
"""

from __future__ import annotations

__all__ = ["CSPBBR3_A_NM", "CSPBCL3_A_NM"]

#: Pseudo-cubic lattice parameter of CsPbBr3 (nm) [1]_.
CSPBBR3_A_NM = 0.5874
#: Pseudo-cubic lattice parameter of CsPbCl3 (nm) [2]_.
CSPBCL3_A_NM = 0.5605
