"""The command line shows perovscope's own one-line messages; library warnings are captured, translated
where they mean something to the user, and otherwise shown only with --verbose."""

from __future__ import annotations

import io
import logging
import struct
import warnings

import numpy as np

from perovscope.cli import main
from perovscope.cli._messages import captured_warnings
from perovscope.errors import CalibrationWarning, InputError


def _library_warning(message, category=UserWarning):
    """A warning raised from a library's file (not perovscope's)."""
    warnings.warn_explicit(message, category, filename="/site-packages/rsciio/blockfile/_api.py", lineno=238)


def _run(verbose):
    out = io.StringIO()
    with captured_warnings("inspect", verbose=verbose, stream=out):
        _library_warning("Blockfile has unrecognized header signature. Will attempt to read")
        with np.errstate(all="warn"):
            np.nanmax(np.full((2, 2), np.nan), axis=0)  # RuntimeWarning: All-NaN slice encountered
        warnings.warn("the disk radius differs from the metadata", CalibrationWarning, stacklevel=1)
        warnings.warn("the disk radius differs from the metadata", CalibrationWarning, stacklevel=1)
        logging.getLogger("rsciio.blockfile").warning("a reader log record")
    return out.getvalue().splitlines()


def test_library_warnings_hidden_translated_or_verbose():
    lines = _run(verbose=False)
    assert lines == ["perovscope inspect: warning: some pixels or spectra hold no finite value; their "
                     "results are NaN",
                     "perovscope inspect: warning: the disk radius differs from the metadata"]
    verbose = _run(verbose=True)
    assert any("UserWarning" in ln and "unrecognized header signature" in ln for ln in verbose)
    assert any("rsciio.blockfile warning: a reader log record" in ln for ln in verbose)
    assert len(verbose) == 4


def test_a_failing_command_prints_only_its_error():
    out = io.StringIO()
    try:
        with captured_warnings("edx", stream=out):
            warnings.warn("something on the way", CalibrationWarning, stacklevel=1)
            raise InputError("bad")
    except InputError:
        pass
    assert out.getvalue() == ""


def _blockfile_with_odd_magic(tmp_path):
    from rsciio.blockfile import file_writer

    data = np.random.default_rng(0).integers(0, 255, size=(2, 2, 8, 8)).astype(np.uint8)
    axes = [{"name": n, "size": s, "scale": 1.0, "offset": 0.0, "units": u, "navigate": nav}
            for n, s, u, nav in (("y", 2, "nm", True), ("x", 2, "nm", True), ("ky", 8, "cm", False),
                                 ("kx", 8, "cm", False))]
    path = tmp_path / "scan.blo"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        file_writer(str(path), {"data": data, "axes": axes, "metadata": {}, "original_metadata": {},
                             "attributes": {"_lazy": False}})
    raw = bytearray(path.read_bytes())
    struct.pack_into("<H", raw, 6, 0x0999)  # a signature RosettaSciIO warns about but still reads
    path.write_bytes(bytes(raw))
    return path


def test_inspect_keeps_reader_warnings_off_the_terminal(tmp_path, capsys):
    path = _blockfile_with_odd_magic(tmp_path)
    assert main(["inspect", str(path)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["inspect", str(path), "--verbose"]) == 0
    assert "unrecognized header signature" in capsys.readouterr().err
    assert main(["--verbose", "inspect", str(path)]) == 0
    assert "unrecognized header signature" in capsys.readouterr().err
