"""TGA traces: mass-loss steps (onset, inflection, endset, mass loss), the DTG and proximate analysis.

Each FILE (TA Instruments text export with a weight column) gives one row per mass-loss step, found
from the derivative (DTG) or given as ``--step LO:HI`` windows (°C, repeatable, on the heating
part). When the programme has a drying hold, a devolatilisation hold and a final stage (the
proximate-analysis programme, or ``--moisture-end``/``--volatile-end`` in minutes), moisture,
volatile matter, fixed carbon and ash are reported both from the weight as recorded and after the
min–max normalisation (heaviest point 100 %, final residue 0 %).

Examples::

    perovscope bulk tga coal.txt
    perovscope bulk tga sample.txt --step 200:450 --normalise initial
"""

from __future__ import annotations

HELP = "TGA: mass-loss steps (onset/inflection/endset, mass loss), DTG, proximate analysis"

_UNITS = dict(file="", kind="", normalisation="", onset="degC", inflection="degC", endset="degC",
              mass_loss="%", residue="%", dtg_peak="%/min", moisture="%", volatile_dry="%",
              fixed_carbon_dry="%", ash_dry="%")


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="TGA text exports (TA Instruments)")
    parser.add_argument("--step", action="append", default=None, metavar="LO:HI",
                        help="temperature window (°C) of a mass-loss step; repeat for several (default: "
                             "found from the DTG)")
    parser.add_argument("--normalise", choices=("none", "initial", "max", "minmax"), default=None,
                        help="mass normalisation for the steps (default: the file's %% column as recorded, "
                             "else %% of the initial mass)")
    parser.add_argument("--smooth", type=float, default=60.0, metavar="S", help="DTG smoothing window (s)")
    parser.add_argument("--min-loss", type=float, default=0.5, metavar="PCT", help="smallest step kept (%%)")
    parser.add_argument("--moisture-end", type=float, default=None, metavar="MIN",
                        help="end of the drying hold (min) for the proximate analysis")
    parser.add_argument("--volatile-end", type=float, default=None, metavar="MIN",
                        help="end of the inert devolatilisation (min) for the proximate analysis")


def _proximate_times(ds, args, notes, name):
    import json

    if args.moisture_end is not None or args.volatile_end is not None:
        if args.moisture_end is None or args.volatile_end is None:
            from ...errors import InputError

            raise InputError("a proximate analysis needs both --moisture-end MIN and --volatile-end MIN")
        return args.moisture_end * 60.0, args.volatile_end * 60.0
    segs = json.loads(ds.attrs.get("segments", "[]"))
    holds = [s for s in segs if s.get("isothermal") and "end_s" in s]
    if len(holds) >= 2 and len(segs) > segs.index(holds[1]) + 1:
        notes.append(f"{name}: proximate analysis from the programme: moisture at the end of step "
                     f"{holds[0]['index']} ({holds[0]['end_s'] / 60:.1f} min), volatiles at the end of step "
                     f"{holds[1]['index']} ({holds[1]['end_s'] / 60:.1f} min), ash = final residue")
        return holds[0]["end_s"], holds[1]["end_s"]
    return None


def _step_windows(t, temp, windows):
    """°C windows -> time windows on the first crossing of each temperature."""
    import numpy as np

    from ...errors import InputError

    out = []
    ok = np.isfinite(temp)
    tt, te = t[ok], np.maximum.accumulate(temp[ok])
    for lo, hi in windows:
        if lo < te[0] or hi > te[-1]:
            raise InputError(f"step window {lo:g}:{hi:g} °C lies outside the trace "
                             f"({te[0]:.1f}–{te[-1]:.1f} °C)")
        out.append((float(tt[np.searchsorted(te, lo)]), float(tt[min(np.searchsorted(te, hi), tt.size - 1)])))
    return out


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.dsc import parse_windows
    from ...bulk.tga import dtg, mass_loss_steps, normalise_mass, proximate_analysis
    from ...errors import FormatError
    from ...io.ta_thermal import read_ta_thermal
    from ._common import BulkOutcome

    notes, rows, children = [], [], {}
    nan = float("nan")
    for fi, path in enumerate(args.files):
        ds = read_ta_thermal(Path(path))
        name = Path(path).name
        if "mass_percent" in ds:
            raw, method = ds.mass_percent.values, args.normalise or "none"
        elif "mass" in ds:
            raw, method = ds.mass.values, args.normalise or "initial"
        else:
            raise FormatError(f"{path}: no weight column (a TGA export is needed)")
        t = ds.time.values
        temp = ds.temperature.values if "temperature" in ds else np.full(t.size, np.nan)
        pct = normalise_mass(raw, method=method)
        windows = _step_windows(t, temp, parse_windows(args.step)) if args.step else None
        st = mass_loss_steps(t, pct, temperature=temp, windows=windows, smooth_s=args.smooth,
                             min_loss=args.min_loss)
        for j in range(st.mass_loss.shape[-1]):
            rows.append(dict(file=name, kind=f"step {j + 1}", normalisation=method, onset=st.onset_C[j],
                             inflection=st.inflection_C[j], endset=st.endset_C[j], mass_loss=st.mass_loss[j],
                             residue=st.mass_end[j], dtg_peak=st.dtg_peak[j], moisture=nan, volatile_dry=nan,
                             fixed_carbon_dry=nan, ash_dry=nan))
        times = _proximate_times(ds, args, notes, name)
        if times is not None:
            for meth in dict.fromkeys([method, "minmax"]):
                px = proximate_analysis(t, raw, moisture_end_s=times[0], volatile_end_s=times[1], method=meth)
                rows.append(dict(file=name, kind="proximate", normalisation=meth, onset=nan, inflection=nan,
                                 endset=nan, mass_loss=nan, residue=nan, dtg_peak=nan, moisture=px.moisture,
                                 volatile_dry=px.volatile_dry, fixed_carbon_dry=px.fixed_carbon_dry,
                                 ash_dry=px.ash_dry))
        d = dtg(t, pct, temperature=temp, smooth_s=args.smooth)
        children[f"file_{fi:02d}"] = xr.Dataset(
            {"temperature": ("time", temp, {"units": "degC"}), "mass": ("time", pct, {"units": "%"}),
             "dtg": ("time", d.per_minute, {"units": "%/min"}),
             "dtg_per_K": ("time", d.per_kelvin, {"units": "%/K"}),
             "step_start": ("step", st.start_s, {"units": "s"}),
             "step_end": ("step", st.end_s, {"units": "s"}),
             "step_loss": ("step", st.mass_loss, {"units": "%"})},
            coords={"time": ("time", t, {"units": "s"})}, attrs={"file": name, "normalisation": method})
    table = xr.Dataset({c: xr.DataArray(np.asarray([r[c] for r in rows], dtype=str if u == "" else float),
                                        dims="row", attrs={"units": u}) for c, u in _UNITS.items()})
    children["table"] = table
    results = xr.DataTree.from_dict(children)

    def figure():
        from ...report.bulk.tga import tga_figure

        return tga_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
