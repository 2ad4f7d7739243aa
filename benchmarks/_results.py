"""Where the side-by-side benchmarks keep their numbers: ``benchmarks/results/<name>.json``."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["RESULTS_DIR", "write_results"]

#: Folder of the committed benchmark results.
RESULTS_DIR = Path(__file__).parent / "results"


def write_results(name: str, results: dict, *, show: bool = True, default=None) -> dict:
    """Write ``results`` as indented JSON to ``benchmarks/results/<name>.json`` and return them.

    Parameters
    ----------
    name : str
        File stem (``"bulk_pdf"``).
    results : dict
        JSON-serialisable numbers of the run.
    show : bool
        Also print the JSON (benchmarks that print their own table pass ``False``).
    default : callable, optional
        Converter for values ``json`` cannot serialise (``float`` for numpy scalars).

    Returns
    -------
    dict
        ``results``, unchanged.
    """
    text = json.dumps(results, indent=2, default=default)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(text + "\n")
    if show:
        print(text)
    return results
