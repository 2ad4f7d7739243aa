"""Shared steps of the column-text readers: fields of a line, numbers, the numeric table after a header.

The readers keep their format knowledge (header keys, units, column roles); these helpers turn lines
into a checked float table, raising :class:`~perovscope.errors.FormatError` worded alike everywhere.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import FormatError

__all__ = ["detect_delimiter", "split_fields", "is_number", "is_numeric_row", "require_rows",
           "float_table", "numeric_rows"]

#: Delimiters tried in this order when none is given (white space when none occurs in the line).
DELIMITERS = (",", ";", "\t")
_DIGITS = {False: r"[-+]?(?:\d+\.?\d*|\.\d+)", True: r"[-+]?(?:\d+[.,]?\d*|[.,]\d+)"}
_PATTERNS = {(comma, nonfinite): re.compile(_DIGITS[comma] + r"(?:[eE][-+]?\d+)?"
                                            + (r"|[-+]?nan|[-+]?inf(?:inity)?" if nonfinite else ""),
                                            re.IGNORECASE if nonfinite else 0)
             for comma in (False, True) for nonfinite in (False, True)}


def detect_delimiter(line: str, order=DELIMITERS) -> str | None:
    """The first of ``order`` that occurs in ``line``; ``None`` (white space) when none does."""
    return next((d for d in order if d in line), None)


def split_fields(line: str, delimiter: str | None = None, *, order=DELIMITERS,
                 drop_empty: bool = False) -> list[str]:
    """The stripped fields of ``line``.

    Parameters
    ----------
    line : str
        One line of the file.
    delimiter : str, optional
        The field delimiter; default :func:`detect_delimiter` with ``order`` (``()``: white space).
    drop_empty : bool
        Leave out empty fields (``"1,,2"`` gives two fields instead of three).
    """
    if delimiter is None:
        delimiter = detect_delimiter(line, order)
    fields = [t.strip() for t in line.split(delimiter)] if delimiter is not None else line.split()
    return [t for t in fields if t] if drop_empty else fields


def is_number(token: str, *, nonfinite: bool = False, decimal_comma: bool = False) -> bool:
    """Whether ``token`` is a decimal number; ``nonfinite`` also takes nan/inf, ``decimal_comma`` 1,25."""
    return _PATTERNS[(decimal_comma, nonfinite)].fullmatch(token.strip()) is not None


def is_numeric_row(tokens, *, min_fields: int = 2, nonfinite: bool = False,
                   decimal_comma: bool = False) -> bool:
    """Whether a split line has at least ``min_fields`` fields and every non-blank one is a number."""
    return len(tokens) >= min_fields and all(
        is_number(t, nonfinite=nonfinite, decimal_comma=decimal_comma) for t in tokens if t.strip())


def require_rows(n_rows: int, *, source, min_rows: int, what: str = "") -> None:
    """Raise a :class:`FormatError` when a table has fewer than ``min_rows`` data rows.

    ``what`` names what the rows hold (``"channel/time and counts"``), for the message.
    """
    if n_rows < min_rows:
        holding = f" of {what}" if what else ""
        raise FormatError(f"{source}: only {n_rows} data row(s){holding}; at least {min_rows} are needed "
                          "(truncated file?)")


def float_table(rows, *, source, min_rows: int = 1, what: str = "", cells: str = "columns",
                line_offset: int | None = None) -> np.ndarray:
    """A ``(rows, columns)`` float array from split rows, checking that every row has the same width.

    Parameters
    ----------
    rows : list of list
        The fields (strings or numbers) of every data row.
    source : str or pathlib.Path
        The file, named in the messages.
    min_rows, what
        See :func:`require_rows`.
    cells : str
        What a row's entries are called in the message (``"columns"``, ``"values"``).
    line_offset : int, optional
        Name a ragged row as ``row line_offset + k`` (its line) instead of ``data row k``.

    Raises
    ------
    FormatError
        A row of another width (truncated or malformed file), a non-numeric value, too few rows.
    """
    ncol = len(rows[0]) if rows else 0
    bad = next((k for k, r in enumerate(rows) if len(r) != ncol), None)
    if bad is not None:
        where = f"data row {bad + 1}" if line_offset is None else f"row {line_offset + bad + 1}"
        raise FormatError(f"{source}: {where} has {len(rows[bad])} {cells}, expected {ncol} "
                          "(truncated or malformed file)")
    try:
        table = np.array(rows, dtype=float).reshape(len(rows), ncol)
    except ValueError as exc:
        raise FormatError(f"{source}: non-numeric value in the data rows ({exc})") from exc
    require_rows(table.shape[0], source=source, min_rows=min_rows, what=what)
    return table


def numeric_rows(lines, *, source, delimiter: str | None = None, order=DELIMITERS, drop_empty: bool = False,
                 nonfinite: bool = False, comment: str | None = None, min_rows: int = 1, what: str = "",
                 same_delimiter: bool = True, number_lines: bool = False) -> tuple[list[str], np.ndarray]:
    """Split ``lines`` into the header (the lines before the first numeric row) and the data table.

    The first line of at least two numeric fields (:func:`is_numeric_row`) starts the data; with
    ``same_delimiter`` its delimiter (``delimiter``, else the first of ``order`` in it) splits every data
    row, else each row finds its own. Blank rows and, with ``comment``, lines starting with it are left
    out of the data.

    Parameters
    ----------
    lines : list of str
        The file's lines; the header keeps them as given (blank ones included if they are).
    source : str or pathlib.Path
        The file, named in the messages.
    delimiter, order, drop_empty
        See :func:`split_fields`; ``nonfinite`` accepts ``nan``/``inf`` (:func:`is_number`).
    min_rows, what
        See :func:`require_rows`; ``what`` also names the columns when no numeric row is found.
    number_lines : bool
        Name a ragged row by its position in ``lines`` rather than among the data rows.

    Returns
    -------
    (list of str, numpy.ndarray)
        The header lines and the ``(rows, columns)`` table.
    """
    start = next((i for i, line in enumerate(lines) if is_numeric_row(
        split_fields(line, delimiter, order=order, drop_empty=drop_empty), nonfinite=nonfinite)), None)
    if start is None:
        raise FormatError(f"{source}: no rows of numbers{f' ({what})' if what else ''} found")
    if delimiter is None and same_delimiter:
        delimiter, order = detect_delimiter(lines[start], order), ()
    rows = [split_fields(ln, delimiter, order=order, drop_empty=drop_empty) for ln in lines[start:]
            if ln.strip() and not (comment and ln.lstrip().startswith(comment))]
    table = float_table([r for r in rows if r], source=source, min_rows=min_rows, what=what,
                        line_offset=start if number_lines else None)
    return list(lines[:start]), table
