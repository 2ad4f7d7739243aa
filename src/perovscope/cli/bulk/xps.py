"""XPS regions from VAMAS files: Shirley/Tougaard backgrounds, component fits with doublets, C 1s shifts.

FILE is a VAMAS (ISO 14976) ``.vms`` file; kinetic energies are converted to binding energies with
the source energy (and work function) of each block. Without ``--peaks`` the table summarises every
region (range, maximum, background-subtracted area); with ``--peaks`` the region chosen by
``--region`` (or the only one) is fitted: background (``--background``), components (``--shape``),
spin–orbit doublets ``--doublet FIRST,SECOND,SEPARATION[,RATIO]`` (component indices from 0,
separation in eV, area ratio default 0.5). ``--reference C1s=284.8`` fits the main C 1s peak of
the file's C 1s region and shifts every binding energy so that it sits at 284.8 eV; ``--shift``
applies a known shift instead.

Examples::

    perovscope bulk xps FeO.vms --region "Fe 2p" --range 699.85:749.09 --background tougaard \\
        --cross-section polymer --peaks 709,716,722.5,730
    perovscope bulk xps sample.vms --reference C1s=284.8 --region "Pb 4f" --peaks 138.5,143.4 \\
        --doublet 0,1,4.86,0.75
"""

from __future__ import annotations

HELP = "XPS (VAMAS): Shirley/Tougaard backgrounds, component fits with spin-orbit doublets, C 1s referencing"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="VAMAS files (.vms)")
    parser.add_argument("--region", default=None, help='region (block) to fit, e.g. "Fe 2p"')
    parser.add_argument(
        "--range",
        dest="be_range",
        default=None,
        metavar="LO:HI",
        help="binding-energy range of the fit, eV (default: the whole region)",
    )
    parser.add_argument(
        "--background",
        choices=("shirley", "tougaard", "linear", "none"),
        default="shirley",
        help="background (default shirley)",
    )
    parser.add_argument(
        "--cross-section",
        choices=("universal", "polymer"),
        default="universal",
        help="Tougaard cross-section class (default universal: B=2866, C=1643 eV²)",
    )
    parser.add_argument(
        "--tougaard-b",
        type=float,
        default=None,
        metavar="EV2",
        help="fix the Tougaard B (default: fitted to the high-energy end)",
    )
    parser.add_argument("--average", type=int, default=3, help="end points averaged for the background (3)")
    parser.add_argument("--peaks", default=None, metavar="E1,E2,...", help="start binding energies, eV")
    parser.add_argument(
        "--shape",
        default="pseudo_voigt",
        help="pseudo_voigt (default), gaussian, lorentzian, voigt; or one per component",
    )
    parser.add_argument("--fwhm", default=None, metavar="W[,W...]", help="start FWHM(s), eV")
    parser.add_argument(
        "--doublet",
        action="append",
        default=None,
        metavar="I,J,DE[,RATIO]",
        help="spin-orbit doublet: component J at component I + DE eV with RATIO × its area",
    )
    parser.add_argument(
        "--centre-range",
        type=float,
        default=None,
        metavar="EV",
        help="keep each centre within ± this of its start",
    )
    parser.add_argument(
        "--reference",
        default=None,
        metavar="REGION=EV",
        help="charge reference, e.g. C1s=284.8 (main peak of that region)",
    )
    parser.add_argument(
        "--shift", type=float, default=None, metavar="EV", help="known charge shift to add, eV"
    )
    parser.add_argument("--refine", type=int, default=0, help="active-Shirley refinements (default 0)")
    parser.add_argument("--weights", choices=("none", "poisson"), default="none", help="σ = √counts or none")


def _doublets(specs):
    from ...bulk.xps import Doublet
    from ...errors import InputError

    out = []
    for spec in specs or ():
        parts = [p for p in str(spec).split(",") if p.strip()]
        try:
            if len(parts) not in (3, 4):
                raise ValueError
            ratio = float(parts[3]) if len(parts) == 4 else 0.5
            out.append(Doublet(int(parts[0]), int(parts[1]), float(parts[2]), ratio))
        except ValueError:
            raise InputError(f"--doublet: expected I,J,SEPARATION[,RATIO], got {spec!r}") from None
    return out


