"""``perovscope strain`` and ``perovscope virtual``: 4D-STEM strain maps and virtual images.

Both read any 4D-STEM file perovscope reads (Merlin mib, blockfile, hspy/zspy, EMD, ... or a ``.zarr``
store written by :func:`perovscope.io.save`) lazily, work chunk by chunk over scan positions and write
an atomic zarr store whose root holds the maps over the scan grid (x = last axis of scan and detector).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import FormatError, InputError
from ._types import nonnegative_float, positive_float

#: Bytes of detector data per dask chunk of scan positions.
CHUNK_BYTES = 64 * 2**20


def register(subparsers) -> None:
    """Add ``strain`` and ``virtual`` to ``subparsers``."""
    p = subparsers.add_parser(
        "strain", help="strain, rotation, phase and crystallinity maps from 4D-STEM",
        description="Bragg-disk strain mapping: writes exx, eyy, exy, theta (deg) and exx_std, eyy_std, "
                    "exy_std, theta_std over the scan grid, plus reason codes, phase labels and "
                    "crystallinity, to a zarr store.")
    p.add_argument("file", help="4D-STEM file (mib, blo, hspy, zspy, emd, ... or a perovscope .zarr)")
    p.add_argument("--reference", default="auto",
                   help="'auto' (least-strained crystalline area, default), a .npy boolean mask over "
                        "(scan_y, scan_x), or a box 'Y0:Y1,X0:X1' of scan indices")
    p.add_argument("--out", help="output .zarr (default: FILE stem + '_strain.zarr')")
    p.add_argument("--probe", help=".npy vacuum-probe image (default: from the convergence angle or "
                                   "the mean pattern)")
    p.add_argument("--probe-radius", type=positive_float, metavar="PX",
                   help="direct-beam disk radius in detector pixels, set by hand (default: measured from "
                        "the mean pattern; the convergence-angle metadata are only a cross-check)")
    p.add_argument("--pixel-size", type=positive_float,
                   help="detector pixel size in 1/nm (overrides metadata)")
    p.add_argument("--node", help="tree node holding the 4D-STEM signal (default: the first 4dstem node)")
    p.add_argument("--no-phases", action="store_true", help="skip phase identification")
    p.add_argument("--phase-cif", action="append", default=[], metavar="CIF",
                   help="add the crystal phase of a CIF file to the library (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_strain)

    v = subparsers.add_parser(
        "virtual", help="virtual bright-field / annular dark-field images and centre of mass",
        description="Virtual detectors over 4D-STEM data in one pass; radii in the units of the "
                    "detector coordinates (px when uncalibrated).")
    v.add_argument("file", help="4D-STEM file")
    v.add_argument("--bf", type=positive_float, metavar="R", help="bright-field disk radius")
    v.add_argument("--adf", type=nonnegative_float, nargs=2, metavar=("RIN", "ROUT"), help="annulus radii")
    v.add_argument("--com", action="store_true", help="also write centre-of-mass maps")
    v.add_argument("--centre", type=float, nargs=2, metavar=("ROW", "COL"),
                   help="detector pixel of the optical axis (default: bright-field disk centroid)")
    v.add_argument("--out", help="output .zarr (default: FILE stem + '_virtual.zarr')")
    v.add_argument("--node", help="tree node holding the 4D-STEM signal")
    v.add_argument("--quiet", action="store_true", help="no progress bars")
    v.set_defaults(func=run_virtual)


def _load(path: str, node: str | None):
    """The 4D-STEM DataArray of ``path``, dask-chunked over scan positions."""
    from ..io import find_signal, read
    from ..io.content import check_content

    da = find_signal(read(path), name=node, kinds=("4dstem",), dims_end=("ky", "kx"), min_ndim=3,
                     source=str(path), option="--node")
    if da.ndim < 3 or da.dims[-2:] != ("ky", "kx"):
        raise FormatError(f"{path}: {da.name!r} is not a 4D-STEM signal with detector dims (ky, kx)")
    check_content(da, source=str(path))
    per = da.shape[-1] * da.shape[-2] * da.dtype.itemsize
    n = max(1, CHUNK_BYTES // per)
    nav = da.dims[:-2]
    last = da.sizes[nav[-1]]
    chunks = {d: 1 for d in nav[:-2]} if len(nav) > 2 else {}
    if len(nav) >= 2:
        rows = max(1, n // last)
        stored = da.chunksizes.get(nav[-2]) if da.chunks is not None else None
        if stored and len(set(stored[:-1])) <= 1 and max(stored) <= rows:
            rows = rows // stored[0] * stored[0]  # whole stored chunks: each is decoded once per pass
        chunks[nav[-2]] = rows
    chunks[nav[-1]] = min(last, n)
    return da.chunk({**chunks, "ky": -1, "kx": -1})


def _phases(args):
    """``--no-phases`` / ``--phase-cif``: False, True (the library) or the library plus CIF phases."""
    if args.no_phases:
        return False
    if not args.phase_cif:
        return True
    from ..diffraction import PHASE_LIBRARY, phase_from_cif

    return [*PHASE_LIBRARY.values(), *(phase_from_cif(p) for p in args.phase_cif)]


def _reference(spec: str, shape):
    import numpy as np

    if spec == "auto":
        return "auto"
    if spec.endswith(".npy"):
        p = Path(spec)
        if not p.is_file():
            raise InputError(f"--reference: {spec}: no such file")
        m = np.load(p, allow_pickle=False).astype(bool)
        if m.shape != tuple(shape):
            raise InputError(f"--reference: mask shape {m.shape} differs from the scan {tuple(shape)}")
        return m
    try:
        ys, xs = spec.split(",")
        (y0, y1), (x0, x1) = (tuple(int(v) for v in s.split(":")) for s in (ys, xs))
    except ValueError as exc:
        raise InputError(f"--reference: expected 'auto', a .npy mask or 'Y0:Y1,X0:X1', got {spec!r}") from exc
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    if not m.any():
        raise InputError(f"--reference: box {spec!r} selects no scan position of {tuple(shape)}")
    return m


def _out(args, suffix):
    return Path(args.out) if args.out else Path(args.file).with_name(Path(args.file).stem + suffix)


def run_strain(args) -> int:
    import numpy as np

    from ..diffraction.analysis import strain_map
    from ..diffraction.calibration import calibration_from_coords
    from ..io import save
    from ..progress import dask_progress

    da = _load(args.file, args.node)
    scan_shape = tuple(da.shape[-4:-2]) if da.ndim >= 4 else tuple(da.shape[:-2])
    ref = _reference(args.reference, scan_shape)
    cal = calibration_from_coords(da)
    if args.pixel_size is not None:
        cal = cal.with_(pixel_size_inv_nm=args.pixel_size)
    probe = None
    if args.probe:
        if not Path(args.probe).is_file():
            raise InputError(f"--probe: {args.probe}: no such file")
        probe = np.load(args.probe, allow_pickle=False)
    with dask_progress(not args.quiet, label=f"strain: finding Bragg disks in {args.file}"):
        options = {} if args.probe_radius is None else {"probe_radius_px": args.probe_radius}
        ds = strain_map(da, probe=probe, calibration=cal, reference=ref, phases=_phases(args), **options)
    ds.attrs["source_file"] = str(args.file)
    out = save(ds, _out(args, "_strain.zarr"))
    ok = ds["reason"].values == 0
    n = int(ok.sum())
    msg = f"strain: {n}/{ok.size} patterns fitted{_radius_note(ds.attrs)}"
    if n:
        msg += (f"; median |exx| {np.nanmedian(np.abs(ds['exx'].values)):.2e}, median exx_std "
                f"{np.nanmedian(ds['exx_std'].values):.2e}")
    print(f"{msg}; wrote {out}", file=sys.stderr if args.quiet else sys.stdout)
    return 0


def _radius_note(attrs) -> str:
    """``; probe radius 4.02 px (measured)`` — where the disk radius came from."""
    radius, source = attrs.get("probe_radius_px"), attrs.get("probe_radius_source")
    if radius is None:
        return ""
    words = {"data": "measured", "user": "set by hand", "template given": "from the given probe"}
    return f"; probe radius {float(radius):.2f} px ({words.get(str(source), str(source))})"


def run_virtual(args) -> int:
    import numpy as np

    from ..diffraction.virtual import beam_centre, center_of_mass_map, virtual_image_map
    from ..io import save
    from ..progress import dask_progress

    if args.bf is None and args.adf is None and not args.com:
        raise InputError("virtual: give --bf R and/or --adf RIN ROUT (and optionally --com)")
    da = _load(args.file, args.node)
    masks = {}
    if args.bf is not None:
        masks["bf"] = args.bf
    if args.adf is not None:
        if args.adf[0] >= args.adf[1]:
            raise InputError(f"--adf {args.adf[0]:g} {args.adf[1]:g}: the inner radius must be smaller than "
                             "the outer one")
        masks["adf"] = tuple(args.adf)
    with dask_progress(not args.quiet, label=f"virtual: {args.file}"):
        inside = [0 <= c <= n - 1 for c, n in zip(args.centre or (), da.shape[-2:], strict=False)]
        if args.centre and not all(inside):
            raise InputError(f"--centre {args.centre[0]:g} {args.centre[1]:g}: outside the detector "
                             f"({da.shape[-2]} x {da.shape[-1]} px)")
        centre = tuple(args.centre) if args.centre else beam_centre(
            np.asarray(da.mean(da.dims[:-2]).compute().values))
        ds = virtual_image_map(da, masks, centre=centre) if masks else None
        if args.com:
            com = center_of_mass_map(da, origin=centre)
            ds = com if ds is None else ds.merge(com)
        ds = ds.compute()
    ds.attrs.update(source_file=str(args.file), centre_px=[float(c) for c in centre])
    out = save(ds, _out(args, "_virtual.zarr"))
    parts = [f"{k}: mean {float(ds[k].mean()):.4g}" for k in masks]
    print(f"virtual: centre ({centre[0]:.1f}, {centre[1]:.1f}) px; {'; '.join(parts)}; wrote {out}")
    return 0
