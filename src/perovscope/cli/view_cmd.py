"""``perovscope view RESULTS``: browse a results folder in a local, read-only web page.

Serves the folder `perovscope run` wrote on ``http://127.0.0.1:PORT/`` (loopback only; ``--port 0``
picks a free port) until Ctrl-C. A browser is opened only when the terminal is interactive and
``--no-browser`` is not given.
"""

from __future__ import annotations

import sys


def run(args) -> int:
    from ..viewer import make_server

    server = make_server(args.results, host=args.host, port=args.port, verbose=args.verbose)
    print(f"perovscope view: serving {args.results} on {server.url}  (Ctrl-C to stop)", flush=True)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if args.open or (interactive and not args.no_browser):
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("perovscope view: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def register(subparsers) -> None:
    """Add ``view`` to ``subparsers``."""
    p = subparsers.add_parser(
        "view", help="browse a results folder in a local web page (maps, frames, timeline, events)",
        description="Serve a results folder (written by `perovscope run`) as a read-only web page on "
                    "this machine: every map frame by frame with a hover read-out, and the timeline "
                    "with its events. Listens on a loopback address only.")
    p.add_argument("results", metavar="RESULTS", help="the results folder (holds results.zarr)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="loopback address to bind (127.0.0.1 default, another 127.x.y.z or ::1)")
    p.add_argument("--no-browser", action="store_true", help="never open a web browser")
    p.add_argument("--open", action="store_true", help="open a web browser even when not interactive")
    p.add_argument("--verbose", action="store_true", help="log every request on stderr")
    p.set_defaults(func=run)
