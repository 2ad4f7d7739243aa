"""SAXS curves: Guinier Rg and I₀ (automatic range, qRg ≤ 1.3), Porod constant and interface width, the
invariant, and a sphere size distribution with bootstrap errors.

Each FILE is a BioXTAS RAW ``.dat`` or a text file of q, I and σ columns (the q unit, 1/Å or 1/nm,
read from the header; ``--q-unit`` when it says nothing). Curves sharing a q axis are analysed together
in one batched pass (a sintering series). The table has one row per curve: Guinier Rg, I₀ and their
errors with the fitted range, the Porod constant K, background, Ruland σ (interface width; a negative
σ² is a positive deviation from Porod's law) and exponent, the invariant Q*, and the volume- and
number-weighted mean sphere radius with bootstrap errors. RAW's own Guinier result stored in a file's
header is printed as a note for comparison.

Examples::

    perovscope bulk saxs glucose_isomerase.dat
    perovscope bulk saxs s250.dat s300.dat s350.dat --porod-q 0.15 0.3 --json
    perovscope bulk saxs curve.dat --guinier-points 0 43 --no-sizes
"""

from __future__ import annotations

HELP = "SAXS: Guinier Rg/I0 (auto range), Porod constant and deviation, invariant, sphere size distribution"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="RAW .dat or q/I/σ text files")
    parser.add_argument("--q-unit", choices=("1/A", "1/nm"), default=None,
                        help="q unit when the file does not say (default 1/A)")
    parser.add_argument("--qrg-max", type=float, default=1.3, help="automatic Guinier limit of q·Rg (1.3)")
    parser.add_argument("--guinier-points", nargs=2, type=int, metavar=("START", "STOP"), default=None,
                        help="fixed Guinier window: point indices, STOP exclusive")
    parser.add_argument("--guinier-q", nargs=2, type=float, metavar=("QMIN", "QMAX"), default=None,
                        help="fixed Guinier window in q")
    parser.add_argument("--porod-q", nargs=2, type=float, metavar=("QMIN", "QMAX"), default=None,
                        help="Porod range (default: the upper half of the q span)")
    parser.add_argument("--porod-model", choices=("ruland", "sharp"), default="ruland",
                        help="Porod law with Ruland's interface factor (default) or a sharp interface")
    parser.add_argument("--no-sizes", action="store_true", help="skip the size distribution")
    parser.add_argument("--radii", nargs=2, type=float, metavar=("RMIN", "RMAX"), default=None,
                        help="radius range of the size distribution (default π/q_max … π/q_min)")
    parser.add_argument("--n-radii", type=int, default=60, help="radius bins (60)")
    parser.add_argument("--bootstrap", type=int, default=30, help="bootstrap replicas for the errors (30)")


