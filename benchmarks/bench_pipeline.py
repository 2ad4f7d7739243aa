"""The whole session: ``perovscope run`` end to end, and the pipeline's overhead over the engines.

Run: ``.venv/bin/python -m benchmarks.bench_pipeline [--frames 8] [--only-budget]``. Writes
``results/pipeline.json`` (``--only-budget``: the ``memory_budget`` entry only):

* ``end_to_end``: the default simulated device session written as instrument files, then
  ``perovscope run`` (every step and the report) in a child process: wall time and peak RSS.
* ``overhead``: the same analysis steps called directly on the in-memory session
  (``StepContext.from_tree``, frames stacked in a loop, no store, no cache) against ``run_session`` on
  the files (reading, fingerprints, atomic writes, provenance, tables): the ratio − 1 is the overhead.
* ``demo``: ``make demo``'s commands (device + composite sessions), wall time.
* ``memory_budget``: a session whose 4D-STEM data are about 4× ``--memory-budget`` (4 frames of a
  64×64 scan on a 128×128 detector, 128 MiB per frame in memory, budget 128 MiB), run with that
  budget in a child process: peak RSS against the target budget + 512 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PS = [sys.executable, "-m", "perovscope.cli"]


#: Started by :func:`_child`: runs the command, waits for it and prints its exit code and peak RSS (KiB).
_LAUNCH = ("import os, subprocess, sys\n"
           "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
           "_, status, usage = os.wait4(p.pid, 0)\n"
           "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")


def _child(cmd: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB, all its threads: one process) of one child process.

    The peak is that child's own (``wait4``). The command is started by a small launcher process
    rather than from this one: Linux counts the resident set of the process that executes a program
    (this benchmark's, over 1 GB once ``run_session`` has run in-process) towards the new program's
    peak, which would report the benchmark's footprint instead of the command's.
    """
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.split()
    code, peak_kib = int(out[-2]), int(out[-1])
    if code:
        raise subprocess.CalledProcessError(code, cmd)
    return time.perf_counter() - t0, peak_kib / 1024


def _direct(frames: int) -> float:
    from perovscope.pipeline.context import StepContext
    from perovscope.pipeline.steps import STEPS
    from perovscope.simulate import simulate_device

    tree = simulate_device(seed=0, n_frames=frames)
    ctx = StepContext.from_tree(tree)
    import xarray as xr

    t0 = time.perf_counter()
    results = {}
    for step in STEPS:
        ups = {n: results[n] for n in step.needs if n in results}
        c = ctx.with_(params=dict(step.defaults), upstream=ups)
        if step.run is not None:
            results[step.name] = step.run(c)
            continue
        prepared = step.prepare(c) if step.prepare else {}
        ds = xr.concat([step.frame(c, i, prepared) for i in range(c.n_frames)], dim="time",
                       combine_attrs="override")
        results[step.name] = step.finish(c, ds) if step.finish else ds
    return time.perf_counter() - t0


def _budget_session(tmp: Path, budget_mib: int = 128) -> dict:
    folder = tmp / "budget"
    _child([*PS, "simulate", "device", "--as-files", str(folder), "--frames", "4", "--scan", "64", "64",
            "--detector", "128", "128", "--quiet"])
    data_mib = 4 * 64 * 64 * 128 * 128 * 2 / 2**20  # uint16 counts in memory
    load = round(os.getloadavg()[0], 2)
    wall, rss = _child([*PS, "run", str(folder / "session.toml"), "--quiet", "--memory-budget",
                        f"{budget_mib}MiB"])
    return {"budget_mib": budget_mib, "data_mib": round(data_mib), "wall_s": round(wall, 1),
            "peak_rss_mib": round(rss, 1), "target_mib": budget_mib + 512,
            "met": bool(rss <= budget_mib + 512), "load_before": load}


def _update_budget_entry() -> None:
    path = HERE / "results" / "pipeline.json"
    out = json.loads(path.read_text()) if path.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        out["memory_budget"] = _budget_session(Path(tmp))
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out["memory_budget"], indent=2))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--only-budget", action="store_true",
                    help="measure the memory-budget session only and update that entry of the results")
    args = ap.parse_args()
    out = {"frames": args.frames, "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    if args.only_budget:
        _update_budget_entry()
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "device"
        out["simulate_as_files_s"], _ = _child([*PS, "simulate", "device", "--as-files", str(folder),
                                                "--frames", str(args.frames), "--quiet"])
        wall, rss = _child([*PS, "run", str(folder / "session.toml"), "--quiet"])
        out["end_to_end"] = {"wall_s": round(wall, 2), "peak_rss_mib": round(rss, 1)}
        prov = json.loads((folder / "results" / "provenance.json").read_text())
        steps_s = sum(r.get("seconds", 0) for r in prov["steps"].values())
        out["end_to_end"]["steps_s"] = round(steps_s, 2)
        from perovscope.pipeline import run_session

        t0 = time.perf_counter()
        run_session(folder / "session.toml", force=["all"], quiet=True)
        pipe = time.perf_counter() - t0
    direct = _direct(args.frames)
    out["overhead"] = {"run_session_s": round(pipe, 2), "engines_direct_s": round(direct, 2),
                       "overhead": round(pipe / direct - 1, 3)}
    with tempfile.TemporaryDirectory() as tmp:
        out["memory_budget"] = _budget_session(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp)
        t0 = time.perf_counter()
        subprocess.run(["make", "demo", f"DEMO={demo / 'demo'}"], cwd=HERE.parent, check=True,
                       stdout=subprocess.DEVNULL)
        out["demo_s"] = round(time.perf_counter() - t0, 1)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "pipeline.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
