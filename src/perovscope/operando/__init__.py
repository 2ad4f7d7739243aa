"""perovscope.operando: one time axis for every modality and the electrical log; events; correlations.

See docs/operando.md. Core functions take plain arrays; :func:`bias_per_frame`, :func:`build_timeline`,
:func:`events_table` and :func:`correlation_table` build the ``bias``, ``timeline``, ``events`` and
``correlations`` groups of the results store (docs/results-store.md).
"""

from .clock import (
    WindowStats,
    bias_per_frame,
    check_log_times,
    convert_units,
    cumulative_charge,
    cumulative_dose,
    window_statistics,
)
from .correlation import (
    BootstrapCI,
    LaggedCorrelation,
    block_bootstrap_ci,
    correlation_table,
    lagged_correlation,
    pearson,
    spearman,
)
from .events import (
    ChangePoints,
    Event,
    change_point_event,
    change_points,
    events_table,
    onset_event,
    threshold_event,
)
from .timeline import build_timeline, timeline_to_csv, units_path

__all__ = [
    "WindowStats", "window_statistics", "bias_per_frame", "check_log_times", "convert_units",
    "cumulative_charge", "cumulative_dose",
    "Event", "threshold_event", "onset_event", "ChangePoints", "change_points", "change_point_event",
    "events_table",
    "spearman", "pearson", "LaggedCorrelation", "lagged_correlation", "BootstrapCI", "block_bootstrap_ci",
    "correlation_table",
    "build_timeline", "timeline_to_csv", "units_path",
]
