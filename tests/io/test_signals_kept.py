"""Every signal a file holds is kept: the tree ``read`` returns is compared with the list of signals
RosettaSciIO's reader returns, over every multi-signal file, and element maps are recognised by their
titles whatever the technique (``"Cu"``, ``"Fe-EELS"``, ``"Cu K"``)."""

from __future__ import annotations

import importlib
from collections import Counter

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.io._signals import assemble, element_map_title, signal_to_dataarray
from perovscope.io.formats import detect_format

#: Every multi-signal file of ../shared/data (the Velox EELS + EDS file when it has been added).
MULTI_SIGNAL = ["rosettasciio/Test SI 16x16 215 kx.emd", "rosettasciio/multi_signal.dm3",
                "rosettasciio/test_TEM.bcf", "rosettasciio/30x30_instructively_packed_16bit_compressed.bcf",
                "rosettasciio/example_velox_EELS_EDS.emd"]


def _reader_inventory(path):
    fmt = detect_format(path)
    module = importlib.import_module(fmt.module)
    kwargs = {"lazy": True} if fmt.lazy else {}
    signals = module.file_reader(str(path), **kwargs)
    return Counter((str(s["metadata"]["General"].get("title", "")), tuple(np.shape(s["data"])))
                   for s in signals)


def _tree_inventory(tree):
    out = Counter()
    for node in tree.subtree:
        for var in node.data_vars.values():
            if "element" in var.dims and "titles" in var.attrs:  # a stack: one entry per map
                shape = tuple(s for d, s in var.sizes.items() if d != "element")
                out.update((t, shape) for t in var.attrs["titles"])
            else:
                out[(str(var.attrs.get("title", "")), tuple(var.shape))] += 1
    return out


def _normalised(inventory):
    """Shapes compared without size-1 axes (dropped) and without order (perovscope transposes)."""
    return Counter({(t, tuple(sorted(s for s in shape if s != 1))): n for (t, shape), n in inventory.items()})


@pytest.mark.parametrize("rel", MULTI_SIGNAL)
def test_every_signal_of_the_file_is_in_the_tree(data_file, rel):
    path = data_file(rel)
    tree = pio.read(path)
    assert isinstance(tree, xr.DataTree)
    expected, got = _reader_inventory(path), _tree_inventory(tree)
    expected, got = _normalised(expected), _normalised(got)
    assert got == expected, f"{rel}: missing {expected - got}, extra {got - expected}"


def _map(title, shape=(4, 5)):
    return {"data": np.arange(np.prod(shape), dtype=np.float32).reshape(shape),
            "axes": [{"name": "y", "size": shape[0], "scale": 2.0, "units": "nm", "navigate": False},
                     {"name": "x", "size": shape[1], "scale": 2.0, "units": "nm", "navigate": False}],
            "metadata": {"General": {"title": title}, "Signal": {"signal_type": ""}}}


def test_element_maps_of_several_techniques_are_all_kept():
    """A Velox file with EDS maps (``Fe``), EELS maps (``Fe-EELS``) and an image: every map is kept,
    each technique stacked on its own node."""
    titles = ["Fe-EELS", "Co-EELS", "O-EELS", "Co", "DF-S", "O", "Fe", "Cu K"]
    arrays = [signal_to_dataarray(_map(t), fmt="emd", source="velox.emd") for t in titles]
    tree = assemble(arrays, source="velox.emd", fmt="emd")
    eds, eels = tree["element_map/element_map"], tree["element_map_eels/element_map_eels"]
    assert list(eels["element"].values) == ["Fe", "Co", "O"] and eels.attrs["technique"] == "eels"
    assert list(eds["element"].values) == ["Co", "O", "Fe", "Cu"]
    assert eds.attrs["titles"] == ["Co", "O", "Fe", "Cu K"]
    assert tree["adf/adf"].attrs["title"] == "DF-S"
    assert sum(v.sizes.get("element", 1) for n in tree.subtree for v in n.data_vars.values()) == len(titles)


@pytest.mark.parametrize(("title", "expected"), [
    ("Fe", ("Fe", "eds")), ("Fe-EELS", ("Fe", "eels")), ("Ti L2,3", ("Ti", "eds")), ("Cu_Ka", ("Cu", "eds")),
    ("HAADF", None), ("DF-S", None), ("SE", None), ("BF", None), ("EDS", None)])
def test_element_map_titles(title, expected):
    assert element_map_title(title) == expected
