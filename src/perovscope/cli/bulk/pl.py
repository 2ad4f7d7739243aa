"""PL spectra: peak position, FWHM, integrated intensity, components, Urbach tail, series changes.

Each FILE is a two-column text spectrum (wavelength in nm or photon energy in eV against counts; the
axis kind is read from the header, or judged from the values). ``--energy`` analyses every spectrum
on a photon-energy axis (converted with the Jacobian, so integrals are kept). ``--components N`` fits
N Gaussian (or ``--shape``) components and lists each one's centre, FWHM and share with standard
errors. The Urbach (tail) energy of the low-energy side is always measured, on an energy axis, with
its fitted range. With several files the series is summarised against the first one: retained
integrated intensity (%), peak shift and FWHM change, against ``--series`` values (time, temperature).

Examples::

    perovscope bulk pl sample.txt --components 2 --energy
    perovscope bulk pl t0.txt t250.txt t500.txt t1000.txt --series 0,250,500,1000 --series-units h
"""

from __future__ import annotations

HELP = "PL: peak, FWHM, integral, Gaussian/Voigt components with shares, Urbach tail, series changes"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="two-column PL spectra (nm or eV)")
    parser.add_argument("--energy", action="store_true", help="analyse on a photon-energy axis (eV)")
    parser.add_argument("--window", default=None, metavar="LO:HI",
                        help="range analysed, in nm (or eV with --energy)")
    parser.add_argument("--components", type=int, choices=(0, 1, 2, 3), default=0,
                        help="number of components to fit (default 0: peak metrics only)")
    parser.add_argument("--shape", choices=("gaussian", "lorentzian", "pseudo_voigt", "voigt"),
                        default="gaussian", help="component line shape (default gaussian)")
    parser.add_argument("--smooth", type=int, default=None, metavar="N",
                        help="half-width (channels) of the moving mean used to find the maximum and half "
                             "maximum (default: 1 %% of the channels; 0 for none)")
    parser.add_argument("--baseline", choices=("none", "constant", "linear"), default="none",
                        help="background under the band for the peak metrics (default none)")
    parser.add_argument("--fit-baseline", type=int, choices=(-1, 0, 1, 2), default=0,
                        help="polynomial baseline order of the component fit (default 0, -1 = none)")
    parser.add_argument("--series", default=None, metavar="V1,V2,...",
                        help="series value of each file (time, temperature); default the file index")
    parser.add_argument("--series-name", default="time", help="what the series values are (default time)")
    parser.add_argument("--series-units", default="", help="their units (h, min, K, °C)")
    parser.add_argument("--reference", type=int, default=0,
                        help="index of the reference spectrum (default 0)")
    parser.add_argument("--temperature", type=float, default=None, metavar="K",
                        help="sample temperature: Urbach energy through the van Roosbroeck–Shockley relation")
    parser.add_argument("--urbach-window", default=None, metavar="LO:HI", help="Urbach fit range in eV")
    parser.add_argument("--axis", choices=("wavelength", "energy"), default=None,
                        help="kind of the files' first column when the header does not say")


