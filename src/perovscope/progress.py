"""Progress reporting for long computations (dask graphs and chunked loops), written to stderr."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def dask_progress(enabled: bool = True, *, label: str = "") -> Iterator[None]:
    """Show a progress bar on stderr for every dask compute inside the block.

    Parameters
    ----------
    enabled : bool
        ``False`` makes the block silent (for scripts and tests).
    label : str
        Printed once before the bar.
    """
    if not enabled:
        yield
        return
    from dask.diagnostics import ProgressBar

    if label:
        print(label, file=sys.stderr)
    with ProgressBar(out=sys.stderr, minimum=0.5):
        yield


def progress_iter(items: Iterable[T], *, enabled: bool = True, desc: str = "", total: int | None = None
                  ) -> Iterable[T]:
    """Wrap an iterable over *chunks or frames* (never pixels) in a tqdm bar on stderr."""
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)
