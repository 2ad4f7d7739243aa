"""1-D NMR spectra (NMRPipe, Bruker pdata): integrals over ppm limits, peak picking, line fits and shifts.

FILE is an NMRPipe 1-D spectrum (``.ft``) or a Bruker experiment / ``pdata/<n>`` folder. With
``--limits`` (a text file of ``name start stop`` lines in ppm) the table lists each region's
integral — the sum of the points between the points nearest the limits, both included, as NMRPipe
and nmrglue integrate (``--method trapezoid`` for intensity × ppm). With ``--peaks`` the lines at
those start shifts are fitted (``--shape``, default Lorentzian) and their chemical shifts, widths
(ppm and Hz) and areas listed. Without either, the picked maxima are listed.

Examples::

    perovscope bulk nmr test.ft --limits limits.in
    perovscope bulk nmr p31_mas.ft --peaks 12.0,-3.5 --shape pseudo_voigt --region -30:40 --json
"""

from __future__ import annotations

HELP = "NMR 1-D (NMRPipe/Bruker): ppm integrals over limits, peak picking, line fits and chemical shifts"

#: Per-line fields of a line fit with their units, for the results and the table.
_LINE_FIELDS = (
    ("shift", "ppm"),
    ("shift_std", "ppm"),
    ("fwhm_ppm", "ppm"),
    ("fwhm_hz", "Hz"),
    ("area", "a.u.*ppm"),
    ("area_std", "a.u.*ppm"),
    ("height", "a.u."),
)


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="NMRPipe .ft files or Bruker folders")
    parser.add_argument("--limits", default=None, metavar="FILE", help="integration regions: name start stop")
    parser.add_argument(
        "--method",
        choices=("sum", "trapezoid"),
        default="sum",
        help="integral: sum of points (default, NMRPipe) or trapezoid (× ppm)",
    )
    parser.add_argument("--peaks", default=None, metavar="PPM,...", help="start shifts of lines to fit, ppm")
    parser.add_argument(
        "--shape", default="lorentzian", help="lorentzian (default), gaussian, pseudo_voigt, voigt"
    )
    parser.add_argument("--fwhm", default=None, metavar="PPM[,PPM...]", help="start widths, ppm")
    parser.add_argument("--region", default=None, metavar="LO:HI", help="ppm range of the line fit")
    parser.add_argument("--threshold", type=float, default=None, help="least peak prominence for picking")
    parser.add_argument("--max-peaks", type=int, default=20, help="rows of the picked-peak table (20)")


