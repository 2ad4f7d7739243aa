"""Physically grounded synthetic datasets with ground truth (the project's test oracle and demo data).

Public API (see ``docs/simulate.md``):

* :func:`simulate_device` — operando sky-blue perovskite LED lamella under constant current
  (4D-STEM, HAADF, EDX, bias log and the ``truth`` node); :func:`stream_device` writes the same
  session straight to a zarr store with bounded memory; :func:`write_session_files` writes it as a
  folder of instrument files (one HyperSpy file per modality per frame, the bias log as a
  source-measure unit's CSV, ``truth.zarr``) with a ready-to-run ``session.toml``.
* :func:`simulate_composite` — CsPbI3 particles in ZIF-62 glass (HAADF, EELS SI + line scan, CL).
* :func:`simulate_nanospheres` — CsPbBr3 nanocrystals in SiO2 nanospheres (HAADF overview, HRTEM).
* :func:`simulate_glass_domains` — ZIF-62 glass / phosphate glass composite (EDS map + HAADF).
* Reusable rendering cores: :func:`render_haadf` / :func:`haadf_expected` (Z-contrast),
  :func:`render_eds` / :func:`eds_expected` / :func:`element_spectra` (EDX spectrum images).
"""

from .composite import simulate_composite
from .device import simulate_device, stream_device, write_bias_log_csv
from .eds import eds_expected, element_spectra, energy_axis_eV, render_eds
from .glass_domains import simulate_glass_domains
from .haadf import electrons_per_pixel, haadf_expected, render_haadf
from .nanospheres import simulate_nanospheres
from .session_files import write_session_files

__all__ = [
    "simulate_device", "stream_device", "write_bias_log_csv", "write_session_files",
    "simulate_composite", "simulate_nanospheres", "simulate_glass_domains",
    "render_haadf", "haadf_expected", "electrons_per_pixel",
    "render_eds", "eds_expected", "element_spectra", "energy_axis_eV",
]
