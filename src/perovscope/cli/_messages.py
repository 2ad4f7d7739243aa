"""What the command line prints besides results: perovscope's own one-line messages, and nothing else.

Library warnings (RosettaSciIO ``UserWarning``, numpy ``RuntimeWarning`` such as "All-NaN slice
encountered", dask, xarray) and library log records are captured while a command runs.
:class:`~perovscope.errors.PerovscopeWarning` (and any warning raised by perovscope's own code) is
printed as one line ``perovscope CMD: warning: ...``;
a library warning that means something to the user is translated into such a line; every other one is
shown only with ``--verbose``. Each distinct line is printed once, when the command has finished; a
command that fails prints only its error line (``--verbose`` shows the warnings too).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator

from ..errors import PerovscopeWarning

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

__all__ = ["captured_warnings", "translate", "LIBRARY_LOGGERS"]

#: Loggers of the libraries perovscope calls; quiet below ERROR unless ``--verbose``.
LIBRARY_LOGGERS = ("rsciio", "hyperspy", "distributed", "numba", "fsspec", "h5py", "zarr", "matplotlib")

#: (pattern of a library warning, what it means for the user); None hides it (shown with --verbose).
_TRANSLATIONS = (
    (re.compile(r"All-NaN (slice|axis) encountered|Mean of empty slice"),
     "some pixels or spectra hold no finite value; their results are NaN"),
    (re.compile(r"[Bb]lockfile header dimensions larger than file size"),
     "the file is shorter than its header declares; the missing frames read as zeros"),
    (re.compile(r"Degrees of freedom <= 0|invalid value encountered|divide by zero encountered"), None),
)


def translate(text: str) -> str | None:
    """The user-facing meaning of a library warning message, or None when it has none."""
    for pattern, meaning in _TRANSLATIONS:
        if pattern.search(text):
            return meaning
    return None


def _first_line(message) -> str:
    text = str(message).strip()
    return text.splitlines()[0][:300] if text else ""


@contextlib.contextmanager
def captured_warnings(command: str, *, verbose: bool = False, stream=None) -> Iterator[None]:
    """Capture warnings and library log records while a command runs (see the module docstring).

    Parameters
    ----------
    command : str
        The command's name, the prefix of every line.
    verbose : bool
        Also show library warnings that have no translation, and library log records of level WARNING.
    stream : file-like, optional
        Where the lines go (default ``sys.stderr``).
    """
    out = stream if stream is not None else sys.stderr
    pending: list[str] = []

    def emit(line: str) -> None:
        if line not in pending:
            pending.append(line)

    def show(message, category, filename, lineno, file=None, line=None):
        text = _first_line(message) or category.__name__
        if issubclass(category, PerovscopeWarning) or str(filename).startswith(_PACKAGE_DIR):
            emit(f"perovscope {command}: warning: {text}")
            return
        meaning = translate(text)
        if meaning is not None:
            emit(f"perovscope {command}: warning: {meaning}")
        elif verbose:
            emit(f"perovscope {command}: {category.__name__} ({filename}:{lineno}): {text}")

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # noqa: D102 - logging API
            emit(f"perovscope {command}: {record.name} {record.levelname.lower()}: "
                 f"{_first_line(record.getMessage())}")

    handler = _Lines(level=logging.WARNING)
    saved = []
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.WARNING if verbose else logging.ERROR)
        logger.propagate = False
        logger.addHandler(handler)
    failed = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = show
            yield
    except BaseException:
        failed = True
        raise
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
        if not failed or verbose:  # a failed command prints its one error line only
            for line in pending:
                print(line, file=out, flush=True)
