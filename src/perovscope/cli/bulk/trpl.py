"""TRPL / TCSPC decays: one- to three-exponential reconvolution fits and mean lifetimes.

Each FILE is a PicoQuant ``.ptu`` (T3 photon records, histogrammed per detector; ``--segments N``
splits the acquisition into N decays along the macro-time), a Horiba TCSPC ASCII export, or a CSV
table of time and counts (the time unit read from the column header). All decays sharing a time axis
are fitted together in one batched fit, with the instrument response of ``--irf`` (or a column named
``irf``/``prompt`` in the file) convolved into the model and a fitted shift; without a response the
tails after the peaks are fitted. The table lists the lifetimes, the amplitude (a) and intensity (f)
fractions, the amplitude-weighted, intensity-weighted and 1/e effective lifetimes with standard
errors, and the reduced deviance (≈ 1 for an adequate model).

Examples::

    perovscope bulk trpl decay.txt --irf irf.txt --components 2
    perovscope bulk trpl sample.ptu --components 1 --window 3 60 --json
"""

from __future__ import annotations

HELP = "TRPL/TCSPC: multi-exponential reconvolution fits, amplitude/intensity-weighted and 1/e lifetimes"
_IRF_NAMES = ("irf", "prompt", "instrument", "scatter", "lamp")


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="decays: .ptu, Horiba TCSPC .txt or CSV")
    parser.add_argument("--irf", metavar="FILE", default=None, help="instrument response (same formats)")
    parser.add_argument("--components", type=int, choices=(1, 2, 3), default=2,
                        help="number of exponentials (default 2)")
    parser.add_argument("--window", nargs=2, type=float, metavar=("T0", "T1"), default=None,
                        help="time range fitted, ns (default: the recorded channels)")
    parser.add_argument("--tau0", nargs="+", type=float, metavar="NS", default=None,
                        help="start lifetimes, ns (one per component)")
    parser.add_argument("--statistic", choices=("poisson", "least_squares"), default="poisson",
                        help="Poisson maximum likelihood (default) or unweighted least squares")
    parser.add_argument("--shift", type=float, metavar="NS", default=None,
                        help="fix the decay-minus-IRF shift to this value (default: fitted)")
    parser.add_argument("--background", type=float, metavar="COUNTS", default=None,
                        help="fix the background, counts per channel (default: fitted)")
    parser.add_argument("--detector", type=int, default=None, help="PTU: use only this input channel")
    parser.add_argument("--segments", type=int, default=None, help="PTU: split into N macro-time segments")
    parser.add_argument("--time-unit", default=None, help="unit of a text time column without one (ns, ps)")


def _load(path, args):
    """``(decays (n_curves, delay) DataArray with 'curve' labels, irf DataArray or None)``."""
    from pathlib import Path

    import numpy as np

    from ...errors import FormatError
    from ...io.ptu import read_ptu
    from ...io.tcspc_text import read_tcspc_text

    path = Path(path)
    if path.suffix.lower() == ".ptu":
        da = read_ptu(path, segments=args.segments)
        if args.detector is not None:
            if args.detector not in da.detector.values:
                raise FormatError(f"{path}: no photons on detector {args.detector} "
                                  f"(detectors {da.detector.values.tolist()})")
            da = da.sel(detector=[args.detector])
        lead = [d for d in da.dims if d != "delay"]
        flat = da.stack(curve=lead)
        labels = [" ".join(f"{d}={v:g}" if isinstance(v, float) else f"{d}={v}" for d, v in zip(lead, idx,
                                                                                               strict=True))
                  for idx in flat["curve"].values]
        flat = flat.drop_vars(["curve", *lead]).assign_coords(curve=labels).transpose("curve", "delay")
        return flat.astype(float), None
    da = read_tcspc_text(path, time_unit=args.time_unit)
    if "curve" not in da.dims:
        name = da.attrs.get("item_name") or da.attrs.get("column", "counts")
        return da.expand_dims(curve=[str(name)]), None
    names = [str(c) for c in da.curve.values]
    irf_idx = [i for i, c in enumerate(names) if any(k in c.lower() for k in _IRF_NAMES)]
    irf = da.isel(curve=irf_idx[0]) if irf_idx else None
    keep = [i for i in range(len(names)) if i not in irf_idx[:1]]
    return da.isel(curve=np.array(keep)), irf


def _irf_curve(path, args):
    from ...errors import FormatError

    da, inner = _load(path, args)
    if inner is not None:
        return inner
    if da.sizes["curve"] != 1:
        raise FormatError(f"{path}: {da.sizes['curve']} curves in the IRF file; pick one with --detector "
                          "or give a file with a single IRF")
    return da.isel(curve=0)


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.trpl_xr import decay_table, fit_decay_dataarray
    from ._common import BulkOutcome, stack_groups

    notes = []
    irf = _irf_curve(args.irf, args) if args.irf else None
    groups: list[tuple[np.ndarray, list]] = []
    for path in args.files:
        da, inner = _load(path, args)
        da = da.assign_coords(file=("curve", [Path(path).name] * da.sizes["curve"]))
        if irf is None and inner is not None:
            irf = inner
            notes.append(f"{Path(path).name}: column {str(inner.curve.values)!r} used as the IRF")
        axis = da.delay.values
        for ax, members in groups:
            if ax.size == axis.size and np.allclose(ax, axis, rtol=1e-9, atol=1e-9):
                members.append(da)
                break
        else:
            groups.append((axis, [da]))
    options = dict(components=args.components, window=args.window, tau0=args.tau0,
                   statistic=args.statistic, background=args.background)
    if args.shift is not None:
        options.update(shift=args.shift, fit_shift=False)
    results, tables = {}, []
    for gi, (_, members) in enumerate(groups):  # one batched fit per distinct time axis
        decays = xr.concat(members, dim="curve").rename(curve="decay")
        ds = fit_decay_dataarray(decays, irf, **options)
        results[f"group_{gi:02d}"] = ds
        tables.append(decay_table(ds))
        bad = int(np.sum(ds.flag.values >= 2))
        if bad:
            notes.append(f"{bad} decay(s) could not be fitted (flag 2/3): NaN in the table")
        worst = float(np.nanmax(ds.reduced_deviance.values)) if ds.reduced_deviance.size else np.nan
        if args.statistic == "poisson" and worst > 1.3:
            notes.append(f"reduced deviance up to {worst:.2f}: the {args.components}-exponential model does "
                         "not describe every decay within Poisson noise (try more components or a window)")
    if irf is None:
        notes.append("no IRF given: tail fits from one rise time after each peak (amplitudes refer to "
                     "the peak)")
    table, out = stack_groups(tables, results)
    table = table.drop_vars([c for c in ("decay",) if c in table.coords])
    first = results["group_00"]

    def figure():
        from ...report.bulk.trpl import trpl_figure

        return trpl_figure(first)

    return BulkOutcome(table=table, results=out, figure=figure, notes=notes)
