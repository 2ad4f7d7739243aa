"""DSC traces: glass transitions (onset, midpoint, endset) and peaks (onset, peak, enthalpy).

Each FILE (TA Instruments Universal Analysis or TRIOS text export) is cut into heating and cooling
scans. Events are measured in the windows given (``--tg LO:HI`` for glass transitions, ``--peak
LO:HI`` for melting or crystallisation peaks, both repeatable, °C) or, without windows, in the
windows proposed by the derivative of each scan. Enthalpies in J/g use the sample mass from the
file (or ``--mass``); ΔCp at a glass transition uses the scan's heating rate as well.

Examples::

    perovscope bulk dsc eicosane.txt
    perovscope bulk dsc composite.txt --tg 300:340 --tg 420:460 --scan heating
"""

from __future__ import annotations

HELP = "DSC: glass transitions (onset/midpoint/endset) and peaks (onset, peak, enthalpy J/g)"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="DSC text exports (TA Instruments)")
    parser.add_argument("--tg", action="append", default=None, metavar="LO:HI",
                        help="window (°C) of a glass transition; repeat for several")
    parser.add_argument("--peak", action="append", default=None, metavar="LO:HI",
                        help="window (°C) of a melting/crystallisation peak; repeat for several")
    parser.add_argument("--baseline", choices=("linear", "sigmoidal"), default="linear",
                        help="baseline under the peaks (default linear)")
    parser.add_argument("--scan", choices=("heating", "cooling", "all"), default="all",
                        help="which scans to analyse (default all)")
    parser.add_argument("--mass", type=float, default=None, metavar="MG",
                        help="sample mass (overrides the file)")
    parser.add_argument("--exotherm", choices=("up", "down"), default=None,
                        help="sign convention (default: from the file, else up)")


def _rows_for_scan(name, k, scan, t, temp, hf, args, mass, exo, notes):
    import numpy as np

    from ...bulk.dsc import glass_transitions, parse_windows, scan_axis
    from ...bulk.dsc_peaks import dsc_peaks, find_events

    a, b, axis, programmed = scan_axis(t[scan.start:scan.stop], temp[scan.start:scan.stop])
    sl = slice(scan.start + a, scan.start + b)
    ts, ys = t[sl], hf[sl]
    label = f"{k + 1} {scan.kind}"
    if programmed:
        notes.append(f"{name} scan {label}: the sample temperature is not monotonic; temperatures are the "
                     "programmed ramp")
    lo, hi = float(axis.min()), float(axis.max())
    inside = [(w0, w1) for w0, w1 in parse_windows(args.tg) if w0 >= lo and w1 <= hi]
    peaks = [(w0, w1) for w0, w1 in parse_windows(args.peak) if w0 >= lo and w1 <= hi]
    if args.tg is None and args.peak is None:
        events = find_events(axis, ys, exotherm=exo)
        inside = [(e.lo, e.hi) for e in events if e.kind == "glass_transition"]
        peaks = [(e.lo, e.hi) for e in events if e.kind != "glass_transition"]
    rows = []
    if inside:
        g = glass_transitions(axis, ys, windows=inside, source=name)
        rate = abs(scan.rate_K_per_min)
        for j, w in enumerate(inside):
            dcp = abs(g.step[j]) / mass / (rate / 60.0) if mass else np.nan
            rows.append(dict(file=name, scan=label, event="glass_transition", window_lo=w[0], window_hi=w[1],
                             onset=g.onset[j], midpoint_or_peak=g.midpoint[j], endset=g.endset[j],
                             step_or_height=g.step[j], delta_cp=dcp, area=np.nan, enthalpy=np.nan,
                             rate=scan.rate_K_per_min))
    for w in peaks:
        sel = (axis >= w[0]) & (axis <= w[1])
        dev = ys[sel] - np.linspace(ys[sel][0], ys[sel][-1], sel.sum())
        up = abs(dev.max()) >= abs(dev.min())
        direction = "exo" if up == (exo == "up") else "endo"
        p = dsc_peaks(axis, ys, windows=[w], time_s=ts, mass_mg=mass, direction=direction, exotherm=exo,
                      baseline=args.baseline, source=name)
        rows.append(dict(file=name, scan=label, event="endotherm" if direction == "endo" else "exotherm",
                         window_lo=w[0], window_hi=w[1], onset=p.onset[0], midpoint_or_peak=p.peak[0],
                         endset=p.endset[0], step_or_height=p.height[0], delta_cp=np.nan, area=p.area[0],
                         enthalpy=p.enthalpy[0], rate=scan.rate_K_per_min))
    trace = dict(label=label, time=ts, temperature=axis, heat_flow=ys)
    return rows, trace


_UNITS = dict(file="", scan="", event="", window_lo="degC", window_hi="degC", onset="degC",
              midpoint_or_peak="degC", endset="degC", step_or_height="mW", delta_cp="J/(g K)", area="mJ",
              enthalpy="J/g", rate="K/min")


def _table(rows, units):
    import numpy as np
    import xarray as xr

    data = {}
    for c, u in units.items():
        vals = [r[c] for r in rows]
        arr = np.asarray(vals, dtype=str) if u == "" else np.asarray(vals, dtype=float)
        data[c] = xr.DataArray(arr, dims="row", attrs={"units": u})
    return xr.Dataset(data)


def analyse(args):
    from pathlib import Path

    import xarray as xr

    from ...bulk.dsc import split_scans
    from ...errors import FormatError
    from ...io.ta_thermal import read_ta_thermal
    from ._common import BulkOutcome

    notes, rows, children = [], [], {}
    for fi, path in enumerate(args.files):
        ds = read_ta_thermal(Path(path))
        name = Path(path).name
        if "temperature" not in ds or "heat_flow" not in ds:
            raise FormatError(f"{path}: no temperature and heat-flow columns (a DSC export is needed)")
        mass = args.mass if args.mass is not None else ds.attrs.get("sample_mass_mg")
        if mass is None:
            notes.append(f"{name}: no sample mass in the file; enthalpies need --mass MG")
        exo = args.exotherm or ds.attrs.get("exotherm", "up")
        if exo not in ("up", "down"):
            exo = "up"
        t, temp, hf = ds.time.values, ds.temperature.values, ds.heat_flow.values
        scans = [s for s in split_scans(t, temp) if args.scan in ("all", s.kind)]
        if not scans:
            notes.append(f"{name}: no {args.scan if args.scan != 'all' else 'heating or cooling'} scan found")
        for k, scan in enumerate(scans):
            r, trace = _rows_for_scan(name, k, scan, t, temp, hf, args, mass, exo, notes)
            rows += r
            children[f"file_{fi:02d}/scan_{k:02d}"] = xr.Dataset(
                {"temperature": ("time", trace["temperature"], {"units": "degC"}),
                 "heat_flow": ("time", trace["heat_flow"], {"units": "mW"})},
                coords={"time": ("time", trace["time"], {"units": "s"})},
                attrs={"file": name, "scan": trace["label"], "exotherm": exo})
    if not rows:
        notes.append("no events found; give windows with --tg LO:HI or --peak LO:HI")
    table = _table(rows, _UNITS)
    children["events"] = table
    results = xr.DataTree.from_dict(children)

    def figure():
        from ...report.bulk.dsc import dsc_figure

        return dsc_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
