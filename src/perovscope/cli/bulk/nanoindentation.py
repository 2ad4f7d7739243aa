"""Nanoindentation: Oliver–Pharr hardness and modulus, CSM depth averages, indent maps, scratch profiles.

Each FILE is a Keysight/Agilent NanoSuite ``.xls`` export (any number of tests) or a Hysitron
TriboScan ``.txt`` export (one test). All indents are fitted together: the unloading curve of each
is fitted with ``P = α (h - h_f)^m`` between ``--fit-range`` fractions of the peak load, the contact
depth uses ε = ``--epsilon`` and the tip area function ``--area C0 C1 …``, and Young's modulus
follows from the sample's Poisson's ratio (``--poisson``, or the value stored in the file) and the
diamond's constants. With a continuous-stiffness channel the hardness and modulus are also computed
at every depth and averaged over ``--depth-range`` (default: the file's calculation depths), which
is what NanoSuite reports as "Average Over Defined Range"; those reported values are listed beside
the recomputed ones. Indents on a grid of stage positions give hardness and modulus maps. Files with
a lateral-force channel are analysed as scratch tests (friction coefficient, depth, first event).

Examples::

    perovscope bulk nanoindentation FS_XP.xls --area 24.695 395.77 -16.132 133.41 106.46
    perovscope bulk nanoindentation indent_0000.txt --poisson 0.3 --area 24.5 --json
"""

from __future__ import annotations

