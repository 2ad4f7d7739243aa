"""The viewer's HTTP server: standard library only, loopback only, read-only.

Routes (GET and HEAD; every other method answers 405):

``/``                   the page (``static/index.html``)
``/static/<name>``      the page's script, style sheet and colour tables (a fixed list of names)
``/api/index``          JSON: every map variable of the store (see :meth:`ResultsData.index`)
``/api/slice``          binary: one frame of one map, ``?var=strain/exx&frame=3[&fmt=f16|u8]``
``/api/timeline``       JSON: the ``timeline`` group as columns
``/api/events``         JSON: the ``events`` table
``/files/<path>``       a file inside RESULTS (report.html, figures/…, tables/…, provenance.json)
"""

from __future__ import annotations

import json
import mimetypes
import socket
import socketserver
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import InputError
from .data import ResultsData
from .security import PathRefused, check_request_path, host_header_allowed, loopback_address, resolve_inside

__all__ = ["ViewerServer", "make_server", "serve_in_thread", "STATIC_FILES"]

#: the files the page is made of, served from the package's ``static`` folder
STATIC_FILES = {"index.html": "text/html; charset=utf-8", "viewer.js": "text/javascript; charset=utf-8",
                "viewer.css": "text/css; charset=utf-8", "colormaps.js": "text/javascript; charset=utf-8",
                "timeline.js": "text/javascript; charset=utf-8"}

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def _static_bytes(name: str) -> bytes:
    return resources.files("perovscope.viewer").joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: ViewerServer
    server_version = "perovscope-viewer"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    # every method other than GET/HEAD (POST, PUT, DELETE, PATCH, OPTIONS, ...) is refused with 405
    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read-only viewer: only GET and HEAD\n",
                   "text/plain; charset=utf-8", {"Allow": "GET, HEAD"})

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format, *args):  # noqa: A002 (signature of the base class)
        if self.server.verbose:
            sys.stderr.write("viewer: " + (format % args) + "\n")

    # -- responses -------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200) -> None:
        body = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
        self._send(status, body, "application/json", {"Cache-Control": "no-store"})

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message, "status": int(status)}, status)

    # -- routing ---------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        if not host_header_allowed(self.headers.get("Host")):
            return self._error(HTTPStatus.FORBIDDEN, "Host header must name a loopback address")
        raw = self.path
        if raw.startswith("//") or "://" in raw.split("?", 1)[0]:
            return self._error(HTTPStatus.FORBIDDEN, "absolute request target refused")
        split = urlsplit(raw)
        try:
            parts = check_request_path(split.path)
        except PathRefused as exc:
            return self._error(exc.status, exc.reason)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        try:
            if not parts or parts == ("index.html",):
                return self._static("index.html")
            head, rest = parts[0], parts[1:]
            if head == "static" and len(rest) == 1:
                return self._static(rest[0])
            if head == "api" and len(rest) == 1:
                return self._api(rest[0], query)
            if head == "files":
                return self._file(rest)
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        except PathRefused as exc:
            return self._error(exc.status, exc.reason)
        except (BrokenPipeError, ConnectionResetError):
            return None
        except Exception as exc:  # a store that cannot be read: say so instead of dropping the connection
            if self.server.verbose:
                traceback.print_exc()
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        headers = {"Cache-Control": "no-cache"}
        if name == "index.html":
            headers["Content-Security-Policy"] = _PAGE_CSP
        self._send(HTTPStatus.OK, _static_bytes(name), STATIC_FILES[name], headers)

    def _api(self, name: str, query: dict) -> None:
        data = self.server.data
        if name == "index":
            return self._json(data.index())
        if name == "timeline":
            return self._json(data.timeline())
        if name == "events":
            return self._json(data.events())
        if name == "slice":
            var = query.get("var", "")
            try:
                frame = int(query.get("frame", "0"))
            except ValueError:
                return self._error(HTTPStatus.BAD_REQUEST, "frame must be an integer")
            fmt = query.get("fmt", "f16")
            if fmt not in ("f16", "u8"):
                return self._error(HTTPStatus.BAD_REQUEST, "fmt must be f16 or u8")
            try:
                payload = data.slice_bytes(var, frame, fmt)
            except KeyError:
                return self._error(HTTPStatus.NOT_FOUND, f"no map named {var!r} (see /api/index)")
            except IndexError as exc:
                return self._error(HTTPStatus.NOT_FOUND, str(exc))
            return self._send(HTTPStatus.OK, payload, "application/octet-stream",
                              {"Cache-Control": "no-store"})
        return self._error(HTTPStatus.NOT_FOUND, "no such API")

    def _file(self, parts: tuple[str, ...]) -> None:
        target = resolve_inside(self.server.root, parts)
        if target.is_dir():
            base = self.server.root.resolve()
            listing = []
            for child in sorted(target.iterdir()):
                if child.name.startswith("."):
                    continue
                real = child.resolve()
                if not real.is_relative_to(base) or not real.exists():
                    continue  # never list what a link outside points to
                listing.append({"name": child.name + ("/" if real.is_dir() else ""),
                                "size": real.stat().st_size if real.is_file() else None})
            return self._json({"folder": "/".join(parts), "entries": listing})
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        headers = {"Cache-Control": "no-cache"}
        if ctype == "text/html":  # the report is self-contained: allow its inline styles and images
            headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline' 'self'; "
                                                  "img-src 'self' data:; script-src 'none'")
        self._send(HTTPStatus.OK, target.read_bytes(), ctype, headers)


class ViewerServer(ThreadingHTTPServer):
    """A threading HTTP server bound to a loopback address, serving one results folder read-only."""

    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, results: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                 verbose: bool = False, data: ResultsData | None = None):
        address = loopback_address(host)
        if not 0 <= int(port) <= 65535:
            raise InputError(f"--port {port} is not a port number (0..65535; 0 picks a free port)")
        self.data = data or ResultsData(results)
        self.root = self.data.root
        self.verbose = verbose
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        try:
            super().__init__((address, int(port)), _Handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {address}:{port} ({exc.strerror or exc}); choose another "
                             "--port, or --port 0 for a free one") from None

    def server_bind(self) -> None:
        # skip HTTPServer's reverse DNS look-up of the address (slow on some machines, useless here)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"


def make_server(results: str | Path, *, host: str = "127.0.0.1", port: int = 0,
                verbose: bool = False) -> ViewerServer:
    """A :class:`ViewerServer` for ``results`` (not yet serving); raises InputError for a bad folder/host."""
    return ViewerServer(results, host=host, port=port, verbose=verbose)


def serve_in_thread(results: str | Path, **kwargs) -> tuple[ViewerServer, threading.Thread]:
    """Start a viewer on a background thread (for notebooks and tests); stop it with ``shutdown()``."""
    server = make_server(results, **kwargs)
    thread = threading.Thread(target=server.serve_forever, name="perovscope-viewer", daemon=True)
    thread.start()
    return server, thread
