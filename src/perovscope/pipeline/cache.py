"""Content fingerprints of input files, cache keys of steps, and why a step (re)ran.

A step's cache key is the SHA-256 of its name, options, the perovscope version, the keys of its
upstream steps and the fingerprints (size + SHA-256 of the content) of the files it reads. A step
whose stored group carries the same key is not run again. Fingerprints are remembered per
``(path, size, modification time)`` in ``RESULTS/.work/fingerprints.json`` so a rerun does not hash
unchanged files again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["Fingerprints", "cache_key", "why_ran", "canonical_json"]


def canonical_json(value) -> str:
    """JSON with sorted keys and no whitespace, the form hashed into cache keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class Fingerprints:
    """SHA-256 fingerprints of files, remembered across runs in a JSON file."""

    def __init__(self, memo_path: Path):
        self.memo_path = Path(memo_path)
        try:
            self._memo = json.loads(self.memo_path.read_text())
        except (OSError, ValueError):
            self._memo = {}

    def __call__(self, path) -> dict:
        """``{"size": bytes, "sha256": hex}`` of ``path`` (a file, or a folder store such as ``.zarr``).

        A folder's fingerprint covers every file in it: their relative paths and contents, in order.
        """
        path = Path(path).resolve()
        members = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        stats = [p.stat() for p in members]
        size = sum(st.st_size for st in stats)
        newest = max((st.st_mtime_ns for st in stats), default=0)
        memo_key = f"{path}|{len(members)}|{size}|{newest}"
        if memo_key not in self._memo:
            h = hashlib.sha256()
            for member in members:
                if member != path:
                    h.update(member.relative_to(path).as_posix().encode() + b"\0")
                with open(member, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 22), b""):
                        h.update(block)
            self._memo[memo_key] = {"size": size, "sha256": h.hexdigest()}
        return self._memo[memo_key]

    def many(self, paths: Iterable, *, root: Path) -> dict[str, dict]:
        """Fingerprints of several files, keyed by their path relative to ``root`` (the session folder).

        Relative keys make the cache key of a session independent of where its folder lies.
        """
        root = Path(root).resolve()
        out = {}
        for p in paths:
            full = Path(p).resolve()
            try:
                name = full.relative_to(root).as_posix()
            except ValueError:
                name = full.as_posix()
            out[name] = self(full)
        return out

    def save(self) -> None:
        """Write the memo (atomically)."""
        from .store import write_text

        write_text(self.memo_path, json.dumps(self._memo, indent=0, sort_keys=True))


def cache_key(*, step: str, params: Mapping, version: str, upstream: Mapping[str, str],
              inputs: Mapping[str, Mapping]) -> str:
    """Hex SHA-256 over everything a step's result depends on."""
    payload = {"step": step, "params": params, "version": version, "upstream": dict(upstream),
               "inputs": {k: v["sha256"] for k, v in inputs.items()}}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def why_ran(previous: Mapping | None, *, params: Mapping, version: str, upstream: Mapping[str, str],
            inputs: Mapping[str, Mapping], forced: bool) -> str:
    """Why a step runs, from the previous run's record of it (``provenance.json``)."""
    if forced:
        return "forced"
    if not previous:
        return "first run"
    changed = [Path(p).name for p, fp in inputs.items()
               if previous.get("inputs", {}).get(p, {}).get("sha256") != fp["sha256"]]
    if changed:
        return "inputs changed: " + ", ".join(sorted(changed)[:5])
    old = previous.get("parameters", {})
    names = sorted(k for k in set(old) | set(params) if canonical_json(old.get(k)) != canonical_json(
        params.get(k)))
    if names:
        return "parameters changed: " + ", ".join(names)
    ups = sorted(k for k, v in upstream.items() if previous.get("upstream", {}).get(k) != v)
    if ups:
        return "upstream changed: " + ", ".join(ups)
    if previous.get("version") != version:
        return "version changed"
    return "result missing"
