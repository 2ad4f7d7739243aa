"""Recovered against true: a simulated session's results beside the simulator's ground truth.

:func:`truth_table` reads a results folder and the session's truth store (``[session] truth``) and
returns one row per quantity with the recovered value, the true value and the error, as a Dataset
over ``row`` (``.to_dataframe()`` for pandas). ``perovscope run`` prints it at the end of a simulated
session, ``make demo`` shows it, and the report's truth section lists it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError

__all__ = ["truth_table", "format_truth_table"]


def _open(path: Path) -> xr.DataTree:
    return xr.open_datatree(path, engine="zarr", consolidated=False)


def _truth_root(truth: xr.DataTree) -> xr.DataTree:
    return truth["truth"] if "truth" in truth.children and "alcl3_thickness_nm" not in truth else truth


def _row(rows, quantity, units, recovered, true, how):
    rec, tru = np.asarray(recovered, float), np.asarray(true, float)
    if rec.shape != tru.shape or rec.size == 0:
        return
    err = rec - tru
    k = int(np.nanargmax(np.abs(err))) if np.any(np.isfinite(err)) else 0
    rows.append({"quantity": quantity, "units": units, "recovered": float(rec.ravel()[k]),
                 "true": float(tru.ravel()[k]), "error": float(err.ravel()[k]),
                 "max_abs_error": float(np.nanmax(np.abs(err))) if np.any(np.isfinite(err)) else np.nan,
                 "compared": how})


def _event_frame(events: xr.Dataset, name: str) -> int | None:
    names = [str(n) for n in events["name"].values]
    return int(events["frame"].values[names.index(name)]) if name in names else None


def _device_rows(res: xr.DataTree, truth: xr.DataTree) -> list[dict]:
    rows: list[dict] = []
    tl = res["timeline"].to_dataset() if "timeline" in res.children else None
    t = _truth_root(truth).to_dataset()
    if tl is not None and "alcl3_thickness_nm" in tl and "alcl3_thickness_nm" in t:
        _row(rows, "AlCl3 thickness", "nm", tl["alcl3_thickness_nm"].values, t["alcl3_thickness_nm"].values,
             "per frame (largest error shown)")
    parts = truth["truth/particles" if "truth" in truth.children else "particles"].to_dataset() \
        if ("particles" in _truth_root(truth).children) else None
    if tl is not None and parts is not None and "pb_particle_count" in tl:
        metal = parts["phase_name"].values == "Pb"
        count = ((parts["radius_nm"].values > 0) & metal).sum(axis=1)
        _row(rows, "Pb nanoparticles", "count", tl["pb_particle_count"].values, count, "per frame")
    if "events" in res.children and parts is not None:
        ev = res["events"].to_dataset()
        metal = parts["phase_name"].values == "Pb"
        count = ((parts["radius_nm"].values > 0) & metal).sum(axis=1)
        more = np.flatnonzero(count > count[0])
        got = _event_frame(ev, "pb_nucleation_onset")
        if got is not None:
            _row(rows, "Pb nucleation onset", "frame", [got], [more[0] if more.size else -1],
                 "first frame with more metallic Pb particles than frame 0 (-1: none)")
        al = t["alcl3_thickness_nm"].values if "alcl3_thickness_nm" in t else None
        got = _event_frame(ev, "alcl3_onset")
        if got is not None and al is not None and np.any(al > 0):
            _row(rows, "AlCl3 onset", "frame", [got], [int(np.argmax(al > 0))], "first frame with AlCl3")
    if "drift" in res.children and "drift" in _truth_root(truth).children:
        d, dt = res["drift"].to_dataset(), _truth_root(truth)["drift"].to_dataset()
        for axis in ("y", "x"):
            if f"shift_{axis}_px" in d:
                _row(rows, f"HAADF drift {axis}", "px", d[f"shift_{axis}_px"].values,
                     dt[f"shift_{axis}_px"].values, "per frame")
    if tl is not None:
        if "el_intensity" in tl and "el_intensity" in t:     # the log's EL is in detector units
            el, el_t = tl["el_intensity"].values, t["el_intensity"].values
            _row(rows, "EL relative to frame 0", "1", el / el[0], el_t / el_t[0], "per frame")
        for col, tv, units in (("voltage_V", "voltage_V", "V"),
                               ("cl_fraction_edx", "mean_cl_fraction", "1"),
                               ("cl_fraction_vegard", "mean_cl_fraction", "1")):
            if col in tl and tv in t:
                _row(rows, col, units, tl[col].values, t[tv].values, "per frame (window mean vs instant)")
    return rows


def _composite_rows(res: xr.DataTree, truth: xr.DataTree) -> list[dict]:
    rows: list[dict] = []
    t = _truth_root(truth)
    if "composite_particles" in res.children and "particles" in t.children:
        p = res["composite_particles"].to_dataset().isel(time=0)
        d = p["diameter_nm"].values
        d_true = t["particles/diameter_nm"].values
        _row(rows, "mean particle diameter", "nm", [np.nanmean(d)], [d_true.mean()], "mean over particles")
        _row(rows, "particle count", "count", [np.isfinite(d).sum()], [t["particles"].sizes["particle"]],
             "particles found")
        if "iodine_width_nm" in p and "iodine_width_nm" in t:
            _row(rows, "iodine halo width", "nm", [float(p["iodine_width_nm"])],
                 [float(t["iodine_width_nm"])], "f erfc(d/w) fit outside the particles")
    if "cl_map" in res.children and "cl" in t.children:
        cl, tc = res["cl_map"].to_dataset().isel(time=0), t["cl"].to_dataset()
        emit = tc["cl_amplitude"].values > 0
        _row(rows, "CL centre (median over emitting pixels)", "nm",
             [np.nanmedian(cl["centre"].values[emit])], [np.median(tc["cl_centre_nm"].values[emit])],
             "median")
    return rows


def truth_table(results, truth=None) -> xr.Dataset:
    """Recovered against true for a simulated session's results folder.

    Parameters
    ----------
    results : str or path-like
        The results folder (``provenance.json`` names the truth store of the session).
    truth : str or path-like, optional
        The truth store, overriding the one the session names.

    Returns
    -------
    xarray.Dataset
        Over ``row``: ``quantity``, ``units``, ``recovered``, ``true``, ``error`` (recovered − true at
        the frame of the largest error), ``max_abs_error``, ``compared`` (what is compared). Empty
        when the results hold nothing the truth describes.

    Raises
    ------
    InputError
        No truth store given or named by the session, or it does not exist.
    """
    results = Path(results)
    try:
        prov = json.loads((results / "provenance.json").read_text())
    except (OSError, ValueError):
        prov = {}
    truth = truth if truth is not None else prov.get("truth")
    if not truth or not Path(truth).exists():
        raise InputError(f"{results}: no truth store (give one, or set [session] truth)")
    res, tr = _open(results / "results.zarr"), _open(Path(truth))
    rows = _composite_rows(res, tr) if prov.get("sample") == "composite" else _device_rows(res, tr)
    cols = ("quantity", "units", "recovered", "true", "error", "max_abs_error", "compared")
    return xr.Dataset({c: ("row", np.array([r[c] for r in rows]) if rows else np.array([])) for c in cols})


def format_truth_table(table: xr.Dataset) -> str:
    """The truth table as aligned plain text (one line per quantity)."""
    if table.sizes.get("row", 0) == 0:
        return "no quantity of these results is described by the truth"
    lines = [f"{'quantity':<40} {'recovered':>11} {'true':>11} {'error':>11}  units"]
    for i in range(table.sizes["row"]):
        r = {k: table[k].values[i] for k in table.data_vars}
        lines.append(f"{str(r['quantity']):<40} {r['recovered']:>11.4g} {r['true']:>11.4g} "
                     f"{r['error']:>+11.3g}  {r['units']}")
    return "\n".join(lines)
