"""perovscope.operando (see DESIGN.md)."""
