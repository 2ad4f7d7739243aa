"""perovscope.spectroscopy (see DESIGN.md)."""
