"""Session folders written as instrument files (``simulate device --as-files``) for the runner tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

#: The smallest device session that still has every modality, drift, particles and a bias log.
TINY = dict(n_frames=3, scan_shape=(6, 6), detector_shape=(32, 32), haadf_shape=(24, 24), haadf_pixel_nm=6.4,
            eds_shape=(4, 4), eds_channels=256, eds_channel_eV=80.0)


@pytest.fixture(scope="session")
def tiny_session_master(tmp_path_factory) -> Path:
    """A tiny simulated session folder (seed 1), written once; copy it before running into it."""
    from perovscope.simulate import write_session_files

    folder = tmp_path_factory.mktemp("tiny") / "session"
    write_session_files(folder, seed=1, **TINY)
    return folder


@pytest.fixture
def tiny_session(tiny_session_master, tmp_path) -> Path:
    """A fresh copy of the tiny session folder; returns its session.toml."""
    folder = tmp_path / "session"
    shutil.copytree(tiny_session_master, folder)
    return folder / "session.toml"


def store_arrays(out: Path) -> dict:
    """Every array and every attribute of a results store (timings excluded), for bit-for-bit checks."""
    tree = xr.open_datatree(Path(out) / "results.zarr", engine="zarr", consolidated=False)
    found = {}
    for node in tree.subtree:
        for name, var in node.dataset.variables.items():
            found[f"{node.path}/{name}"] = (np.asarray(var.values), dict(var.attrs))
        found[f"{node.path}/.attrs"] = (None, dict(node.attrs))
    return found


def assert_same_store(a: Path, b: Path) -> None:
    """Two results stores hold the same arrays (bit for bit, NaN equal) and attributes."""
    sa, sb = store_arrays(a), store_arrays(b)
    assert sorted(sa) == sorted(sb)
    for key, (va, aa) in sa.items():
        vb, ab = sb[key]
        assert aa == ab, key
        if va is not None:
            assert va.dtype == vb.dtype, key
            if va.dtype.kind in "fc":
                np.testing.assert_array_equal(va, vb, err_msg=key)
            else:
                assert np.array_equal(va, vb), key


@pytest.fixture
def same_store():
    """:func:`assert_same_store` as a fixture (helpers of a conftest are not importable)."""
    return assert_same_store
