"""Start-up time of the command line: ``perovscope --help`` and ``perovscope inspect`` of a small file.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_startup [--repeats 7]

Each command runs in a fresh subprocess (the interpreter, imports and the work, as a user waits for
it); the median and the spread of ``repeats`` runs after one warm-up run (file cache) are written to
``benchmarks/results/startup.json`` together with the biggest imports of each command
(``python -X importtime``); ``--baseline-src DIR`` times another source tree the same way (the ratio
is ``speed_up``). Targets on the CI machine: ``--help`` under 0.5 s, ``inspect`` of a small
file under 1.5 s. The small file is ``rosettasciio/test_STEM_image.dm3`` (68 x 68 px, 18 KB) from the
shared data folder. Tests never assert these times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "startup.json"
SMALL_FILE = "rosettasciio/test_STEM_image.dm3"
TARGETS_S = {"help": 0.5, "inspect_small_dm3": 1.5}


def _data_dir() -> Path:
    env = os.environ.get("PEROVSCOPE_TEST_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def _env(src: Path | None) -> dict | None:
    """The environment that imports perovscope from ``src`` (another source tree) instead."""
    if src is None:
        return None
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}


def _time(argv: list[str], repeats: int, src: Path | None = None) -> dict:
    cmd = [sys.executable, "-m", "perovscope.cli", *argv]
    env = _env(src)
    subprocess.run(cmd, capture_output=True, check=True, env=env)  # warm-up: file cache, .pyc files
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - t0)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3), "repeats": repeats}


def _top_imports(argv: list[str], n: int = 8) -> list[dict]:
    """The top-level packages that cost most to import (cumulative microseconds -> seconds)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "perovscope.cli", *argv],
                          capture_output=True, text=True)
    costs: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|", 2))
        if cumulative.isdigit() and "." not in name.strip():
            costs[name] = max(costs.get(name, 0), int(cumulative))
    top = sorted(costs.items(), key=lambda kv: -kv[1])[:n]
    return [{"module": name, "import_s": round(us / 1e6, 3)} for name, us in top]


def main(argv: list[str] | None = None) -> dict:
    """Time the commands and write ``benchmarks/results/startup.json``; returns the document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="also time the perovscope of another source tree (its src/ folder), e.g. "
                             "`git archive HEAD src | tar -x -C /tmp/base` for the last commit")
    args = parser.parse_args(argv)
    small = _data_dir() / SMALL_FILE
    cases = {"help": ["--help"]}
    if small.is_file():
        cases["inspect_small_dm3"] = ["inspect", str(small)]
    doc = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)},
           "targets_s": TARGETS_S, "results": {}}
    for name, case in cases.items():
        result = _time(case, args.repeats)
        result["target_s"] = TARGETS_S[name]
        result["top_imports"] = _top_imports(case)
        if args.baseline_src is not None:
            result["baseline"] = _time(case, args.repeats, args.baseline_src)
            result["speed_up"] = round(result["baseline"]["median_s"] / result["median_s"], 2)
        doc["results"][name] = result
        base = f"; baseline {result['baseline']['median_s']:.3f} s" if "baseline" in result else ""
        print(f"{name}: median {result['median_s']:.3f} s (min {result['min_s']:.3f}, max "
              f"{result['max_s']:.3f}; target {TARGETS_S[name]} s{base})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return doc


if __name__ == "__main__":
    main()
