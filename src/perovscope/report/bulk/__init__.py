"""Figures of the bulk techniques, one module per technique (matplotlib imported inside functions)."""
