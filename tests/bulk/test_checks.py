"""The shared input checks of the bulk techniques and the table printing of ``perovscope bulk``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.bulk._checks import (
    as_spectra,
    ascending,
    check_axis,
    check_axis_kind,
    check_min_points,
    check_positive,
)
from perovscope.cli.bulk._common import format_table, table_rows
from perovscope.errors import InputError


def test_axis_checks_accept_either_direction_and_flip_decreasing():
    x, y = ascending([3.0, 2.0, 1.0], np.array([[1, 2, 3], [4, 5, 6]]))
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_array_equal(y, [[3, 2, 1], [6, 5, 4]])
    assert check_axis([1.0, 2.0]).dtype == float


@pytest.mark.parametrize("x,match", [([1, 2, 2, 3], "duplicated values .*index 1"),
                                     ([1, 3, 2, 4], "not sorted .*index 2"),
                                     ([1, np.nan, 3], "NaN"), ([[1, 2]], "1-D"), ([1.0], "at least 2")])
def test_axis_errors_name_the_problem(x, match):
    with pytest.raises(InputError, match=match):
        check_axis(x, name="wavelength", source="a.txt")


def test_positive_points_kind_and_shape():
    with pytest.raises(InputError, match="counts has 2 non-positive"):
        check_positive([1, 0, -1], name="counts")
    assert check_positive([0, 1], allow_zero=True).tolist() == [0, 1]
    with pytest.raises(InputError, match="needs at least 5 points, got 4"):
        check_min_points(4, 5, what="a Tauc fit")
    with pytest.raises(InputError, match="wavelength .* photon energy is required"):
        check_axis_kind("nm", required="energy")
    with pytest.raises(InputError, match="energy .* wavelength is required"):
        check_axis_kind("eV", required="wavelength")
    check_axis_kind(None, required="energy")
    with pytest.raises(InputError, match="must have 3 points"):
        as_spectra(np.ones((2, 4)), 3)


def test_table_printing_has_units_and_json_rows_drop_nan():
    table = xr.Dataset({"tau": ("row", [1.0, np.nan], {"units": "ns"}),
                        "sample": ("row", ["a", "b"])})
    text = format_table(table)
    lines = text.splitlines()
    assert lines[0].split() == ["tau", "sample"] and lines[1].split() == ["ns"]
    assert lines[2].split() == ["1", "a"] and lines[3].split() == ["—", "b"]
    assert table_rows(table) == [{"tau": 1.0, "sample": "a"}, {"tau": None, "sample": "b"}]


def test_bulk_help_lists_every_technique_present(capsys):
    from perovscope.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bulk", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("trpl", "dsc", "tga", "impedance", "pl", "plqy", "colour", "uvvis"):
        assert name in out
