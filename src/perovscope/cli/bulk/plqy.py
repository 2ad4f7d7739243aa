"""PLQY from integrating-sphere spectra by the de Mello three-measurement method.

Give the five spectra with ``--A1 --B1 --C1`` (excitation window: empty sphere, sample off-beam, sample
in the beam) and ``--B2 --C2`` (emission window; ``--A2`` for an empty-sphere emission background), or
as FILE arguments whose names end in ``A1``, ``B1``, ``C1``, ``A2``, ``B2``, ``C2`` (e.g.
``set1_A1.txt``). ``--calibration`` is the detection's spectral calibration factor (wavelength nm,
factor; multiplied in); the calibrated spectra are weighted by λ (photon numbers from power units)
unless ``--no-photon-weighting``. Several sets (``--set`` prefixes, or files of several sets) each
give one row.

Examples::

    perovscope bulk plqy --A1 A1.txt --B1 B1.txt --C1 C1.txt --B2 B2.txt --C2 C2.txt \\
        --calibration CF.txt --excitation 315:335 --emission 400:720
    perovscope bulk plqy PLQY_set1_*.txt --calibration PLQY_CF.txt
"""

from __future__ import annotations

HELP = "PLQY: de Mello integrating-sphere method (A/B/C spectra, spectral calibration), absorptance"
_ROLES = ("A1", "B1", "C1", "A2", "B2", "C2")


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="spectra whose names end in A1, B1, C1, (A2,) B2, C2 (instead of the options)")
    for role in _ROLES:
        parser.add_argument(f"--{role}", metavar="FILE", default=None,
                            help=f"{role} spectrum" + (" (optional)" if role == "A2" else ""))
    parser.add_argument("--calibration", metavar="FILE", default=None,
                        help="spectral calibration factor file")
    parser.add_argument("--excitation", default="315:335", metavar="LO:HI",
                        help="excitation (laser) window, nm (default 315:335)")
    parser.add_argument("--emission", default="400:720", metavar="LO:HI",
                        help="emission window, nm (default 400:720)")
    parser.add_argument("--no-photon-weighting", action="store_true",
                        help="do not multiply by λ (the calibration already gives photon counts)")


def _sets(args):
    """``{set_name: {role: path}}`` from the options or the file names."""
    import re
    from pathlib import Path

    from ...errors import InputError

    given = {r: getattr(args, r) for r in _ROLES if getattr(args, r)}
    if given and args.files:
        raise InputError("give the spectra either as --A1 ... --C2 or as FILE arguments, not both")
    if given:
        return {"set": given}
    sets: dict = {}
    for f in args.files:
        m = re.search(r"(?:^|[_\-\s.])([ABC][12])$", Path(f).stem, flags=re.I)
        if not m:
            raise InputError(f"{f}: the file name does not end in A1, B1, C1, A2, B2 or C2; "
                             "use --A1 ... --C2")
        prefix = Path(f).stem[:m.start(1)].rstrip("_-. ") or "set"
        sets.setdefault(prefix, {})[m.group(1).upper()] = f
    if not sets:
        raise InputError("no spectra given: pass --A1 --B1 --C1 --B2 --C2 (or files named *_A1.txt ...)")
    return sets


def analyse(args):
    from pathlib import Path

    import numpy as np
    import xarray as xr

    from ...bulk.plqy import parse_window, plqy_de_mello
    from ...errors import InputError
    from ...io.spectrum_text import read_spectrum_text
    from ._common import BulkOutcome

    ex = parse_window(args.excitation, name="--excitation")
    em = parse_window(args.emission, name="--emission")
    calibration = None
    notes = []
    if args.calibration:
        cal = read_spectrum_text(args.calibration, axis="wavelength", quantity="factor")
        calibration = (cal["wavelength"].values, cal.values)
    else:
        notes.append("no --calibration: the spectra were integrated as recorded (no spectral correction)")
    rows, spectra = [], {}
    for name, roles in _sets(args).items():
        missing = [r for r in ("A1", "B1", "C1", "B2", "C2") if r not in roles]
        if missing:
            raise InputError(f"set {name!r}: missing {', '.join(missing)} (need A1, B1, C1, B2 and C2)")
        das = {r: read_spectrum_text(p, axis="wavelength") for r, p in roles.items()}
        spectra.update({f"{name}/{r}": da for r, da in das.items()})
        res = plqy_de_mello(*(das[r].values for r in ("A1", "B1", "C1", "B2", "C2")),
                            wavelength_ex=tuple(das[r]["wavelength"].values for r in ("A1", "B1", "C1")),
                            wavelength_em=tuple(das[r]["wavelength"].values for r in ("B2", "C2")
                                                + (("A2",) if "A2" in das else ())),
                            excitation=ex, emission=em, a2=das["A2"].values if "A2" in das else None,
                            calibration=calibration, photon_weighting=not args.no_photon_weighting,
                            sources={r: Path(p).name for r, p in roles.items()})
        rows.append(dict(set=name, absorptance=float(res.absorptance),
                         absorptance_std=float(res.absorptance_std), plqy=float(res.plqy),
                         plqy_std=float(res.plqy_std), plqy_pct=100 * float(res.plqy),
                         L_A1=float(res.la), L_B1=float(res.lb), L_C1=float(res.lc), P_B2=float(res.pb),
                         P_C2=float(res.pc), P_A2=float(res.pa)))
        if not 0 < float(res.absorptance) < 1:
            notes.append(f"set {name!r}: absorptance {float(res.absorptance):.3f} lies outside 0–1; "
                         "check that B1 and C1 are not swapped")
    units = {"set": "", "absorptance": "1", "absorptance_std": "1", "plqy": "1", "plqy_std": "1",
             "plqy_pct": "%", "L_A1": "a.u.", "L_B1": "a.u.", "L_C1": "a.u.", "P_B2": "a.u.", "P_C2": "a.u.",
             "P_A2": "a.u."}
    table = xr.Dataset({k: ("row", np.array([r[k] for r in rows]), {"units": u}) for k, u in units.items()})
    summary = {k: ("set", table[k].values, {"units": u}) for k, u in units.items() if k != "set"}
    tree = {"/": xr.Dataset(summary, coords={"set": table["set"].values},
                            attrs={"technique": "plqy", "excitation_nm": list(ex), "emission_nm": list(em),
                                   "photon_weighting": int(not args.no_photon_weighting),
                                   "calibration": str(args.calibration or "")})}
    for key, da in spectra.items():
        tree[f"/spectra/{key.replace('/', '_')}"] = xr.Dataset(
            {"counts": xr.Variable("wavelength", da.values, attrs={"units": "counts"})},
            coords={"wavelength": ("wavelength", da["wavelength"].values, {"units": "nm"})},
            attrs={"role": key.split("/")[-1], "set": key.split("/")[0],
                   "source_file": da.attrs["source_file"]})
    if calibration is not None:
        tree["/calibration"] = xr.Dataset(
            {"factor": xr.Variable("wavelength", calibration[1], attrs={"units": "1"})},
            coords={"wavelength": ("wavelength", calibration[0], {"units": "nm"})})
    results = xr.DataTree.from_dict(tree)

    def figure():
        from ...report.bulk.plqy import plqy_figure

        return plqy_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
