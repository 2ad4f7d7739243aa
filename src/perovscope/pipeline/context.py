"""What a pipeline step sees: its options, its upstream results and a reader of its input frames.

A step (:class:`Step`) is a set of plain functions that call the areas. The runner gives each call a
:class:`StepContext`: the step's options (its ``[analysis.<step>]`` table over the step's defaults),
the finished results of the steps it depends on (small, in memory), the session's layer order and
calibration overrides, and :meth:`StepContext.read`, which reads one frame of one modality from its
file. A context holds paths, never open file handles, so it can be sent to a dask.distributed worker.

:meth:`StepContext.from_tree` builds a context over an in-memory session tree (as
:func:`perovscope.simulate.simulate_device` returns), for notebooks and tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import xarray as xr

from ..errors import InputError
from .memory import StreamPlan, stream_plan

__all__ = ["Step", "StepContext", "FrameSource"]


@dataclasses.dataclass(frozen=True)
class FrameSource:
    """Where the frames of one modality come from.

    Either ``files`` (one file per frame, in frame order) or one multi-frame ``stack`` file whose
    ``time`` dimension holds the frames; ``node`` picks a signal of a multi-signal file.
    ``calibration`` holds the session's overrides (``pixel_size_nm``, ``beam_energy_keV``, ...).
    """

    modality: str
    files: tuple[str, ...] = ()
    stack: str | None = None
    node: str | None = None
    calibration: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def read(self, index: int) -> xr.DataArray:
        """Frame ``index`` as a DataArray without a ``time`` dimension (lazy where the format allows)."""
        from ..io import find_signal, read

        path = self.stack if self.stack is not None else self.files[index]
        obj = read(path)
        da = find_signal(obj, name=self.node) if self.node else find_signal(obj, kinds=(self.modality,))
        if "time" in da.dims:
            da = da.isel(time=index)
        elif self.stack is not None and index:
            raise InputError(f"{path}: has no time dimension, so it holds one frame, not frame {index}")
        if self.calibration:
            cal = dict(self.calibration)
            px = cal.pop("pixel_size_nm", None)
            if px is not None:          # the session's pixel size replaces the file's spatial calibration
                import numpy as np

                for dim in ("y", "x", "scan_y", "scan_x"):
                    if dim in da.dims:
                        da = da.assign_coords({dim: (dim, np.arange(da.sizes[dim]) * float(px),
                                                     {"units": "nm"})})
            da = da.assign_attrs({**da.attrs, **cal})
        return da


@dataclasses.dataclass(frozen=True)
class StepContext:
    """Everything one step call may use (picklable: paths and small in-memory results).

    Attributes
    ----------
    params : dict
        This step's options (defaults updated with the session's ``[analysis.<step>]``).
    upstream : dict of str -> xarray.Dataset
        Finished results of the steps listed in :attr:`Step.needs`, loaded into memory.
    sources : dict of str -> FrameSource
        The session's modalities.
    frames : xarray.Dataset
        The frame table (``time`` index ``frame``; ``t_start_s_<modality>``, ``t_end_s_<modality>``,
        ``time_s``) — the ``frames`` group of the results store.
    layers : tuple of str
        The device's layer names, image rows top to bottom (empty when unknown).
    bias_log : xarray.Dataset or None
        The electrical log in SI units over ``log_time`` (s from the session origin).
    memory_budget : int or None
        Bytes for the chunks in flight of one frame when a step streams it (the runner's share of
        ``--memory-budget`` per frame in flight; ``None``: no budget). See :mod:`.memory`.
    threads : int or None
        Most dask threads computing the chunks of one frame (``None``: dask's threaded default; 1 on
        a dask.distributed worker, whose processes already run one frame each).
    """

    params: Mapping[str, Any]
    upstream: Mapping[str, xr.Dataset]
    sources: Mapping[str, FrameSource]
    frames: xr.Dataset
    layers: tuple[str, ...] = ()
    bias_log: xr.Dataset | None = None
    _memory: Mapping[str, xr.DataArray] | None = None
    memory_budget: int | None = None
    threads: int | None = None

    @property
    def n_frames(self) -> int:
        """Number of frames of the session."""
        return int(self.frames.sizes["time"])

    def read(self, modality: str, index: int) -> xr.DataArray:
        """Frame ``index`` of ``modality`` (no ``time`` dimension)."""
        if self._memory is not None:
            if modality not in self._memory:
                raise InputError(f"this session has no {modality!r} modality")
            return self._memory[modality].isel(time=index)
        if modality not in self.sources:
            raise InputError(f"this session has no [modality.{modality}] table")
        return self.sources[modality].read(index)

    def stream_plan(self, da: xr.DataArray) -> StreamPlan:
        """Threads and chunk size for streaming the 4D-STEM frame ``da`` within :attr:`memory_budget`."""
        pixels = int(da.shape[-1] * da.shape[-2])
        return stream_plan(self.memory_budget, pattern_pixels=pixels,
                           pattern_bytes=pixels * da.dtype.itemsize, threads=self.threads)

    @staticmethod
    def compute_scope(threads: int | None):
        """A context in which dask computes on ``threads`` threads (``None``: dask's default)."""
        import contextlib

        import dask

        if threads is None:
            return contextlib.nullcontext()
        if threads <= 1:
            return dask.config.set(scheduler="sync")
        return dask.config.set(scheduler="threads", num_workers=int(threads))

    def has(self, modality: str) -> bool:
        """Whether the session holds ``modality``."""
        if self._memory is not None:
            return modality in self._memory
        return modality in self.sources

    def with_(self, **changes) -> StepContext:
        """A copy with some fields replaced (e.g. ``ctx.with_(upstream=...)``)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_tree(cls, tree: xr.DataTree, *, params: Mapping[str, Any] | None = None,
                  upstream: Mapping[str, xr.Dataset] | None = None,
                  layers: tuple[str, ...] | None = None) -> StepContext:
        """A context over an in-memory session tree (nodes ``4dstem``, ``haadf``, ``eds``, ``bias_log``).

        Frame windows are the tree's frame times (zero-length windows); layers default to the tree's
        ``truth/layers`` names when present.
        """
        import numpy as np

        memory = {}
        for name in ("4dstem", "haadf", "eds", "eels", "cl"):
            if name in tree.children:
                memory[name] = tree[f"{name}/{name}"]
        if not memory:
            raise InputError("the tree holds none of the nodes 4dstem, haadf, eds, eels, cl")
        t = np.asarray(next(iter(memory.values()))["time"].values, dtype=float)
        frames = xr.Dataset(coords={"frame": ("time", np.arange(t.size)), "time_s": ("time", t)})
        for name in memory:
            frames[f"t_start_s_{name}"] = ("time", t, {"units": "s"})
            frames[f"t_end_s_{name}"] = ("time", t, {"units": "s"})
        if layers is None:
            layers = ()
            if "truth" in tree.children and "layers" in tree["truth"].children:
                layers = tuple(tree["truth/layers"].attrs.get("layer_names", ()))
        log = tree["bias_log"].to_dataset() if "bias_log" in tree.children else None
        return cls(params=dict(params or {}), upstream=dict(upstream or {}), sources={}, frames=frames,
                   layers=tuple(layers), bias_log=log, _memory=memory)


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the pipeline.

    A step either runs whole (``run(ctx) -> Dataset``), or frame by frame: ``prepare(ctx) -> dict``
    (optional; small picklable state shared by every frame, e.g. a strain reference), then
    ``frame(ctx, index, prepared) -> Dataset`` for each frame (no ``time`` dimension; the runner
    stacks the frames along ``time``, caches each frame so an interrupted step resumes, and can send
    frames to dask workers), then ``finish(ctx, stacked) -> Dataset`` (optional).

    Attributes
    ----------
    name : str
        Group name in the results store and the ``[analysis.<name>]`` table of the session.
    needs : tuple of str
        Modalities (``"4dstem"``, ``"haadf"``, ``"eds"``, ``"bias_log"``) and upstream step names.
    defaults : dict
        Every option the step takes, with its default (unknown options are refused).
    optional : tuple of str
        Needs that may be absent (the step then runs without them).
    samples : tuple of str
        Kinds of session (``[session] sample``) the step belongs to: ``"device"`` (an operando
        device cross-section) and/or ``"composite"`` (particles in a matrix).
    """

    name: str
    needs: tuple[str, ...]
    defaults: Mapping[str, Any]
    run: Callable[[StepContext], xr.Dataset] | None = None
    prepare: Callable[[StepContext], dict] | None = None
    frame: Callable[[StepContext, int, dict], xr.Dataset] | None = None
    finish: Callable[[StepContext, xr.Dataset], xr.Dataset] | None = None
    optional: tuple[str, ...] = ()
    description: str = ""
    samples: tuple[str, ...] = ("device", "composite")

    def __post_init__(self):
        if (self.run is None) == (self.frame is None):
            raise ValueError(f"step {self.name}: give exactly one of run= or frame=")

