"""perovscope.viewer (see DESIGN.md)."""
