"""What every ``perovscope bulk <technique>`` shares: options, output files, the printed table.

A technique's ``analyse(args)`` returns a :class:`BulkOutcome`: the results (an
:class:`xarray.Dataset` or :class:`xarray.DataTree`, saved atomically as ``<out>/<technique>.zarr``), a
table (an :class:`xarray.Dataset` over one ``row`` dimension, each variable with ``attrs["units"]``,
printed on stdout, or as JSON with ``--json``, and written as ``<out>/<technique>.csv``) and a
figure-making callable (saved as ``<out>/<technique>.png`` and ``.svg`` unless ``--no-figure``).
Paths written are listed on stderr so that stdout holds only the table.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BulkOutcome", "add_common_arguments", "run_technique", "format_table", "table_rows",
           "stack_groups"]


@dataclass(frozen=True)
class BulkOutcome:
    """What a technique's ``analyse(args)`` returns.

    Attributes
    ----------
    table : xarray.Dataset
        One ``row`` dimension; each variable (and non-index coordinate) is a column.
    results : xarray.Dataset or xarray.DataTree
        Everything worth keeping (spectra, fits, residuals), written to ``<technique>.zarr``.
    figure : callable or None
        ``figure() -> matplotlib.figure.Figure``, called only when a figure is wanted.
    notes : list of str
        One-line remarks printed on stderr (a default that was used, a window chosen automatically).
    """

    table: object
    results: object
    figure: Callable | None = None
    notes: list[str] = field(default_factory=list)


def stack_groups(tables, results: dict):
    """One table over ``row`` from each group's table, and the results to save.

    ``results`` maps ``group_00``, ``group_01``, ... to Datasets: the only one is saved as it is,
    several as a DataTree with one node per group. Returns ``(table, results)``.
    """
    import numpy as np
    import xarray as xr

    table = xr.concat(tables, dim="row") if len(tables) > 1 else tables[0]
    table = table.assign_coords(row=np.arange(table.sizes["row"]))
    out = results["group_00"] if len(results) == 1 else xr.DataTree.from_dict(results)
    return table, out


def add_common_arguments(parser, technique: str) -> None:
    """The options every bulk technique takes."""
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"output folder (default ./{technique}_results)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON rows")
    parser.add_argument("--no-figure", action="store_true", help="do not draw the figure")
    parser.add_argument("--quiet", action="store_true", help="no notes or paths on stderr")


def table_rows(table) -> list[dict]:
    """The table Dataset as a list of ``{column: value}`` dicts (NaN -> None)."""
    frame = table.to_dataframe().reset_index()
    if "row" in frame.columns:
        frame = frame.drop(columns="row")
    rows = []
    for rec in frame.to_dict(orient="records"):
        rows.append({str(k): _plain(v) for k, v in rec.items()})
    return rows


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode()
    return value


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_table(table) -> str:
    """Aligned text of the table, the units under each column name."""
    rows = table_rows(table)
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    units = [str(table[c].attrs.get("units", "")) if c in table.variables else "" for c in cols]
    cells = [[_cell(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), len(u), *(len(row[i]) for row in cells))
              for i, (c, u) in enumerate(zip(cols, units, strict=True))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    if any(units):
        lines.append("  ".join(u.ljust(w) for u, w in zip(units, widths, strict=True)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _write_csv(table, path: Path) -> None:
    from ...tabular import csv_text, write_text_atomic

    units = {c: str(table[c].attrs["units"]) for c in table.variables if table[c].attrs.get("units")}
    head = "# units: " + ", ".join(f"{k}={v}" for k, v in units.items()) + "\n" if units else ""
    frame = table.to_dataframe().reset_index(drop="row" in table.dims)
    write_text_atomic(path, head + csv_text(frame, index=False))


def run_technique(module, technique: str, args) -> int:
    """Run ``module.analyse(args)`` and write and print what it returns (exit status 0)."""
    from ...io import save

    outcome = module.analyse(args)
    out = Path(args.out) if args.out else Path.cwd() / f"{technique}_results"
    out.mkdir(parents=True, exist_ok=True)
    written = [save(outcome.results, out / f"{technique}.zarr")]
    csv_path = out / f"{technique}.csv"
    _write_csv(outcome.table, csv_path)
    written.append(csv_path)
    if outcome.figure is not None and not args.no_figure:
        from ...report import save_figure

        paths = save_figure(outcome.figure(), out / f"{technique}.png")
        written += [Path(p) for k, p in paths.items() if k != "png_bytes"]
    if args.json:
        print(json.dumps(table_rows(outcome.table), indent=2, allow_nan=False))
    else:
        print(format_table(outcome.table))
    if not args.quiet:
        for note in outcome.notes:
            print(f"perovscope bulk {technique}: {note}", file=sys.stderr)
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
    return 0
