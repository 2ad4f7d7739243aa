"""The viewer's security rules: loopback-only binding, request-path checks, files kept inside RESULTS.

The viewer serves a results folder to the browser on the same machine and nothing else:

- it binds only to a loopback address (``127.0.0.0/8`` or ``::1``); any other address is refused;
- it answers only requests whose ``Host`` header names a loopback address (a page on another site that
  points a DNS name at 127.0.0.1 cannot read the results);
- a request path is checked *before* any file-system access: backslashes, NUL bytes, ``.``/``..``
  segments (plain, percent-encoded or double-encoded), empty segments (``//`` or absolute paths) and
  hidden names are refused;
- a file is served only when its fully resolved path (symlinks followed) still lies inside RESULTS.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import unquote

from ..errors import InputError

__all__ = ["loopback_address", "check_request_path", "resolve_inside", "host_header_allowed",
           "PathRefused"]

#: host names accepted for binding besides literal loopback addresses
_LOOPBACK_NAMES = {"localhost": "127.0.0.1", "ip6-localhost": "::1"}


class PathRefused(Exception):
    """A request path that must not be served; ``status`` is the HTTP status to answer (403 or 404)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def loopback_address(host: str) -> str:
    """The literal loopback address to bind for ``host``; :class:`InputError` for anything else.

    ``localhost`` maps to ``127.0.0.1``; ``127.x.y.z`` and ``::1`` (with or without brackets) are kept.
    An empty host, ``0.0.0.0``, ``::`` and every non-loopback address or other host name are refused,
    since the viewer must never be reachable from another machine.
    """
    text = (host or "").strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = _LOOPBACK_NAMES.get(text.lower(), text)
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise InputError(f"--host {host!r} is not a loopback address; the viewer binds only to "
                         "127.0.0.1 (or another 127.x.y.z, or ::1)") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if not addr.is_loopback:
        raise InputError(f"--host {host!r} is not a loopback address; the viewer serves only this "
                         "machine: use 127.0.0.1 (or ::1)")
    return str(addr)


def host_header_allowed(host_header: str | None) -> bool:
    """Whether a request's ``Host`` header names a loopback host (any port)."""
    if not host_header:
        return False
    text = host_header.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return False
        name = text[1:end]
    else:
        name = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    try:
        loopback_address(name)
    except InputError:
        return False
    return True


def check_request_path(raw_path: str) -> tuple[str, ...]:
    """The path segments of a raw request target, refusing anything that could leave the served tree.

    ``raw_path`` is the path part of the request line exactly as received (no query string). It is
    decoded once; a ``%`` left after decoding means a double-encoded path and is refused, as are
    backslashes, NUL bytes, ``.``/``..`` segments, empty segments (``//``, absolute paths after a
    prefix), drive letters (``:``) and hidden names (leading ``.``). Raises :class:`PathRefused`.
    """
    if not raw_path.startswith("/"):
        raise PathRefused(403, "request target is not an origin-form path")
    try:
        decoded = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise PathRefused(404, "path is not valid UTF-8") from None
    for text in (raw_path, decoded):
        if "\\" in text or "\x00" in text:
            raise PathRefused(403, "backslash or NUL byte in path")
    if "%" in decoded:
        raise PathRefused(403, "percent sign left after decoding (double-encoded path)")
    parts = decoded[1:].split("/")
    if parts and parts[-1] == "":  # one trailing slash names a folder
        parts = parts[:-1]
    for seg in parts:
        if seg in ("", ".", ".."):
            raise PathRefused(403, "empty, '.' or '..' path segment")
        if ":" in seg:
            raise PathRefused(403, "':' in a path segment")
        if seg.startswith("."):
            raise PathRefused(404, "hidden name")
        if any(ord(c) < 32 for c in seg):
            raise PathRefused(403, "control character in path")
    return tuple(parts)


def resolve_inside(root: Path, parts: tuple[str, ...]) -> Path:
    """``root / parts`` fully resolved, refused (404) unless it exists and stays inside ``root``.

    Symlinks are followed: a link inside RESULTS whose target lies outside is refused like a ``..``.
    """
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        raise PathRefused(403, "path resolves outside the results folder")
    if not target.exists():
        raise PathRefused(404, "no such file")
    return target