def _raw_guinier(ds):
    import json

    try:
        g = json.loads(ds.attrs.get("original_metadata", "{}")).get("analysis", {}).get("guinier")
        return (float(g["Rg"]), float(g["I0"]), int(g["nStart"]), int(g["nEnd"])) if g else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.saxs_xr import saxs_analysis
    from ...io.saxs_dat import read_saxs_dat
    from ._common import BulkOutcome, stack_groups

    notes, groups = [], []
    for path in args.files:
        ds = read_saxs_dat(path, q_unit=args.q_unit)
        name = Path(path).name
        if ds.attrs.get("q_unit_assumed"):
            notes.append(f"{name}: no q unit in the header; 1/Å assumed (use --q-unit)")
        raw = _raw_guinier(ds)
        if raw:
            notes.append(f"{name}: RAW's stored Guinier fit: Rg = {raw[0]:.4g} Å, I0 = {raw[1]:.5g} "
                         f"(points {raw[2]}–{raw[3]})")
        ds = ds.expand_dims(curve=[name])
        for members in groups:
            ax = members[0].q.values
            if ax.size == ds.q.size and np.allclose(ax, ds.q.values, rtol=1e-9, atol=0):
                members.append(ds.assign_coords(q=members[0].q))
                break
        else:
            groups.append([ds])
    for members in groups:
        _check_options(args, members)
    guinier = {"qrg_max": args.qrg_max}
    if args.guinier_points:
        guinier["points"] = tuple(args.guinier_points)
    if args.guinier_q:
        guinier["q_range"] = tuple(args.guinier_q)
    porod = {"model": args.porod_model, "q_range": tuple(args.porod_q) if args.porod_q else None}
    sizes = False if args.no_sizes else {"n_radii": args.n_radii, "n_boot": args.bootstrap,
                                         "r_range": tuple(args.radii) if args.radii else None}
    results, tables = {}, []
    for gi, members in enumerate(groups):  # one batched analysis per distinct q axis
        data = xr.concat(members, dim="curve", combine_attrs="drop_conflicts")
        src = {"source": ", ".join(str(m.curve.values[0]) for m in members)}
        res = saxs_analysis(data, guinier={**guinier, **src}, porod={**porod, **src},
                            sizes=sizes and {**sizes, **src})
        results[f"group_{gi:02d}"] = res
        tables.append(_table(res, sizes is not False))
        if sizes is not False and np.any(res.size_reduced_chi2.values > 2.0):
            notes.append(f"size distribution χ²/dof up to {np.nanmax(res.size_reduced_chi2.values):.3g}: the "
                         "sphere model does not fit (a very narrow distribution needs a finer --n-radii, "
                         "or the particles are not dilute spheres); treat R_volume/R_number with care")
        if np.any(~np.isfinite(res.guinier_rg.values)):
            notes.append(f"no Guinier window met q·Rg ≤ {args.qrg_max:.2g} on some curves (NaN): "
                         "give --guinier-q")
    table, out = stack_groups(tables, results)
    first = results["group_00"]

    def figure():
        from ...report.bulk.saxs import saxs_figure

        return saxs_figure(first)

    return BulkOutcome(table=table, results=out, figure=figure, notes=notes)


def _check_options(args, members) -> None:
    """The command-line windows against each curve's q axis: an InputError naming option and file."""
    from ...errors import InputError

    names = ", ".join(str(m.curve.values[0]) for m in members)
    q = members[0].q.values
    n, lo, hi = q.size, float(q.min()), float(q.max())
    if args.guinier_points and not 0 <= args.guinier_points[0] < args.guinier_points[1] <= n:
        raise InputError(f"{names}: --guinier-points {args.guinier_points[0]} {args.guinier_points[1]} "
                         f"outside the curve's 0–{n} points (START < STOP ≤ {n})")
    for opt, win in (("--guinier-q", args.guinier_q), ("--porod-q", args.porod_q)):
        if win and not (win[0] < win[1] and win[0] <= hi and win[1] >= lo):
            raise InputError(f"{names}: {opt} {win[0]:g} {win[1]:g} holds no q point (the data span "
                             f"{lo:g}–{hi:g} 1/Å; give QMIN < QMAX inside it)")
    if args.radii and not 0 < args.radii[0] < args.radii[1]:
        raise InputError(f"--radii {args.radii[0]:g} {args.radii[1]:g}: need 0 < RMIN < RMAX (Å)")
    if args.n_radii < 3 or args.bootstrap < 0:
        raise InputError(f"--n-radii must be ≥ 3 and --bootstrap ≥ 0, got {args.n_radii}, {args.bootstrap}")


def _table(res, with_sizes: bool):
    import numpy as np
    import xarray as xr

    cols = {"rg": "guinier_rg", "rg_std": "guinier_rg_std", "i0": "guinier_i0", "i0_std": "guinier_i0_std",
            "guinier_q_min": "guinier_q_min", "guinier_q_max": "guinier_q_max", "qrg_max": "guinier_qrg_max",
            "guinier_points": "guinier_n_points", "porod_K": "porod_porod_constant",
            "porod_K_std": "porod_porod_constant_std", "background": "porod_background",
            "sigma2": "porod_sigma2", "interface_width": "porod_interface_width",
            "porod_exponent": "porod_exponent", "invariant": "invariant"}
    if with_sizes:
        cols.update({"R_volume": "size_volume_mean_radius", "R_volume_std": "size_volume_mean_radius_std",
                     "R_number": "size_mean_radius", "R_number_std": "size_mean_radius_std",
                     "width_number": "size_width", "size_chi2": "size_reduced_chi2"})
    data = {"file": ("row", np.asarray(res.curve.values).astype(str))}
    for col, var in cols.items():
        data[col] = ("row", np.asarray(res[var].values, dtype=float).reshape(-1),
                     {"units": res[var].attrs.get("units", "")})
    return xr.Dataset(data)
