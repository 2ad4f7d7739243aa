"""``perovscope simulate <sample> --out PATH.zarr``: synthetic datasets with ground truth.

``perovscope simulate device --as-files DIR`` writes the device session as a folder of instrument files
instead (:func:`perovscope.simulate.write_session_files`): one HyperSpy file per modality per frame, the
source-measure unit's ``bias_log.csv``, ``truth.zarr`` and a ready-to-run ``session.toml``.

Samples: ``device`` (operando perovskite LED lamella), ``composite`` (CsPbI3 in ZIF-62 glass),
``nanospheres`` (CsPbBr3-SiO2 nanospheres), ``glass-domains`` (ZIF-62 / phosphate glass). The main
options of each sample have flags; every other keyword of the simulator can be set with
``--param NAME=VALUE`` (repeatable; VALUE is a Python literal such as ``3``, ``0.5`` or ``(64, 64)``).
The tree is written atomically with :func:`perovscope.io.save` (``device`` is streamed block by block
with bounded memory), and a one-paragraph summary is printed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from ..errors import InputError, lookup

#: sample name → (module of perovscope.simulate, function name)
SAMPLES = {
    "device": ("perovscope.simulate", "simulate_device"),
    "composite": ("perovscope.simulate.composite", "simulate_composite"),
    "nanospheres": ("perovscope.simulate.nanospheres", "simulate_nanospheres"),
    "glass-domains": ("perovscope.simulate.glass_domains", "simulate_glass_domains"),
}

#: per sample: (flag, destination keyword, type, nargs, help)
_OPTIONS = {
    "device": [
        ("--frames", "n_frames", int, None, "number of time frames"),
        ("--scan", "scan_shape", int, 2, "4D-STEM scan grid ROWS COLS"),
        ("--detector", "detector_shape", int, 2, "4D-STEM detector pixels ROWS COLS"),
        ("--dose", "dose_4dstem_e_per_A2", float, None, "4D-STEM electron dose per frame (e/Å²)"),
        ("--haadf-dose", "haadf_dose_e_per_A2", float, None, "HAADF dose per frame (e/Å²)"),
        ("--eds-dose", "eds_dose_e_per_A2", float, None, "EDX dose per frame (e/Å²)"),
    ],
    "composite": [
        ("--shape", "image_shape", int, 2, "image grid ROWS COLS (HAADF, EELS SI, CL)"),
        ("--pixel-size", "pixel_size_nm", float, None, "pixel size (nm)"),
        ("--particles", "n_particles", int, None, "number of CsPbI3 particles"),
        ("--diameter", "particle_diameter_nm", float, None, "mean particle diameter (nm)"),
        ("--diameter-sd", "particle_diameter_sd_nm", float, None, "sd of the log-normal diameters (nm)"),
        ("--iodine-width", "iodine_width_nm", float, None, "erfc width of the iodine halo (nm)"),
        ("--cl-counts", "cl_peak_counts", float, None, "median CL peak counts per channel"),
    ],
    "nanospheres": [
        ("--spheres", "n_spheres", int, None, "number of SiO2 spheres in the overview"),
        ("--overview-shape", "overview_shape", int, 2, "overview grid ROWS COLS"),
        ("--overview-pixel-size", "overview_pixel_size_nm", float, None, "overview pixel size (nm)"),
        ("--nanocrystals", "n_nanocrystals", int, None, "nanocrystals in the high-resolution image"),
        ("--hr-shape", "hr_shape", int, 2, "high-resolution grid ROWS COLS"),
        ("--hr-pixel-size", "hr_pixel_size_nm", float, None, "high-resolution pixel size (nm)"),
    ],
    "glass-domains": [
        ("--shape", "image_shape", int, 2, "map grid ROWS COLS"),
        ("--pixel-size", "pixel_size_nm", float, None, "pixel size (nm)"),
        ("--area-fraction", "mof_area_fraction", float, None, "area fraction of MOF-glass domains"),
        ("--domain-size", "domain_correlation_nm", float, None, "correlation length of the domains (nm)"),
        ("--dose", "dose_e_per_A2", float, None, "EDS dose (e/Å²)"),
    ],
}


def _one_line_error(parser: argparse.ArgumentParser):
    def error(message: str):
        print(f"{parser.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)

    return error


def register(subparsers) -> None:
    """Add ``simulate`` and its per-sample sub-commands to ``subparsers``."""
    p = subparsers.add_parser(
        "simulate", help="write a synthetic dataset with ground truth",
        description="Simulate a sample with ground truth and write it as a perovscope results store "
                    "(zarr). Samples: " + ", ".join(SAMPLES) + ".")
    p.error = _one_line_error(p)
    sub = p.add_subparsers(dest="sample", metavar="SAMPLE")
    for sample, opts in _OPTIONS.items():
        sp = sub.add_parser(sample, help=f"simulate the {sample} sample",
                            description=f"Simulate the {sample} sample; see docs/simulate.md.")
        sp.error = _one_line_error(sp)
        if sample == "device":  # a results store, or a folder of instrument files: exactly one
            where = sp.add_mutually_exclusive_group(required=True)
            where.add_argument("--out", type=Path, metavar="PATH.zarr", help="output results store")
            where.add_argument("--as-files", type=Path, default=None, metavar="DIR",
                               help="write the session as instrument files (one .hspy per modality per "
                                    "frame, bias_log.csv, truth.zarr, session.toml) into DIR")
            sp.add_argument("--overwrite", action="store_true",
                            help="with --as-files: replace the session already in DIR")
        else:
            sp.add_argument("--out", required=True, type=Path, metavar="PATH.zarr",
                            help="output results store")
        sp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        sp.add_argument("--quiet", action="store_true", help="no progress messages")
        sp.add_argument("--no-noise", action="store_true", help="write expected (noiseless) counts")
        for flag, dest, typ, nargs, text in opts:
            sp.add_argument(flag, dest=dest, type=typ, nargs=nargs, default=None,
                            metavar="N" if nargs is None else ("ROWS", "COLS"), help=text)
        sp.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="any other keyword of the simulator (repeatable)")
        if sample == "device":
            sp.add_argument("--bias-log", type=Path, default=None, metavar="PATH.csv",
                            help="also write the electrical log as CSV "
                                 "(time_s,current_A,voltage_V,el_intensity)")
        sp.set_defaults(func=run_simulate, sample=sample)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _simulator(sample: str):
    module, name = lookup(SAMPLES, sample, what="sample")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise InputError(f"simulate {sample}: this installation has no {name}") from None


def _parse_params(items: list[str], allowed) -> dict:
    import ast

    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--param {item!r}: expected NAME=VALUE")
        if name not in allowed:
            raise InputError(f"--param {name}: not a parameter of this sample; see docs/simulate.md")
        try:
            out[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            out[name] = text.strip()
    return out


def build_kwargs(args: argparse.Namespace, func) -> dict:
    """Keyword arguments of the simulator from the parsed flags (only those given)."""
    import inspect

    sig = inspect.signature(func)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    allowed = set(sig.parameters) if not accepts_any else _AnyName()
    kwargs: dict = {"seed": args.seed}
    if args.no_noise:
        kwargs["noise"] = False
    for _flag, dest, _typ, nargs, _text in _OPTIONS[args.sample]:
        value = getattr(args, dest)
        if value is not None:
            if dest not in allowed:
                raise InputError(f"{_flag}: not supported by this version of the {args.sample} simulator")
            kwargs[dest] = tuple(value) if nargs else value
    kwargs.update(_parse_params(args.param, allowed))
    if "noise" in kwargs and "noise" not in allowed:
        raise InputError(f"--no-noise: not supported by the {args.sample} simulator")
    return kwargs


class _AnyName:
    def __contains__(self, item) -> bool:
        return True


def _size_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def summary(tree, path: Path, sample: str, seed: int, seconds: float) -> str:
    """One paragraph describing the signals and truth written."""
    signals, truth = [], []
    for node in tree.subtree:
        if node.is_root or not node.has_data:
            continue
        ds = node.to_dataset(inherit=False)
        rel = node.relative_to(tree)
        if rel.split("/")[0] == "truth":
            truth.extend(f"{rel}/{v}" if rel != "truth" else f"truth/{v}" for v in ds.data_vars)
            continue
        for name, da in ds.data_vars.items():
            shape = " × ".join(f"{d} {n}" for d, n in zip(da.dims, da.shape, strict=True))
            signals.append(f"{rel}/{name} ({shape}, {da.attrs.get('units', '?')})")
    shown = ", ".join(truth[:12]) + (f" and {len(truth) - 12} more" if len(truth) > 12 else "")
    return (f"Wrote the {sample} sample (seed {seed}) to {path} ({_size_bytes(path) / 1e6:.1f} MB, "
            f"{seconds:.1f} s): signals {'; '.join(signals)}. Ground truth: {shown}. "
            f"Open it with perovscope.io.open_results('{path}').")


def _call(func, kwargs, sample, *args, **extra):
    try:
        return func(*args, **extra, **kwargs)
    except TypeError as exc:  # an unexpected keyword from --param
        if "unexpected keyword" not in str(exc):
            raise
        raise InputError(f"simulate {sample}: {exc}") from None


def _notice_later(text: str, after_s: float = 1.0) -> None:
    """Print ``text`` on stderr once the simulation has run ``after_s`` seconds (parameter errors,
    found at once, stay one line)."""
    import threading

    timer = threading.Timer(after_s, lambda: print(text, file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    _TIMERS.append(timer)


_TIMERS: list = []


def _cancel_notices() -> None:
    while _TIMERS:
        _TIMERS.pop().cancel()


def run_simulate(args: argparse.Namespace) -> int:
    """Handler of ``perovscope simulate <sample>``.

    ``device`` is streamed into the store block by block (``perovscope.simulate.stream_device``,
    bounded memory for long sessions); the other samples are built in memory and saved atomically.
    """
    try:
        return _run_simulate(args)
    finally:
        _cancel_notices()


def _run_simulate(args: argparse.Namespace) -> int:
    from ..io import is_complete, open_results, save
    from ..progress import dask_progress

    if getattr(args, "as_files", None) is not None:
        return _run_as_files(args)
    out = Path(args.out)
    if out.exists() and not is_complete(out):
        raise InputError(f"--out {out}: exists and is not a perovscope results store; "
                         "choose another path or remove it")
    bias_csv = getattr(args, "bias_log", None)
    if bias_csv is not None and Path(bias_csv).suffix.lower() != ".csv":
        raise InputError(f"--bias-log {bias_csv}: expected a .csv path")
    func = _simulator(args.sample)
    kwargs = build_kwargs(args, func)
    t0 = time.perf_counter()
    if not args.quiet:
        _notice_later(f"simulating {args.sample} into {out} ...")
    stream = getattr(importlib.import_module("perovscope.simulate"), "stream_device", None)
    if args.sample == "device" and stream is not None:
        _call(stream, kwargs, args.sample, out, progress=not args.quiet)
        tree = open_results(out)
    else:
        tree = _call(func, kwargs, args.sample)
        with dask_progress(not args.quiet):
            save(tree, out)
    text = summary(tree, out, args.sample, args.seed, time.perf_counter() - t0)
    if bias_csv is not None:
        from ..simulate import write_bias_log_csv

        write_bias_log_csv(tree, bias_csv)
        text += f" Electrical log written to {bias_csv}."
    print(text)
    return 0


def _run_as_files(args: argparse.Namespace) -> int:
    """``simulate device --as-files DIR``: the session as instrument files plus a session.toml."""
    from ..simulate import write_session_files
    from ..simulate.session_files import check_session_folder

    if getattr(args, "bias_log", None) is not None:
        raise InputError("--bias-log: not used with --as-files (the folder gets its own bias_log.csv)")
    try:
        folder = check_session_folder(args.as_files, overwrite=args.overwrite)
    except InputError as exc:
        raise InputError(f"--as-files {exc}") from None
    kwargs = build_kwargs(args, _simulator(args.sample))
    t0 = time.perf_counter()
    if not args.quiet:
        _notice_later(f"simulating {args.sample} into the folder {folder} ...")
    toml = _call(write_session_files, kwargs, args.sample, folder, progress=not args.quiet,
                 overwrite=args.overwrite)
    frames = {kind: len(list((folder / kind).glob("frame_*.hspy"))) for kind in ("4dstem", "haadf", "eds")}
    n_files = sum(frames.values())
    print(f"Wrote the {args.sample} session (seed {args.seed}) as instrument files to {folder} "
          f"({_size_bytes(folder) / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s): {n_files} HyperSpy "
          f"files ({frames['haadf']} frames × 4dstem, haadf, eds), bias_log.csv, truth.zarr. "
          f"Session description: {toml} (analyse it with: perovscope run {toml}).")
    return 0