def load_spectra(paths, *, axis=None, target=None, jacobian=True):
    """Read text spectra onto one shared axis: ``(x, values (m, n), dim, names, notes, arrays)``.

    ``target`` ("wavelength"/"energy") converts every file to that axis (with the Jacobian for
    spectral densities when ``jacobian``); otherwise the first file's kind is used. Files on other
    grids are interpolated onto the first file's grid within the common range.
    """
    from pathlib import Path

    import numpy as np

    from ...bulk._checks import PHOTON_EV_NM, check_axis
    from ...bulk.pl import to_energy_axis, to_wavelength_axis
    from ...errors import InputError
    from ...io.spectrum_text import read_spectrum_text

    arrays = [read_spectrum_text(p, axis=axis) for p in paths]
    names = [Path(p).name for p in paths]
    notes = []
    dim = target or arrays[0].dims[0]
    axes, values = [], []
    for da, name in zip(arrays, names, strict=True):
        x = check_axis(da[da.dims[0]].values, name=da.dims[0], min_points=3, source=name)
        y = da.values.astype(float)
        if da.dims[0] != dim:
            if dim == "energy":
                x, y = to_energy_axis(y, x, source=name) if jacobian else (PHOTON_EV_NM / x, y)
            else:
                x, y = to_wavelength_axis(y, x, source=name) if jacobian else (PHOTON_EV_NM / x, y)
        if x[0] > x[-1]:
            x, y = x[::-1], y[::-1]
        axes.append(x)
        values.append(y)
        if da.attrs.get("axis_from") == "range":
            notes.append(f"{name}: no axis header; the first column was taken as {da.dims[0]} from its range")
    x0 = axes[0]
    tol = 1e-9 * max(1.0, float(np.abs(x0).max()))
    if all(a.size == x0.size and np.allclose(a, x0, rtol=0, atol=tol) for a in axes):
        return x0, np.stack(values), dim, names, notes, arrays
    lo = max(a[0] for a in axes)
    hi = min(a[-1] for a in axes)
    grid = x0[(x0 >= lo) & (x0 <= hi)]
    if grid.size < 3:
        raise InputError(f"the spectra share no common {dim} range ({', '.join(names)})")
    notes.append(f"the files have different {dim} grids; all were interpolated onto {names[0]}'s grid "
                 f"over {grid[0]:g}–{grid[-1]:g}")
    return grid, np.stack([np.interp(grid, a, v) for a, v in zip(axes, values, strict=True)]), dim, names, \
        notes, arrays


def urbach_line(urb, energy, temperature_K=None):
    """The fitted tail ``(m, n)`` on ``energy`` (NaN outside each fitted range), in signal units."""
    import numpy as np

    from ...bulk.urbach import K_B_EV

    slope = np.atleast_1d(urb.slope)[:, None]
    z = slope * energy + np.atleast_1d(urb.intercept)[:, None]
    if temperature_K:
        z = z + 2.0 * np.log(energy) - energy / (K_B_EV * temperature_K)
    inside = (energy >= np.atleast_1d(urb.e_lo)[:, None]) & (energy <= np.atleast_1d(urb.e_hi)[:, None])
    return np.where(inside, np.exp(z), np.nan)


def _series_values(args, m):
    import numpy as np

    from ...errors import InputError

    if args.series is None:
        return np.arange(m, dtype=float)
    try:
        vals = np.array([float(v) for v in str(args.series).split(",") if v.strip()])
    except ValueError:
        raise InputError(f"--series {args.series!r}: give one number per file, comma-separated") from None
    if vals.size != m:
        raise InputError(f"--series has {vals.size} values for {m} files")
    return vals


