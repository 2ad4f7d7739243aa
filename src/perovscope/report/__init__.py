"""perovscope.report (see DESIGN.md)."""
