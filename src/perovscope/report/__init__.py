"""perovscope.report: journal-style figures and a self-contained HTML report of a results folder.

Figure functions take xarray objects (the groups of ``results.zarr``, docs/results-store.md) and
return a :class:`matplotlib.figure.Figure` built without pyplot; :func:`build_report` writes
``RESULTS/report.html`` (figures embedded, no external resource) and ``RESULTS/figures/<name>.png|svg``.
matplotlib and Jinja2 are imported only when a figure or the report is made.
"""

from ._style import save_figure
from .build import SECTIONS, build_report, load_results
from .composite import (
    cl_maps_figure,
    domain_map_figure,
    eels_edge_map_figure,
    eels_spectrum_figure,
    iodine_profile_figure,
    spectrum_maps_figure,
)
from .maps import (
    composition_figure,
    crystallinity_figure,
    haadf_particles_figure,
    interface_lines,
    phase_map_figure,
    strain_maps_figure,
)
from .particles import particle_sizes_figure, size_distribution_figure
from .profiles import interface_profiles_figure, profile_lines_figure
from .tables import correlations_table, format_number
from .timeline import timeline_figure
from .truth import truth_map_figure, truth_series_figure

__all__ = [
    "SECTIONS", "build_report", "load_results", "save_figure",
    "timeline_figure", "strain_maps_figure", "phase_map_figure", "crystallinity_figure",
    "composition_figure", "haadf_particles_figure", "interface_lines", "interface_profiles_figure",
    "profile_lines_figure", "particle_sizes_figure", "size_distribution_figure", "correlations_table",
    "format_number", "truth_series_figure", "truth_map_figure", "cl_maps_figure", "spectrum_maps_figure",
    "eels_spectrum_figure", "eels_edge_map_figure", "iodine_profile_figure", "domain_map_figure",
]
