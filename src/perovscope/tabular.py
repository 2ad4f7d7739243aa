"""Tidy tables as text: full-precision CSV, written atomically.

Every CSV perovscope writes goes through :func:`csv_text` and :func:`write_text_atomic`, so that

* floats are written with the shortest representation that reads back to the same ``float64``
  (``repr``), whatever :func:`numpy.set_printoptions` another library has set in the process —
  pandas formats floats through numpy, and numpy's ``legacy="1.13"`` mode (which some libraries
  switch on when they are imported) would otherwise cut every value to 12 significant digits;
* a reader never sees a partial file: the text goes to a temporary name in the same folder and is
  renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["csv_text", "write_text_atomic"]


def csv_text(frame, **to_csv) -> str:
    """CSV text of a :class:`pandas.DataFrame` at full float precision.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    **to_csv
        Passed to :meth:`pandas.DataFrame.to_csv` (``index=``, ``na_rep=``, ``float_format=`` ...).

    Returns
    -------
    str
        The CSV text, ``\\n`` line endings unless ``lineterminator`` is given.
    """
    to_csv.setdefault("lineterminator", "\n")
    with np.printoptions(legacy=False):
        return frame.to_csv(**to_csv)


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file renamed into place; returns the path.

    The parent folder is created if needed. On any error the temporary file is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
