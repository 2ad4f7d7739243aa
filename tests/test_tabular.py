"""Full-precision CSV whatever numpy's global print options, and atomic writes."""

import io

import numpy as np
import pandas as pd
import pytest

from perovscope.tabular import csv_text, write_text_atomic


def test_csv_text_is_full_precision_under_legacy_print_options():
    values = np.array([3.01 + 0.06000000000000005, 0.005989574275360123, 1 / 3, np.nan, 1e-300])
    frame = pd.DataFrame({"v": values})
    before = np.get_printoptions()
    np.set_printoptions(legacy="1.13")               # what some libraries switch on at import
    try:
        text = csv_text(frame, index=False, na_rep="NaN")
        assert np.get_printoptions()["legacy"] == "1.13"    # the caller's setting is left alone
    finally:
        np.set_printoptions(**before)
    back = pd.read_csv(io.StringIO(text))["v"].to_numpy()
    np.testing.assert_array_equal(back, values)
    assert "\r" not in text and text.splitlines()[1] == repr(float(values[0]))


def test_write_text_atomic_replaces_whole_or_not_at_all(tmp_path):
    path = write_text_atomic(tmp_path / "sub" / "t.csv", "a\n1\n")
    assert path.read_text() == "a\n1\n"
    with pytest.raises(TypeError):
        write_text_atomic(path, 12345)                # not text: the write fails midway
    assert path.read_text() == "a\n1\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.csv"]
