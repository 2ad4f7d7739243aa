"""``perovscope cl``, ``perovscope eels`` and ``perovscope edx``: spectrum-image maps to zarr + PNG.

Each command reads any spectrum image perovscope reads (``perovscope.io.read``; ``.zarr`` results
stores too), runs the labelled wrapper of :mod:`perovscope.spectroscopy.maps` with a progress bar,
writes the result Dataset at the root of a zarr store with :func:`perovscope.io.save` and a PNG
summary figure next to it (``OUT.png``, drawn by :mod:`perovscope.report`). The CL summary follows the
STEM-CL analysis of the CsPbI₃/ZIF-62 study (Nat. Commun. 2023) [1]_.

References
----------
.. [1] CsPbI₃/ZIF-62 glass composites: interfacial alloying during sintering, Nat. Commun. 14 (2023),
   doi:10.1038/s41467-023-43247-6.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from ._types import nonnegative_int, positive_float, positive_int

_KIND_DIMS = {"cl": ("wavelength", "energy"), "eels": ("energy",), "eds": ("energy",)}
_SPATIAL = ("y", "x", "scan_y", "scan_x")


#: A lazy spectrum image up to this size is read into memory once, before the content check, so the
#: check and the fit do not each decode the file (larger ones stay lazy and are streamed).
IN_MEMORY_BYTES = 512 * 2**20


def load_spectrum_image(path: str, kind: str):
    """The ``kind`` spectrum image (``cl``, ``eels`` or ``eds``) of a file as a DataArray.

    Picks the variable named like the kind (``eds``, ``eds_1``, ...) or whose ``attrs["signal"]`` is
    the kind, with a spectral dimension; the largest one when several qualify. Lazy (dask) unless it
    fits in :data:`IN_MEMORY_BYTES`, in which case it is read once into memory.
    """
    from ..io import find_signal, read
    from ..io.content import check_content

    da = find_signal(read(path), kinds=(kind,), any_dim=_KIND_DIMS[kind], source=str(path))
    if kind == "cl" and not any(d in da.dims for d in _SPATIAL):  # peak *maps*: EELS/EDX fit one spectrum too
        raise InputError(f"{path}: {da.name!r} is a single spectrum {tuple(da.dims)}; perovscope cl maps "
                         f"spectrum images (y, x, {da.dims[-1]}) or line scans (x, {da.dims[-1]})")
    if getattr(da.data, "dask", None) is not None and da.nbytes <= IN_MEMORY_BYTES:
        da = da.load()
    check_content(da, source=str(path))
    return da


def _out_path(args, suffix: str) -> Path:
    if args.out:
        if Path(args.out).suffix.lower() != ".zarr":
            raise InputError(f"--out {args.out}: the output must be a .zarr store "
                             f"(e.g. {Path(args.out).stem}.zarr)")
        return Path(args.out)
    return Path.cwd() / f"{Path(args.file).stem}_{suffix}.zarr"


def _finish(ds, args, suffix: str, figure) -> int:
    from ..io import save
    from ..progress import dask_progress

    with dask_progress(not args.quiet, label=f"perovscope {suffix}: fitting"):
        ds = ds.compute()
    out = save(ds, _out_path(args, suffix))
    if "flag" in ds:
        import numpy as np

        flags = np.asarray(ds["flag"].values)
        n_bad = int(np.sum(flags == 3))
        n_fail = int(np.sum(flags == 2))
        n_none = int(np.sum(flags == 4))
        print(f"{out}: {flags.size} pixels, {n_bad} masked (NaN/zero/negative), {n_fail} failed fits"
              + (f", {n_none} without a peak" if n_none else ""), file=sys.stderr)
    if not args.no_figure:
        figure(ds, out.with_suffix(".png"))
    print(out)
    return 0


def _save_png(fig, png) -> None:
    from ..report import save_figure

    save_figure(fig, png, formats=("png",), dpi=90)


def _figure_maps(ds, names, png, title):
    from ..report import spectrum_maps_figure

    _save_png(spectrum_maps_figure(ds, names, title=title), png)


def _figure_cl(ds, png, title):
    """Maps of centre/σ/intensity over histograms and 2-D correlation histograms (Nat. Commun. 2023)."""
    from ..report import cl_maps_figure

    _save_png(cl_maps_figure(ds, title=title), png)


def _cl(args) -> int:
    from ..spectroscopy._common import window_slice
    from ..spectroscopy.maps import cl_peak_map

    da = load_spectrum_image(args.file, "cl")
    if args.window is not None:
        spec = "wavelength" if "wavelength" in da.dims else "energy"
        window_slice(da[spec].values, args.window, name="--window")
    ds = cl_peak_map(da, n_components=args.components, window=args.window, poisson=args.poisson)
    def figure(res, png):
        if args.components == 1:
            _figure_cl(res, png, f"CL Gaussian fit: {Path(args.file).name}")

    return _finish(ds, args, "cl", figure)


def _eels(args) -> int:
    from ..spectroscopy._common import window_slice
    from ..spectroscopy.maps import eels_background_map

    da = load_spectrum_image(args.file, "eels")
    window_slice(da["energy"].values, args.background_window, name="--background-window")
    ds = eels_background_map(da, window=args.background_window, poisson=args.poisson)
    if args.edges:
        from ..spectroscopy.maps import eels_edge_map

        ds["edge_signal"] = eels_edge_map(da, edges=args.edges, background_window=args.background_window,
                                          width=args.edge_width, poisson=args.poisson)

    def figure(res, png):
        from ..report import eels_spectrum_figure

        _save_png(eels_spectrum_figure(da, res["background_subtracted"], window=args.background_window), png)

    return _finish(ds, args, "eels", figure)


def _k_factors(items):
    out = {}
    for item in items or []:
        el, _, val = item.partition("=")
        try:
            out[el] = float(val)
        except ValueError:
            raise InputError(f"--k-factor {item!r}: use ELEMENT=VALUE, e.g. Cl=1.08") from None
    return out


def _edx(args) -> int:
    from ..spectroscopy.maps import edx_quantify_map

    da = load_spectrum_image(args.file, "eds")
    elements = args.elements or da.attrs.get("elements")
    if not elements:
        raise InputError(f"{args.file}: the file lists no elements; pass --elements, e.g. "
                         "--elements Cs Pb Br Cl")
    if isinstance(elements, str):
        elements = elements.replace(",", " ").split()
    if args.bin > 1:
        dims = {d: args.bin for d in ("y", "x", "scan_y", "scan_x") if d in da.dims}
        da = da.coarsen(dims, boundary="trim").sum().assign_attrs(da.attrs)
    if args.pca:
        # one decomposition per time frame (the chemistry changes between frames); channel-only
        # Poisson scaling (the best on layered cross-sections, docs/spectroscopy.md)
        import numpy as np

        from ..spectroscopy.decomposition import denoise_pca

        vals = np.asarray(da.values)
        k = min(vals.ndim, 3)
        flat = vals.reshape((-1,) + vals.shape[vals.ndim - k:])
        den = np.stack([denoise_pca(f, n_components=args.pca, pixel_normalise=False) for f in flat])
        da = da.copy(data=den.reshape(vals.shape))
    ds = edx_quantify_map(da, list(elements), beam_energy_keV=args.beam_energy_keV,
                          k_factors=_k_factors(args.k_factor), fwhm_mn_ka=args.fwhm,
                          background=args.background)

    def figure(res, png):
        ap = res["atomic_percent"]
        extra = [d for d in ap.dims if d not in ("y", "x", "scan_y", "scan_x", "element")]
        ap = ap.mean(extra) if extra else ap  # e.g. the mean over time frames
        sub = res.copy()
        names = []
        for el in ap.element.values[:6]:
            sub[f"{el} at.%"] = ap.sel(element=el).assign_attrs(units="at.%")
            names.append(f"{el} at.%")
        if ap.ndim == 3:
            _figure_maps(sub, names, png, f"EDX Cliff–Lorimer: {Path(args.file).name}")

    return _finish(ds, args, "edx", figure)


def _common(p):
    p.add_argument("file", help="spectrum image (dm3/dm4, bcf, emd, msa, hspy, ... or .zarr)")
    p.add_argument("--out", help="output zarr store (default: ./<FILE stem>_<command>.zarr)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--no-figure", action="store_true", help="do not write the PNG summary")
    p.add_argument("--poisson", action="store_true",
                   help="Poisson maximum-likelihood / weighted fit (raw counts)")


def register(subparsers) -> None:
    """Add ``cl``, ``eels`` and ``edx`` to ``subparsers``."""
    p = subparsers.add_parser("cl", help="CL/PL Gaussian peak maps (centre, sigma, fwhm, ...)",
                              description="Fit a Gaussian (+ offset) to every spectrum of a CL/PL "
                              "spectrum image; maps in the file's spectral unit.")
    _common(p)
    p.add_argument("--window", nargs=2, type=float, metavar=("LO", "HI"),
                   help="fit only this spectral range (file units)")
    p.add_argument("--components", type=int, choices=(1, 2), default=1)
    p.set_defaults(func=_cl)

    p = subparsers.add_parser("eels", help="EELS power-law background removal",
                              description="Fit A*E^-r in a window before an edge for every pixel, "
                              "subtract, crop from the window start.")
    _common(p)
    p.add_argument("--background-window", nargs=2, type=float, required=True,
                   metavar=("START", "END"), help="power-law fit window in eV, e.g. 580 620")
    p.add_argument("--edges", nargs="+", metavar="EDGE",
                   help="also integrate these edges above background, e.g. I_M45 Cs_M45")
    p.add_argument("--edge-width", type=positive_float, default=50.0,
                   help="integration width above each edge onset, eV (default 50)")
    p.set_defaults(func=_eels)

    p = subparsers.add_parser("edx", help="EDX line fitting and Cliff-Lorimer quantification",
                              description="Fit line families + bremsstrahlung to every pixel; "
                              "net counts and atomic percent per element.")
    _common(p)
    p.add_argument("--elements", nargs="+", help="element symbols (default: from the file)")
    p.add_argument("--beam-energy-keV", type=positive_float, default=None,
                   help="accelerating voltage (default: from the file; required when the file has none)")
    p.add_argument("--k-factor", action="append", metavar="EL=K",
                   help="Cliff-Lorimer k-factor override, repeatable (e.g. --k-factor Cl=1.1)")
    p.add_argument("--fwhm", type=positive_float, default=130.0, help="detector FWHM at Mn Ka (eV)")
    p.add_argument("--background", choices=("kramers", "polynomial"), default="kramers")
    p.add_argument("--bin", type=positive_int, default=1, help="sum NxN pixels before fitting")
    p.add_argument("--pca", type=nonnegative_int, default=0, metavar="N",
                   help="denoise with N PCA components (Poisson channel scaling, one "
                        "decomposition per time frame) before fitting")
    p.set_defaults(func=_edx)


