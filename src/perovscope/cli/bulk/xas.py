"""XAS: edge energy, normalisation and flattening, EXAFS χ(k) and its Fourier transform |χ(R)|.

Each FILE is an XDI 1.0 text file (μ from its ``mutrans``/``mufluor`` column, or ln(I0/It) from the
intensities). Spectra sharing an energy axis are processed together as one batch. E₀ is the maximum
of dμ/dE (searched within ±``--search-width`` eV of the header's ``Scan.edge_energy`` when it has
one); the pre-edge line and the post-edge polynomial are fitted over ``--pre`` and ``--post``
(relative to E₀) and give the edge step; the background spline (AUTOBK, ``--rbkg``) gives χ(k),
whose k-weighted transform over ``--krange`` gives |χ(R)| and its first-shell peak (not corrected
for the scattering phase shift, so ≈ 0.3–0.5 Å below the bond length).

Examples::

    perovscope bulk xas cu_foil.xdi
    perovscope bulk xas series_*.xdi --rbkg 1.1 --krange 3 12 --kweight 3 --json
"""

from __future__ import annotations

HELP = "XAS: E0, edge step, normalised/flattened μ(E), EXAFS χ(k) (AUTOBK spline) and |χ(R)|"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="XDI files (.xdi)")
    parser.add_argument("--e0", type=float, default=None, help="fix the edge energy, eV (default: dμ/dE max)")
    parser.add_argument("--search-width", type=float, default=30.0,
                        help="E0 search half-width around the header's edge energy, eV (default 30)")
    parser.add_argument("--pre", nargs=2, type=float, metavar=("E1", "E2"), default=(-150.0, -30.0),
                        help="pre-edge range relative to E0, eV (default -150 -30)")
    parser.add_argument("--post", nargs=2, type=float, metavar=("E1", "E2"), default=None,
                        help="post-edge range relative to E0, eV (default 150 to the end)")
    parser.add_argument("--post-order", type=int, choices=(0, 1, 2, 3), default=2,
                        help="degree of the post-edge polynomial (default 2)")
    parser.add_argument("--rbkg", type=float, default=1.0, help="background R cut-off, Å (default 1.0)")
    parser.add_argument("--kweight", type=float, default=2.0, help="k-weight of the transform (default 2)")
    parser.add_argument("--krange", nargs=2, type=float, metavar=("K1", "K2"), default=None,
                        help="Fourier window, 1/Å (default 3 to the end of the data)")
    parser.add_argument("--dk", type=float, default=1.0, help="window taper width, 1/Å (default 1)")


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.xas_xr import xas_dataset, xas_table
    from ...io.xdi import read_xdi
    from ._common import BulkOutcome, stack_groups

    notes = []
    groups: list[tuple[np.ndarray, list]] = []
    for path in args.files:
        ds = read_xdi(path)
        mu = ds["mu"].expand_dims(spectrum=[Path(path).name])
        mu = mu.assign_coords(edge_header=("spectrum", [float(ds.attrs.get("edge_energy_eV", np.nan))]))
        axis = ds["energy"].values
        for ax, members in groups:
            if ax.size == axis.size and np.allclose(ax, axis, rtol=0, atol=1e-6):
                members.append(mu)
                break
        else:
            groups.append((axis, [mu]))
    post = tuple(args.post) if args.post else (150.0, None)
    kr = tuple(args.krange) if args.krange else (3.0, None)
    results, tables = {}, []
    for gi, (_, members) in enumerate(groups):  # one batched pass per distinct energy axis
        batch = xr.concat(members, dim="spectrum")
        edge = batch["edge_header"].values
        search = None
        if args.e0 is None and np.all(np.isfinite(edge)) and np.ptp(edge) == 0:
            search = (edge[0] - args.search_width, edge[0] + args.search_width)
            notes.append(f"E0 searched within {edge[0]:g} ± {args.search_width:g} eV (header edge energy)")
        res = xas_dataset(batch, e0=args.e0, search=search, pre_range=tuple(args.pre), post_range=post,
                          post_order=args.post_order, rbkg=args.rbkg, kweight=args.kweight, k_range=kr,
                          dk=args.dk)
        results[f"group_{gi:02d}"] = res
        t = xas_table(res)
        t = t.assign(spectrum=("row", res["spectrum"].values.astype(str), {"units": ""}),
                     edge_header=("row", edge, {"units": "eV"}))
        tables.append(t[["spectrum", *[v for v in t.data_vars if v != "spectrum"]]])
    table, out = stack_groups(tables, results)
    bad = int(np.sum(~np.isfinite(table["r_first_shell"].values)))
    if bad:
        notes.append(f"{bad} spectrum/spectra without a first-shell peak in 1–6 Å: NaN in the table")
    first = results["group_00"]

    def figure():
        from ...report.bulk.xas import xas_figure

        return xas_figure(first)

    return BulkOutcome(table=table, results=out, figure=figure, notes=notes)
