"""Every command × every input it may be given that it cannot use → exit 2, one line, no traceback.

The inputs (``fuzz_inputs``, tests/cli/conftest.py) are small files of every signal kind written with
RosettaSciIO's HyperSpy writer, the same NaN-filled, all-zero and saturated, damaged files (empty,
random bytes, truncated, a random header behind a valid signature, wrong extension), results stores of
other commands and broken session descriptions. Each command is run in-process on each input it does
not accept, under a time limit, and must exit with status 2, print exactly one line on stderr (no
traceback) and leave nothing at its output path. Inputs a command accepts are skipped here (their
analyses are tested against known answers elsewhere), except for ``inspect`` and ``convert``, which
must read every readable input cleanly. The case count is asserted at the end of the module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perovscope.cli import main

KINDS = ("haadf", "eds", "spectrum", "eels", "cl", "fourd")
INPUTS = (
    *KINDS, *(f"{v}_{k}" for v in ("nan", "zero", "saturated") for k in KINDS),
    "empty", "garbage", "truncated", "garbage_dm3", "garbage_mib", "signed_garbage_blo", "wrong_extension",
    "bias_log_csv", "directory", "missing", "strain_store", "edx_store", "empty_store",
    "toml_syntax", "toml_unknown_key", "toml_missing_files", "toml_wrong_kind",
)
#: Inputs that are readable signal files (inspect/convert must succeed on them).
READABLE = {*KINDS, *(f"{v}_{k}" for v in ("nan", "zero", "saturated") for k in KINDS), "bias_log_csv",
            "strain_store", "edx_store", "empty_store"}


def _argv(command: str, path: Path, out: Path) -> tuple[list[str], list[Path]]:
    """The command line of ``command`` on ``path`` and the paths it must not leave behind on failure."""
    p = str(path)
    spec = {
        "inspect": ([p], []),
        "convert": ([p, str(out / "converted.zarr")], [out / "converted.zarr"]),
        "strain": ([p, "--out", str(out / "s.zarr"), "--no-phases"], [out / "s.zarr"]),
        "virtual": ([p, "--bf", "3", "--out", str(out / "v.zarr")], [out / "v.zarr"]),
        "particles": ([p, "--out", str(out / "p.csv")], [out / "p.csv"]),
        "register": ([p, p, "--out", str(out / "r.zarr")], [out / "r.zarr"]),
        "profile": ([p, "--interface", "layers", "--out", str(out / "prof.csv")],
                    [out / "prof.csv", out / "prof.png"]),
        "cl": ([p, "--out", str(out / "cl.zarr")], [out / "cl.zarr", out / "cl.png"]),
        "eels": ([p, "--background-window", "420", "460", "--out", str(out / "eels.zarr")],
                 [out / "eels.zarr", out / "eels.png"]),
        "edx": ([p, "--elements", "Cu", "O", "--out", str(out / "edx.zarr")],
                [out / "edx.zarr", out / "edx.png"]),
        "report": ([p, "--out", str(out / "report.html")], [out / "report.html"]),
        "run": ([p], [path.parent / "res"] if path.suffix == ".toml" else []),
        "init": ([p, "--out", str(out / "session.toml")], [out / "session.toml"]),
    }[command]
    return [command, *spec[0]], spec[1]


#: command -> inputs it accepts (not fuzzed here; their analyses have known-answer tests)
ACCEPTS = {
    "inspect": set(), "convert": set(),
    "strain": {"fourd"}, "virtual": {"fourd"},
    "particles": {"haadf"}, "register": {"haadf"}, "profile": {"haadf"},
    "cl": {"cl"}, "eels": {"eels"}, "edx": {"eds", "spectrum"},
    "report": set(), "run": set(), "init": set(),
}


def _cases():
    for command in ACCEPTS:
        for name in INPUTS:
            if name in ACCEPTS[command]:
                continue
            ok = command in ("inspect", "convert") and name in READABLE
            yield pytest.param(command, name, ok, id=f"{command}-{name}")


CASES = list(_cases())


def _check_clean(capsys, rc: int, *, ok: bool, leftovers, case: str) -> None:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out, case
    if ok:
        assert rc == 0, f"{case}: exit {rc}: {captured.err.strip()}"
        return
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert rc == 2, f"{case}: exit {rc} (expected 2); stderr: {captured.err.strip()[:300]}"
    assert len(lines) == 1, f"{case}: expected one line on stderr, got {len(lines)}: {lines[:4]}"
    assert lines[0].startswith("perovscope"), f"{case}: {lines[0]}"
    for path in leftovers:
        assert not Path(path).exists(), f"{case}: a failed run left {path}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("command", "name", "ok"), CASES)
def test_command_on_input(fuzz_inputs, tmp_path, capsys, command, name, ok):
    argv, leftovers = _argv(command, fuzz_inputs[name], tmp_path)
    if ok and command == "convert":
        leftovers = []
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse refusing the arguments
        rc = exc.code
    _check_clean(capsys, rc, ok=ok, leftovers=leftovers, case=f"{command} {name}")


def test_inputs_match_the_generator(fuzz_inputs):
    assert set(INPUTS) == set(fuzz_inputs)
    assert not fuzz_inputs["missing"].exists()


def test_case_count():
    """The size of the matrix this module runs (quoted in the README)."""
    assert len(CASES) >= 500
