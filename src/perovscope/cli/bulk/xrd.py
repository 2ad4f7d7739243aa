"""Powder XRD: whole-pattern refinement — phases, lattice parameters ± σ, weight fractions, Rwp, GOF.

Each FILE (``.xye``/``.xy``/``.dat`` text, optionally bzip2/gzip/xz-compressed, or a Bruker ``.brml``)
is refined against the phases given with ``--phase`` (a built-in name such as ``CsPbI3_gamma``,
``CsPbI3_delta``, ``CsPbBr3_cubic``, ``LaB6``, or a CIF file; repeat for several). Without
``--phase`` the peaks are matched against the built-in set and the phases that explain them are
refined. One row per file and phase: lattice parameters with standard errors, Hill–Howard weight
fraction, Rwp and GOF, the Lorentzian (Scherrer-type) size and microstrain, and how many of the
peaks found were indexed. With ``--series`` the files (same 2θ grid) are refined together in one
batched call, e.g. an in-situ temperature series (``--temperature 25,100,150,...``).

Examples::

    perovscope bulk xrd LaB6.xye.bz2 --phase LaB6 --range 18:148 --radius 337
    perovscope bulk xrd composite.xy --phase CsPbI3_gamma --phase CsPbI3_delta --json
    perovscope bulk xrd T*.xye --series --temperature 25,150,200,250 --phase CsPbI3_gamma --phase delta.cif
"""

from __future__ import annotations

HELP = "powder XRD: Rietveld-type refinement, lattice parameters, wt% (Hill–Howard), Rwp/GOF, sizes"

_UNITS = dict(file="", phase="", a="angstrom", a_err="angstrom", b="angstrom", b_err="angstrom",
              c="angstrom", c_err="angstrom", alpha="deg", beta="deg", gamma="deg", wt_pct="wt%",
              wt_pct_err="wt%", rwp="%", gof="1", size_nm="nm", microstrain="1", zero_deg="deg",
              displacement_mm="mm", peaks="1", indexed="1")


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="powder patterns (.xye/.xy/.dat[.bz2|.gz], .brml)")
    parser.add_argument("--phase", action="append", default=None, metavar="NAME|CIF",
                        help="phase to refine: a built-in name or a CIF file (repeatable; default: "
                             "search–match against the built-in set)")
    parser.add_argument("--wavelength", default=None, metavar="ANODE|Å",
                        help="Cu (Kα1+Kα2, default), CuKa1, Co, Mo, ... or wavelength(s) in Å, e.g. 0.10173")
    parser.add_argument("--ka2-ratio", type=float, default=0.5, metavar="R", help="I(Kα2)/I(Kα1) (0.5)")
    parser.add_argument("--range", default=None, metavar="LO:HI", help="2θ range refined (deg)")
    parser.add_argument("--background-order", type=int, default=8, metavar="N", help="Chebyshev order (8)")
    parser.add_argument("--radius", type=float, default=240.0, metavar="MM",
                        help="goniometer radius (240 mm)")
    parser.add_argument("--monochromator", type=float, default=0.0, metavar="DEG",
                        help="monochromator 2θ for the polarization factor (0: none)")
    parser.add_argument("--fix", action="append", default=[], metavar="GROUP",
                        help="keep fixed: zero, displacement, lattice, U, V, W, X, Y (repeatable)")
    parser.add_argument("--refine-b", action="store_true", help="also refine an overall B per phase")
    parser.add_argument("--series", action="store_true", help="refine the files together as one series")
    parser.add_argument("--temperature", default=None, metavar="T1,T2,...",
                        help="temperature (°C) of each file of a series")
    parser.add_argument("--min-snr", type=float, default=5.0, metavar="S", help="peak-search threshold (5 σ)")
    parser.add_argument("--scale", choices=("linear", "sqrt", "log"), default="linear",
                        help="intensity axis of the figure")


def _read(path):
    from pathlib import Path

    from ...io.xye import read_xye

    p = Path(path)
    if p.suffix.lower() in (".brml", ".xml"):
        from ...io.xrd import read_bruker_xrd

        da = read_bruker_xrd(p)
        if not hasattr(da, "dims"):
            from ...errors import FormatError

            raise FormatError(f"{path}: several scans in one .brml; export them one per file")
        return da
    return read_xye(p)


