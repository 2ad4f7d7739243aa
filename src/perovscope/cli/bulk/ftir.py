"""FTIR spectra: Bruker OPUS blocks or text exports; peak tables, or band fits with baselines and shifts.

Each FILE is a Bruker OPUS file (the ratioed block — transmittance, absorbance, reflectance — unless
``--block`` names another: ``sm`` sample single channel, ``rf`` reference, ...) or a text export. A
transmittance is converted to absorbance ``A = −log₁₀ T`` (``--keep-transmittance`` to fit it as read).
Without ``--peaks`` the table lists the absorbance maxima (position, height, prominence) within
``--range``; with ``--peaks`` every band is fitted as for Raman (default baseline arPLS) and its
shift across the files is reported.

Examples::

    perovscope bulk ftir sample.0
    perovscope bulk ftir sample.0 --range 1500:1800 --peaks 1630,1710 --shape lorentzian --json
"""

from __future__ import annotations

HELP = "FTIR: OPUS/text spectra, absorbance peak tables, baselines and band fits with shifts"


def add_arguments(parser) -> None:
    from .raman import add_band_arguments

    parser.add_argument("files", nargs="+", metavar="FILE", help="OPUS files (.0, .1, ...) or text exports")
    parser.add_argument("--block", default=None, help="OPUS block key (a, t, r, sm, rf, ...)")
    parser.add_argument(
        "--keep-transmittance", action="store_true", help="do not convert a transmittance to absorbance"
    )
    parser.add_argument("--max-peaks", type=int, default=20, help="rows of the peak table (default 20)")
    add_band_arguments(parser, default_baseline="arpls")


def _as_absorbance(da, args, notes):
    from ...bulk.raman import to_absorbance

    if da.attrs.get("quantity") == "transmittance" and not args.keep_transmittance:
        name = da.attrs.get("source_file", "")
        out = da.copy(data=to_absorbance(da.values))
        out.attrs.update(quantity="absorbance", units="1", converted="A = -log10(T)")
        notes.append(f"{name}: transmittance converted to absorbance A = -log10(T)")
        return out
    return da


def _peak_table(series_list, args):
    import numpy as np
    import xarray as xr

    from ...bulk.raman import pick_peaks
    from .raman import parse_ranges

    rows = {"spectrum": [], "position": [], "height": [], "prominence": []}
    fit_range = parse_ranges(args.fit_range, "range")
    for series in series_list:
        x = series["wavenumber"].values
        sel = (
            np.ones(x.size, dtype=bool)
            if not fit_range
            else (x >= min(fit_range[0])) & (x <= max(fit_range[0]))
        )
        for i in range(series.sizes["spectrum"]):  # one peak list per file (lists differ in length)
            peaks = pick_peaks(series.values[i, sel], x[sel], max_peaks=args.max_peaks)
            for pos, h, prom in zip(peaks.position, peaks.height, peaks.prominence, strict=True):
                rows["spectrum"].append(str(series["spectrum"].values[i]))
                rows["position"].append(float(pos))
                rows["height"].append(float(h))
                rows["prominence"].append(float(prom))
    units = str(series_list[0].attrs.get("units", "1"))
    order = np.lexsort((rows["position"], rows["spectrum"]))
    table = xr.Dataset(
        {
            "spectrum": ("row", np.asarray(rows["spectrum"], dtype=object)[order].astype(str)),
            "position": ("row", np.asarray(rows["position"])[order], {"units": "1/cm"}),
            "height": ("row", np.asarray(rows["height"])[order], {"units": units}),
            "prominence": ("row", np.asarray(rows["prominence"])[order], {"units": units}),
        },
        coords={"row": np.arange(len(order))},
    )
    return table


def analyse(args):
    from pathlib import Path

    import xarray as xr

    from ._common import BulkOutcome
    from .raman import analyse_bands, group_series, load_vibrational, parse_ranges

    notes = []
    arrays = [_as_absorbance(load_vibrational(p, "ftir", block=args.block), args, notes) for p in args.files]
    series = group_series(arrays, [Path(p).name for p in args.files])
    if args.peaks is None:
        table = _peak_table(series, args)
        results = (
            series[0].to_dataset(name="spectra")
            if len(series) == 1
            else xr.DataTree.from_dict(
                {f"group_{i:02d}": s.to_dataset(name="spectra") for i, s in enumerate(series)}
            )
        )
        notes.append("peak table only; give --peaks to fit bands")
        first = series[0]
        ranges = parse_ranges(args.fit_range, "range")

        def figure():
            from ...report.bulk.ftir import ftir_figure

            return ftir_figure(first, table, xlim=ranges[0] if ranges else None)

        return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
    table, results, first_fit = analyse_bands(args, "ftir", series, notes)

    def figure_fit():
        from ...report.bulk.raman import band_figure

        return band_figure(first_fit, title="FTIR", invert_x=True)

    return BulkOutcome(table=table, results=results, figure=figure_fit, notes=notes)
