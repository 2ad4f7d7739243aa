"""One progress helper for every command: a bar on a terminal; on a log file a line per step and a few
percentage lines, never carriage returns."""

from __future__ import annotations

import io
import time

import dask
import dask.array as dsa

from perovscope.pipeline.progress_lines import StepProgress
from perovscope.progress import Progress, dask_progress, progress_iter


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_log_file_prints_a_few_lines():
    log = io.StringIO()
    with Progress("strain", 200, stream=log) as bar:
        for _ in range(200):
            bar.update()
    lines = log.getvalue().splitlines()
    assert lines == ["strain: started (200 frames)", "strain: 25 %", "strain: 50 %", "strain: 75 %",
                     "strain: done"]
    assert "\r" not in log.getvalue()


def test_progress_iter_and_single_unit_step():
    log = io.StringIO()
    assert list(progress_iter(range(4), desc="writing frames", stream=log)) == [0, 1, 2, 3]
    Progress("report", 1, stream=log).close("1.0 s")
    assert log.getvalue().splitlines() == ["writing frames: started (4 frames)", "writing frames: 25 %",
                                           "writing frames: 50 %", "writing frames: 75 %",
                                           "writing frames: done", "report: 1.0 s"]


def test_dask_progress_on_a_log_file():
    log = io.StringIO()

    def slow(block):
        time.sleep(0.01)
        return block

    x = dsa.ones((40, 10), chunks=(1, 10)).map_blocks(slow)
    with dask.config.set(scheduler="threads"), dask_progress(label="edx: fitting", stream=log, minimum=0):
        x.sum().compute()
    lines = log.getvalue().splitlines()
    assert lines[0] == "edx: fitting: started" and lines[-1].startswith("edx: fitting: done")
    assert [ln for ln in lines if ln.endswith("%")] == ["edx: fitting: 25 %", "edx: fitting: 50 %",
                                                       "edx: fitting: 75 %"]
    assert "\r" not in log.getvalue()
    quiet = io.StringIO()
    with dask_progress(label="quick", stream=quiet):  # under `minimum` seconds: nothing at all
        dsa.ones(4).sum().compute()
    assert quiet.getvalue() == ""


def test_bar_on_a_terminal_and_the_pipeline_uses_the_same_helper():
    tty = _Terminal()
    with Progress("strain", 3, stream=tty) as bar:
        bar.update(3)
    assert "\r" in tty.getvalue()  # a tqdm bar
    assert StepProgress is Progress
    silent = io.StringIO()
    Progress("x", 5, quiet=True, stream=silent).update(5)
    assert silent.getvalue() == ""