HELP = "nanoindentation: Oliver–Pharr H and E, CSM averages, indent maps, scratch friction and depth"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="NanoSuite .xls or Hysitron .txt exports")
    parser.add_argument("--area", nargs="+", type=float, metavar="C", default=None,
                        help="tip area function C0 C1 … (nm² for nm; default: the file's, else 24.5)")
    parser.add_argument("--poisson", type=float, default=None, help="Poisson's ratio of the sample")
    parser.add_argument("--epsilon", type=float, default=0.75, help="contact-depth constant ε (0.75)")
    parser.add_argument("--beta", type=float, default=1.0, help="stiffness correction β (1.0)")
    parser.add_argument("--fit-range", nargs=2, type=float, metavar=("LO", "HI"), default=None,
                        help="fractions of the peak load fitted (default: the file's, else 0.5 0.98)")
    parser.add_argument("--depth-range", nargs=2, type=float, metavar=("H0", "H1"), default=None,
                        help="CSM averaging depths, nm (default: the file's calculation depths)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="report indents that cannot be fitted as NaN instead of stopping")
    parser.add_argument("--window", nargs=2, type=float, metavar=("X0", "X1"), default=None,
                        help="scratch: distance range of the summaries, µm")


def _read(path):
    from pathlib import Path

    from ...errors import FormatError
    from ...io.hysitron import read_hysitron
    from ...io.nanosuite import read_nanosuite

    path = Path(path)
    if path.suffix.lower() in (".xls", ".xlsx"):
        return read_nanosuite(path)
    if path.suffix.lower() in (".txt", ".tsv", ".dat"):
        return read_hysitron(path)
    raise FormatError(f"{path}: unknown nanoindentation format {path.suffix!r}; expected a NanoSuite .xls or "
                      "a Hysitron .txt export")


def _standard(ds, keep):
    """The variables analysed, in nm / mN / N/m, with a ``file`` coordinate over ``test``."""
    import numpy as np
    import xarray as xr

    from ...bulk.nanoindentation_xr import as_tests, in_units

    several = "test" in ds.dims
    ds = as_tests(ds)
    name = str(ds.attrs.get("source_file", "")).replace("\\", "/").rsplit("/", 1)[-1]
    units = {"depth": "nm", "load": "mN", "contact_stiffness": "N/m", "normal_force": "mN",
             "lateral_force": "mN", "distance": "um"}
    out = {}
    for v in keep:
        if v not in ds:
            continue
        if v in units:
            out[v] = xr.DataArray(in_units(ds[v], units[v], name=v), dims=ds[v].dims,
                                  attrs={"units": units[v]})
        else:
            out[v] = ds[v].variable
    res = xr.Dataset(out).assign_coords(test=[f"{name}:{t}" if several else name
                                              for t in np.asarray(ds["test"].values).astype(str)])
    return res.assign_coords(file=("test", [name] * res.sizes["test"]))


_KEEP = ("depth", "load", "contact_stiffness", "segment", "segment_label", "poisson_ratio", "x_position",
         "y_position", "percent_unload_in_stiffness_calculation", "minimum_calculation_depth",
         "maximum_calculation_depth", "reported_e_average_over_defined_range",
         "reported_h_average_over_defined_range",
         *(f"reported_area_coefficient_{k}" for k in range(1, 6)),
         "lateral_force", "normal_force", "distance")


def _combine(datasets):
    """One Dataset over ``test`` from several files: the variables all share, padded to one length."""
    import xarray as xr

    common = set.intersection(*(set(d.data_vars) for d in datasets))
    npt = max(d.sizes.get("point", 0) for d in datasets)
    nseg = max(d.sizes.get("segment_id", 0) for d in datasets)
    parts = []
    for d in datasets:  # one entry per file
        d = d[sorted(common)]
        pad = {k: (0, n - d.sizes[k]) for k, n in (("point", npt), ("segment_id", nseg)) if k in d.dims}
        parts.append(d.pad(pad) if any(v[1] for v in pad.values()) else d)
    return parts[0] if len(parts) == 1 else xr.concat(parts, dim="test", data_vars="all")


def _area(ds, args, notes):
    import numpy as np

    if args.area:
        return [float(c) for c in args.area]
    found = []
    for k in range(1, 6):
        v = f"reported_area_coefficient_{k}"
        if v in ds and np.all(np.isfinite(ds[v].values)):
            found.append(float(ds[v].values[0]))
        else:
            break
    if found:
        notes.append(f"tip area function from the file: {len(found)} coefficients {found} (give all "
                     "with --area)")
        return found
    notes.append("no --area and none in the file: ideal Berkovich A = 24.5 h_c²")
    return [24.5]


def analyse(args):
    import numpy as np
    import xarray as xr

    from ...bulk.nanoindentation_xr import (
        csm_dataset,
        indent_map_dataset,
        oliver_pharr_dataset,
        scratch_dataset,
    )
    from ._common import BulkOutcome

    notes = []
    raw = [_read(p) for p in args.files]
    data = _combine([_standard(d, _KEEP) for d in raw])
    if "lateral_force" in data:
        scr = scratch_dataset(data, window=args.window)
        cols = {"test": ("row", scr["test"].values.astype(str), {"units": ""})}
        cols.update({v: ("row", scr[v].values, {"units": scr[v].attrs["units"]}) for v in
                     ("mean_normal_force", "mean_lateral_force", "mean_friction", "friction_std",
                      "mean_depth", "max_depth", "event_distance")})
        table = xr.Dataset(cols, coords={"row": np.arange(scr.sizes["test"])})

        def scratch_fig():
            from ...report.bulk.nanoindentation import scratch_figure

            return scratch_figure(scr)

        return BulkOutcome(table=table, results=scr, figure=scratch_fig, notes=notes)
    area = _area(data, args, notes)
    fit_range = tuple(args.fit_range) if args.fit_range else None
    op = oliver_pharr_dataset(data, area_coefficients=area, poisson_ratio=args.poisson, epsilon=args.epsilon,
                              beta=args.beta, fit_range=fit_range, bad="mask" if args.skip_bad else "raise")
    notes.append(f"unloading fitted between {op.attrs['fit_range'][0]:g} and {op.attrs['fit_range'][1]:g} of "
                 "the peak load")
    cols = {"h_max": "h_max", "p_max": "p_max", "stiffness": "S", "contact_depth": "h_c", "m": "m",
            "hardness": "H", "hardness_std": "H_std", "modulus": "E", "modulus_std": "E_std", "flag": "flag"}
    tests = data["test"].values.astype(str)
    table = {"test": ("row", tests, {"units": ""})}
    table.update({new: ("row", op[old].values, {"units": op[old].attrs["units"]})
                  for old, new in cols.items()})
    groups = {"oliver_pharr": op}
    if "contact_stiffness" in data:
        csm = csm_dataset(data, area_coefficients=area, poisson_ratio=args.poisson, epsilon=args.epsilon,
                          beta=args.beta, depth_range=tuple(args.depth_range) if args.depth_range else None)
        groups["csm"] = csm
        table["H_csm"] = ("row", csm["hardness_mean"].values, {"units": "GPa"})
        table["E_csm"] = ("row", csm["modulus_mean"].values, {"units": "GPa"})
        lo, hi = float(np.nanmin(csm["depth_min"].values)), float(np.nanmax(csm["depth_max"].values))
        notes.append(f"CSM hardness and modulus averaged over {lo:g}–{hi:g} nm (±1 %)")
    for rep, new in (("reported_h_average_over_defined_range", "H_reported"),
                     ("reported_e_average_over_defined_range", "E_reported")):
        if rep in data:
            table[new] = ("row", data[rep].values, {"units": "GPa"})
    grid = None
    if "x_position" in data and "y_position" in data and data.sizes["test"] >= 4:
        x, y = data["x_position"].values, data["y_position"].values
        finite = np.all(np.isfinite(x)) and np.all(np.isfinite(y))
        if finite and np.unique(x).size > 1 and np.unique(y).size > 1:
            grid = indent_map_dataset(op, x, y)
            if "csm" in groups:
                csm_map = indent_map_dataset(groups["csm"], x, y, variables=("hardness_mean", "modulus_mean"))
                grid = grid.assign(hardness_csm=csm_map["hardness_mean"], modulus_csm=csm_map["modulus_mean"])
            groups["map"] = grid
    table = xr.Dataset(table, coords={"row": np.arange(tests.size)})
    bad = int(np.sum(op["flag"].values >= 2))
    if bad:
        notes.append(f"{bad} indent(s) could not be fitted (flag 2/3): NaN in the table")
    results = op if len(groups) == 1 else xr.DataTree.from_dict(groups)

    def figure():
        from ...report.bulk.nanoindentation import nanoindentation_figure

        return nanoindentation_figure(op, csm=groups.get("csm"), grid=grid)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
