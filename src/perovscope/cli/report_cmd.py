"""``perovscope report RESULTS [--truth TRUTH.zarr]``: the self-contained HTML report of a results folder.

Writes ``RESULTS/report.html`` and every figure as ``RESULTS/figures/<name>.png`` and ``.svg``
(:func:`perovscope.report.build_report`) and prints the report's path.
"""

from __future__ import annotations

import sys


def _report(args) -> int:
    from ..report import build_report

    path = build_report(args.results, truth=args.truth, out=args.out)
    if not args.quiet:
        n = len(list((path.parent / "figures").glob("*.png")))
        print(f"perovscope report: {n} figures in {path.parent / 'figures'}", file=sys.stderr)
    print(path)
    return 0


def register(subparsers) -> None:
    """Add ``report`` to ``subparsers``."""
    p = subparsers.add_parser("report", help="self-contained HTML report of a results folder",
                              description="Build RESULTS/report.html (figures embedded, no external "
                                          "resources) and RESULTS/figures/*.png|svg from the folder "
                                          "written by `perovscope run`.")
    p.add_argument("results", metavar="RESULTS", help="results folder of `perovscope run`")
    p.add_argument("--truth", metavar="TRUTH.zarr",
                   help="ground truth to compare with (a simulated session or its truth node; default: "
                        "the [session] truth recorded in the folder, if any)")
    p.add_argument("--out", help="report path (default RESULTS/report.html; figures/ beside it)")
    p.add_argument("--quiet", action="store_true", help="print only the report's path")
    p.set_defaults(func=_report)