def _stack(arrays, names):
    import numpy as np
    import xarray as xr

    from ...errors import InputError

    ref = arrays[0]["chemical_shift"].values
    for da, name in zip(arrays[1:], names[1:], strict=True):
        x = da["chemical_shift"].values
        if x.size != ref.size or not np.allclose(x, ref, atol=1e-9 * max(1.0, abs(ref).max())):
            raise InputError(f"{name}: its ppm axis differs from {names[0]}'s; analyse the files separately")
    out = [
        da.assign_coords(chemical_shift=ref).expand_dims(spectrum=[n])
        for da, n in zip(arrays, names, strict=True)
    ]
    return xr.concat(out, dim="spectrum", combine_attrs="drop_conflicts")


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.nmr import fit_nmr_peaks, integrate_regions, limit_indices, pick_nmr_peaks
    from ...io.nmr import read_nmr, read_nmr_limits
    from ._common import BulkOutcome
    from .raman import parse_floats, parse_ranges

    notes = []
    names = [Path(p).name for p in args.files]
    arrays = [read_nmr(p) for p in args.files]
    spectra = _stack(arrays, names)
    ppm = spectra["chemical_shift"].values
    y = spectra.values
    mhz = float(arrays[0].attrs.get("observe_MHz", np.nan))
    data = {"spectra": spectra}
    tables = []
    if args.limits:
        regions, limits = read_nmr_limits(args.limits)
        area = integrate_regions(y, ppm, limits, method=args.method)  # (spectrum, region)
        idx = limit_indices(ppm, limits)
        unit = "a.u." if args.method == "sum" else "a.u.*ppm"
        data["integral"] = xr.DataArray(
            area,
            dims=("spectrum", "region"),
            coords={"spectrum": names, "region": regions},
            attrs={"units": unit},
        )
        n_s, n_r = area.shape
        tables.append(
            xr.Dataset(
                {
                    "spectrum": ("row", np.repeat(names, n_r)),
                    "kind": ("row", np.full(n_s * n_r, "integral")),
                    "name": ("row", np.tile(regions, n_s)),
                    "start": ("row", np.tile(limits[:, 0], n_s), {"units": "ppm"}),
                    "stop": ("row", np.tile(limits[:, 1], n_s), {"units": "ppm"}),
                    "first_point": ("row", np.tile(ppm[idx[:, 0]], n_s), {"units": "ppm"}),
                    "last_point": ("row", np.tile(ppm[idx[:, 1]], n_s), {"units": "ppm"}),
                    "integral": ("row", area.reshape(-1), {"units": unit}),
                }
            )
        )
    centres = parse_floats(args.peaks, "peaks")
    fit = None
    if centres is not None:
        rng = parse_ranges(args.region, "region")
        fwhm = parse_floats(args.fwhm, "fwhm")
        shapes = [s.strip() for s in str(args.shape).split(",") if s.strip()]
        fit = fit_nmr_peaks(
            y,
            ppm,
            centres=np.asarray(centres),
            observe_mhz=mhz,
            shape=shapes[0] if len(shapes) == 1 else shapes,
            fwhm=None if fwhm is None else np.asarray(fwhm),
            region=rng[0] if rng else None,
        )
        k = fit.shift.shape[-1]
        dims = ("spectrum", "line")
        for name, unit in _LINE_FIELDS:
            data[name] = xr.DataArray(
                getattr(fit, name), dims=dims, coords={"spectrum": names}, attrs={"units": unit}
            )
        data["fitted"] = xr.DataArray(
            fit.fitted,
            dims=("spectrum", "fit_ppm"),
            coords={"fit_ppm": ("fit_ppm", fit.ppm, {"units": "ppm"})},
            attrs={"units": "a.u."},
        )
        tables.append(
            xr.Dataset(
                {
                    "spectrum": ("row", np.repeat(names, k)),
                    "kind": ("row", np.full(len(names) * k, "line")),
                    "name": ("row", np.tile([f"line{j}" for j in range(k)], len(names))),
                    **{
                        c: ("row", getattr(fit, c).reshape(-1), {"units": u})
                        for c, u in _LINE_FIELDS
                    },
                    "flag": ("row", np.repeat(fit.flag.reshape(-1), k), {"units": "1"}),
                }
            )
        )
        if np.any(fit.flag >= 1):
            notes.append("some line fits stopped at the iteration limit or failed (flag ≥ 1)")
    if not tables:
        peaks = pick_nmr_peaks(y, ppm, threshold=args.threshold, max_peaks=args.max_peaks)
        order = np.argsort(peaks.position)[::-1]
        tables.append(
            xr.Dataset(
                {
                    "kind": ("row", np.full(order.size, "peak")),
                    "shift": ("row", peaks.position[order], {"units": "ppm"}),
                    "shift_hz": ("row", peaks.position[order] * mhz, {"units": "Hz"}),
                    "height": ("row", peaks.height[order], {"units": "a.u."}),
                    "prominence": ("row", peaks.prominence[order], {"units": "a.u."}),
                }
            )
        )
        data["peak_shift"] = xr.DataArray(peaks.position[order], dims=("peak",), attrs={"units": "ppm"})
        notes.append("picked maxima of the mean spectrum; give --limits or --peaks for integrals or fits")
    table = (
        xr.concat(tables, dim="row", data_vars="all", join="outer", fill_value=np.nan)
        if len(tables) > 1
        else tables[0]
    )
    table = table.assign_coords(row=np.arange(table.sizes["row"]))
    for t in tables:
        for c in t.data_vars:
            if "units" in t[c].attrs:
                table[c].attrs["units"] = t[c].attrs["units"]
    results = xr.Dataset(
        {k_: v for k_, v in data.items()},
        attrs={k_: v for k_, v in arrays[0].attrs.items() if k_ != "original_metadata"},
    )
    limits_for_fig = read_nmr_limits(args.limits)[1] if args.limits else None

    def figure():
        from ...report.bulk.nmr import nmr_figure

        return nmr_figure(
            spectra.isel(spectrum=0),
            limits=limits_for_fig,
            fit=None if fit is None else (fit.ppm, fit.fitted.reshape(-1, fit.ppm.size)[0]),
        )

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