def analyse(args):
    import numpy as np
    import xarray as xr

    from ...bulk._checks import PHOTON_EV_NM
    from ...bulk.pl import components_and_residual, decompose_pl, pl_peak, to_energy_axis
    from ...bulk.pl_series import series_changes
    from ...bulk.plqy import parse_window
    from ...bulk.urbach import urbach_energy
    from ._common import BulkOutcome

    target = "energy" if args.energy else None
    x, y, dim, names, notes, arrays = load_spectra(args.files, axis=args.axis, target=target)
    xu = "eV" if dim == "energy" else "nm"
    yu = str(arrays[0].attrs.get("units", "a.u."))
    yu = "counts" if yu == "counts" else "a.u."
    window = parse_window(args.window, name="--window") if args.window else None
    smooth = max(1, x.size // 100) if args.smooth is None else args.smooth
    peak = pl_peak(y, x, window=window, baseline=args.baseline, smooth=smooth)
    m = len(names)
    cols = {"file": (np.array(names), "")}
    svals = _series_values(args, m)
    if m > 1 or args.series is not None:
        cols[args.series_name] = (svals, args.series_units)
    cols.update(peak=(peak.position, xu), fwhm=(peak.fwhm, xu), height=(peak.height, f"{yu}/{xu}"),
                integral=(peak.integral, yu), centroid=(peak.centroid, xu))
    if m > 1:
        ser = series_changes(peak.integral, peak.position, peak.fwhm, reference=args.reference)
        cols.update(retained_pct=(ser.retained_pct, "%"), shift=(ser.shift, xu),
                    delta_fwhm=(ser.delta_fwhm, xu))
    data_vars = {"spectrum": (("file", dim), y, {"units": f"{yu}/{xu}"})}
    comp = None
    if args.components:
        comp = decompose_pl(y, x, n_components=args.components, shape=args.shape, window=window,
                            baseline_order=args.fit_baseline)
        for k in range(args.components):
            cols[f"c{k + 1}_centre"] = (comp.centre[:, k], xu)
            cols[f"c{k + 1}_fwhm"] = (comp.fwhm[:, k], xu)
            cols[f"c{k + 1}_share"] = (comp.share[:, k], "1")
            cols[f"c{k + 1}_share_std"] = (comp.share_std[:, k], "1")
        cols["fit_redchi"] = (comp.redchi, f"({yu}/{xu})²")
        if np.any(comp.flag != 0):
            notes.append(f"{int(np.sum(comp.flag != 0))} component fit(s) stopped at the iteration limit or "
                         "failed (flag ≠ 0); their values are kept but check the residual")
        model, peaks, base, resid = components_and_residual(comp)
        fdim = f"fit_{dim}"
        su = {"units": f"{yu}/{xu}"}
        data_vars.update(model=(("file", fdim), model, su),
                         components=(("file", "component", fdim), peaks, su),
                         fit_baseline=(("file", fdim), base, su), residual=(("file", fdim), resid, su))
    if dim == "energy":
        e_ax, y_e = x, y
    else:
        e_ax, y_e = to_energy_axis(y, x)
    uw = parse_window(args.urbach_window, name="--urbach-window") if args.urbach_window else None
    background = np.mean(y_e[:, -max(3, e_ax.size // 20):], axis=-1)
    urb = urbach_energy(y_e, e_ax, kind="pl", window=uw, temperature_K=args.temperature,
                        background=background)
    cols.update(urbach_meV=(1e3 * urb.energy, "meV"), urbach_std_meV=(1e3 * urb.energy_std, "meV"),
                urbach_lo=(urb.e_lo, "eV"), urbach_hi=(urb.e_hi, "eV"))
    for name, ok in zip(names, np.atleast_1d(urb.found), strict=True):
        if not ok:
            notes.append(f"{name}: no straight low-energy tail found for the Urbach energy "
                         "(give --urbach-window)")
    table = xr.Dataset({k: ("row", np.asarray(v), {"units": u}) for k, (v, u) in cols.items()})
    coords = {"file": names, dim: xr.Variable(dim, x, attrs={"units": xu})}
    if comp is not None:
        coords[f"fit_{dim}"] = xr.Variable(f"fit_{dim}", comp.x, attrs={"units": xu})
        coords["component"] = np.arange(1, args.components + 1)
    results = xr.Dataset({k: xr.Variable(d, v, attrs=a) for k, (d, v, a) in data_vars.items()}, coords=coords)
    for k, (v, u) in cols.items():
        if k != "file":
            results[k] = xr.Variable("file", np.asarray(v), attrs={"units": u})
    results["urbach_energy_axis"] = xr.Variable("urbach_energy", e_ax, attrs={"units": "eV"})
    results["urbach_spectrum"] = xr.Variable(("file", "urbach_energy"), y_e - background[:, None],
                                             attrs={"units": f"{yu}/eV", "background": "subtracted"})
    results["urbach_background"] = xr.Variable("file", background, attrs={"units": f"{yu}/eV"})
    results["urbach_line"] = xr.Variable(("file", "urbach_energy"), urbach_line(urb, e_ax, args.temperature),
                                         attrs={"units": f"{yu}/eV"})
    results.attrs.update(technique="pl", axis=dim, series_name=args.series_name,
                         series_units=args.series_units, photon_ev_nm=PHOTON_EV_NM,
                         urbach_method="automatic" if uw is None else "window",
                         temperature_K=float(args.temperature) if args.temperature else float("nan"))

    def figure():
        from ...report.bulk.pl import pl_figure

        return pl_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