def _range(text):
    if text is None:
        return None
    from ...errors import InputError

    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise InputError(f"--range {text!r}: give LO:HI in degrees 2θ, e.g. 18:148") from None
    if not lo < hi:
        raise InputError(f"--range {text!r}: LO must be below HI")
    return lo, hi


def _phases(args, x, y, s, rad, notes, name):
    """The phases to refine: ``--phase``, else greedy search–match against the built-in set."""
    import numpy as np

    from ...bulk.xrd_peaks import find_peaks, match_phases
    from ...errors import InputError

    if args.phase:
        return list(args.phase)
    pk = find_peaks(y, x, sigma=s, min_snr=args.min_snr)
    done = np.zeros(pk.two_theta.shape, bool)
    chosen, scores = [], []
    for _ in range(3):  # best phase, then the best explanation of the peaks still unexplained
        match = match_phases(pk.two_theta, pk.height, wavelength=rad, exclude=done)
        best = next((j for j, p in enumerate(match.phase) if p not in chosen), None)
        first = not chosen
        if best is None or match.found[best] < 0.6 or match.explained[best] < (0.5 if first else 0.3):
            break
        chosen.append(match.phase[best])
        scores.append(float(match.score[best]))
        done |= match.explains[best]
        if done[np.isfinite(pk.two_theta)].all():
            break
    if not chosen:
        raise InputError(f"{name}: no built-in phase explains the peaks (best {match.phase[0]}, found "
                         f"{float(match.found[0]):.2f}); name the phases with --phase NAME|CIF")
    notes.append(f"{name}: phases from search–match: " + ", ".join(
        f"{p} ({sc:.2f})" for p, sc in zip(chosen, scores, strict=True)))
    return chosen


