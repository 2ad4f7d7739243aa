"""perovscope.bulk (see DESIGN.md)."""
