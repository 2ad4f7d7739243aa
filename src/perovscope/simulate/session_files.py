"""A simulated operando device session written the way a microscope writes it: one file per frame.

:func:`write_session_files` renders :func:`perovscope.simulate.simulate_device` frame by frame and
writes, into one folder::

    4dstem/frame_000.hspy ...   haadf/frame_000.hspy ...   eds/frame_000.hspy ...
    bias_log.csv                (source-measure unit export: t_s, U_mV, I_nA, EL_counts)
    truth.zarr                  (the simulator's ``truth`` node, a perovscope results store)
    session.toml                (the session description of ``docs/session.md``; written last)

Each frame file is written with RosettaSciIO's HyperSpy writer, with the calibrations as HyperSpy axes
and the acquisition metadata in HyperSpy's standard places (``General.date``/``time`` = acquisition
start, ``Acquisition_instrument.TEM.*``, ``Detector.EDS.*``, ``Sample.elements``), so that
:func:`perovscope.io.read` gives back the simulator's frame exactly. HyperSpy has no standard key for
the electron dose; it is written to ``Acquisition_instrument.TEM.dose`` (e/Å²).

Timing rule: the simulator's frame times are instants. Each file's acquisition start is chosen so that
its acquisition window ``[start, start + duration]`` is centred on the simulator time, with
``duration = dwell_time_s × probe positions`` (4D-STEM, HAADF) and the real time (= live time) for EDX;
times are counted from the tree's ``acquired`` attribute (the session origin).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import uuid
from pathlib import Path

import dask
import numpy as np
import xarray as xr

from ..errors import InputError
from ..io.results import save
from ..progress import progress_iter
from .materials import LAYER_NAMES

__all__ = ["write_session_files", "check_session_folder", "frame_duration_s", "EL_COUNTS_PER_UNIT",
           "MODALITIES"]

#: modality folder -> (tree node, HyperSpy signal_type, title prefix, quantity)
MODALITIES = {
    "4dstem": ("4dstem/4dstem", "electron_diffraction", "4D-STEM", "Electrons (counts)"),
    "haadf": ("haadf/haadf", "", "HAADF", "Intensity (counts)"),
    "eds": ("eds/eds", "EDS_TEM", "EDS", "X-rays (counts)"),
}

#: photodiode counts per unit of the simulator's EL intensity in ``bias_log.csv``
EL_COUNTS_PER_UNIT = 100_000

_FRAME_FILE = re.compile(r"^frame_(\d+)\.hspy$")


def frame_duration_s(da: xr.DataArray) -> float:
    """Acquisition time of one frame of a simulated signal, s.

    Parameters
    ----------
    da : xarray.DataArray
        A ``4dstem``, ``haadf`` or ``eds`` signal of the device tree (with or without ``time``).

    Returns
    -------
    float
        ``dwell_time_s`` × number of probe positions (``scan_y × scan_x`` or ``y × x``); for EDX the
        real time (``real_time_s``, else ``live_time_s``: the simulated detector has no dead time).
    """
    if da.attrs.get("signal") == "eds":
        return float(da.attrs.get("real_time_s", da.attrs["live_time_s"]))
    rows, cols = ("scan_y", "scan_x") if "scan_y" in da.dims else ("y", "x")
    return float(da.attrs["dwell_time_s"]) * da.sizes[rows] * da.sizes[cols]


def _axis(da: xr.DataArray, dim: str, *, name: str, units: str, navigate: bool, factor: float = 1.0
          ) -> dict:
    values = np.asarray(da[dim].values, dtype=float) * factor
    scale = float(values[1] - values[0]) if values.size > 1 else 1.0
    if values.size > 2 and not np.allclose(np.diff(values), scale, rtol=1e-9, atol=0):
        raise InputError(f"write_session_files: the {dim} axis of {da.name} is not uniform")
    return {"name": name, "size": int(values.size), "scale": scale, "offset": float(values[0]),
            "units": units, "navigate": navigate}


def _axes(da: xr.DataArray, kind: str) -> list[dict]:
    if kind == "4dstem":
        return [_axis(da, "scan_y", name="y", units="nm", navigate=True),
                _axis(da, "scan_x", name="x", units="nm", navigate=True),
                _axis(da, "ky", name="ky", units="1/nm", navigate=False),
                _axis(da, "kx", name="kx", units="1/nm", navigate=False)]
    nav = kind == "eds"  # a spectrum image navigates its pixels; an image is one 2-D signal
    axes = [_axis(da, "y", name="y", units="nm", navigate=nav),
            _axis(da, "x", name="x", units="nm", navigate=nav)]
    if kind == "eds":  # EDX energies in keV, as EDX software (and exSpy) write them
        axes.append(_axis(da, "energy", name="Energy", units="keV", navigate=False, factor=1e-3))
    return axes


def _beam_current_nA(da: xr.DataArray, kind: str) -> float:
    """Probe current that gives the frame's dose: dose × pixel area / dwell time."""
    rows, cols = ("scan_y", "scan_x") if kind == "4dstem" else ("y", "x")
    area_A2 = 100.0 * float(da[rows][1] - da[rows][0]) * float(da[cols][1] - da[cols][0])
    electrons_per_s = da.attrs["dose_e_per_A2"] * area_A2 / da.attrs["dwell_time_s"]
    return electrons_per_s * 1.602176634e-19 * 1e9


