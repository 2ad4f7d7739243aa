"""User input is checked with InputError listing the valid names, never with assert or a bare lookup,
and a catch-all never hides a failure that is not the file's."""

from __future__ import annotations

import numpy as np
import pytest

import perovscope.io as pio
from perovscope.errors import InputError, check_type, lookup
from perovscope.spectroscopy.quantification import cliff_lorimer


def test_lookup_lists_the_valid_names():
    with pytest.raises(InputError, match=r"unknown phase 'CsPbI4'; valid: CsPbBr3, CsPbI3"):
        lookup({"CsPbI3": 1, "CsPbBr3": 2}, "CsPbI4", what="phase")
    with pytest.raises(InputError, match="unknown phase"):
        lookup({"CsPbI3": 1}, ["CsPbI3"], what="phase")  # unhashable: no TypeError either
    assert lookup({"a": 1}, "a", what="x") == 1


def test_check_type_says_what_was_expected():
    with pytest.raises(InputError, match="phases: expected list or tuple, got int"):
        check_type(3, (list, tuple), what="phases")


def test_k_factor_for_an_element_not_quantified():
    with pytest.raises(InputError, match="k-factor given for Zz.*valid: Cu, O"):
        cliff_lorimer(np.ones((1, 2)), ["Cu", "O"], k_factors={"Zz": 1.1})


def test_read_does_not_hide_failures_of_its_own(tmp_path, monkeypatch, data_file):
    """Only what the third-party reader raises becomes a FormatError; a bug in the conversion is not
    reported as a damaged file."""
    path = data_file("rosettasciio/test_STEM_image.dm3")
    import perovscope.io.reader as reader

    def broken(*args, **kwargs):
        raise TypeError("a bug in the conversion")

    monkeypatch.setattr(reader, "signal_to_dataarray", broken)
    with pytest.raises(TypeError, match="a bug in the conversion"):
        pio.read(path)
