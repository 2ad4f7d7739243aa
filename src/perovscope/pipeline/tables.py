"""The tidy tables of a results folder (``RESULTS/tables/*.csv``), written from the store's groups.

Each table is one group of the results store flattened with :meth:`xarray.Dataset.to_dataframe`
(one row per frame, event, particle, ...), written atomically. A first comment line lists the units
of the columns (``# units: time_s=s, voltage_V=V, ...``) so the CSV stays self-describing while
``pandas.read_csv(path, comment="#")`` reads it directly.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..tabular import csv_text
from .store import group_attrs, read_group, write_text

__all__ = ["TABLE_GROUPS", "write_tables", "table_csv"]

#: Groups written as CSV tables.
TABLE_GROUPS = ("timeline", "bias", "events", "correlations", "particles", "nucleation", "registration",
                "interfaces", "profiles")


def table_csv(ds: xr.Dataset) -> str:
    """CSV text of a results group: a ``# units:`` comment line, then one row per index entry."""
    keep = [v for v in ds.data_vars if ds[v].ndim >= 1]
    frame = ds[keep].to_dataframe()  # coordinates (frame, time_s) come along as columns
    units = {str(n): ds[n].attrs.get("units", "") for n in list(ds.coords) + keep if ds[n].attrs.get("units")}
    head = "# units: " + ", ".join(f"{k}={v}" for k, v in units.items()) + "\n" if units else ""
    return head + csv_text(frame)


def write_tables(out: Path, *, read=None) -> list[Path]:
    """Write ``RESULTS/tables/<group>.csv`` for every table group present; returns the paths.

    ``read(name) -> Dataset`` reads a group (default :func:`.store.read_group`; the runner passes its
    :class:`.store.GroupCache`).
    """
    read = read or (lambda name: read_group(out, name))
    written = []
    for name in TABLE_GROUPS:
        if group_attrs(out, name) is None:
            continue
        ds = read(name)
        written.append(write_text(Path(out) / "tables" / f"{name}.csv", table_csv(ds)))
    return written


