"""Wrong option values on valid inputs, the reader-hang files on every command that reads them, and
wrong simulator parameters → exit 2, one line, no traceback, nothing left at the output path.

The random ``.blo`` files (4096 ``random.getrandbits(8)`` bytes after ``random.seed(0)`` and
``seed(7)``) once kept ``perovscope inspect`` at 100 % CPU and 15 GB of virtual memory for more than
ten minutes; ``inspect`` is run on them in a subprocess with a hard time limit, the other commands
in-process under a pytest time limit.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perovscope.cli import main

#: (case id, argv with {name} placeholders for fuzz inputs and {out} for the output folder, leftovers)
OPTION_CASES = [
    ("edx-unknown-element", "edx {eds} --elements Xx --out {out}/e.zarr", ["e.zarr"]),
    ("edx-kfactor-unknown-element", "edx {eds} --elements Cu O --k-factor Zz=1.1 --out {out}/e.zarr",
     ["e.zarr"]),
    ("edx-kfactor-syntax", "edx {eds} --elements Cu O --k-factor Cu --out {out}/e.zarr", ["e.zarr"]),
    ("edx-bin-zero", "edx {eds} --elements Cu O --bin 0 --out {out}/e.zarr", ["e.zarr"]),
    ("edx-bin-negative", "edx {eds} --elements Cu O --bin -2 --out {out}/e.zarr", ["e.zarr"]),
    ("edx-pca-negative", "edx {eds} --elements Cu O --pca -1 --out {out}/e.zarr", ["e.zarr"]),
    ("edx-fwhm-negative", "edx {eds} --elements Cu O --fwhm -5 --out {out}/e.zarr", ["e.zarr"]),
    ("edx-beam-energy-negative", "edx {eds} --elements Cu O --beam-energy-keV -200 --out {out}/e.zarr",
     ["e.zarr"]),
    ("edx-out-not-zarr", "edx {eds} --elements Cu O --out {out}/e.txt", ["e.txt"]),
    ("eels-unknown-edge", "eels {eels} --background-window 420 460 --edges Foo_K --out {out}/l.zarr",
     ["l.zarr"]),
    ("eels-window-off-axis", "eels {eels} --background-window 1 2 --out {out}/l.zarr", ["l.zarr"]),
    ("eels-window-reversed", "eels {eels} --background-window 460 420 --out {out}/l.zarr", ["l.zarr"]),
    ("eels-edge-width-negative", "eels {eels} --background-window 420 460 --edges O_K --edge-width -5 "
     "--out {out}/l.zarr", ["l.zarr"]),
    ("cl-window-off-axis", "cl {cl} --window 1 2 --out {out}/c.zarr", ["c.zarr"]),
    ("cl-components", "cl {cl} --components 3 --out {out}/c.zarr", ["c.zarr"]),
    ("particles-threshold-word", "particles {haadf} --threshold banana --out {out}/p.csv", ["p.csv"]),
    ("particles-unknown-signal", "particles {haadf} --signal nope --out {out}/p.csv", ["p.csv"]),
    ("particles-out-extension", "particles {haadf} --out {out}/p.txt", ["p.txt"]),
    ("particles-pixel-size-negative", "particles {haadf} --pixel-size -1 --out {out}/p.csv", ["p.csv"]),
    ("particles-smooth-negative", "particles {haadf} --smooth -3 --out {out}/p.csv", ["p.csv"]),
    ("register-single-image", "register {haadf} --out {out}/r.zarr", ["r.zarr"]),
    ("register-upsample-zero", "register {haadf} {haadf} --upsample 0 --out {out}/r.zarr", ["r.zarr"]),
    ("profile-index-too-large", "profile {haadf} --interface layers --index 99 --out {out}/q.csv",
     ["q.csv", "q.png"]),
    ("profile-unknown-feature", "profile {haadf} --interface layers --features nope --out {out}/q.csv",
     ["q.csv", "q.png"]),
    ("profile-n-layers-zero", "profile {haadf} --interface layers --n-layers 0 --out {out}/q.csv",
     ["q.csv", "q.png"]),
    ("profile-bin-zero", "profile {haadf} --interface layers --bin 0 --out {out}/q.csv", ["q.csv", "q.png"]),
    ("profile-unknown-interface", "profile {haadf} --interface rings --out {out}/q.csv", ["q.csv"]),
    ("strain-reference-empty-box", "strain {fourd} --reference 0:0,0:0 --out {out}/s.zarr", ["s.zarr"]),
    ("strain-reference-syntax", "strain {fourd} --reference middle --out {out}/s.zarr", ["s.zarr"]),
    ("strain-reference-missing-mask", "strain {fourd} --reference nope.npy --out {out}/s.zarr", ["s.zarr"]),
    ("strain-missing-cif", "strain {fourd} --phase-cif nope.cif --out {out}/s.zarr", ["s.zarr"]),
    ("strain-unknown-node", "strain {fourd} --node nope --out {out}/s.zarr", ["s.zarr"]),
    ("strain-missing-probe", "strain {fourd} --probe nope.npy --out {out}/s.zarr", ["s.zarr"]),
    ("strain-pixel-size-negative", "strain {fourd} --pixel-size -1 --out {out}/s.zarr", ["s.zarr"]),
    ("virtual-no-detector", "virtual {fourd} --out {out}/v.zarr", ["v.zarr"]),
    ("virtual-bf-negative", "virtual {fourd} --bf -2 --out {out}/v.zarr", ["v.zarr"]),
    ("virtual-adf-reversed", "virtual {fourd} --adf 6 2 --out {out}/v.zarr", ["v.zarr"]),
    ("virtual-centre-outside", "virtual {fourd} --bf 2 --centre 500 500 --out {out}/v.zarr", ["v.zarr"]),
    ("convert-out-not-zarr", "convert {haadf} {out}/c.txt", ["c.txt"]),
    ("convert-onto-itself", "convert {strain_store} {strain_store}", []),
    ("report-not-a-results-folder", "report {directory} --out {out}/report.html", ["report.html"]),
    ("init-no-instrument-files", "init {directory} --out {out}/session.toml", ["session.toml"]),
    ("simulate-unknown-param", "simulate composite --out {out}/s.zarr --param nope=1", ["s.zarr"]),
    ("simulate-param-syntax", "simulate composite --out {out}/s.zarr --param size", ["s.zarr"]),
    ("simulate-negative-pixel", "simulate composite --out {out}/s.zarr --pixel-size -1", ["s.zarr"]),
    ("simulate-zero-particles-size", "simulate composite --out {out}/s.zarr --diameter 0", ["s.zarr"]),
    ("simulate-device-zero-frames", "simulate device --out {out}/s.zarr --frames 0", ["s.zarr"]),
    ("simulate-device-bad-scan", "simulate device --out {out}/s.zarr --scan 0 4", ["s.zarr"]),
    ("simulate-glass-fraction", "simulate glass-domains --out {out}/s.zarr --area-fraction 2", ["s.zarr"]),
    ("simulate-nanospheres-zero", "simulate nanospheres --out {out}/s.zarr --spheres -1", ["s.zarr"]),
    ("simulate-out-is-a-file", "simulate composite --out {eds}", []),
    ("simulate-device-files-on-file", "simulate device --as-files {eds}", []),
    ("simulate-param-wrong-type", "simulate composite --out {out}/s.zarr --param n_particles='many'",
     ["s.zarr"]),
]


def _expand(template: str, inputs: dict[str, Path], out: Path) -> list[str]:
    words = []
    for word in template.split():
        for key, path in inputs.items():
            word = word.replace("{" + key + "}", str(path))
        words.append(word.replace("{out}", str(out)))
    return words


def _assert_one_line_exit_2(capsys, rc, case: str) -> None:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err + captured.out, case
    assert rc == 2, f"{case}: exit {rc}; stderr: {captured.err.strip()[:300]}"
    assert len(lines) == 1 and lines[0].startswith("perovscope"), f"{case}: {lines[:4]}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("case", "template", "leftovers"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_wrong_option(fuzz_inputs, tmp_path, capsys, case, template, leftovers):
    try:
        rc = main(_expand(template, fuzz_inputs, tmp_path))
    except SystemExit as exc:  # argparse: one line too
        rc = exc.code
    _assert_one_line_exit_2(capsys, rc, case)
    for name in leftovers:
        assert not (tmp_path / name).exists(), f"{case}: left {name}"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", ["convert", "strain", "virtual"])
@pytest.mark.parametrize("seed", [0, 7])
def test_hang_files_in_process(fuzz_hang_inputs, tmp_path, capsys, command, seed):
    path = fuzz_hang_inputs[f"random_blo_seed{seed}"]
    argv = {"convert": ["convert", str(path), str(tmp_path / "c.zarr")],
            "strain": ["strain", str(path), "--out", str(tmp_path / "s.zarr")],
            "virtual": ["virtual", str(path), "--bf", "3", "--out", str(tmp_path / "v.zarr")]}[command]
    _assert_one_line_exit_2(capsys, main(argv), f"{command} seed {seed}")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("seed", [0, 7])
def test_inspect_hang_files_subprocess(fuzz_hang_inputs, seed):
    """A separate process with a hard time limit: a hang is a failure, not a stuck test run."""
    path = fuzz_hang_inputs[f"random_blo_seed{seed}"]
    proc = subprocess.run([sys.executable, "-m", "perovscope.cli", "inspect", str(path)], capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-500:]
    assert "blockfile" in lines[0]
