"""A whole operando session in, one results folder out (``perovscope run``).

* :func:`run_session` — run or resume a session described by a ``session.toml`` (docs/session.md)
  into its results folder (docs/results-store.md); cached per step, resumable per frame, on local
  threads or a dask.distributed cluster.
* :func:`check_session` — parse and check the description and every input file, computing nothing.
* :func:`load_session` — parse the description only.
* :func:`init_session` — inspect a folder of instrument files and write a commented ``session.toml``.
* :func:`open_session_results` — the results store as an ``xarray.DataTree``.
* :class:`Step`, :class:`StepContext` — how a step is written (docs/pipeline-steps.md).
"""

from .context import FrameSource, Step, StepContext
from .init import init_session
from .runner import RunSummary, all_steps, check_session, run_session, step_options
from .session import Session, load_session
from .store import open_session_results

__all__ = ["run_session", "check_session", "load_session", "init_session", "open_session_results",
           "RunSummary", "Session", "Step", "StepContext", "FrameSource", "all_steps", "step_options"]
