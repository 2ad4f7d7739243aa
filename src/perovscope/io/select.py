"""Pick one signal out of what :func:`perovscope.io.read` returns (DataArray, Dataset or DataTree).

Files and results stores often hold several signals (a Velox file: HAADF + EDX + element maps; a
simulated session: 4D-STEM, HAADF, EDX and their ground truth). Analyses and the command line need
one of them; :func:`find_signal` chooses it by name, by signal kind and by the dimensions the analysis
needs, and says clearly what the file holds when the choice is impossible or ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import xarray as xr

from ..errors import InputError

__all__ = ["iter_signals", "find_signal"]

#: Signal kinds that say nothing about the modality; such a signal may be used for any kind.
_GENERIC_KINDS = (None, "", "spectrum", "image", "map", "data")


def iter_signals(obj) -> Iterator[tuple[str, xr.DataArray]]:
    """Yield ``(path, DataArray)`` for every data variable; paths are ``node/variable`` in a tree."""
    if isinstance(obj, xr.DataArray):
        yield str(obj.name or obj.attrs.get("signal", "data")), obj
    elif isinstance(obj, xr.Dataset):
        for name, var in obj.data_vars.items():
            yield str(name), var
    elif isinstance(obj, xr.DataTree):
        for node in obj.subtree:
            for name, var in node.dataset.data_vars.items():
                yield f"{node.path.strip('/')}/{name}".strip("/"), var
    else:
        raise InputError(f"expected an xarray DataArray, Dataset or DataTree, got {type(obj).__name__}")


def _kind_rank(path: str, var: xr.DataArray, kinds: Sequence[str]) -> int | None:
    """Index of the first kind the variable is (by leaf name, ``kind_N`` suffix or attrs)."""
    leaf = path.rsplit("/", 1)[-1]
    for i, kind in enumerate(kinds):
        if leaf == kind or leaf.startswith(f"{kind}_") or var.attrs.get("signal") == kind:
            return i
    return None


def find_signal(obj, *, name: str | None = None, kinds: Sequence[str] = (),
                dims_end: Sequence[str] | None = None, any_dim: Sequence[str] = (),
                min_ndim: int = 0, source: str = "input", option: str = "--signal") -> xr.DataArray:
    """Choose one signal of ``obj``.

    Parameters
    ----------
    obj : xarray.DataArray, Dataset or DataTree
        What :func:`perovscope.io.read` or :func:`perovscope.io.open_results` returned.
    name : str, optional
        Explicit choice: a variable's path (``"haadf/haadf"``) or its leaf name (``"haadf"``).
    kinds : sequence of str
        Signal kinds in order of preference (``("haadf", "adf")``); matched against the leaf name,
        a ``kind_N`` suffix or ``attrs["signal"]``. Among several of the preferred kind the largest wins.
    dims_end : sequence of str, optional
        The signal's last dimensions must be these (``("ky", "kx")`` for 4D-STEM patterns).
    any_dim : sequence of str
        The signal must have at least one of these dimensions (``("energy",)``).
    min_ndim : int
        Fewest dimensions the signal may have.
    source, option : str
        File name and command-line option named in error messages.

    Returns
    -------
    xarray.DataArray

    Raises
    ------
    InputError
        No signal qualifies, the requested name does not exist, or the choice is ambiguous.
    """
    signals = list(iter_signals(obj))
    shown = [f"{p}{tuple(v.dims)}" for p, v in signals if not p.startswith("truth/")]
    listing = ", ".join(shown[:8]) + (f" and {len(shown) - 8} more" if len(shown) > 8 else "") or "nothing"
    if name is not None:
        for path, var in signals:
            if name in (path, path.rsplit("/", 1)[-1]) and not path.startswith("truth/"):
                return var
        for path, var in signals:
            if name == path:
                return var
        raise InputError(f"{source}: no signal named {name!r}; the file holds {listing}")

    def fits(var: xr.DataArray) -> bool:
        if var.ndim < min_ndim:
            return False
        if dims_end is not None and tuple(var.dims[-len(dims_end):]) != tuple(dims_end):
            return False
        return not any_dim or any(d in var.dims for d in any_dim)

    candidates = [(p, v) for p, v in signals if not p.startswith("truth/") and fits(v)]
    ranked = [(r, -v.size, p, v) for p, v in candidates if (r := _kind_rank(p, v, kinds)) is not None]
    if ranked:
        return min(ranked, key=lambda t: t[:3])[3]
    # a signal of no particular kind may stand in, but never one of another kind (EDX is not CL)
    pool = [(p, v) for p, v in candidates if v.attrs.get("signal") in _GENERIC_KINDS] if kinds \
        else candidates
    if len(pool) == 1:
        return pool[0][1]
    if not pool:
        want = " or ".join(kinds) if kinds else "matching"
        shape = f" ending in dims {tuple(dims_end)}" if dims_end else ""
        shape += f" with a {'/'.join(any_dim)} axis" if any_dim else ""
        raise InputError(f"{source}: no {want} signal{shape} found; the file holds {listing}")
    raise InputError(f"{source}: cannot tell which signal to use ({', '.join(p for p, _ in pool)}); "
                     f"choose one with {option}")
