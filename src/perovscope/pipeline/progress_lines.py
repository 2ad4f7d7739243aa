"""Progress of a session run on stderr: a bar per step on a terminal, a few plain lines elsewhere.

On a terminal each step gets a tqdm bar over its frames. On anything else (a log file, CI) a step
that runs frame by frame prints one line when it starts, 25/50/75 % lines and one line when it ends;
a whole-session step prints one line when it ends; never carriage returns. ``quiet`` silences everything.
"""

from __future__ import annotations

import sys

__all__ = ["StepProgress"]


class StepProgress:
    """Progress of one step over ``total`` units (frames)."""

    def __init__(self, label: str, total: int, *, quiet: bool = False, stream=None):
        self.label, self.total, self.done = label, max(int(total), 1), 0
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self._bar = None
        self._next_mark = 25
        if quiet:
            return
        self.per_frame = total > 1
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=label, file=self.stream, leave=True, unit="frame")
        elif self.per_frame:
            print(f"{label}: started ({self.total} frame{'s' * (self.total != 1)})", file=self.stream,
                  flush=True)

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.done += n
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = 100 * self.done // self.total
        while self.per_frame and self._next_mark < 100 and pct >= self._next_mark:
            print(f"{self.label}: {self._next_mark} %", file=self.stream, flush=True)
            self._next_mark += 25

    def close(self, note: str = "") -> None:
        """The step is over (``note``: e.g. ``"cached"`` or the elapsed time)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(note)
            self._bar.close()
        else:
            print(f"{self.label}: {note or 'done'}", file=self.stream, flush=True)
