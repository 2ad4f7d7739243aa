"""Fixtures for the bulk techniques: run ``perovscope bulk`` in-process and capture its output."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def run_bulk(tmp_path, capsys):
    """``run_bulk(technique, *args) -> (status, stdout, stderr, out_dir)`` of ``perovscope bulk``.

    ``--out`` defaults to a fresh folder under ``tmp_path``; with ``--json`` in ``args`` the stdout is
    parsed and returned as a list of row dicts instead of text.
    """
    from perovscope.cli import main

    def _run(technique: str, *args: str):
        args = [str(a) for a in args]
        out = tmp_path / f"{technique}_out"
        if "--out" not in args:
            args += ["--out", str(out)]
        else:                               # a relative --out is a folder under tmp_path, never the cwd
            i = args.index("--out") + 1
            out = tmp_path / args[i]
            args[i] = str(out)
        status = main(["bulk", technique, *args])
        captured = capsys.readouterr()
        stdout = json.loads(captured.out) if "--json" in args and status == 0 else captured.out
        return status, stdout, captured.err, out

    return _run
