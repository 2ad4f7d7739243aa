"""Physically grounded synthetic datasets with ground truth (the project's test oracle and demo data).

Public API (see ``docs/simulate.md``):

* :func:`simulate_device` — operando sky-blue perovskite LED lamella under constant current
  (4D-STEM, HAADF, EDX, bias log and the ``truth`` node).
* Reusable rendering cores: :func:`render_haadf` / :func:`haadf_expected` (Z-contrast),
  :func:`render_eds` / :func:`eds_expected` / :func:`element_spectra` (EDX spectrum images).
"""

from .eds import eds_expected, element_spectra, energy_axis_eV, render_eds
from .haadf import electrons_per_pixel, haadf_expected, render_haadf

__all__ = [
    "render_haadf", "haadf_expected", "electrons_per_pixel",
    "render_eds", "eds_expected", "element_spectra", "energy_axis_eV",
]
