"""User mistakes on input paths give InputError / FormatError naming the file and the reason."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio
from perovscope.errors import FormatError, InputError, PerovscopeError


def test_missing_file(tmp_path):
    path = tmp_path / "nothere.dm4"
    with pytest.raises(InputError, match="no such file") as info:
        pio.read(path)
    assert str(path) in str(info.value)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        pio.read(tmp_path)


@pytest.mark.parametrize("ext", [".dm3", ".mib", ".emd", ".bcf", ".msa", ".hspy", ".xy", ".brml", ".xml"])
def test_empty_file(tmp_path, ext):
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        pio.read(path)


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.foo"
    path.write_bytes(b"12345")
    with pytest.raises(FormatError, match="unknown file extension '.foo'") as info:
        pio.read(path)
    assert ".dm4" in str(info.value)  # lists what is supported


@pytest.mark.parametrize(("ext", "content"), [
    (".dm3", b"not a gatan file" * 10),
    (".h5", b"not hdf5 at all" * 10),
    (".hspy", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100),
    (".emd", b"garbage" * 50),
    (".xml", b"<RawData><Datum>1,2,oops</Datum></RawData>"),
    (".xml", b"<LabSpec><unclosed>"),
    (".brml", b"PK\x03\x04 not a zip"),
    (".xy", b"only one column\n1\n2\n"),
    (".csv", b"a,b\n1,2\n3\n"),
])
def test_corrupt_content(tmp_path, ext, content):
    path = tmp_path / f"bad{ext}"
    path.write_bytes(content)
    with pytest.raises(PerovscopeError) as info:
        pio.read(path)
    assert path.name in str(info.value)


def test_unknown_option_names_valid_ones(data_file):
    with pytest.raises(InputError, match="unknown option"):
        pio.read(data_file("exspy/coreloss_spectrum.msa"), nonsense=1)


@pytest.mark.parametrize("rel", ["xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy", "xrd-analysis/test.brml"])
def test_unknown_option_for_own_readers(data_file, rel):
    with pytest.raises(InputError, match="unknown option"):
        pio.read(data_file(rel), nonsense=1)


def test_write_mode_refused(data_file):
    with pytest.raises(InputError, match="read-only"):
        pio.read(data_file("lumispy/asymmetric_peak_map.hspy"), mode="a")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.msa"
    path.write_text("#FORMAT : EMSA\n")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            pio.read(path)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_input_files_opened_read_only(data_file, tmp_path):
    """Reading works on a read-only copy and leaves its bytes untouched."""
    src = data_file("rosettasciio/EELS_SI.dm4")
    copy = tmp_path / src.name
    copy.write_bytes(src.read_bytes())
    copy.chmod(stat.S_IRUSR)
    before = copy.read_bytes()
    da = pio.read(copy)
    assert float(da.values.sum(dtype=np.float64)) == pytest.approx(7169069.07, abs=0.01)
    assert copy.read_bytes() == before


def test_results_store_roundtrip_through_read(tmp_path):
    da = xr.DataArray(np.arange(12, dtype=np.uint16).reshape(3, 4), dims=("y", "x"), name="haadf",
                      coords={"y": ("y", np.arange(3.0), {"units": "nm"}),
                              "x": ("x", np.arange(4.0), {"units": "nm"})},
                      attrs={"signal": "haadf", "units": "counts"})
    out = pio.save(da, tmp_path / "r.zarr")
    tree = pio.read(out)
    assert isinstance(tree, xr.DataTree)
    back = tree["haadf"]
    np.testing.assert_array_equal(back.values, da.values)
    assert back.attrs["signal"] == "haadf" and back.x.attrs["units"] == "nm"
    eager = pio.read(out, lazy=False)
    assert isinstance(eager["haadf"].data, np.ndarray)


def test_incomplete_results_store_is_a_format_error(tmp_path):
    bad = tmp_path / "half.zarr"
    bad.mkdir()
    with pytest.raises(FormatError, match="not a complete"):
        pio.read(bad)


def test_merlin_header_without_data(tmp_path):
    hdr = tmp_path / "scan.hdr"
    hdr.write_text("HDR,\n")
    with pytest.raises(FormatError, match="without its data file"):
        pio.read(hdr)


_AUDIT: dict = {"root": None, "events": [], "hooked": False}


def _audit(event, args):
    root = _AUDIT["root"]
    if root is None:
        return
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike) and str(root) in os.fsdecode(
            args[0]):
        _AUDIT["events"].append(("open", os.fsdecode(args[0]), args[1], args[2]))
    elif event == "mmap.__new__":
        _AUDIT["events"].append(("mmap", None, args[2], None))


@pytest.mark.parametrize("rel", ["rosettasciio/EELS_SI.dm4", "rosettasciio/001_4x2_6bit.mib",
                                 "rosettasciio/test_TEM.bcf", "exspy/coreloss_spectrum.msa",
                                 "rosettasciio/jobinyvon_test_spec.xml", "xrd-analysis/test.brml",
                                 "xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy"])
def test_every_python_level_open_is_read_only(data_file, tmp_path, rel):
    """A Python audit hook sees every ``open`` and ``mmap`` made while reading and computing: none may
    ask for write access (HDF5 files are opened by the C library with mode "r", not audited here)."""
    import mmap
    import sys

    if not _AUDIT["hooked"]:
        sys.addaudithook(_audit)  # audit hooks cannot be removed; it is inert outside this test
        _AUDIT["hooked"] = True
    src = data_file(rel)
    copy = tmp_path / src.name
    copy.write_bytes(src.read_bytes())
    _AUDIT["root"], _AUDIT["events"] = tmp_path, []
    try:
        pio.read(copy).load()
    finally:
        _AUDIT["root"] = None
    opens = [e for e in _AUDIT["events"] if e[0] == "open"]
    assert opens, "the audit hook saw no open of the input"
    for _, path, mode, flags in opens:
        if mode is not None:
            assert not set(str(mode)) & set("wax+"), f"{path} opened with mode {mode!r}"
        if isinstance(flags, int):
            assert not flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC), path
    for _, _, access, _ in (e for e in _AUDIT["events"] if e[0] == "mmap"):
        assert access in (mmap.ACCESS_READ, mmap.ACCESS_COPY), f"memory map with access {access}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("root", ["RawData", "LSX_Tree"])
def test_xml_entity_bomb_is_refused(tmp_path, root):
    """A 'billion laughs' document (10**9 expanded entities) is rejected by expat's amplification
    limit as a FormatError instead of exhausting memory, for both XML readers."""
    entities = "\n".join(f' <!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE r [\n <!ENTITY l0 "lol">\n{entities}\n]>\n<{root}><Datum>&l9;' \
          f"</Datum></{root}>\n"
    path = tmp_path / "bomb.xml"
    path.write_text(doc)
    with pytest.raises(FormatError):
        pio.read(path)
