"""Choosing one signal out of a multi-signal file or results tree."""

import numpy as np
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.io import find_signal, iter_signals


def _tree():
    img = xr.DataArray(np.zeros((4, 5)), dims=("y", "x"), attrs={"signal": "haadf"})
    small = xr.DataArray(np.zeros((2, 2)), dims=("y", "x"), attrs={"signal": "haadf"})
    eds = xr.DataArray(np.zeros((4, 5, 8)), dims=("y", "x", "energy"), attrs={"signal": "eds"})
    four = xr.DataArray(np.zeros((2, 2, 3, 3)), dims=("scan_y", "scan_x", "ky", "kx"),
                        attrs={"signal": "4dstem"})
    truth = xr.DataArray(np.zeros((9, 9)), dims=("y", "x"))
    return xr.DataTree.from_dict({
        "/haadf": img.to_dataset(name="haadf"), "/haadf_1": small.to_dataset(name="haadf_1"),
        "/eds": eds.to_dataset(name="eds"), "/4dstem": four.to_dataset(name="4dstem"),
        "/truth": truth.to_dataset(name="label"),
    })


def test_iter_signals_lists_paths():
    paths = [p for p, _ in iter_signals(_tree())]
    assert paths == ["haadf/haadf", "haadf_1/haadf_1", "eds/eds", "4dstem/4dstem", "truth/label"]


def test_choice_by_kind_dims_and_name():
    tree = _tree()
    assert find_signal(tree, kinds=("haadf",), dims_end=("y", "x")).shape == (4, 5)  # largest haadf
    assert find_signal(tree, kinds=("eds",), any_dim=("energy",)).dims[-1] == "energy"
    assert find_signal(tree, dims_end=("ky", "kx")).name == "4dstem"
    assert find_signal(tree, name="haadf_1").shape == (2, 2)
    assert find_signal(tree, name="truth/label").shape == (9, 9)  # truth only when asked by path


def test_errors_name_the_file_and_option():
    tree = _tree()
    with pytest.raises(InputError, match="f.zarr: no signal named 'nope'"):
        find_signal(tree, name="nope", source="f.zarr")
    with pytest.raises(InputError, match="no cl signal"):
        find_signal(tree, kinds=("cl",), any_dim=("wavelength",), source="f.zarr")
    with pytest.raises(InputError, match="--map"):
        find_signal(tree, dims_end=("y", "x"), source="f.zarr", option="--map")  # haadf, haadf_1: ambiguous


def test_signal_of_another_kind_never_stands_in():
    tree = _tree()
    with pytest.raises(InputError, match="no cl signal"):  # the EDX cube has an energy axis, but is not CL
        find_signal(tree, kinds=("cl",), any_dim=("wavelength", "energy"))
    plain = xr.DataArray(np.zeros((3, 4)), dims=("y", "wavelength"), attrs={"signal": "spectrum"})
    assert find_signal(plain, kinds=("cl",), any_dim=("wavelength",)) is plain
