"""The shared column-text helpers: fields, numbers, the numeric table after a header, their errors."""

import numpy as np
import pytest

from perovscope.errors import FormatError
from perovscope.io._columns import detect_delimiter, is_number, is_numeric_row, numeric_rows, split_fields


def test_fields_and_numbers():
    assert detect_delimiter("1;2,3") == "," and detect_delimiter("1 2\t3", order=(";",)) is None
    assert split_fields(" 1 , 2 ,, 3 ") == ["1", "2", "", "3"]
    assert split_fields("1,,2", drop_empty=True) == ["1", "2"] and split_fields("a  b c") == ["a", "b", "c"]
    for token in ("1", "-2.5", "+.5", "3.", "1e-3", "6.02E+23"):
        assert is_number(token), token
    for token in ("", "e3", "1..2", "1_000", "0x10", "nan", "1,5"):
        assert not is_number(token), token
    assert is_number("NaN", nonfinite=True) and is_number("-Infinity", nonfinite=True)
    assert is_number("1,5", decimal_comma=True)
    assert is_numeric_row(["1", "2"]) and not is_numeric_row(["1"]) and not is_numeric_row(["x", "2"])


def test_numeric_rows_splits_header_and_table():
    lines = ["# instrument X", "time,counts", "0,10", "0.5,12", "", "1.0,9"]
    header, table = numeric_rows(lines, source="f.csv", min_rows=3)
    assert header == ["# instrument X", "time,counts"]
    np.testing.assert_array_equal(table, [[0, 10], [0.5, 12], [1.0, 9]])
    _, ws = numeric_rows(["x y", "1 2", "3 4"], source="f.txt")
    np.testing.assert_array_equal(ws, [[1, 2], [3, 4]])


@pytest.mark.parametrize(("lines", "message"), [
    (["a,b", "c,d"], r"f\.csv: no rows of numbers \(x, y\) found"),
    (["1,2", "3"], r"f\.csv: data row 2 has 1 columns, expected 2 \(truncated or malformed file\)"),
    (["1,2", "3,x"], r"f\.csv: non-numeric value in the data rows"),
    (["1,2"], r"f\.csv: only 1 data row\(s\).*at least 3 are needed"),
])
def test_numeric_rows_errors_name_the_file_and_the_row(lines, message):
    with pytest.raises(FormatError, match=message):
        numeric_rows(lines, source="f.csv", min_rows=3, what="x, y")