def _metadata(da: xr.DataArray, kind: str, *, frame: int, start: _dt.datetime, fname: str) -> dict:
    a = da.attrs
    signal_type, label, quantity = MODALITIES[kind][1:]
    tem = {"microscope": str(a["microscope"]), "acquisition_mode": "STEM"}
    for key, attr in (("beam_energy", "beam_energy_keV"), ("convergence_angle", "convergence_semiangle_mrad"),
                      ("dwell_time", "dwell_time_s"), ("dose", "dose_e_per_A2")):
        if attr in a:  # (the simulated EDX map states no convergence angle)
            tem[key] = float(a[attr])
    if da.sizes.get("y", 2) > 1 and da.sizes.get("scan_y", 2) > 1:
        tem["beam_current"] = _beam_current_nA(da, kind)
    sample = {"description": "FIB cross-section of a CsPb(Br,Cl)3 perovskite LED under constant current"}
    if kind == "4dstem":
        tem["camera_length"] = float(a["camera_length_mm"])
    elif kind == "haadf":
        tem["Detector"] = {"HAADF": {"collection_angle": float(a["collection_semiangle_mrad"])}}
    else:
        tem["Detector"] = {"EDS": {"live_time": float(a["live_time_s"]), "real_time": frame_duration_s(da),
                                   "elevation_angle": float(a["detector_elevation_deg"]),
                                   "azimuth_angle": float(a["detector_azimuth_deg"])}}
        sample["elements"] = [str(e) for e in a["elements"]]
    general = {"title": f"{label} frame {frame:03d}, {a['title']}", "original_filename": fname,
               "date": start.date().isoformat(), "time": start.time().isoformat(timespec="microseconds")}
    return {"General": general, "Signal": {"signal_type": signal_type, "quantity": quantity},
            "Acquisition_instrument": {"TEM": tem}, "Sample": sample}


