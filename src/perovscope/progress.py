"""Progress of long work on stderr, the same for every command: a bar on a terminal, a few lines elsewhere.

On a terminal (``stream.isatty()``) progress is a tqdm bar (a dask progress bar for dask computations).
On anything else — a log file, a pipe, CI — there are no carriage returns: a step over several units
prints one line when it starts, lines at 25, 50 and 75 % and one line when it ends (a step of one unit
prints only the end line). ``enabled=False`` / ``quiet=True`` silences everything.

* :class:`Progress` — a step over a known number of units (frames, chunks, files), updated by hand.
* :func:`progress_iter` — wraps an iterable over chunks or frames (never pixels) in a :class:`Progress`.
* :func:`dask_progress` — a context manager reporting every dask computation inside the block.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["Progress", "progress_iter", "dask_progress", "is_terminal", "MARKS"]

T = TypeVar("T")

#: Percentages printed on a non-terminal (the end is printed as the step's closing line).
MARKS = (25, 50, 75)


def is_terminal(stream) -> bool:
    """True when ``stream`` is an interactive terminal (progress bars are drawn only there)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


class Progress:
    """Progress of one step over ``total`` units.

    Parameters
    ----------
    label : str
        Name of the step, printed at the start of every line.
    total : int
        Number of units (at least 1).
    quiet : bool
        Print nothing.
    stream : file-like, optional
        Where to write (default ``sys.stderr``).
    unit : str
        Name of one unit (``"frame"``), used in the start line and by the bar.
    """

    def __init__(self, label: str, total: int, *, quiet: bool = False, stream=None, unit: str = "frame"):
        self.label, self.total, self.done = label, max(int(total), 1), 0
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.unit = unit
        self.per_unit = self.total > 1
        self._bar = None
        self._marks = list(MARKS)
        self._closed = False
        if quiet:
            return
        if is_terminal(self.stream):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=label, file=self.stream, leave=True, unit=unit)
        elif self.per_unit:
            self._line(f"started ({self.total} {unit}{'s' * (self.total != 1)})")

    def _line(self, text: str) -> None:
        print(f"{self.label}: {text}" if self.label else text, file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.done += n
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = 100 * self.done // self.total
        while self.per_unit and self._marks and pct >= self._marks[0]:
            self._line(f"{self._marks.pop(0)} %")

    def close(self, note: str = "") -> None:
        """The step is over (``note``: e.g. ``"cached"`` or the elapsed time); a second call does nothing."""
        if self.quiet or self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.set_postfix_str(note)
            self._bar.close()
        else:
            self._line(note or "done")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_iter(items: Iterable[T], *, enabled: bool = True, desc: str = "", total: int | None = None,
                  unit: str = "frame", stream=None) -> Iterator[T]:
    """Iterate over ``items`` (chunks or frames, never pixels) reporting progress as :class:`Progress`."""
    if not enabled:
        yield from items
        return
    if total is None:
        total = len(items) if hasattr(items, "__len__") else 1
    with Progress(desc, total, stream=stream, unit=unit) as bar:
        for item in items:
            yield item
            bar.update()


def _line_callback(label: str, stream, minimum: float):
    """A dask callback printing the start, 25/50/75 % and the end of the computations in a block.

    Nothing is printed for a computation that ends within ``minimum`` seconds.
    """
    from dask.callbacks import Callback

    class _Lines(Callback):
        def __init__(self):
            super().__init__()
            self.total = self.done = 0
            self.t0 = None
            self.marks = list(MARKS)
            self.lock = threading.Lock()
            self.started = False

        def _start_state(self, dsk, state):
            with self.lock:
                self.total += len(state["ready"]) + len(state["waiting"]) + len(state["running"])
                if self.t0 is None:
                    self.t0 = time.perf_counter()

        def _posttask(self, key, result, dsk, state, worker_id):
            with self.lock:
                self.done += 1
                if self.t0 is None or time.perf_counter() - self.t0 < minimum or not self.total:
                    return
                if not self.started:
                    self.started = True
                    print(f"{label}: started", file=stream, flush=True)
                pct = 100 * self.done // self.total
                while self.marks and pct >= self.marks[0]:
                    print(f"{label}: {self.marks.pop(0)} %", file=stream, flush=True)

    return _Lines()


@contextlib.contextmanager
def dask_progress(enabled: bool = True, *, label: str = "", stream=None, minimum: float = 0.5
                  ) -> Iterator[None]:
    """Report every dask computation inside the block on ``stream`` (default stderr).

    Parameters
    ----------
    enabled : bool
        ``False`` makes the block silent (for scripts and tests).
    label : str
        Name of the step: printed once before the bar on a terminal; on a non-terminal the prefix of a
        start line, of the 25/50/75 % lines and of the end line (printed only once the computations
        have run for ``minimum`` seconds).
    minimum : float
        Computations shorter than this (seconds) draw no bar and print no percentage lines.
    """
    if not enabled:
        yield
        return
    stream = stream if stream is not None else sys.stderr
    if is_terminal(stream):
        from dask.diagnostics import ProgressBar

        if label:
            print(label, file=stream, flush=True)
        with ProgressBar(out=stream, minimum=minimum):
            yield
        return
    name = label or "computing"
    t0 = time.perf_counter()
    callback = _line_callback(name, stream, minimum)
    with callback:
        yield
    if callback.started:  # a block whose computations were all quick prints nothing
        print(f"{name}: done ({time.perf_counter() - t0:.1f} s)", file=stream, flush=True)
