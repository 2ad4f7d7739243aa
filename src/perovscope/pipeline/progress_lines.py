"""Progress of a session run: each step reports through :class:`perovscope.progress.Progress`.

On a terminal each step gets a tqdm bar over its frames; on anything else (a log file, CI) a step that
runs frame by frame prints one line when it starts, 25/50/75 % lines and one line when it ends, and a
whole-session step prints one line when it ends; never carriage returns. ``quiet`` silences everything.
"""

from __future__ import annotations

from ..progress import Progress as StepProgress

__all__ = ["StepProgress"]
