"""``perovscope run SESSION.toml`` and ``perovscope init DIR``: a whole operando session in, one account out.

``run`` checks the session description and every file before computing anything, then runs every
step into the results folder (cached, resumable; docs/results-store.md) and writes the report;
``--check`` only validates. ``init`` writes a commented session.toml for a folder of instrument files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add the ``run`` and ``init`` sub-commands."""
    p = subparsers.add_parser("run", help="analyse a whole operando session described by a session.toml",
                              description=__doc__)
    p.add_argument("session", type=Path, metavar="SESSION.toml")
    p.add_argument("--check", action="store_true", help="validate the description and files; compute nothing")
    p.add_argument("--force", action="append", default=[], metavar="STEP",
                   help="run STEP again even if cached (repeatable; 'all' for every step)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask.distributed scheduler (default $DASK_SCHEDULER_ADDRESS, else local)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="start a local dask.distributed cluster with N worker processes")
    p.add_argument("--memory-budget", default=None, metavar="SIZE", help="e.g. 2GB: bounds chunks in flight")
    p.add_argument("--no-report", action="store_true", help="do not write report.html at the end")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run_run)

    q = subparsers.add_parser("init", help="write a commented session.toml for a folder of instrument files")
    q.add_argument("folder", type=Path, metavar="DIR")
    q.add_argument("--out", type=Path, default=None, metavar="SESSION.toml")
    q.add_argument("--overwrite", action="store_true", help="replace an existing session.toml")
    q.set_defaults(func=run_init)


def run_run(args: argparse.Namespace) -> int:
    """Run, resume or check a session."""
    from ..pipeline import check_session, run_session

    if args.check:
        session, inputs = check_session(args.session)
        mods = ", ".join(f"{m} ({len(s.files) or 'stack'})" for m, s in inputs.sources.items())
        print(f"{args.session}: OK — {inputs.frames.sizes['time']} frames; {mods}; "
              f"bias log: {'yes' if inputs.bias_log is not None else 'no'}; results -> {session.output}")
        return 0
    # warnings are captured by the command line (perovscope's own: one line each; libraries': --verbose)
    summary = run_session(args.session, force=args.force, scheduler=args.scheduler,
                          workers=args.workers, memory_budget=args.memory_budget, quiet=args.quiet)
    report = None
    if not args.no_report:
        report = _report(summary.out, quiet=args.quiet)
    if not summary.ran:
        print(f"{summary.out}: nothing to do — every step is up to date ({len(summary.cached)} cached)")
    else:
        print(f"{summary.out}: ran {len(summary.ran)} step(s) ({', '.join(summary.ran)}), "
              f"{len(summary.cached)} cached, {summary.frames_computed} frame(s) computed, "
              f"{summary.frames_resumed} resumed, {summary.seconds:.1f} s")
    if report:
        print(f"report: {report}")
    _print_truth(summary.out)
    return 0


def _print_truth(out: Path) -> None:
    """Recovered against true, for simulated sessions (the session names a truth store)."""
    import json

    from ..pipeline.truth import format_truth_table, truth_table

    truth = json.loads((out / "provenance.json").read_text()).get("truth")
    if truth and Path(truth).exists():
        print("recovered against the simulator's truth:")
        print(format_truth_table(truth_table(out)))


def _report(out: Path, *, quiet: bool):
    try:
        from ..report import build_report
    except ImportError:  # report package not available
        return None
    return build_report(out)


def run_init(args: argparse.Namespace) -> int:
    """Write a session.toml for a folder."""
    from ..pipeline import init_session

    path = init_session(args.folder, out=args.out, overwrite=args.overwrite)
    print(f"wrote {path}; edit it, then: perovscope run --check {path}", file=sys.stdout)
    return 0
