"""Line numbers of the keys of a TOML file, and did-you-mean checks of key names.

:mod:`tomllib` parses a document but forgets where each key was written. Error messages about a
session description name the key *and its line*, so this module scans the text once for table headers
(``[a.b]``) and ``key = value`` lines and records the first line of each dotted key path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from ..errors import InputError

__all__ = ["key_lines", "check_keys", "where"]

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_PART = r"""(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_INLINE = re.compile(r"""([A-Za-z0-9_\-]+|"[^"]*")\s*=""")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)", dotted)]


def key_lines(text: str) -> dict[str, int]:
    """Map every dotted key path (``"modality.eds.files"``) and table (``"modality.eds"``) to its line.

    Keys of one-line inline tables (``units = { time = "s" }``) are recorded too. Line numbers start
    at 1. Multi-line strings and arrays are skipped over by their opening line only, which is enough
    for error messages.
    """
    lines: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        head = _HEADER.match(line)
        if head:
            table = _parts(head.group(1))
            for k in range(1, len(table) + 1):
                lines.setdefault(".".join(table[:k]), number)
            continue
        key = _KEY.match(line)
        if not key:
            continue
        path = table + _parts(key.group(1))
        lines.setdefault(".".join(path), number)
        rest = line[key.end():]
        if rest.lstrip().startswith("{"):
            for inner in _INLINE.findall(rest):
                lines.setdefault(".".join([*path, inner.strip("\"'")]), number)
    return lines


def where(path: str, lines: Mapping[str, int], source: str) -> str:
    """``"session.toml:12: [modality.eds] files"``-style prefix for an error about key ``path``."""
    parts = path.split(".")
    probe = path
    while probe and probe not in lines:
        probe = probe.rpartition(".")[0]
    line = lines.get(probe)
    table, key = ".".join(parts[:-1]), parts[-1]
    label = f"[{table}] {key}" if table else f"[{key}]"
    return f"{source}:{line}: {label}" if line else f"{source}: {label}"


def check_keys(given: Iterable[str], allowed: Iterable[str], *, table: str, lines: Mapping[str, int],
               source: str) -> None:
    """Raise :class:`InputError` for the first key of ``given`` not in ``allowed``, with a did-you-mean."""
    allowed = sorted(allowed)
    for key in given:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
        path = f"{table}.{key}" if table else key
        raise InputError(f"{where(path, lines, source)}: unknown key {key!r}; {hint}")
