"""Fixtures of the command-line tests. ``fuzz_inputs``: the inputs of the fuzz suite, generated into a
folder: valid signals of every kind written with RosettaSciIO's own HyperSpy writer, the same signals
NaN-filled, all-zero and saturated, damaged files (empty, random bytes, truncated, wrong extension),
results stores of other commands and session descriptions that are wrong in several ways.

Every array is small (at most 6 x 6 x 256 values) so that a case costs milliseconds beyond the import.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

#: (signal_type, axes (name, size, scale, offset, units, navigate), dtype) of each valid kind.
KINDS = {
    "haadf": ("", [("y", 24, 0.5, 0.0, "nm", False), ("x", 24, 0.5, 0.0, "nm", False)], np.uint16),
    "eds": ("EDS_TEM", [("y", 6, 2.0, 0.0, "nm", True), ("x", 6, 2.0, 0.0, "nm", True),
                        ("Energy", 256, 0.04, 0.0, "keV", False)], np.uint16),
    "spectrum": ("EDS_TEM", [("Energy", 256, 0.04, 0.0, "keV", False)], np.uint32),
    "eels": ("EELS", [("y", 6, 2.0, 0.0, "nm", True), ("x", 6, 2.0, 0.0, "nm", True),
                      ("Energy loss", 128, 1.0, 400.0, "eV", False)], np.float32),
    "cl": ("CL_SEM", [("y", 6, 20.0, 0.0, "nm", True), ("x", 6, 20.0, 0.0, "nm", True),
                      ("Wavelength", 64, 2.0, 450.0, "nm", False)], np.float32),
    "fourd": ("electron_diffraction", [("y", 4, 2.0, 0.0, "nm", True), ("x", 4, 2.0, 0.0, "nm", True),
                                       ("ky", 16, 0.1, -0.8, "1/nm", False),
                                       ("kx", 16, 0.1, -0.8, "1/nm", False)], np.uint8),
}

#: Content variants of every kind: the values every command must refuse as "nothing to analyse".
BAD_CONTENT = ("nan", "zero", "saturated")


def _signal(data, axes, signal_type):
    return {"data": data, "original_metadata": {},
            "axes": [{"name": n, "size": s, "scale": sc, "offset": o, "units": u, "navigate": nav}
                     for n, s, sc, o, u, nav in axes],
            "metadata": {"General": {"title": "fuzz"}, "Signal": {"signal_type": signal_type},
                         "Acquisition_instrument": {"TEM": {"beam_energy": 200.0}}},
            "package_info": {"name": "perovscope-tests", "version": "0"}, "attributes": {"_lazy": False},
            "tmp_parameters": {}, "learning_results": {}, "models": {}}


def _values(kind: str, shape, dtype, rng) -> np.ndarray:
    if kind == "haadf":
        yy, xx = np.mgrid[:shape[0], :shape[1]]
        img = 100 + 900 * np.exp(-((yy - 12) ** 2 + (xx - 12) ** 2) / 8.0)
        return rng.poisson(img).astype(dtype)
    if kind == "cl":
        wl = 450 + 2.0 * np.arange(shape[-1])
        return (50 + 400 * np.exp(-0.5 * ((wl - 510) / 12) ** 2) * np.ones(shape)).astype(dtype)
    return rng.poisson(5.0, size=shape).astype(dtype)


def _write_hspy(path: Path, data, axes, signal_type) -> Path:
    from rsciio.hspy import file_writer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        file_writer(str(path), _signal(data, axes, signal_type), show_progressbar=False)
    return path


def _random_bytes(seed: int, n: int = 4096) -> bytes:
    random.seed(seed)
    return bytes(random.getrandbits(8) for _ in range(n))


def _stores(folder: Path, files: dict[str, Path]) -> None:
    """Results stores of other commands (strain, edx, convert) written with perovscope.io.save."""
    from perovscope.io import save

    grid = {"scan_y": np.arange(4.0), "scan_x": np.arange(4.0)}
    strain = xr.Dataset({k: (("scan_y", "scan_x"), np.zeros((4, 4))) for k in ("exx", "eyy", "exy", "theta")},
                        coords=grid)
    strain["reason"] = (("scan_y", "scan_x"), np.zeros((4, 4), np.int16))
    files["strain_store"] = save(strain, folder / "strain_store.zarr")
    edx = xr.Dataset({"atomic_percent": (("y", "x", "element"), np.full((6, 6, 2), 50.0))},
                     coords={"y": np.arange(6.0), "x": np.arange(6.0), "element": ["Cu", "O"]})
    files["edx_store"] = save(edx, folder / "edx_store.zarr")
    files["empty_store"] = save(xr.Dataset(), folder / "empty_store.zarr")


def _sessions(folder: Path, files: dict[str, Path]) -> None:
    bad = {
        "toml_syntax": "[session\nname = 1\n",
        "toml_unknown_key": '[session]\nname = "x"\noutput = "res"\nbogus = 3\n',
        "toml_missing_files": ('[session]\nname = "x"\noutput = "res"\n[modality.haadf]\n'
                               'files = "nothing/frame_*.hspy"\n'),
        "toml_wrong_kind": (f'[session]\nname = "x"\noutput = "res"\n[modality.4dstem]\n'
                            f'files = ["{files["eds"].as_posix()}"]\n'),
    }
    for name, text in bad.items():
        path = folder / f"{name}.toml"
        path.write_text(text)
        files[name] = path


def make_inputs(folder: Path) -> dict[str, Path]:
    """Write every fuzz input into ``folder``; returns name -> path (``missing`` does not exist)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    files: dict[str, Path] = {}
    for kind, (signal_type, axes, dtype) in KINDS.items():
        shape = tuple(a[1] for a in axes)
        files[kind] = _write_hspy(folder / f"{kind}.hspy", _values(kind, shape, dtype, rng), axes,
                                  signal_type)
        files[f"nan_{kind}"] = _write_hspy(folder / f"nan_{kind}.hspy", np.full(shape, np.nan, np.float32),
                                           axes, signal_type)
        files[f"zero_{kind}"] = _write_hspy(folder / f"zero_{kind}.hspy", np.zeros(shape, dtype), axes,
                                            signal_type)
        sat = np.full(shape, np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 65535.0, dtype)
        files[f"saturated_{kind}"] = _write_hspy(folder / f"saturated_{kind}.hspy", sat, axes, signal_type)
    (folder / "empty.hspy").write_bytes(b"")
    files["empty"] = folder / "empty.hspy"
    (folder / "garbage.hspy").write_bytes(_random_bytes(1))
    files["garbage"] = folder / "garbage.hspy"
    whole = files["eds"].read_bytes()
    (folder / "truncated.hspy").write_bytes(whole[: len(whole) // 2])
    files["truncated"] = folder / "truncated.hspy"
    (folder / "garbage.dm3").write_bytes(_random_bytes(2))
    files["garbage_dm3"] = folder / "garbage.dm3"
    (folder / "garbage.mib").write_bytes(_random_bytes(3))
    files["garbage_mib"] = folder / "garbage.mib"
    blo = bytearray(_random_bytes(4))
    blo[:6] = b"IMGBLO"  # a plausible signature in front of a random header
    (folder / "signed_garbage.blo").write_bytes(bytes(blo))
    files["signed_garbage_blo"] = folder / "signed_garbage.blo"
    (folder / "data.foo").write_bytes(b"1 2\n3 4\n")
    files["wrong_extension"] = folder / "data.foo"
    (folder / "log.csv").write_text("time_s,current_A,voltage_V\n0,1e-9,2.0\n1,1.1e-9,2.1\n2,1.2e-9,2.2\n")
    files["bias_log_csv"] = folder / "log.csv"
    (folder / "a_folder").mkdir(exist_ok=True)
    files["directory"] = folder / "a_folder"
    files["missing"] = folder / "does_not_exist.hspy"
    _stores(folder, files)
    _sessions(folder, files)
    return files


def hang_files(folder: Path) -> dict[str, Path]:
    """The 4 KB random ``.blo`` files (``random.seed(0)`` and ``seed(7)``) that once hung the reader."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for seed in (0, 7):
        path = folder / f"random_seed{seed}.blo"
        path.write_bytes(_random_bytes(seed))
        out[f"random_blo_seed{seed}"] = path
    return out


@pytest.fixture(scope="session")
def fuzz_inputs(tmp_path_factory) -> dict[str, Path]:
    """Every fuzz input (see :func:`make_inputs`), written once per test session."""
    return make_inputs(tmp_path_factory.mktemp("fuzz_inputs"))


@pytest.fixture(scope="session")
def fuzz_hang_inputs(tmp_path_factory) -> dict[str, Path]:
    """The random ``.blo`` files that once hung the reader (see :func:`hang_files`)."""
    return hang_files(tmp_path_factory.mktemp("fuzz_hang"))
