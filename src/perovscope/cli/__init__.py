"""The ``perovscope`` command line: thin argument parsing that calls the areas.

Each sub-command lives in a small module of this package exposing ``register(subparsers)``; it adds
its parser and sets ``func`` to a callable taking the parsed arguments and returning an exit status.
The command modules import nothing heavy at import time (numpy, xarray and the areas are imported
inside the handlers), so ``perovscope --help`` stays fast.

User mistakes (:class:`~perovscope.errors.PerovscopeError`) and argument errors are printed as one line
on stderr with exit status 2, never as a traceback. Library warnings are captured
(:mod:`perovscope.cli._messages`): perovscope's own warnings are one line each, library warnings are
translated where they mean something and otherwise shown only with ``--verbose``.
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


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):
        print(f"{parser.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)

    return error


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:  # noqa: SLF001 - argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            yield from action.choices.values()


def _finish(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """One-line argument errors and a ``--verbose`` option on every (sub-)parser."""
    parser.error = _one_line_error(parser)
    if not top and not any("--verbose" in a.option_strings for a in parser._actions):  # noqa: SLF001
        parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                            help="also show library warnings and log messages")
    for sub in _subparsers(parser):
        _finish(sub)


class _VersionAction(argparse.Action):
    """``--version``: the installed version, read only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        print(f"perovscope {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every sub-command registered)."""
    parser = argparse.ArgumentParser(
        prog="perovscope",
        description="Multimodal electron-microscopy analysis of perovskite and glass-composite "
                    "materials and devices.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    parser.add_argument("--verbose", action="store_true",
                        help="also show library warnings and log messages (also accepted after COMMAND)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    _finish(parser, top=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``perovscope`` executable; returns the process exit status."""
    from ._messages import captured_warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        with captured_warnings(args.command, verbose=bool(getattr(args, "verbose", False))):
            return int(args.func(args) or 0)
    except PerovscopeError as exc:
        print(f"perovscope {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"perovscope {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (inner newlines become ``; ``)."""
    return "; ".join(part.strip() for part in str(exc).strip().splitlines() if part.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
