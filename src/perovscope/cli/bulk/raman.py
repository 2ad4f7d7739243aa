"""Raman spectra: baseline, multi-band fits (centre, FWHM, area with standard errors), shifts across a series.

Each FILE is a Raman text export (JASCO, or a wavenumber/intensity table) or a Bruker OPUS file.
Files sharing a wavenumber axis form a series fitted in one batch; the table lists every band of
every spectrum with its shift from the first file. The baseline is a polynomial (``--order``) through
the band-free ``--windows`` (default: the ends of ``--range``), an AsLS/arPLS baseline (``--lam``,
``--p``), a polynomial fitted with the bands (``fit``) or none. Without ``--peaks`` the
``--n-peaks`` most prominent maxima are the start centres.

Examples::

    perovscope bulk raman glass.txt --range 867:1300 --windows 860:874,1300:1330 \\
        --peaks 946,1026,1082,1140,1211 --shape gaussian --centre-range 25
    perovscope bulk raman T300.txt T350.txt T400.txt --peaks 145,175 --baseline als --json
"""

from __future__ import annotations

HELP = "Raman: baselines (polynomial on windows, ALS), Gaussian/Lorentzian/pseudo-Voigt band fits, shifts"


def add_band_arguments(parser, *, default_baseline: str = "poly") -> None:
    """Options shared by ``raman`` and ``ftir``."""
    parser.add_argument(
        "--range",
        dest="fit_range",
        default=None,
        metavar="LO:HI",
        help="wavenumber range fitted, cm-1 (default: all)",
    )
    parser.add_argument(
        "--baseline",
        choices=("poly", "als", "arpls", "fit", "none"),
        default=default_baseline,
        help=f"baseline method (default {default_baseline})",
    )
    parser.add_argument(
        "--windows",
        default=None,
        metavar="LO:HI,...",
        help="band-free windows for the polynomial baseline, cm-1",
    )
    parser.add_argument("--order", type=int, default=2, help="baseline polynomial degree (default 2)")
    parser.add_argument("--lam", type=float, default=1e5, help="ALS smoothness λ (default 1e5)")
    parser.add_argument("--p", type=float, default=0.01, help="AsLS asymmetry p (default 0.01)")
    parser.add_argument("--peaks", default=None, metavar="C1,C2,...", help="start band centres, cm-1")
    parser.add_argument("--n-peaks", type=int, default=3, help="bands picked when --peaks is not given")
    parser.add_argument(
        "--shape",
        default="gaussian",
        help="gaussian, lorentzian, pseudo_voigt or voigt; one, or one per band (comma list)",
    )
    parser.add_argument("--fwhm", default=None, metavar="W[,W...]", help="start FWHM(s), cm-1")
    parser.add_argument(
        "--centre-range",
        type=float,
        default=None,
        metavar="CM",
        help="keep each centre within ± this of its start",
    )
    parser.add_argument(
        "--weights",
        choices=("none", "poisson"),
        default="none",
        help="unweighted least squares (default) or σ = √counts",
    )


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="Raman spectra: text exports or OPUS files")
    add_band_arguments(parser)


