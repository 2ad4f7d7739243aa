"""``perovscope particles | register | profile``: imaging and interface analyses from the command line.

* ``particles FILE [--out OUT.csv|OUT.zarr]``: bright-particle segmentation; one row per particle with
  ``diameter_nm``, ``centroid_y``, ``centroid_x`` (nm), ``area_nm2``; prints the mean ± sd diameter.
* ``register FILE [FILE ...] [--out OUT.zarr]``: rigid drift of a time series (one file with a time
  axis, or several single images); per-frame ``shift_y``, ``shift_x`` (px, relative to the first frame)
  and the aligned stack.
* ``profile MAP_FILE --interface layers|particles [--out OUT.csv|OUT.zarr]``: interface-resolved
  profile of a map (mean, sd, count per distance bin) with an error-function fit, plus a PNG plot.

Input files are instrument files read by :func:`perovscope.io.read` or perovscope ``.zarr`` results.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ..errors import FitError, InputError
from ._types import int_at_least, nonnegative_float, nonnegative_int, positive_float, positive_int

#: Signal kinds tried, in order, when a file holds several signals and --signal is not given.
IMAGE_KINDS = ("haadf", "adf", "image", "tem", "bf", "sem", "bse")


def _open(path: str):
    from ..io import read

    return read(path)


def _select(obj, name: str | None, path: str, *, option: str = "--signal"):
    from ..io import find_signal
    from ..io.content import check_content

    da = find_signal(obj, name=name, kinds=IMAGE_KINDS, dims_end=("y", "x"), source=str(path),
                     option=option)
    check_content(da, source=str(path))
    return da


def _write_table(df, out: Path, *, name: str) -> None:
    import xarray as xr

    from ..io import save
    from ..tabular import csv_text, write_text_atomic

    out = Path(out)
    if out.suffix.lower() == ".csv":
        write_text_atomic(out, csv_text(df, index=False))
    elif out.suffix.lower() == ".zarr":
        save(xr.Dataset.from_dataframe(df.reset_index(drop=True).rename_axis(name)), out)
    else:
        raise InputError(f"--out {out}: use a .csv or .zarr path")


# ---------------------------------------------------------------------------------------- particles
def _particles(args) -> int:
    import numpy as np
    import xarray as xr

    from ..imaging import particles_per_frame, size_distribution
    from ..imaging.labelled import _nm, _origin_nm, with_pixel_size
    from ..progress import dask_progress

    img = with_pixel_size(_select(_open(args.file), args.signal, args.file), args.pixel_size)
    if img.ndim == 2:
        img = img.expand_dims("time")
    if img.dims[-2:] != ("y", "x") or img.ndim != 3:
        raise InputError(f"{args.file}: expected an image (time?, y, x), got dims {img.dims}")
    px, origin = _nm(img.isel(time=0)), _origin_nm(img)
    threshold = args.threshold
    try:
        threshold = float(threshold)
    except ValueError:
        pass
    kw = dict(smooth_px=args.smooth, threshold=threshold, min_diameter_nm=args.min_diameter,
              split_touching=not args.no_split, exclude_border=args.exclude_border,
              poisson=args.poisson)
    with dask_progress(not args.quiet, label="particles: segmenting"):
        labels, table = particles_per_frame(np.asarray(img.values), pixel_size_nm=px, origin_nm=origin,
                                            moment_shape=args.moments, **kw)
    unit = "nm"
    if img.sizes["time"] == 1:
        table = table.drop(columns="frame")
    dist = size_distribution(table["diameter_nm"])
    if args.out:
        if Path(args.out).suffix.lower() == ".zarr":
            from ..io import save

            ds = xr.Dataset.from_dataframe(table.rename_axis("particle"))
            lab = xr.DataArray(labels if "frame" in table else labels[0],
                               dims=img.dims if "frame" in table else ("y", "x"))
            ds["particle_label"] = lab.assign_coords({d: img[d] for d in ("y", "x") if d in img.coords})
            ds.attrs.update(source_file=str(args.file), pixel_size_nm=px,
                            diameter_mean_nm=dist.mean, diameter_sd_nm=dist.sd)
            save(ds, args.out)
        else:
            _write_table(table, Path(args.out), name="particle")
    print(f"{args.file}: {dist.n} particles; diameter {dist.mean:.4g} ± {dist.sd:.4g} {unit} "
          f"(mean ± sd; median {dist.median:.4g}, log-normal sigma {dist.lognormal_sigma:.3g})")
    if args.moments:
        dm = size_distribution(table["diameter_moment_nm"])
        print(f"  {args.moments} second-moment diameter {dm.mean:.4g} ± {dm.sd:.4g} {unit}")
    if not args.out:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    return 0


# ---------------------------------------------------------------------------------------- register
def _register(args) -> int:
    from ..imaging import drift_correct, stack_frames
    from ..progress import dask_progress

    if len(args.files) == 1:
        series = _select(_open(args.files[0]), args.signal, args.files[0])
        if "time" not in series.dims:
            raise InputError(f"{args.files[0]}: a single image has no drift; give a time series or "
                             "several files")
    else:
        frames = []
        for f in args.files:
            im = _select(_open(f), args.signal, f)
            if im.ndim != 2:
                raise InputError(f"{f}: expected a single image (y, x) per file, got dims {im.dims}")
            frames.append(im.assign_attrs(source_file=str(f)))
        series = stack_frames(frames)
    with dask_progress(not args.quiet, label="register: drift"):
        # device cross-sections at low dose: structure mostly along the layers, content changing
        extra = dict(window="periodic", refine_overlap=True, reference="all", weight_rows=True,
                     smooth_sigma=max(args.smooth, 1.0)) if args.cross_section else {}
        ds = drift_correct(series, **{"reference": args.reference, "upsample": args.upsample,
                                      "smooth_sigma": args.smooth, **extra})
        if args.out:
            from ..io import save

            out = Path(args.out)
            if out.suffix.lower() == ".csv":
                _write_table(ds[["shift_y", "shift_x", "peak"]].to_dataframe().reset_index(), out,
                             name="frame")
            else:
                ds.attrs["source_files"] = [str(f) for f in args.files]
                save(ds, out)
    print("frame,shift_y,shift_x,peak")
    for i, (sy, sx, pk) in enumerate(zip(ds["shift_y"].values, ds["shift_x"].values, ds["peak"].values,
                                         strict=True)):
        print(f"{i},{sy:.3f},{sx:.3f},{pk:.3f}")
    return 0


# ---------------------------------------------------------------------------------------- profile
def _lines(prof):
    """(index, label suffix, mean, sd) for every 1-D profile in a (..., distance) profile Dataset."""
    import numpy as np

    mean, sd = prof["mean"].values, prof["sd"].values
    lead = prof["mean"].dims[:-1]
    for idx in np.ndindex(mean.shape[:-1]):
        suffix = ", ".join(f"{d} {prof[d].values[i] if d in prof.coords else i}" for d, i in zip(lead, idx,
                                                                                                strict=True))
        yield idx, suffix, mean[idx], sd[idx]


def _plot(profiles, fits, path: Path, label: str) -> None:
    from ..report import profile_lines_figure, save_figure

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    save_figure(profile_lines_figure(profiles, fits=fits, ylabel=label), path, formats=(fmt,), dpi=120)


def _profile(args) -> int:
    import numpy as np
    import pandas as pd
    import xarray as xr

    from ..imaging.labelled import with_pixel_size
    from ..interfaces import (
        edge_distance,
        interdiffusion_width,
        layer_distance,
        profile_across,
        segment_layers,
    )

    obj = _open(args.map_file)
    values = with_pixel_size(_select(obj, args.map, args.map_file, option="--map"), args.pixel_size)
    if values.dims[-2:] != ("y", "x"):
        raise InputError(f"{args.map_file}: the map must end with dims (y, x), got {values.dims}")
    profiles, fits = {}, {}
    lo, hi = (args.range if args.range else (None, None))
    if args.interface == "layers":
        feats = [with_pixel_size(_select(obj, n, args.map_file), args.pixel_size)
                 for n in args.features.split(",")] if args.features \
            else [values]
        layers = segment_layers(feats, n_layers=args.n_layers)
        indices = range(layers.sizes["interface"]) if args.index is None else [args.index]
        for k in indices:
            dist = layer_distance(layers, interface=k)
            profiles[k] = profile_across(values, dist, bin_width=args.bin, d_min=lo, d_max=hi)
    elif args.interface == "particles":
        from ..imaging import find_particles

        seg = with_pixel_size(_select(obj, args.segment_from, args.map_file), args.pixel_size) \
            if args.segment_from else values
        if seg.ndim != 2:
            raise InputError("--interface particles needs a single (y, x) image to segment")
        labels, _ = find_particles(seg, min_diameter_nm=args.min_diameter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            dist = edge_distance(labels)
        if not np.isfinite(dist.values).any():
            warnings.warn("profile: no particle edge found; the profile is empty", UserWarning, stacklevel=1)
        profiles[0] = profile_across(values, dist, bin_width=args.bin, d_min=lo, d_max=hi)
    else:
        raise InputError(f"--interface must be 'layers' or 'particles', got {args.interface!r}")
    rows = []
    for key, prof in profiles.items():
        df = prof.to_dataframe().reset_index()
        df.insert(0, "interface", key)
        rows.append(df)
        for idx, suffix, m, s in _lines(prof):
            one = xr.Dataset({"mean": ("distance", m), "sem": ("distance", s / np.sqrt(
                np.maximum(prof["count"].values[idx], 1)))}, coords={"distance": prof["distance"].values})
            try:
                fits[(key, idx)] = dict(interdiffusion_width(one), label=suffix)
            except (FitError, InputError):
                fits[(key, idx)] = dict(label=suffix)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["interface", "distance", "mean", "sd", "count", "sem"])
    if not profiles:
        print(f"{args.map_file}: no detectable interface; empty profile", file=sys.stderr)
    for (key, _), fit in fits.items():
        where = f"interface {key}" + (f" ({fit['label']})" if fit["label"] else "")
        if "width" not in fit:
            print(f"{where}: error-function fit failed")
        else:
            print(f"{where}: centre {fit['centre']:.3f} ± {fit['centre_err']:.3f} nm, "
                  f"interdiffusion width (sigma) {fit['width']:.3f} ± {fit['width_err']:.3f} nm")
    plot = Path(args.plot) if args.plot else (Path(args.out).with_suffix(".png") if args.out else None)
    if args.out:
        _write_table(table, Path(args.out), name="row")
    else:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    if plot is not None and profiles:
        _plot(profiles, {k: v for k, v in fits.items() if "width" in v}, plot,
              f"{values.name or 'map'} ({values.attrs.get('units', '')})")
    return 0


# ---------------------------------------------------------------------------------------- register
def register(subparsers) -> None:
    """Add ``particles``, ``register`` and ``profile`` to ``subparsers``."""
    p = subparsers.add_parser("particles", help="segment bright particles; sizes in nm",
                              description="Segment bright (high-Z) particles (threshold + watershed) and "
                                          "write one row per particle (diameter_nm, centroid_y, "
                                          "centroid_x, area_nm2, ...); prints mean ± sd diameter.")
    p.add_argument("file", help="image file (instrument file or perovscope .zarr)")
    p.add_argument("--out", help="OUT.csv or OUT.zarr (default: table on stdout)")
    p.add_argument("--signal", help="which signal/variable of the file to use")
    p.add_argument("--pixel-size", type=positive_float, metavar="NM",
                   help="pixel size in nm (replaces the file's calibration; needed for uncalibrated images)")
    p.add_argument("--threshold", default="otsu",
                   help="otsu, li, triangle, noise or an intensity level (default otsu)")
    p.add_argument("--min-diameter", type=nonnegative_float, default=0.0,
                   help="discard smaller particles (nm)")
    p.add_argument("--smooth", type=nonnegative_float, default=1.0,
                   help="Gaussian smoothing before threshold (px)")
    p.add_argument("--no-split", action="store_true", help="do not split touching particles")
    p.add_argument("--exclude-border", action="store_true", help="drop particles cut by the border")
    p.add_argument("--poisson", action="store_true",
                   help="counts image: segment its Anscombe transform (uniform noise)")
    p.add_argument("--moments", choices=("sphere", "disc"),
                   help="also report diameter_moment_nm from the intensity second moment (projected "
                        "spheres or flat discs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_particles_entry)

    r = subparsers.add_parser("register", help="sub-pixel drift of a frame series; aligned stack",
                              description="Rigid sub-pixel drift (phase correlation) of every frame "
                                          "relative to the first; prints shift_y, shift_x (px) per "
                                          "frame and writes them with the aligned stack.")
    r.add_argument("files", nargs="+", help="one time series, or several images of equal pixel size")
    r.add_argument("--out", help="OUT.zarr (shifts + aligned stack) or OUT.csv (shifts)")
    r.add_argument("--signal", help="which signal/variable of the file(s) to use")
    r.add_argument("--cross-section", action="store_true",
                   help="device cross-section at low dose: periodic window, overlap refinement, "
                        "all-pairs drift and down-weighting of rows that change between frames")
    r.add_argument("--reference", choices=("first", "previous", "all"), default="first",
                   help="correlate with the first frame, the previous one, or all pairs solved by least "
                        "squares (default first)")
    r.add_argument("--upsample", type=positive_int, default=100, help="sub-pixel precision 1/UPSAMPLE px")
    r.add_argument("--smooth", type=nonnegative_float, default=0.0,
                   help="Gaussian smoothing before correlation (px)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.set_defaults(func=_register)

    q = subparsers.add_parser("profile", help="interface-resolved profile of a map",
                              description="Profile a map (mean, sd, count per distance bin) across "
                                          "layer interfaces or particle edges, fit an error function "
                                          "(interdiffusion width) and plot it.")
    q.add_argument("map_file", help="file holding the map (instrument file or perovscope .zarr)")
    q.add_argument("--interface", required=True, choices=("layers", "particles"),
                   help="layers: segment a layer stack (rows = growth direction); particles: edges "
                        "of bright particles")
    q.add_argument("--map", help="signal/variable to profile (default: the image of the file)")
    q.add_argument("--features", help="comma-separated signals used to segment the layers "
                                      "(default: the map itself)")
    q.add_argument("--n-layers", type=int_at_least(2), default=2, help="number of layers (default 2)")
    q.add_argument("--index", type=nonnegative_int, help="profile only this interface (0 = top)")
    q.add_argument("--segment-from", help="image used to find particles (default: the map)")
    q.add_argument("--min-diameter", type=nonnegative_float, default=0.0, help="smallest particle kept (nm)")
    q.add_argument("--pixel-size", type=positive_float, metavar="NM",
                   help="pixel size in nm (replaces the file's calibration; needed for uncalibrated maps)")
    q.add_argument("--bin", type=positive_float, default=0.5, help="distance bin width (nm, default 0.5)")
    q.add_argument("--range", type=float, nargs=2, metavar=("MIN", "MAX"), help="distance range (nm)")
    q.add_argument("--out", help="OUT.csv or OUT.zarr (the plot goes to OUT.png)")
    q.add_argument("--plot", help="PNG path of the plot (default: beside --out)")
    q.add_argument("--quiet", action="store_true", help="no progress bars")
    q.set_defaults(func=_profile)


def _particles_entry(args) -> int:
    return _particles(args)
