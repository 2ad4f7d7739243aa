"""UV-Vis absorption: edge λg and Eg = 1240/λg, Tauc band gap with its automatic window, Urbach tail.

Each FILE is a two-column text spectrum (wavelength in nm or photon energy in eV against absorbance,
%T, %R or α; the kind of values is read from the header, or given with ``--quantity``).
Transmittance becomes absorbance (−log₁₀ T), diffuse reflectance the Kubelka–Munk function. The
table lists the absorption edge λg (where the straight part of the edge meets zero absorbance, or
``--edge-baseline min``) with Eg = 1239.84/λg, the Tauc gap for ``--transition`` with the fitted
window, its points and R², and the Urbach energy of the sub-gap tail with its range.

Examples::

    perovscope bulk uvvis film.txt
    perovscope bulk uvvis powder_R.txt --quantity reflectance --transition indirect
    perovscope bulk uvvis film.txt --tauc-window 2.9:3.1 --json
"""

from __future__ import annotations

HELP = "UV-Vis: absorption edge λg and Eg = 1240/λg, Tauc gap (direct/indirect) with its window, Urbach tail"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="two-column absorption spectra (nm or eV)")
    parser.add_argument("--transition", default="direct",
                        choices=("direct", "indirect", "direct-forbidden", "indirect-forbidden"),
                        help="Tauc exponent: (αhν)^2, ^(1/2), ^(2/3), ^(1/3) (default direct)")
    parser.add_argument("--quantity", choices=("absorbance", "transmittance", "reflectance",
                                               "absorption_coefficient"), default=None,
                        help="what the values are (default: from the header, else absorbance)")
    parser.add_argument("--thickness-cm", type=float, default=None,
                        help="film thickness: α = ln10·A/d in 1/cm")
    parser.add_argument("--tauc-window", default=None, metavar="LO:HI",
                        help="Tauc fit range in eV (default automatic)")
    parser.add_argument("--search", default=None, metavar="LO:HI",
                        help="energy range (eV) searched for the steepest rise (default: the 10–90 %% rise)")
    parser.add_argument("--slope-fraction", type=float, default=0.8,
                        help="window: channels whose local Tauc slope is ≥ this × the steepest (0.8)")
    parser.add_argument("--edge-baseline", default="zero",
                        help="λg baseline: zero, min or a number (default zero)")
    parser.add_argument("--urbach-window", default=None, metavar="LO:HI", help="Urbach fit range in eV")
    parser.add_argument("--axis", choices=("wavelength", "energy"), default=None,
                        help="kind of the files' first column when the header does not say")


