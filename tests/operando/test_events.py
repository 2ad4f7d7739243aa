"""Threshold, onset and change-point events on constructed series with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.errors import InputError
from perovscope.operando import (
    Event,
    change_point_event,
    change_points,
    events_table,
    onset_event,
    threshold_event,
)

TIMES = np.array([0.0, 30.0, 60.0, 90.0, 120.0])


def test_threshold_event_first_significant_frame_and_reason():
    cl = [1.0, 1.5, 2.1, 2.41, 2.6]             # frame 2 is above 2.0 but only by 1σ: not significant
    std = [0.1, 0.1, 0.1, 0.08, 0.1]
    ev = threshold_event(cl, std, threshold=2.0, times=TIMES, name="cl_at_cathode",
                         quantity="cl_cathode_at_percent", units="at.%")
    assert (ev.frame, ev.time_s, ev.method, ev.threshold) == (3, 90.0, "threshold", 2.0)
    assert ev.reason == "frame 3 (90 s): 2.41 ± 0.08 at.% > 2 + 2σ"
    assert ev.reached


def test_threshold_event_never_reached_and_below():
    ev = threshold_event([1.0, 2.05, 2.1], [0.1, 0.1, 0.1], threshold=2.0, name="cl", quantity="q",
                         units="at.%")
    assert ev.frame == -1 and np.isnan(ev.time_s) and not ev.reached
    assert "not reached" in ev.reason and "frame 2" in ev.reason and "2.1 ± 0.1 at.%" in ev.reason
    el = [1.0, 0.8, 0.6, 0.45, 0.3]
    ev = threshold_event(el, np.full(5, 0.01), threshold=0.5, direction="below", times=TIMES,
                         name="el_half", quantity="el_intensity")
    assert ev.frame == 3 and ev.time_s == 90.0 and "0.45 ± 0.01 < 0.5 − 2σ" in ev.reason
    ev = threshold_event(el, None, threshold=0.45, direction="below", name="e", quantity="q")
    assert ev.frame == 4                         # strictly below: 0.45 itself does not fire
    ev = threshold_event([np.nan, 3.0], [0.1, np.nan], threshold=2.0, name="e", quantity="q")
    assert ev.frame == -1 and ev.reason == "not reached: no finite value"


def test_onset_alcl3_pb_and_collapse():
    # AlCl3 thickness: 3σ of the difference with the frame-0 baseline is 3·√(0.1² + 0.1²) = 0.424 nm
    ev = onset_event([0.0, 0.0, 0.2, 1.0, 2.0], np.full(5, 0.1), times=TIMES, name="alcl3_onset",
                     quantity="alcl3_thickness_nm", units="nm")
    assert (ev.frame, ev.time_s, ev.threshold, ev.method) == (3, 90.0, 0.0, "onset")
    assert "1 ± 0.1 nm is 1 nm above the baseline 0 ± 0.1 nm (frame 0)" in ev.reason
    assert "3σ = 0.4243 nm" in ev.reason
    # Pb count with Poisson σ = √N: frame 3 rises by 12 < 3·√(15 + 3) = 12.7; frame 4 by 27 > 17.2
    counts = np.array([3.0, 3.0, 5.0, 15.0, 30.0])
    ev = onset_event(counts, np.sqrt(counts), name="pb", quantity="pb_particle_count")
    assert ev.frame == 4 and np.isnan(ev.time_s)
    # crystallinity: baseline = mean of 3 frames 0.9 ± 0.02·√3/3; frame 3 drops by 0.2 > 0.069
    ev = onset_event([0.9, 0.91, 0.89, 0.7, 0.4], np.full(5, 0.02), baseline_frames=3,
                     direction="decrease", name="collapse", quantity="crystallinity_emitter")
    assert ev.frame == 3 and ev.threshold == pytest.approx(0.9, abs=1e-15)
    assert "below the baseline 0.9 ± 0.01155 (mean of frames 0–2)" in ev.reason
    ev = onset_event([5.0, 5.1, 4.9, 5.2], np.full(4, 0.1), name="none", quantity="q")
    assert ev.frame == -1 and "not reached" in ev.reason and "frame 3" in ev.reason


def test_onset_errors():
    with pytest.raises(InputError, match="baseline_frames"):
        onset_event([1.0, 2.0], None, baseline_frames=2, name="e", quantity="q")
    with pytest.raises(InputError, match="baseline frames 0–0 must all be finite"):
        onset_event([np.nan, 2.0], None, name="e", quantity="q")
    with pytest.raises(InputError, match="direction"):
        onset_event([1.0, 2.0], None, direction="up", name="e", quantity="q")
    with pytest.raises(InputError, match="stds has shape"):
        threshold_event([1.0, 2.0], [0.1], threshold=1.0, name="e", quantity="q")


def test_change_point_exact_on_a_noisy_step():
    # a 1.0 step in 20 frames with σ = 0.1 noise (SNR 10): moving the split by one frame costs
    # ≈ step² ≈ 1 in the residual sum of squares against noise terms of ~2·step·σ·z = 0.2 z, so the
    # location is exact unless |z| > ~4 (p < 1e-4); seed 2 gives no spurious extra split (see below)
    rng = np.random.default_rng(2)
    x = np.r_[np.zeros(10), np.ones(10)] + rng.normal(0.0, 0.1, 20)
    cp = change_points(x)
    assert cp.index.tolist() == [10]
    np.testing.assert_allclose(cp.segment_mean, [x[:10].mean(), x[10:].mean()], rtol=1e-12)
    assert cp.penalty == pytest.approx(2 * cp.sigma**2 * np.log(20))
    ev = change_point_event(x, times=np.arange(20) * 30.0, name="step", quantity="q")
    assert (ev.frame, ev.time_s, ev.method) == (10, 300.0, "change_point")


def test_change_point_location_over_200_noisy_steps():
    rng = np.random.default_rng(2026)
    found = [change_points(x).index for x in np.r_[np.zeros(10), np.ones(10)] + rng.normal(0, 0.1, (200, 20))]
    assert all(10 in f for f in found)                    # the true step every time (see above)
    # extra splits are the BIC penalty's false alarms on noise: ~13 % per series with σ known and
    # ~17 % with σ̂ from 19 differences (measured on 2000 series); 200 series: 3σ binomial ≈ ±8 %
    extra = np.mean([f.size > 1 for f in found])
    assert extra < 0.26


def test_change_points_two_steps_constant_and_nan():
    rng = np.random.default_rng(5)
    x = np.r_[np.zeros(8), np.ones(8), np.full(8, 3.0)] + rng.normal(0.0, 0.05, 24)
    assert change_points(x).index.tolist() == [8, 16]
    assert change_points(np.full(10, 2.5)).index.size == 0
    assert change_points(np.r_[np.zeros(5), np.ones(5)]).index.tolist() == [5]   # noise-free step
    y = np.r_[np.zeros(6), np.ones(6)]
    y[3] = np.nan                                         # indices are those of the input
    assert change_points(y).index.tolist() == [6]
    assert change_points(np.r_[0.0, 0.0, 5.0], min_size=2).index.size == 0     # too short to split
    ev = change_point_event(np.full(6, 1.0), name="e", quantity="q")
    assert ev.frame == -1 and "not reached" in ev.reason


def test_events_table():
    evs = [threshold_event([1.0, 3.0], None, threshold=2.0, times=[0.0, 30.0], name="a", quantity="qa",
                           units="at.%"),
           onset_event([0.0, 0.0], None, name="b", quantity="qb", units="nm")]
    tab = events_table(evs)
    assert tab.sizes["event"] == 2
    assert tab["name"].dtype.kind == "U" and tab["reason"].dtype.kind == "U"
    assert tab["frame"].values.tolist() == [1, -1] and tab["frame"].dtype == np.int64
    assert tab["time_s"].values[0] == 30.0 and np.isnan(tab["time_s"].values[1])
    assert tab["method"].values.tolist() == ["threshold", "onset"]
    assert tab["threshold"].attrs["units"] == "mixed"
    assert all("units" in tab[k].attrs for k in tab.data_vars)
    df = tab.to_dataframe()
    assert list(df["quantity"]) == ["qa", "qb"]
    empty = events_table([])
    assert empty.sizes["event"] == 0 and empty["name"].dtype.kind == "U"
    with pytest.raises(InputError, match="Event"):
        events_table([{"name": "x"}])
    assert isinstance(evs[0], Event)
