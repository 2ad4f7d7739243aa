"""perovscope.simulate (see DESIGN.md)."""
