"""``build_report``: one self-contained HTML page (and PNG + SVG figures) from a results folder.

The folder is the one ``perovscope run`` writes (docs/results-store.md). It is read with plain xarray
(``xarray.open_datatree(..., engine="zarr", consolidated=False)``) and the standard library; the page
embeds every figure as a base64 PNG and its CSS inline, and refers to nothing outside itself.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tomllib
import uuid
import warnings
from pathlib import Path

import xarray as xr

from ..errors import FormatError, InputError
from . import sections
from ._style import save_figure, to_base64
from .summary import headline_numbers, provenance_rows, session_facts

__all__ = ["build_report", "load_results", "SECTIONS"]

#: (id, title) of the report's sections, in order.
SECTIONS = (
    ("summary", "Summary"),
    ("timeline", "Timeline"),
    ("maps", "Maps per frame"),
    ("profiles", "Interface profiles"),
    ("particles", "Particles"),
    ("correlations", "Correlations"),
    ("truth", "Truth comparison"),
    ("composite", "Composite and glass sessions"),
    ("provenance", "Provenance"),
)


def _open_tree(path: Path, what: str) -> xr.DataTree:
    try:
        return xr.open_datatree(path, engine="zarr", consolidated=False)
    except Exception as exc:  # noqa: BLE001 - any backend failure is a format problem of the input
        raise FormatError(f"{path}: cannot open the {what} as a zarr DataTree ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc


def load_results(results_dir) -> tuple[dict, dict, dict]:
    """(groups, provenance, root attrs) of a results folder.

    ``groups`` maps each group path of ``results.zarr`` (``"timeline"``, ``"grid"``, ...) to its
    Dataset (lazy). Raises :class:`InputError` for a missing folder and :class:`FormatError` for a
    folder without ``results.zarr`` or with an unreadable ``provenance.json``.
    """
    root = Path(results_dir)
    if not root.exists():
        raise InputError(f"{root}: no such results folder; give the [session] output folder of "
                         "`perovscope run`")
    if not root.is_dir():
        raise InputError(f"{root}: not a folder; give the results folder written by `perovscope run`")
    store = root / "results.zarr"
    if not store.is_dir():
        raise FormatError(f"{root}: not a perovscope results folder (no results.zarr); run "
                          "`perovscope run session.toml` first")
    tree = _open_tree(store, "results")
    groups = {}
    for node in tree.subtree:
        if node is tree or not (node.has_data or node.attrs):
            continue
        groups[node.path.strip("/")] = node.to_dataset()
    provenance = {}
    prov_file = root / "provenance.json"
    if prov_file.is_file():
        try:
            provenance = json.loads(prov_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FormatError(f"{prov_file}: not valid JSON ({exc}); re-run `perovscope run`") from exc
    return groups, provenance, dict(tree.attrs)


def _truth_path(results_dir: Path, truth, provenance: dict) -> Path | None:
    if truth is not None:
        p = Path(truth)
        if not p.exists():
            raise InputError(f"--truth {p}: no such truth store")
        return p
    candidates = []
    for key in ("truth",):
        if isinstance(provenance.get(key), str):
            candidates.append(provenance[key])
    sess = provenance.get("session")
    if isinstance(sess, dict) and isinstance(sess.get("truth"), str):
        candidates.append(sess["truth"])
    toml = results_dir / "session.toml"
    base_dirs = [results_dir, results_dir.parent]
    if isinstance(provenance.get("session_file"), str):
        base_dirs.insert(0, Path(provenance["session_file"]).parent)
    if toml.is_file():
        try:
            t = tomllib.loads(toml.read_text(encoding="utf-8")).get("session", {}).get("truth")
        except (OSError, ValueError):
            t = None
        if isinstance(t, str):
            candidates.append(t)
    for c in candidates:
        p = Path(c)
        for base in ([Path()] if p.is_absolute() else base_dirs):
            if (base / p).exists():
                return base / p
    return None


def _load_truth(path: Path | None) -> xr.DataTree | None:
    if path is None:
        return None
    tree = _open_tree(path, "truth store")
    return tree["truth"] if "truth" in tree.children else tree


class _Figures:
    """Collects figures: writes PNG + SVG into ``figures/`` and keeps the base64 PNG for the page."""

    def __init__(self, folder: Path, dpi: float):
        self.folder, self.dpi, self.names, self.failures = folder, dpi, [], []

    def add(self, section: dict, name: str, make, caption: str = "") -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames, empty slices
                fig = make()
                written = save_figure(fig, self.folder / name, dpi=self.dpi)
                b64 = to_base64(written["png_bytes"])
        except Exception as exc:  # noqa: BLE001 - one unexpected group must not lose the whole report
            msg = f"figure {name} could not be drawn: {type(exc).__name__}: {exc}"
            self.failures.append(msg)
            section.setdefault("notes", []).append(msg)
            return
        self.names.append(name)
        section.setdefault("figures", []).append({"name": name, "caption": caption, "png": b64})


def _render(context: dict) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("perovscope.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**context)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def build_report(results_dir, *, truth=None, out=None, max_frames: int = 4, dpi: float = 150) -> Path:
    """Write the self-contained HTML report of a results folder, and every figure as PNG and SVG.

    Parameters
    ----------
    results_dir : path-like
        The folder written by ``perovscope run`` (``results.zarr``, ``tables/``, ``provenance.json``).
    truth : path-like, optional
        A truth store (a simulated session, or its ``truth`` node) to compare with; by default the
        ``[session] truth`` recorded in ``provenance.json`` or ``session.toml``, if any.
    out : path-like, optional
        Where to write the page (default ``RESULTS/report.html``); figures go to ``figures/`` beside it.
    max_frames : int
        At most this many frames (spread over the session, first and last included) in the map figures.
    dpi : float
        Resolution of the PNGs embedded in the page.

    Returns
    -------
    pathlib.Path
        The report's path.

    Raises
    ------
    InputError
        The folder or the truth store does not exist.
    FormatError
        The folder holds no ``results.zarr`` or it cannot be read.
    """
    results_dir = Path(results_dir)
    groups, provenance, root_attrs = load_results(results_dir)
    out = Path(out) if out is not None else results_dir / "report.html"
    truth_path = _truth_path(results_dir, truth, provenance)
    truth_tree = _load_truth(truth_path)
    figs = _Figures(out.parent / "figures", dpi)
    secs = {sid: {"id": sid, "title": title, "missing": None} for sid, title in SECTIONS}
    ctx = sections.Context(groups=groups, truth=truth_tree, max_frames=max_frames)
    sections.timeline(secs["timeline"], ctx, figs)
    sections.maps(secs["maps"], ctx, figs)
    sections.profiles(secs["profiles"], ctx, figs)
    sections.particles(secs["particles"], ctx, figs)
    sections.correlations(secs["correlations"], ctx)
    sections.truth(secs["truth"], ctx, figs)
    sections.composite(secs["composite"], ctx, figs)
    warnings_list = [str(w) for w in (provenance.get("warnings") or [])]
    session_name = str(root_attrs.get("session") or provenance.get("session") or results_dir.name)
    if isinstance(provenance.get("session"), dict):
        session_name = str(root_attrs.get("session") or provenance["session"].get("name") or results_dir.name)
    context = {
        "session": session_name,
        "results_dir": str(results_dir),
        "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "perovscope_version": str(root_attrs.get("perovscope_version") or provenance.get("perovscope_version")
                                  or ""),
        "created": str(root_attrs.get("created") or provenance.get("created") or ""),
        "facts": session_facts(groups, provenance, root_attrs),
        "headlines": headline_numbers(groups),
        "warnings": warnings_list,
        "figure_failures": figs.failures,
        "groups": sorted(groups),
        "truth_path": str(truth_path) if truth_path is not None else "",
        "sections": [secs[sid] for sid, _ in SECTIONS],
        "provenance": provenance_rows(provenance),
        "n_figures": len(figs.names),
    }
    _write_atomic(out, _render(context))
    return out


def figure_names(report_dir) -> list[str]:
    """Stems of the figures written in ``figures/`` beside a report (PNG and SVG both present)."""
    folder = Path(report_dir) / "figures"
    return sorted(p.stem for p in folder.glob("*.png") if p.with_suffix(".svg").is_file())

