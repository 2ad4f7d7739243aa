"""perovscope.imaging (see DESIGN.md)."""