def analyse(args):
    import numpy as np
    import xarray as xr

    from ...bulk._checks import PHOTON_EV_NM
    from ...bulk.plqy import parse_window
    from ...bulk.urbach import urbach_energy
    from ...bulk.uvvis import absorbance_from, absorption_edge, tauc_fit
    from ...errors import InputError
    from ._common import BulkOutcome
    from .pl import load_spectra

    lam, raw, _, names, notes, arrays = load_spectra(args.files, axis=args.axis, target="wavelength",
                                                     jacobian=False)
    kinds = {a.attrs.get("quantity", "absorbance") for a in arrays}
    if args.quantity is None and len(kinds) > 1:
        raise InputError(f"the files hold different quantities ({', '.join(sorted(kinds))}); analyse them "
                         "separately or set --quantity")
    quantity = args.quantity or kinds.pop()
    if quantity not in ("absorbance", "transmittance", "reflectance", "absorption_coefficient"):
        notes.append(f"the values ({quantity}) were taken as absorbance; set --quantity otherwise")
        quantity = "absorbance"
    a = absorbance_from(raw, quantity, thickness_cm=args.thickness_cm)
    a_units = "1/cm" if (args.thickness_cm or quantity == "absorption_coefficient") else "1"
    try:
        baseline = float(args.edge_baseline)
    except ValueError:
        baseline = args.edge_baseline
    edge = absorption_edge(a, lam, baseline=baseline)
    energy = PHOTON_EV_NM / lam[::-1]
    a_e = a[:, ::-1]
    tw = parse_window(args.tauc_window, name="--tauc-window") if args.tauc_window else None
    sw = parse_window(args.search, name="--search") if args.search else None
    tauc = tauc_fit(a_e, energy, transition=args.transition, window=tw, search=sw,
                    slope_fraction=args.slope_fraction)
    uw = parse_window(args.urbach_window, name="--urbach-window") if args.urbach_window else None
    # the automatic range skips non-positive channels; a given range must hold positive values only
    urb = urbach_energy(np.where(a_e > 0, a_e, 0.0) if uw is None else a_e, energy, kind="absorption",
                        window=uw)
    for name, ok in zip(names, np.atleast_1d(urb.found), strict=True):
        if not ok:
            notes.append(f"{name}: no straight sub-gap tail found for the Urbach energy "
                         "(give --urbach-window)")
    cols = {"file": (np.array(names), ""), "lambda_g": (edge.lambda_g, "nm"),
            "lambda_g_std": (edge.lambda_g_std, "nm"), "eg_edge": (edge.eg, "eV"), "eg_tauc": (tauc.eg, "eV"),
            "eg_tauc_std": (tauc.eg_std, "eV"),
            "tauc_lo": (tauc.e_lo, "eV"), "tauc_hi": (tauc.e_hi, "eV"), "tauc_points": (tauc.n_points, "1"),
            "tauc_r2": (tauc.r2, "1"), "urbach_meV": (1e3 * urb.energy, "meV"),
            "urbach_std_meV": (1e3 * urb.energy_std, "meV"), "urbach_lo": (urb.e_lo, "eV"),
            "urbach_hi": (urb.e_hi, "eV")}
    table = xr.Dataset({k: ("row", np.asarray(v), {"units": u}) for k, (v, u) in cols.items()})
    if tw is None:
        notes.append(f"Tauc window chosen automatically ({args.transition}): local slope ≥ "
                     f"{args.slope_fraction:g} × the steepest, around the steepest point of the rise")
    tauc_y = (np.maximum(a_e, 0.0) * energy) ** tauc.exponent
    results = xr.Dataset(
        {"absorbance": (("file", "wavelength"), a, {"units": a_units, "quantity": quantity}),
         "tauc_ordinate": (("file", "energy"), tauc_y, {"units": f"(eV·{a_units})^{tauc.exponent:g}"}),
         "edge_slope": ("file", edge.slope, {"units": f"{a_units}/nm"}),
         "edge_intercept": ("file", edge.intercept, {"units": a_units}),
         "edge_baseline": ("file", edge.baseline, {"units": a_units}),
         "edge_lo": ("file", edge.lambda_lo, {"units": "nm"}),
         "edge_hi": ("file", edge.lambda_hi, {"units": "nm"}),
         "tauc_slope": ("file", tauc.slope, {"units": "1/eV"}), "tauc_intercept": ("file", tauc.intercept,
                                                                                    {"units": "1"}),
         "urbach_slope": ("file", urb.slope, {"units": "1/eV"}),
         "urbach_intercept": ("file", urb.intercept, {"units": "1"})},
        coords={"file": names, "wavelength": ("wavelength", lam, {"units": "nm"}),
                "energy": ("energy", energy, {"units": "eV"})},
        attrs={"technique": "uvvis", "transition": args.transition, "exponent": tauc.exponent,
               "slope_fraction": args.slope_fraction, "tauc_window": "automatic" if tw is None else "given"})
    for k, (v, u) in cols.items():
        if k != "file":
            results[k] = xr.Variable("file", np.asarray(v), attrs={"units": u})

    def figure():
        from ...report.bulk.uvvis import uvvis_figure

        return uvvis_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