def parse_floats(text, name):
    from ...errors import InputError

    if text is None:
        return None
    try:
        values = [float(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--{name}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise InputError(f"--{name}: no numbers in {text!r}")
    return values


def parse_ranges(text, name):
    from ...errors import InputError

    if text is None:
        return None
    out = []
    for part in str(text).split(","):
        lo, sep, hi = part.partition(":")
        try:
            if not sep:
                raise ValueError
            out.append((float(lo), float(hi)))
        except ValueError:
            raise InputError(f"--{name}: expected LO:HI[,LO:HI...], got {text!r}") from None
    return out


def load_vibrational(path, kind, block=None):
    """A spectrum file as a DataArray over ``wavenumber``: OPUS (binary) or a text export."""
    from pathlib import Path

    from ...errors import FormatError
    from ...io.opus import read_opus
    from ...io.vibrational_text import read_vibrational_text

    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if b"\x00" in head:
        return read_opus(path, block=block)
    return read_vibrational_text(path, kind=kind)


def group_series(arrays, names):
    """Stack spectra sharing an axis into ``(spectrum, wavenumber)`` DataArrays, one per distinct axis."""
    import numpy as np
    import xarray as xr

    groups = []
    for da, name in zip(arrays, names, strict=True):
        if "spectrum" in da.dims:
            labels = [f"{name}:{s}" for s in da["spectrum"].values]
            da = da.drop_vars("spectrum").assign_coords(spectrum=labels)
        else:
            da = da.expand_dims(spectrum=[name])
        x = da["wavenumber"].values
        for group in groups:
            ref = group[0]["wavenumber"].values
            if ref.size == x.size and np.allclose(ref, x, rtol=0, atol=1e-6 * max(1.0, abs(ref).max())):
                group.append(da.assign_coords(wavenumber=ref))
                break
        else:
            groups.append([da])
    return [xr.concat(g, dim="spectrum", combine_attrs="drop_conflicts") for g in groups]


def band_options(args, series, notes):
    """Keyword options of :func:`perovscope.bulk.raman.fit_bands` from the parsed arguments."""
    import numpy as np

    from ...bulk.raman import pick_peaks

    fit_range = parse_ranges(args.fit_range, "range")
    fit_range = fit_range[0] if fit_range else None
    shapes = [s.strip() for s in str(args.shape).split(",") if s.strip()]
    centres = parse_floats(args.peaks, "peaks")
    if centres is None:
        x = series["wavenumber"].values
        y = series.values
        if fit_range is not None:
            sel = (x >= min(fit_range)) & (x <= max(fit_range))
            x, y = x[sel], y[..., sel]
        peaks = pick_peaks(y, x, max_peaks=args.n_peaks)
        if peaks.position.size == 0:
            from ...errors import InputError

            raise InputError("no bands found to start from; give start centres with --peaks")
        centres = sorted(float(c) for c in peaks.position)
        notes.append(
            "start centres picked from the mean spectrum: "
            + ", ".join(f"{c:.1f}" for c in centres)
            + " cm-1 (give --peaks to choose)"
        )
    shape = shapes[0] if len(shapes) == 1 else shapes
    fwhm = parse_floats(args.fwhm, "fwhm")
    return dict(
        centres=np.asarray(centres),
        shape=shape,
        fwhm=None if fwhm is None else np.asarray(fwhm),
        fit_range=fit_range,
        baseline=args.baseline,
        order=args.order,
        windows=parse_ranges(args.windows, "windows"),
        lam=args.lam,
        p=args.p,
        centre_range=args.centre_range,
        weights=None if args.weights == "none" else args.weights,
    )


def analyse_bands(args, kind, series_list, notes):
    """Fit every series; return (table, results, first dataset)."""
    import numpy as np

    from ...bulk.raman_xr import band_table, fit_bands_dataarray
    from ._common import stack_groups

    results, tables = {}, []
    for gi, series in enumerate(series_list):  # one batched fit per distinct axis
        options = band_options(args, series, notes)
        ds = fit_bands_dataarray(series, **options)
        results[f"group_{gi:02d}"] = ds
        tables.append(band_table(ds))
        bad = int(np.sum(ds.flag.values >= 2))
        if bad:
            notes.append(f"{bad} spectrum fit(s) failed (flag ≥ 2): NaN in the table")
        if np.any(ds.flag.values == 1):
            notes.append("some fits stopped at the iteration limit (flag 1): check the start values")
    table, out = stack_groups(tables, results)
    return table, out, results["group_00"]


def analyse(args):
    from pathlib import Path

    from ._common import BulkOutcome

    notes = []
    arrays = [load_vibrational(p, "raman") for p in args.files]
    series = group_series(arrays, [Path(p).name for p in args.files])
    table, results, first = analyse_bands(args, "raman", series, notes)

    def figure():
        from ...report.bulk.raman import band_figure

        return band_figure(first, title="Raman")

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
