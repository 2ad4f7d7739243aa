"""``perovscope bulk <technique> FILE... [options]``: one bulk (ex-situ) measurement analysis per technique.

Every technique lives in :mod:`perovscope.cli.bulk` as a small module exposing ``HELP`` (one line),
``add_arguments(parser)`` and ``analyse(args) -> BulkOutcome``; the shared options (``--out``,
``--json``, ``--no-figure``, ``--quiet``) and the output (a table on stdout, ``<out>/<technique>.zarr``,
``<out>/<technique>.csv`` and the figure) are handled once, in :mod:`perovscope.cli.bulk._common`.
The technique modules import nothing heavy at import time, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib

#: Technique name -> module of :mod:`perovscope.cli.bulk` implementing it, in ``--help`` order.
TECHNIQUES = {
    "pl": "pl", "plqy": "plqy", "colour": "colour", "uvvis": "uvvis", "trpl": "trpl",
    "raman": "raman", "ftir": "ftir", "xps": "xps", "nmr": "nmr", "xas": "xas",
    "xrd": "xrd", "saxs": "saxs", "pdf": "pdf", "dsc": "dsc", "tga": "tga",
    "impedance": "impedance", "nanoindentation": "nanoindentation",
}


def register(subparsers) -> None:
    """Add ``perovscope bulk`` and one sub-command per technique whose module exists."""
    from .bulk._common import add_common_arguments, run_technique

    parser = subparsers.add_parser("bulk", help="analyse bulk measurements (PL, UV-Vis, TRPL, Raman, XPS, "
                                               "NMR, XAS, XRD, SAXS, PDF, DSC/TGA, impedance, indentation)")
    sub = parser.add_subparsers(dest="technique", metavar="TECHNIQUE")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
    for name, module_name in TECHNIQUES.items():
        try:
            module = importlib.import_module(f"{__package__}.bulk.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.bulk.{module_name}":
                raise
            continue
        tparser = sub.add_parser(name, help=module.HELP.replace("%", "%%"), description=module.__doc__)
        module.add_arguments(tparser)
        add_common_arguments(tparser, name)
        tparser.set_defaults(func=lambda args, m=module, n=name: run_technique(m, n, args))
