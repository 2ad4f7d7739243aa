"""Pair distribution functions: S(Q) → F(Q) → G(r), and a real-space crystal-model fit.

Each FILE is a ``.gr`` (PDFgetX2/PDFgetX3/PDFgui; G(r) with dG when present) or a ``.sq``/``.fq``
structure factor, which is Fourier transformed first (``--qmax``, ``--qmin``, ``--lorch``, ``--r-max``,
``--dr``). With a structure (``--structure fcc --lattice 3.52``, or ``--phase`` naming a built-in phase
or a CIF file) the crystal model is refined over ``--r-range`` (default 1.5–10 Å): scale, lattice
parameter, U_iso, and the low-r width ratio when ``--rcut`` is given (``--refine`` picks others:
delta1, delta2, qdamp, qbroad). Qmax defaults to the file's header; ``--qdamp`` fixes the Q-resolution
damping. Patterns sharing an r grid are refined together in one batched fit. Without a structure the
table lists the strongest G(r) peaks.

Examples::

    perovscope bulk pdf Ni.gr --structure fcc --lattice 3.52 --rcut 3 --qdamp 0.001
    perovscope bulk pdf sample.sq --qmax 25 --lorch --r-max 20 --json
"""

from __future__ import annotations

HELP = "PDF: S(Q)→F(Q)→G(r) (Qmax, Lorch), crystal-model real-space fit (a, U_iso, scale, Qdamp, δ2)"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".gr, .sq or .fq files")
    parser.add_argument("--structure", choices=("fcc", "bcc", "sc", "diamond"), default=None,
                        help="one-element cubic structure to refine")
    parser.add_argument("--lattice", type=float, default=None, help="start lattice parameter, Å")
    parser.add_argument("--phase", default=None, help="built-in phase name or CIF file to refine")
    parser.add_argument("--r-range", nargs=2, type=float, metavar=("RMIN", "RMAX"), default=(1.5, 10.0),
                        help="fit range, Å (1.5 10)")
    parser.add_argument("--qmax", type=float, default=None, help="Qmax, 1/Å (default: the file's)")
    parser.add_argument("--qmin", type=float, default=None, help="Qmin of the transform, 1/Å")
    parser.add_argument("--lorch", action="store_true", help="Lorch window in the transform")
    parser.add_argument("--r-max", type=float, default=30.0, help="r_max of the transform, Å (30)")
    parser.add_argument("--dr", type=float, default=0.01, help="r step of the transform, Å (0.01)")
    parser.add_argument("--qdamp", type=float, default=0.0, help="Q-resolution damping, 1/Å (fixed)")
    parser.add_argument("--uiso", type=float, default=0.005, help="start U_iso, Å² (0.005)")
    parser.add_argument("--rcut", type=float, default=0.0, help="sharpen peaks below RCUT (refines sratio)")
    parser.add_argument("--refine", nargs="+", default=None,
                        choices=("scale", "a", "uiso", "delta1", "delta2", "qdamp", "qbroad", "sratio"),
                        help="parameters to refine (default scale a uiso [sratio])")


def _crystal(args):
    from ...bulk.pdf_model import crystal_from_phase, cubic_crystal
    from ...errors import InputError

    if args.phase:
        from ...bulk.xrd_phases import get_phase

        cr = crystal_from_phase(get_phase(args.phase))
        if args.lattice:
            s = args.lattice / cr.cell[0]
            cr = cr._replace(cell=tuple(v * s for v in cr.cell[:3]) + tuple(cr.cell[3:]))
        return cr
    if args.structure:
        if args.lattice is None:
            raise InputError("--structure needs --lattice (the start lattice parameter in Å)")
        return cubic_crystal(args.structure, args.lattice)
    return None