def _rows(res, k, name, pk_count, n_indexed, wavelength):
    from ...bulk.xrd_peaks import profile_size_strain

    rows = []
    for j, ph in enumerate(res.phases):
        cell, sd, pr = res.cell[k, j], res.cell_std[k, j], res.profile[k, j]
        size, strain = profile_size_strain(pr[3], pr[4], wavelength)
        rows.append(dict(file=name, phase=ph, a=cell[0], a_err=sd[0], b=cell[1], b_err=sd[1], c=cell[2],
                         c_err=sd[2], alpha=cell[3], beta=cell[4], gamma=cell[5],
                         wt_pct=100 * res.weight_fraction[k, j],
                         wt_pct_err=100 * res.weight_fraction_std[k, j],
                         rwp=100 * res.rwp[k], gof=res.gof[k], size_nm=float(size), microstrain=float(strain),
                         zero_deg=res.zero[k], displacement_mm=res.displacement[k], peaks=float(pk_count),
                         indexed=float(n_indexed)))
    return rows


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.xrd import DEFAULT_REFINE, intensity_view, refine_pattern
    from ...bulk.xrd_peaks import find_peaks, index_peaks
    from ...bulk.xrd_reflections import XRAY_LINES, radiation
    from ...bulk.xrd_xr import refinement_dataset
    from ...errors import InputError
    from ._common import BulkOutcome

    notes, rows, children = [], [], {}
    rng = _range(args.range)
    groups = tuple(g for g in DEFAULT_REFINE if g not in set(args.fix)) + (("B",) if args.refine_b else ())
    unknown = set(args.fix) - set(DEFAULT_REFINE)
    if unknown:
        raise InputError(f"--fix {sorted(unknown)}: choose from {', '.join(DEFAULT_REFINE)}")
    data = [(Path(f).name, _read(f)) for f in args.files]
    spec = args.wavelength or _file_wavelength(data, notes)
    if spec is None:
        spec = "Cu"
        notes.append(f"wavelength not given: Cu Kα1 + Kα2 (ratio {args.ka2_ratio:.2g}) assumed")
    rad = radiation(spec, ka2_ratio=args.ka2_ratio)
    kb = next((v[2] for v in XRAY_LINES.values() if abs(v[0] - rad.wavelengths[0]) < 1e-4), None)
    kb = kb if len(rad.wavelengths) > 1 else None
    common = dict(wavelength=rad, radius_mm=args.radius, monochromator_2theta=args.monochromator,
                  background_order=args.background_order, refine=groups, two_theta_range=rng)
    batches = [data] if args.series else [[d] for d in data]
    for batch in batches:
        xs = [np.asarray(da["two_theta"].values, float) for _, da in batch]
        if any(x.shape != xs[0].shape or not np.allclose(x, xs[0]) for x in xs):
            raise InputError("--series: every file must share the same 2θ grid")
        x = xs[0]
        y = np.stack([np.asarray(da.values, float) for _, da in batch])
        s = None if any("sigma" not in da.coords for _, da in batch) else np.stack(
            [np.asarray(da["sigma"].values, float) for _, da in batch])
        keep = np.ones(x.size, bool) if rng is None else (x >= rng[0]) & (x <= rng[1])
        name0 = batch[0][0]
        s0 = None if s is None else s[0, keep]
        phases = _phases(args, x[keep], y[0, keep], s0, rad, notes, name0)
        res = refine_pattern(y, x, phases, sigma=s, **common)
        xo = res.two_theta
        order = np.argsort(x[keep])
        yo = y[:, keep][:, order]
        so = None if s is None else s[:, keep][:, order]
        intensity_view(yo, scale=args.scale)  # a log view needs positive counts: fail before any output
        pk = find_peaks(yo, xo, sigma=so, min_snr=args.min_snr)
        for k, (name, _) in enumerate(batch):
            ix = index_peaks(pk.two_theta[k], res, pattern=(k,), kbeta_wavelength=kb)
            if not ix.indexed.all():
                notes.append(f"{name}: {int((~ix.indexed).sum())} of {ix.indexed.size} peaks not indexed "
                             f"(e.g. {', '.join(f'{v:.3f}' for v in ix.two_theta[~ix.indexed][:5])} deg)")
            rows += _rows(res, k, name, ix.indexed.size, int(ix.indexed.sum()), rad.wavelengths[0])
            sub = _take(res, k)
            ds = refinement_dataset(sub, observed=yo[k])
            ds = ds.assign(peak_two_theta=("peak", ix.two_theta, {"units": "deg"}),
                           peak_phase=("peak", ix.phase.astype(str), {"units": ""}),
                           peak_hkl=("peak", ix.hkl.astype(str), {"units": ""}),
                           peak_line=("peak", ix.line.astype(str), {"units": ""}),
                           peak_delta=("peak", ix.delta, {"units": "deg"}),
                           peak_indexed=("peak", ix.indexed, {"units": ""}))
            ds.attrs.update(file=name, **({"temperature_C": _temps(args, len(batch))[k]}
                                          if args.series and args.temperature else {}))
            children[f"file_{len(children):02d}"] = ds
    text = {c for c, u in _UNITS.items() if u == ""}
    table = xr.Dataset({c: xr.DataArray(np.asarray([r[c] for r in rows], dtype=str if c in text else float),
                                        dims="row", attrs={"units": u}) for c, u in _UNITS.items()})
    results = xr.DataTree.from_dict({**children, "table": table})

    def figure():
        from ...report.bulk.xrd import xrd_figure

        return xrd_figure(results, scale=args.scale)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)


def _file_wavelength(data, notes):
    """The wavelength the files declare (an anode's Kα1 means that anode's Kα1 + Kα2), or None."""
    from ...bulk.xrd_reflections import XRAY_LINES

    waves = {round(float(da.attrs["xray_wavelength_A"]), 5) for _, da in data
             if "xray_wavelength_A" in da.attrs}
    if len(waves) != 1:
        return None
    lam = waves.pop()
    anode = next((k for k, v in XRAY_LINES.items() if abs(v[0] - lam) < 2e-3), None)
    notes.append(f"wavelength from the file: {lam:g} Å" + (f" ({anode} Kα1 + Kα2)" if anode else ""))
    return anode or str(lam)


def _temps(args, n):
    from ...errors import InputError

    try:
        t = [float(v) for v in args.temperature.split(",")]
    except ValueError:
        raise InputError(f"--temperature {args.temperature!r}: give comma-separated numbers") from None
    if len(t) != n:
        raise InputError(f"--temperature has {len(t)} values for {n} files")
    return t


def _take(res, k):
    """Pattern ``k`` of a batched refinement as a one-pattern result."""
    import numpy as np

    fields = {}
    for name, value in res._asdict().items():
        if name in ("phases", "names", "two_theta", "model") or not isinstance(value, np.ndarray):
            fields[name] = value
        else:
            fields[name] = value[k]
    return type(res)(**fields)
