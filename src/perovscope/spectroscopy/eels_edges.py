"""EELS edge onsets: the table lives in :mod:`perovscope.physics.edges` (shared with the simulator)."""

from ..physics.edges import EDGES, Edge, canonical_edge_name, edge_onset_eV, edges_in_range

__all__ = ["Edge", "EDGES", "edge_onset_eV", "edges_in_range", "canonical_edge_name"]