def _charge_shift(args, regions, notes):
    import re

    from ...bulk.xps import c1s_shift
    from ...errors import InputError

    if args.reference is None:
        return float(args.shift or 0.0)
    if args.shift is not None:
        raise InputError("give either --reference or --shift, not both")
    name, sep, value = str(args.reference).partition("=")
    try:
        target = float(value)
    except ValueError:
        raise InputError(
            f"--reference: expected REGION=EV (e.g. C1s=284.8), got {args.reference!r}"
        ) from None
    if re.sub(r"\s+", "", name).lower() != "c1s":
        raise InputError("--reference: only C1s=<eV> is supported (the adventitious-carbon peak)")
    c1s = [r for r in regions if re.sub(r"\s+", "", r.attrs.get("region", "")).lower() == "c1s"]
    if not c1s:
        have = ", ".join(repr(r.attrs.get("region")) for r in regions)
        raise InputError(f"--reference C1s: the file has no C 1s region (regions {have}); use --shift")
    da = c1s[0]
    shift, std, measured = c1s_shift(da.values, da["binding_energy"].values, reference=target)
    notes.append(
        f"C 1s measured at {float(measured):.2f} eV; binding energies shifted by {float(shift):+.2f} "
        f"± {float(std):.2f} eV to put it at {target:g} eV"
    )
    return float(shift)


def analyse(args):
    from pathlib import Path

    import numpy as np

    from ...bulk.xps_xr import component_table, fit_xps_dataarray, region_summary
    from ...errors import InputError
    from ...io.vamas import read_vamas, read_vamas_region
    from ._common import BulkOutcome
    from .raman import parse_floats, parse_ranges

    notes = []
    regions = [da.assign_attrs(file=Path(p).name) for p in args.files for da in read_vamas(p)]
    shift = _charge_shift(args, regions, notes)
    bopts = {"average": args.average, "cross_section": args.cross_section}
    if args.tougaard_b is not None:
        bopts["B"] = args.tougaard_b
    centres = parse_floats(args.peaks, "peaks")
    if centres is None:
        from ...bulk.xps_background import CROSS_SECTIONS

        _, c0, d0 = CROSS_SECTIONS[args.cross_section]
        table = region_summary(
            regions,
            background=args.background,
            shift=shift,
            average=args.average,
            background_options={"C": c0, "D": d0},
        )
        table["file"] = ("row", np.array([r.attrs["file"] for r in regions]))
        results = (
            regions[0].to_dataset(name="intensity")
            if len(regions) == 1
            else __import__("xarray").DataTree.from_dict(
                {f"block_{i:02d}": r.to_dataset(name="intensity") for i, r in enumerate(regions)}
            )
        )
        notes.append("region summary only; give --peaks (and --region) to fit components")
        return BulkOutcome(table=table, results=results, figure=None, notes=notes)
    if len(args.files) > 1:
        raise InputError("component fits take one FILE; fit each file separately or give one series file")
    da = read_vamas_region(args.files[0], args.region)
    rng = parse_ranges(args.be_range, "range")
    shapes = [s.strip() for s in str(args.shape).split(",") if s.strip()]
    fwhm = parse_floats(args.fwhm, "fwhm")
    ds = fit_xps_dataarray(
        da,
        centres=np.asarray(centres),
        shift=shift,
        shape=shapes[0] if len(shapes) == 1 else shapes,
        fwhm=None if fwhm is None else np.asarray(fwhm),
        background=args.background,
        region=rng[0] if rng else None,
        doublets=_doublets(args.doublet),
        centre_range=args.centre_range,
        refine=args.refine,
        weights=None if args.weights == "none" else "poisson",
        background_options=bopts,
    )
    if np.any(ds.flag.values == 1):
        notes.append(
            "the fit stopped at the iteration limit (flag 1); the components may still be moving "
            "along a shallow valley — check the start values or constrain the widths"
        )
    if args.background == "tougaard":
        notes.append(
            f"Tougaard B = {float(np.nanmean(ds.background_B.values)):.1f} eV² ({args.cross_section})"
        )
    table = component_table(ds)

    def figure():
        from ...report.bulk.xps import xps_figure

        return xps_figure(ds)

    return BulkOutcome(table=table, results=ds, figure=figure, notes=notes)
