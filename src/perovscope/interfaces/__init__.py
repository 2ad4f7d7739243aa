"""Layers, domains and interfaces: segmentation, distance to interfaces, interface-resolved profiles.

Core functions work on numpy arrays; :mod:`perovscope.interfaces.labelled` wraps them for xarray.
"""

from .distance import distance_to_edges, distance_to_line
from .domains import DomainResult, interface_length, phase_fraction_map, segment_domains
from .labelled import (
    domains,
    edge_distance,
    interdiffusion_width,
    layer_distance,
    profile_across,
    segment_layers,
)
from .layers import LayerModel, classify_layers, fit_layer_model, interface_lines
from .profiles import ErfFit, Profile, erf_step, fit_erf_profile, interface_profile
from .reaction_layer import (
    AL_ATOM_DENSITY_NM3,
    ALCL3_CL_DENSITY_NM3,
    ReactionLayer,
    reaction_layer_thickness,
)

__all__ = [
    "distance_to_edges", "distance_to_line",
    "DomainResult", "interface_length", "phase_fraction_map", "segment_domains",
    "domains", "edge_distance", "interdiffusion_width", "layer_distance", "profile_across", "segment_layers",
    "LayerModel", "classify_layers", "fit_layer_model", "interface_lines",
    "ErfFit", "Profile", "erf_step", "fit_erf_profile", "interface_profile",
    "ALCL3_CL_DENSITY_NM3", "AL_ATOM_DENSITY_NM3", "ReactionLayer", "reaction_layer_thickness",
]
