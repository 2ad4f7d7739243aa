"""The package surface: lazy areas, version, and --help on every command."""

import subprocess
import sys

import pytest

import perovscope as ps
from perovscope.cli import build_parser, main


def test_areas_load_on_first_use():
    # in a fresh interpreter: importing perovscope loads no area; touching one loads just that one
    code = ("import sys, perovscope as ps\n"
            "areas = ('io', 'simulate', 'diffraction', 'spectroscopy', 'imaging', 'bulk', 'pipeline')\n"
            "print(sorted(a for a in areas if 'perovscope.' + a in sys.modules))\n"
            "read = ps.io.read\n"
            "print(sorted(a for a in areas if 'perovscope.' + a in sys.modules), read.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, after = out.splitlines()
    assert before == "[]" and after.startswith("['io']") and after.endswith("perovscope.io.reader")
    assert callable(ps.simulate.simulate_device) and ps.simulate.simulate_device.__name__ == "simulate_device"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ps.nope  # noqa: B018


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and ps.__version__ in capsys.readouterr().out
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"inspect", "convert", "simulate", "strain", "virtual", "particles", "register", "profile",
            "cl", "eels", "edx"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0, name


def test_import_has_no_heavy_side_effects():
    code = "import sys, perovscope; print('xarray' in sys.modules, 'rsciio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
