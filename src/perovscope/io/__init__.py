"""Reading instrument files into labelled arrays, and writing/reading perovscope results (zarr)."""

from .results import is_complete, open_results, save

__all__ = ["save", "open_results", "is_complete"]
