"""perovscope.interfaces (see DESIGN.md)."""
