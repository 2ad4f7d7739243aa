"""perovscope.pipeline (see DESIGN.md)."""