def _write_hspy(path: Path, data: np.ndarray, axes: list[dict], metadata: dict, original: dict) -> None:
    from rsciio.hspy import file_writer

    signal = {"data": data, "axes": axes, "metadata": metadata, "original_metadata": original,
              "attributes": {"_lazy": False}, "tmp_parameters": {}, "learning_results": {}, "models": {},
              "package_info": {"name": "perovscope", "version": _version()}}
    tmp = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        file_writer(str(tmp), signal, show_progressbar=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("perovscope")
    except Exception:  # noqa: BLE001 - an uninstalled source tree still writes files
        return "0"


def _write_bias_log(tree: xr.DataTree, path: Path, origin: str) -> None:
    log = tree["bias_log"].to_dataset()
    el = np.rint(log["el_intensity"].values * EL_COUNTS_PER_UNIT).astype(np.int64)
    cols = [log["time"].values, log["voltage_V"].values * 1e3, log["current_A"].values * 1e9, el]
    header = (f"Source-measure unit log, constant-current mode (simulated by perovscope.simulate, "
              f"seed {tree.attrs.get('seed')})\n"
              f"t_s: seconds since {origin} (local time); U_mV: device voltage; I_nA: current; "
              f"EL_counts: photodiode counts per sample ({EL_COUNTS_PER_UNIT} counts = EL intensity 1)\n"
              "t_s,U_mV,I_nA,EL_counts")
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in header.splitlines()[:-1]:
            fh.write(f"# {line}\n")
        fh.write(header.splitlines()[-1] + "\n")
        for row in zip(*cols, strict=True):
            fh.write(f"{row[0]:.3f},{row[1]:.4f},{row[2]:.4f},{int(row[3])}\n")
    os.replace(tmp, path)


def _toml_list(items) -> str:
    return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"


def _session_toml(tree: xr.DataTree, origin: str, n_frames: int) -> str:
    p = tree.attrs.get("parameters", {})
    name = f"Simulated PeLED operando session (seed {tree.attrs.get('seed')}, {n_frames} frames)"
    lines = [
        "# Operando session of a simulated perovskite LED lamella, written by",
        "# perovscope.simulate.write_session_files (see docs/simulate.md and docs/session.md).",
        "# Run it with:  perovscope run session.toml      (paths are relative to this file)",
        "",
        "[session]",
        f"name = {json.dumps(name)}",
        'output = "results"                          # results folder',
        f"layers = {_toml_list(LAYER_NAMES)}   # image rows top -> bottom",
        'reference = "haadf"                         # the grid all maps go onto',
        'truth = "truth.zarr"                        # ground truth of the simulation',
        "",
        "# One HyperSpy file per modality per frame; the acquisition start of each frame is in its",
        "# metadata (General.date / General.time), the window being [start, start + duration].",
    ]
    for kind in MODALITIES:
        lines += [
            "",
            f"[modality.{kind}]",
            f'files = "{kind}/frame_*.hspy"',
            "frame_regex = 'frame_(\\d+)'",
            'clock = "metadata"                          # acquisition times from the files',
            "offset_s = 0.0",
        ]
    lines += [
        "",
        "# The source-measure unit's export: time in s from `origin`, voltage in mV, current in nA,",
        f"# EL in photodiode counts ({EL_COUNTS_PER_UNIT} counts = simulated EL intensity 1).",
        "[bias_log]",
        'file = "bias_log.csv"',
        'time = "t_s"',
        'voltage = "U_mV"',
        'current = "I_nA"',
        'el = "EL_counts"',
        'units = { time = "s", voltage = "mV", current = "nA" }',
        f"origin = {json.dumps(origin)}             # the log's t = 0 (ISO 8601)",
        "",
        "# Analysis options (each step's defaults: docs/pipeline-steps.md)",
        "[analysis.strain]",
        'reference = "interior"                     # emitter interior of frame 0: one lattice reference',
        "[analysis.edx]",
        'elements = ["Cs", "Pb", "Br", "Cl", "Al"]',
        f"bin = {2 if min(p.get('eds_shape', (32, 32))) >= 8 else 1}",
        "[analysis.particles]",
        "threshold = 1.8                            # particle response, noise sd units",
        "[analysis.quantities]",
        "band_nm = 8.0                              # strain band each side of the emitter interfaces",
        "[analysis.events]",
        "cl_cathode_at_percent = 1.0",
        "",
    ]
    return "\n".join(lines)


def check_session_folder(directory: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check that ``directory`` may receive a session; return it as a Path.

    Raises
    ------
    InputError
        ``directory`` is a file, or already holds a ``session.toml`` and ``overwrite`` is False.
    """
    folder = Path(directory).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder; pass an empty (or new) folder")
    if (folder / "session.toml").exists() and not overwrite:
        raise InputError(f"{folder}: already holds a session (session.toml); pass an empty folder "
                         "(or add --overwrite / overwrite=True to replace it)")
    return folder


def _prepare_folder(folder: Path, *, overwrite: bool, n_frames: int) -> None:
    check_session_folder(folder, overwrite=overwrite)
    # the old session.toml goes first, so the folder never looks complete while it is rewritten
    (folder / "session.toml").unlink(missing_ok=True)
    for kind in MODALITIES:
        sub = folder / kind
        sub.mkdir(parents=True, exist_ok=True)
        for f in sub.iterdir():  # frames of an earlier, longer session would match the globs
            m = _FRAME_FILE.match(f.name)
            if (m and int(m.group(1)) >= n_frames) or f.name.startswith(".frame_"):
                f.unlink()


def write_session_files(directory: str | os.PathLike, *, progress: bool = False, overwrite: bool = False,
                        **simulate_device_kwargs) -> Path:
    """Simulate a device session and write it as a folder of instrument files with a session.toml.

    Parameters
    ----------
    directory : path-like
        Destination folder (created if missing). A folder that already holds a ``session.toml`` is
        only replaced with ``overwrite=True``.
    progress : bool
        Show a progress bar over the frames on stderr.
    overwrite : bool
        Replace the session in a folder that already holds one.
    **simulate_device_kwargs
        Any parameter of :func:`perovscope.simulate.simulate_device` (``seed``, ``n_frames``,
        ``scan_shape``, ...); ``lazy`` is implied.

    Returns
    -------
    pathlib.Path
        The ``session.toml`` (written last, atomically: a folder with a session.toml is complete).

    Raises
    ------
    InputError
        A folder holding a session without ``overwrite``, a path that is a file, or a bad simulator
        parameter (naming it).

    Notes
    -----
    Frames are rendered one modality and one frame at a time from the lazy tree, so memory is bounded
    by one frame (a 4D-STEM frame of the default session is 42 MB) whatever the number of frames.
    Frame ``i`` of a modality starts at ``origin + t_i - duration / 2`` (see :func:`frame_duration_s`),
    ``origin`` being the tree's ``acquired`` attribute and ``t_i`` the simulator's frame time.

    Examples
    --------
    >>> toml = write_session_files("session", seed=1, n_frames=4)     # doctest: +SKIP
    >>> # perovscope run session/session.toml
    """
    from .device import simulate_device

    if "lazy" in simulate_device_kwargs:
        raise InputError("write_session_files: 'lazy' is not a parameter here (frames are always "
                         "rendered one at a time)")
    folder = check_session_folder(directory, overwrite=overwrite)  # before any simulation
    tree = simulate_device(lazy=True, **simulate_device_kwargs)
    n_frames = tree["haadf/haadf"].sizes["time"]
    _prepare_folder(folder, overwrite=overwrite, n_frames=n_frames)
    origin = str(tree["haadf/haadf"].attrs["acquired"])
    t0 = _dt.datetime.fromisoformat(origin)
    width = max(3, len(str(n_frames - 1)))
    with dask.config.set(scheduler="threads"):
        for frame in progress_iter(range(n_frames), enabled=progress, desc="writing frames", total=n_frames):
            for kind, (node, *_rest) in MODALITIES.items():
                da = tree[node].isel(time=frame)
                t_s = float(da["time"].values)
                duration = frame_duration_s(da)
                start = t0 + _dt.timedelta(seconds=t_s - duration / 2)
                fname = f"frame_{frame:0{width}d}.hspy"
                original = {"perovscope_simulate": {
                    "frame": frame, "time_s": t_s, "duration_s": duration, "origin": origin,
                    "seed": int(tree.attrs["seed"]), "node": node}}
                _write_hspy(folder / kind / fname, np.asarray(da.data.compute()), _axes(da, kind),
                            _metadata(da, kind, frame=frame, start=start, fname=fname), original)
    _write_bias_log(tree, folder / "bias_log.csv", origin)
    root = tree["truth"]
    truth = xr.DataTree.from_dict({("/" if node.path == root.path else node.relative_to(root)):
                                   node.to_dataset(inherit=False) for node in root.subtree})
    truth.attrs = {**tree.attrs, **root.attrs}
    save(truth, folder / "truth.zarr")
    toml = folder / "session.toml"
    tmp = folder / f".session.toml.partial-{uuid.uuid4().hex[:8]}"
    tmp.write_text(_session_toml(tree, origin, n_frames), encoding="utf-8")
    os.replace(tmp, toml)
    return toml
