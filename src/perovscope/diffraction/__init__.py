"""perovscope.diffraction (see DESIGN.md)."""