def _load(path, args, crystal):
    import xarray as xr

    from ...bulk.pdf_xr import pdf_dataarray
    from ...errors import InputError
    from ...io.pdf_gr import read_pdf_text

    ds = read_pdf_text(path)
    x = ds[ds.attrs["kind"]].dims[0]
    top = float(ds[x].max())
    if top < 2.0:  # a G(r) runs to several Å, an S(Q)/F(Q) to tens of 1/Å
        raise InputError(f"{path}: its {x} axis ends at {top:g} {ds[x].attrs['units']}: not a PDF or "
                         "structure factor (a SAXS curve?); give a .gr, .sq or .fq file")
    if ds.attrs["kind"] == "G":
        lo, hi = args.r_range
        if crystal is not None and not (lo < hi and lo < top and hi > float(ds[x].min())):
            raise InputError(f"{path}: --r-range {lo:g} {hi:g} lies outside its r span "
                             f"{float(ds[x].min()):g}–{top:g} Å; give RMIN < RMAX inside it")
        if args.qmax is not None:
            ds.attrs["qmax"] = args.qmax
        return ds
    if ds.attrs["kind"] == "I":
        raise InputError(f"{path}: an .iq intensity needs its corrections first; give S(Q) or F(Q)")
    g = pdf_dataarray(ds, qmin=args.qmin, qmax=args.qmax, lorch=args.lorch, r_max=args.r_max, dr=args.dr)
    out = xr.Dataset({"G": g}, attrs={**ds.attrs, "qmax": g.attrs["qmax"], "kind": "G",
                                      "kind_in": ds.attrs["kind"]})
    src = ds[ds.attrs["kind"]]
    out["source_Q"] = src.rename(Q="Q_in")
    return out


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.pdf_xr import fit_pdf_dataset
    from ._common import BulkOutcome, stack_groups

    crystal = _crystal(args)
    notes, groups = [], []
    for path in args.files:
        ds = _load(path, args, crystal)
        name = Path(path).name
        if "source_Q" in ds:
            window = " and the Lorch window" if args.lorch else ""
            notes.append(f"{name}: G(r) from {ds.attrs['kind_in']}(Q) with Qmax = {ds.attrs['qmax']:g} 1/Å"
                         + window)
        ds = ds.expand_dims(pattern=[name])
        for members in groups:
            ax = members[0].r.values
            if ax.size == ds.r.size and np.allclose(ax, ds.r.values, rtol=0, atol=1e-9):
                members.append(ds.assign_coords(r=members[0].r))
                break
        else:
            groups.append([ds])
    results, tables = {}, []
    for gi, members in enumerate(groups):  # one batched fit per distinct r grid
        data = xr.concat([m[[v for v in ("G", "dG", "source_Q") if v in m]] for m in members],
                         dim="pattern", combine_attrs="drop_conflicts")
        data.attrs["qmax"] = float(members[0].attrs.get("qmax", np.nan))
        if crystal is None:
            res = data
            tables.append(_peak_table(data))
        else:
            res = fit_pdf_dataset(data, crystal, r_range=tuple(args.r_range), qmax=_qmax(data, notes),
                                  rcut=args.rcut, refine=args.refine,
                                  start={"qdamp": args.qdamp, "uiso": args.uiso})
            res["G"], res.attrs["source"] = data["G"], "fit"
            for extra in ("dG", "source_Q"):
                if extra in data:
                    res[extra] = data[extra]
            tables.append(_fit_table(res))
            if np.any(res.flag.values >= 2):
                notes.append("some patterns could not be fitted (flag ≥ 2): NaN in the table")
        results[f"group_{gi:02d}"] = res
    if crystal is None:
        notes.append("no structure given (--structure/--phase): the table lists the strongest G(r) peaks")
    table, out = stack_groups(tables, results)
    first = results["group_00"]

    def figure():
        from ...report.bulk.pdf import pdf_figure

        return pdf_figure(first)

    return BulkOutcome(table=table, results=out, figure=figure, notes=notes)


def _qmax(data, notes):
    import numpy as np

    q = float(data.attrs.get("qmax", np.nan))
    if not np.isfinite(q) or q <= 0:
        notes.append("no Qmax in the file or --qmax: termination ripples not modelled")
        return None
    return q


def _fit_table(res):
    import numpy as np
    import xarray as xr

    data = {"file": ("row", np.asarray(res.pattern.values).astype(str))}
    for name in ("a", "uiso", "scale", "qdamp", "delta2", "sratio"):
        for col in (name, f"{name}_std"):
            data[col] = ("row", np.asarray(res[col].values, dtype=float).reshape(-1),
                         {"units": res[col].attrs["units"]})
    data["rw"] = ("row", np.asarray(res.rw.values, dtype=float).reshape(-1), {"units": "1"})
    data["flag"] = ("row", np.asarray(res.flag.values).reshape(-1))
    return xr.Dataset(data)


def _peak_table(data, n_peaks: int = 5):
    import numpy as np
    import xarray as xr

    g = data.G.transpose("pattern", "r").values
    r = data.r.values
    inner = (g[:, 1:-1] > g[:, :-2]) & (g[:, 1:-1] >= g[:, 2:]) & (g[:, 1:-1] > 0)
    height = np.where(inner, g[:, 1:-1], -np.inf)
    order = np.argsort(-height, axis=1)[:, :n_peaks]
    top = np.sort(order, axis=1) + 1  # strongest peaks, listed by r
    y0, y1, y2 = (np.take_along_axis(g, top + k, axis=1) for k in (-1, 0, 1))
    den = y0 - 2 * y1 + y2
    off = np.where(den != 0, 0.5 * (y0 - y2) / np.where(den != 0, den, 1.0), 0.0)
    pos = r[top] + off * np.median(np.diff(r))
    ok = np.take_along_axis(height, top - 1, axis=1) > -np.inf
    pos = np.where(ok, pos, np.nan)
    cols = {"file": ("row", np.asarray(data.pattern.values).astype(str)),
            "qmax": ("row", np.full(g.shape[0], float(data.attrs.get("qmax", np.nan))), {"units": "1/Å"})}
    for k in range(pos.shape[1]):
        cols[f"peak_{k + 1}"] = ("row", pos[:, k], {"units": "Å"})
    return xr.Dataset(cols)
