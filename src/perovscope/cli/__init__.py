"""The ``perovscope`` command line: thin argument parsing that calls the areas.

Each sub-command lives in a small module of this package exposing ``register(subparsers)``; it adds
its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit status.
User mistakes (:class:`~perovscope.errors.PerovscopeError`) are printed as one line on stderr with
exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import PerovscopeError

#: Modules providing sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES = (
    "run_cmd",
    "inspect_cmd",
    "convert_cmd",
    "simulate_cmd",
    "diffraction_cmd",
    "imaging_cmd",
    "spectroscopy_cmd",
    "bulk_cmd",
    "view_cmd",
    "report_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every sub-command registered)."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="perovscope",
        description="Multimodal electron-microscopy analysis of perovskite and glass-composite "
                    "materials and devices.",
    )
    parser.add_argument("--version", action="version", version=f"perovscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``perovscope`` executable; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except PerovscopeError as exc:
        print(f"perovscope {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"perovscope {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
