"""Merging per-frame results into the timeline and writing it as a tidy CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.operando import bias_per_frame, build_timeline, timeline_to_csv


def _frames(n=4):
    t0 = 30.0 * np.arange(n)
    return xr.Dataset(
        {"t_start_s": ("time", t0, {"units": "s"}), "t_end_s": ("time", t0 + 20.0, {"units": "s"}),
         "t_start_s_eds": ("time", t0 + 1.0, {"units": "s"}),
         "dose_e_per_A2_haadf": ("time", np.full(n, 100.0), {"units": "e/Å²"}),
         "file_haadf": ("time", np.array([f"haadf/frame_{k}.hspy" for k in range(n)]))},
        coords={"frame": ("time", np.arange(n))})


def _bias(frames):
    t = np.arange(0.0, 200.0, 0.5)
    log = xr.Dataset({"voltage_V": ("log_time", 3.0 + 0.001 * t, {"units": "V"}),
                      "current_A": ("log_time", np.full(t.size, 1e-7), {"units": "A"})},
                     coords={"log_time": ("log_time", t, {"units": "s"})})
    return bias_per_frame(log, frames["t_start_s"], frames["t_end_s"])


def _alcl3(n=4, frame=None, **extra):
    ds = xr.Dataset({"alcl3_thickness_nm": ("time", 0.5 * np.arange(n), {"units": "nm"}),
                     "alcl3_thickness_nm_std": ("time", np.full(n, 0.1), {"units": "nm"})}, **extra)
    if frame is not None:
        ds = ds.assign_coords(frame=("time", frame), time_s=("time", np.arange(n) + 0.123))
    return ds


def test_build_timeline_merges_on_frames():
    frames = _frames()
    tl = build_timeline(frames, _bias(frames), _alcl3(frame=np.arange(4)))
    assert tl.sizes["time"] == 4 and "frame" in tl.indexes
    assert tl["frame"].values.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(tl["time_s"], 30.0 * np.arange(4) + 10.0)   # from frames, not the input
    np.testing.assert_allclose(tl["dose_e_per_A2_haadf"], [100, 200, 300, 400])   # cumulative
    assert tl["dose_e_per_A2_haadf"].attrs["units"] == "e/Å²"
    assert {"t_start_s", "t_end_s", "voltage_V", "charge_C", "alcl3_thickness_nm"} <= set(tl.data_vars)
    assert "file_haadf" not in tl and "t_start_s_eds" not in tl
    assert all("units" in tl[k].attrs for k in tl.data_vars)
    np.testing.assert_allclose(tl["charge_C"], 1e-7 * (30.0 * np.arange(4) + 20.0), rtol=1e-12)
    assert tl.sel(frame=2)["alcl3_thickness_nm"] == 1.0
    # no electrical log: None or an empty Dataset adds nothing
    for nothing in (None, xr.Dataset()):
        tl = build_timeline(frames, nothing, _alcl3())
        assert set(tl.data_vars) == {"t_start_s", "t_end_s", "dose_e_per_A2_haadf", "alcl3_thickness_nm",
                                     "alcl3_thickness_nm_std"}


def test_build_timeline_errors():
    frames = _frames()
    bias = _bias(frames)
    with pytest.raises(InputError, match=r"quantities\[0\]: frames \[0, 1, 2, 4\] differ"):
        build_timeline(frames, bias, _alcl3(frame=np.array([0, 1, 2, 4])))
    with pytest.raises(InputError, match=r"quantities\[0\]: frames \[0, 1, 2\] differ"):
        build_timeline(frames, bias, _alcl3(n=3))
    no_units = _alcl3()
    del no_units["alcl3_thickness_nm"].attrs["units"]
    with pytest.raises(InputError, match="'alcl3_thickness_nm' has no attrs\\['units'\\]"):
        build_timeline(frames, bias, no_units)
    two_d = xr.Dataset({"profile": (("time", "distance"), np.zeros((4, 3)), {"units": "1"})})
    with pytest.raises(InputError, match="'profile' has dims"):
        build_timeline(frames, bias, two_d)
    with pytest.raises(InputError, match="'voltage_V' is in both bias and quantities\\[0\\]"):
        build_timeline(frames, bias, bias[["voltage_V"]])


def test_timeline_csv_round_trip_and_units_file(tmp_path):
    frames = _frames()
    tl = build_timeline(frames, _bias(frames), _alcl3())
    tl["alcl3_thickness_nm"][1] = np.nan
    path, upath = timeline_to_csv(tl, tmp_path / "tables" / "timeline.csv")
    assert upath.name == "timeline.units.csv"
    df = pd.read_csv(path)                                  # plain pandas, no options
    assert list(df.columns[:2]) == ["frame", "time_s"] and len(df) == 4
    assert df["frame"].tolist() == [0, 1, 2, 3]
    for name in tl.data_vars:
        np.testing.assert_array_equal(df[name].to_numpy(), tl[name].values)   # full precision, NaN kept
    units = pd.read_csv(upath)
    assert units["column"].tolist() == list(df.columns)
    lookup = dict(zip(units["column"], units["units"], strict=True))
    assert lookup["resistance_ohm"] == "ohm" and lookup["time_s"] == "s" and lookup["frame"] == "1"
    assert sorted(p.name for p in path.parent.iterdir()) == ["timeline.csv", "timeline.units.csv"]


def test_timeline_csv_is_atomic(tmp_path, monkeypatch):
    frames = _frames()
    tl = build_timeline(frames, _bias(frames))
    path = tmp_path / "timeline.csv"
    path.write_text("old complete file\n")

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        timeline_to_csv(tl, path)
    assert path.read_text() == "old complete file\n"         # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["timeline.csv"]   # no temporary left behind
