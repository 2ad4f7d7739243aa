"""``perovscope inspect FILE...``: what a file holds, without loading its data.

For each file: its format, every signal (node name, kind, dtype, shape), each axis with its calibration
(first value, step or "non-uniform", last value, unit) and the normalised acquisition metadata
(beam energy, semi-angles, dwell/exposure, live/real time, detector angles, magnification, acquisition
time, elements, microscope). ``--json`` prints the same as one JSON document for scripts. Data are read
lazily where the format allows, so inspecting a large 4D-STEM file is instant.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..dims import METADATA_KEYS

#: attributes never shown in the summary (too long or internal)
_HIDDEN = {"original_metadata", "source_file"}


def _axis_summary(da, dim: str) -> dict:
    import numpy as np

    size = int(da.sizes[dim])
    out = {"name": dim, "size": size, "units": None}
    if dim not in da.coords:
        return out
    coord = da[dim]
    out["units"] = coord.attrs.get("units")
    values = np.asarray(coord.values)
    if values.dtype.kind in "fiu" and values.size:
        out["first"] = float(values[0])
        out["last"] = float(values[-1])
        if values.size > 1:
            steps = np.diff(values.astype(float))
            uniform = bool(np.allclose(steps, steps[0], rtol=1e-6, atol=0))
            out["step"] = float(steps[0]) if uniform else None
            out["uniform"] = uniform
    else:
        out["labels"] = [str(v) for v in values[:20]]
    return out


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _signal_summary(name: str, da) -> dict:
    import numpy as np

    meta = {k: _jsonable(v) for k, v in da.attrs.items() if k not in _HIDDEN}
    return {
        "name": name,
        "kind": da.attrs.get("signal"),
        "dtype": str(da.dtype),
        "shape": [int(s) for s in da.shape],
        "lazy": not isinstance(da.data, np.ndarray),
        "axes": [_axis_summary(da, d) for d in da.dims],
        "metadata": meta,
    }


def _signals(obj) -> list:
    import xarray as xr

    if isinstance(obj, xr.DataTree):
        return [(f"{node.path.strip('/')}/{v}".lstrip("/"), node[v]) for node in obj.subtree
                for v in node.data_vars]
    if isinstance(obj, xr.Dataset):
        return [(str(v), obj[v]) for v in obj.data_vars]
    return [(str(obj.name), obj)]


def summarise(path: str | Path) -> dict:
    """JSON-ready summary of one file (the ``--json`` output for that file)."""
    from ..io import read
    from ..io.formats import detect_format

    obj = read(path)
    path = Path(path)
    fmt = detect_format(path) if path.is_file() else None
    return {"file": str(path), "format": fmt.name if fmt else "results",
            "signals": [_signal_summary(n, da) for n, da in _signals(obj)]}


def _fmt_num(x) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _text(summary: dict) -> str:
    lines = [f"{summary['file']}  [{summary['format']}, {len(summary['signals'])} signal(s)]"]
    for sig in summary["signals"]:
        shape = "×".join(map(str, sig["shape"])) or "scalar"
        lines.append(f"  {sig['name']}: {sig['kind']} {sig['dtype']} {shape}"
                     f"{' (lazy)' if sig['lazy'] else ''}, values in {sig['metadata'].get('units', '?')}")
        for ax in sig["axes"]:
            if "first" in ax:
                step = ("non-uniform" if ax.get("uniform") is False
                        else f"step {_fmt_num(ax.get('step'))}" if "step" in ax else "")
                span = f"{_fmt_num(ax['first'])} … {_fmt_num(ax['last'])} {ax['units'] or ''}".rstrip()
                lines.append(f"      {ax['name']:<11} {ax['size']:>6}  {span}  {step}".rstrip())
            else:
                labels = ", ".join(ax.get("labels", []))
                lines.append(f"      {ax['name']:<11} {ax['size']:>6}  {labels}".rstrip())
        keys = [k for k in METADATA_KEYS if k in sig["metadata"] and k not in ("signal", "title")]
        extra = [k for k in sig["metadata"] if k not in METADATA_KEYS and k not in ("units", "format")]
        for key in keys + extra:
            lines.append(f"      {key} = {_fmt_num(sig['metadata'][key])}")
    return "\n".join(lines)


def quiet_reader_logs() -> None:
    """Silence RosettaSciIO's informational warnings (e.g. optional packages it could use) in the
    command-line tools; real problems still arrive as perovscope errors."""
    import logging

    logging.getLogger("rsciio").setLevel(logging.ERROR)


def run(args) -> int:
    """Handler of ``perovscope inspect``."""
    quiet_reader_logs()
    summaries = [summarise(p) for p in args.files]
    if args.json:
        from ..io._units import json_safe

        doc = summaries if len(summaries) > 1 else summaries[0]
        print(json.dumps(json_safe(doc), indent=2, allow_nan=False))
    else:
        print("\n\n".join(_text(s) for s in summaries))
    return 0


def register(subparsers) -> None:
    """Add ``inspect`` to ``subparsers``."""
    p = subparsers.add_parser(
        "inspect", help="summarise instrument files (signals, shapes, calibrated axes, metadata)",
        description="Summarise instrument files without loading their data: signals, shapes, dtypes, "
                    "calibrated axes with units and the key acquisition metadata.")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to inspect (any supported format)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress output (inspect shows none anyway)")
    p.set_defaults(func=run)
