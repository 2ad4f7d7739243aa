"""Colour of emission spectra: CIE 1931 XYZ and (x, y), CIE 1976 (u′, v′), dominant wavelength, purity.

Each FILE is a two-column emission spectrum (wavelength nm or photon energy eV — converted to a
per-nm spectrum with the Jacobian — against intensity). The colour-matching functions are the CIE
1931 2° observer. The dominant wavelength and the excitation purity are measured from the white point
``--white`` (E, the equal-energy point, by default; D65, C, D50 or x,y); a negative dominant
wavelength is the complementary one (colours on the purple side).

Examples::

    perovscope bulk colour green_film.txt red_film.txt
    perovscope bulk colour pl.txt --white D65 --window 450:650 --json
"""

from __future__ import annotations

HELP = "colour: CIE 1931 XYZ/xy, u′v′, dominant wavelength and colour purity of emission spectra"


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="two-column emission spectra (nm or eV)")
    parser.add_argument("--white", default="E", help="white point: E, D65, C, D50 or x,y (default E)")
    parser.add_argument("--window", default=None, metavar="LO:HI", help="wavelength range used, nm")
    parser.add_argument("--photons", action="store_true",
                        help="the spectra count photons (turned into power with 1/λ before the integrals)")
    parser.add_argument("--axis", choices=("wavelength", "energy"), default=None,
                        help="kind of the files' first column when the header does not say")


def analyse(args):
    import numpy as np
    import xarray as xr

    from ...bulk.colour import WHITE_POINTS, chromaticity_of, spectral_locus
    from ...bulk.pl import pl_peak
    from ...bulk.plqy import parse_window
    from ...errors import InputError
    from ._common import BulkOutcome
    from .pl import load_spectra

    lam, y, _, names, notes, _ = load_spectra(args.files, axis=args.axis, target="wavelength")
    white = args.white
    if "," in white:
        try:
            white = tuple(float(v) for v in white.split(","))
        except ValueError:
            raise InputError(f"--white {args.white!r}: give a name (E, D65, C, D50) or x,y") from None
    if args.window:
        lo, hi = parse_window(args.window, name="--window")
        sel = (lam >= lo) & (lam <= hi)
        if sel.sum() < 3:
            raise InputError(f"--window {args.window}: fewer than 3 channels inside "
                             f"{lam[0]:g}–{lam[-1]:g} nm")
        lam, y = lam[sel], y[:, sel]
    c = chromaticity_of(y, lam, white=white, quantity="photons" if args.photons else "power")
    peak = pl_peak(y, lam)
    cols = {"file": (np.array(names), ""), "x": (c.x, "1"), "y": (c.y, "1"), "u_prime": (c.u_prime, "1"),
            "v_prime": (c.v_prime, "1"), "dominant_wavelength": (c.dominant_wavelength, "nm"),
            "purity": (c.purity, "1"), "peak": (peak.position, "nm"), "fwhm": (peak.fwhm, "nm"),
            "X": (c.X, "1"), "Y": (c.Y, "1"), "Z": (c.Z, "1")}
    if np.any(c.complementary):
        notes.append("a negative dominant wavelength is the complementary wavelength (purple side)")
    table = xr.Dataset({k: ("row", np.asarray(v), {"units": u}) for k, (v, u) in cols.items()})
    loc_lam, loc_xy = spectral_locus()
    wxy = white if isinstance(white, tuple) else WHITE_POINTS[white]  # validated by chromaticity_of
    results = xr.Dataset({"spectrum": (("file", "wavelength"), y, {"units": "a.u."}),
                          "locus_x": ("locus_wavelength", loc_xy[:, 0], {"units": "1"}),
                          "locus_y": ("locus_wavelength", loc_xy[:, 1], {"units": "1"})},
                         coords={"file": names, "wavelength": ("wavelength", lam, {"units": "nm"}),
                                 "locus_wavelength": ("locus_wavelength", loc_lam, {"units": "nm"})},
                         attrs={"technique": "colour", "observer": "CIE 1931 2°", "white": str(args.white),
                                "white_x": float(wxy[0]), "white_y": float(wxy[1])})
    for k, (v, u) in cols.items():
        if k != "file":
            results[k] = xr.Variable("file", np.asarray(v), attrs={"units": u})

    def figure():
        from ...report.bulk.colour import colour_figure

        return colour_figure(results)

    return BulkOutcome(table=table, results=results, figure=figure, notes=notes)
