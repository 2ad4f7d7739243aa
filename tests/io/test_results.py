"""perovscope's zarr results format: exact round trip and atomic writes."""

import warnings

import numpy as np
import pytest
import xarray as xr

from perovscope.errors import FormatError
from perovscope.io import is_complete, open_results, save


def _tree():
    rng = np.random.default_rng(0)
    img = xr.DataArray(
        rng.poisson(5, (6, 7)).astype("uint16"), dims=("y", "x"),
        coords={"y": ("y", np.arange(6) * 0.25, {"units": "nm"}),
                "x": ("x", np.arange(7) * 0.25, {"units": "nm"})},
        attrs={"units": "counts", "signal": "haadf", "beam_energy_keV": 300.0, "elements": ["Cs", "Pb"]},
        name="haadf",
    )
    spec = xr.DataArray(rng.random((2, 3, 5)), dims=("y", "x", "energy"),
                        coords={"energy": ("energy", np.linspace(0, 4, 5), {"units": "eV"})},
                        attrs={"units": "counts", "signal": "eds"}, name="eds")
    return xr.DataTree.from_dict({"/haadf": img.to_dataset(), "/eds": spec.to_dataset()})


def test_round_trip_exact(tmp_path):
    tree = _tree()
    save(tree, tmp_path / "r.zarr")
    back = open_results(tmp_path / "r.zarr").load()
    for node in ("haadf", "eds"):
        a, b = tree[node].to_dataset(), back[node].to_dataset()
        xr.testing.assert_identical(a, b)
        assert a[node].dtype == b[node].dtype
    assert back["haadf/y"].attrs["units"] == "nm"
    # readable by plain xarray without perovscope
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata: no "falling back" warning
        plain = xr.open_datatree(tmp_path / "r.zarr", engine="zarr")
    np.testing.assert_array_equal(plain["haadf/haadf"].values, tree["haadf/haadf"].values)


def test_interrupted_save_is_not_complete(tmp_path, monkeypatch):
    target = tmp_path / "r.zarr"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(xr.DataTree, "to_zarr", boom)
    with pytest.raises(RuntimeError):
        save(_tree(), target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the partial temporary store was removed
    with pytest.raises(FormatError):
        open_results(target)


def test_store_without_marker_rejected(tmp_path):
    _tree().to_zarr(tmp_path / "half.zarr", consolidated=False)
    assert not is_complete(tmp_path / "half.zarr")
    with pytest.raises(FormatError, match="half.zarr"):
        open_results(tmp_path / "half.zarr")


def test_overwrite_replaces(tmp_path):
    save(_tree(), tmp_path / "r.zarr")
    t2 = xr.DataTree(dataset=xr.Dataset({"v": ("n", [1, 2, 3])}))
    save(t2, tmp_path / "r.zarr")
    back = open_results(tmp_path / "r.zarr")
    assert list(back["v"].values) == [1, 2, 3]
    assert "haadf" not in back.children
