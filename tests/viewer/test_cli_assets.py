"""``perovscope view`` on the command line, and the page's shipped assets."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from importlib import resources

import pytest

from perovscope.cli import main
from perovscope.viewer import colormaps
from perovscope.viewer.server import STATIC_FILES


@pytest.mark.parametrize("case", ["missing", "empty", "not-a-store"])
def test_view_refuses_non_results_folder(tmp_path, capsys, case):
    target = tmp_path / "nothing"
    if case != "missing":
        target.mkdir()
    if case == "not-a-store":
        (target / "results.zarr").mkdir()
        (target / "results.zarr" / "junk").write_text("junk")
    assert main(["view", str(target), "--no-browser", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("perovscope view: error:") and str(target) in err[0]


def test_view_refuses_non_loopback_host(results_dir, capsys):
    assert main(["view", str(results_dir), "--host", "0.0.0.0", "--no-browser"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_view_serves_until_interrupted(results_dir):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "perovscope.cli", "view", str(results_dir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "api/index", timeout=20) as resp:
            assert json.load(resp)["session"] == "viewer-test"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_assets_are_package_data_and_local_only():
    folder = resources.files("perovscope.viewer").joinpath("static")
    for name in STATIC_FILES:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn|@import", text), f"{name} refers to something outside the page"
    html = folder.joinpath("index.html").read_text(encoding="utf-8")
    for name in STATIC_FILES:
        if name != "index.html":
            assert f"/static/{name}" in html
    for el in ('id="frame-label"', 'id="readout"', 'id="timeline-cursor"'):
        assert el in html


def test_colormaps_js_is_generated():
    shipped = resources.files("perovscope.viewer").joinpath("static", "colormaps.js").read_text("utf-8")
    assert shipped == colormaps.colormaps_js(), "regenerate with `python -m perovscope.viewer.colormaps`"
    tables = dict(re.findall(r"^  (\w+): \{label: \"[^\"]*\", hex: \"([0-9a-f]+)\"\}", shipped, re.M))
    assert set(tables) == {*colormaps.COLORMAPS, "categorical"}
    assert all(len(tables[k]) == 256 * 6 for k in colormaps.COLORMAPS)
    assert tables["grey"][:6] == "000000" and tables["grey"][-6:] == "ffffff"
