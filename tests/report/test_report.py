"""perovscope.report: the HTML report of a results folder, its figures and ``perovscope report``."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
import xarray as xr

from perovscope.cli import main
from perovscope.errors import FormatError, InputError
from perovscope.report import SECTIONS, build_report, strain_maps_figure, timeline_figure


class _Page(HTMLParser):
    """Collects sections, images, inline SVGs, data-key cells and every URL-like attribute."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.svgs, self.links, self.keys = [], [], 0, [], {}
        self._key = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "img":
            self.images.append(a)
        if tag == "svg":
            self.svgs += 1
        for name in ("src", "href", "action", "data", "poster", "srcset"):
            if name in a:
                self.links.append((tag, name, a[name]))
        if "data-key" in a:
            self._key, self._text = a, []

    def handle_data(self, data):
        if self._key is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._key is not None and tag == "td":
            text = "".join(self._text).strip()
            if "data-scale" in self._key:  # shown in prefixed units (MΩ)
                text = repr(float(text) * float(self._key["data-scale"]))
            self.keys[self._key["data-key"]] = (self._key.get("data-value"), text)
            self._key = None


def _parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def report(results_dir):
    path = build_report(results_dir)
    return (
        path,
        _parse(path),
        xr.open_datatree(results_dir / "results.zarr", engine="zarr", consolidated=False),
    )


def test_report_has_every_section_and_embedded_figure(report, results_dir):
    path, page, _ = report
    assert path == results_dir / "report.html"
    assert page.sections == [sid for sid, _ in SECTIONS]
    assert len(page.images) >= 8
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,") and len(img["src"]) > 2000
    stems = sorted(p.stem for p in (results_dir / "figures").glob("*.png"))
    assert sorted(img["alt"] for img in page.images) == stems
    for stem in stems:  # a PNG and an SVG per figure
        assert (results_dir / "figures" / f"{stem}.svg").stat().st_size > 1000
    assert {
        "timeline",
        "strain_maps",
        "phase_map",
        "crystallinity",
        "composition",
        "haadf_particles",
        "interface_profiles",
        "particle_sizes",
    } <= set(stems)
    text = path.read_text(encoding="utf-8")
    assert "could not be drawn" not in text
    assert "<table class='data'>" in text  # correlations
    assert "not in this session" not in text.split('id="truth"')[0]  # nothing skipped before Truth


def test_report_refers_to_nothing_outside_itself(report):
    path, page, _ = report
    text = path.read_text(encoding="utf-8")
    for bad in ("http://", "https://", "//cdn", "<script src", "<link"):
        assert bad not in text.lower()
    for tag, attr, value in page.links:
        assert value.startswith("#") or value.startswith("data:"), (tag, attr, value[:60])


def test_headline_numbers_are_the_store_values(report):
    _, page, tree = report
    tl = tree["timeline"].to_dataset()

    def num(key):
        value, text = page.keys[key]
        return float(value), float(text)

    expected = {
        "alcl3_thickness_nm_final": float(tl["alcl3_thickness_nm"][-1]),
        "pb_particle_count_final": int(tl["pb_particle_count"][-1]),
        "resistance_ohm_first": float(tl["resistance_ohm"][0]),
        "resistance_ohm_last": float(tl["resistance_ohm"][-1]),
        "resistance_ohm_change": float(tl["resistance_ohm"][-1] - tl["resistance_ohm"][0]),
        "el_intensity_first": float(tl["el_intensity"][0]),
        "el_intensity_last": float(tl["el_intensity"][-1]),
        "el_intensity_change": float(tl["el_intensity"][-1] - tl["el_intensity"][0]),
        "n_frames": tl.sizes["time"],
        "time_span_s": float(tl["t_end_s"][-1] - tl["t_start_s"][0]),
        "dose_e_per_A2_haadf": float(tl["dose_e_per_A2_haadf"][-1]),
        "event_strain_collapse_time_s": 75.0,
        "event_pb_nucleation_time_s": 45.0,
        "n_files": 9,
    }
    for key, want in expected.items():
        value, shown = num(key)
        assert value == pytest.approx(want, rel=1e-12), key
        assert shown == pytest.approx(want, rel=5e-4), key  # 4 significant digits
    assert page.keys["alcl3_thickness_nm_final"][1] == "2.414"
    text = report[0].read_text(encoding="utf-8")
    assert 'data-scale="1000000.0">34.1</td><td>MΩ</td>' in text
    assert page.keys["event_cl_at_cathode_time_s"] == (None, "not reached")
    assert sorted(page.keys["modalities"][1].split(", ")) == ["4dstem", "eds", "haadf"]


def test_summary_lists_provenance_warnings(report):
    path, _, _ = report
    text = path.read_text(encoding="utf-8")
    assert "beam_energy_keV taken from the default" in text
    assert "first run" in text and "sha256" in text


def test_strain_colour_range_is_symmetric_and_shared(report):
    _, _, tree = report
    grid = tree["grid"].to_dataset()
    fig = strain_maps_figure(grid, max_frames=3)
    strain_axes = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    clims = [ax.images[0].get_clim() for ax in strain_axes]
    assert len(clims) == 4 * 3  # exx, eyy, exy, θ × 3 frames
    eps = clims[:3] + clims[4:7] + clims[8:11]
    # rows × columns in axes order: (row 0: exx f0 f1 f2), ... ; separate by their colour map ranges
    by_row = [clims[r * 3 : (r + 1) * 3] for r in range(4)]
    for row in by_row:
        assert len(set(row)) == 1  # one range across all frames
        lo, hi = row[0]
        assert lo == -hi and hi > 0
    assert by_row[0][0] == by_row[1][0] == by_row[2][0]  # εxx, εyy, εxy share the range
    big = np.nanmax(np.abs(grid["eyy"].values)) * 100
    assert by_row[0][0][1] <= big * 1.0001
    assert eps


def test_figures_leave_no_global_matplotlib_state(report):
    import matplotlib

    before = matplotlib.rcParams["font.size"]
    fig = timeline_figure(report[2]["timeline"].to_dataset(), events=report[2]["events"].to_dataset())
    assert fig.axes and matplotlib.rcParams["font.size"] == before
    import sys

    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_truth_section_with_a_truth_store(tmp_path, builders):
    folder = tmp_path / "results"
    tree = builders["results"](folder)
    truth = builders["truth"](tmp_path / "truth.zarr", tree)
    page = _parse(build_report(folder, truth=truth))
    alts = {img["alt"] for img in page.images}
    assert {"truth_timeline", "truth_exx", "truth_eyy", "truth_theta"} <= alts
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "No truth store" not in text
    # the truth recorded in session.toml is found without --truth
    shutil.rmtree(folder / "figures")
    (folder / "session.toml").write_text('[session]\nname = "s"\noutput = "results"\ntruth = "truth.zarr"\n')
    page = _parse(build_report(folder))
    assert "truth_timeline" in {img["alt"] for img in page.images}


def test_missing_groups_are_skipped_with_one_line(tmp_path, builders):
    folder = tmp_path / "results"
    tree = builders["results"](folder)
    shutil.rmtree(folder / "results.zarr")
    only = xr.DataTree.from_dict({"/timeline": tree["timeline"].to_dataset()})
    only.to_zarr(folder / "results.zarr", mode="w", consolidated=False)
    (folder / "provenance.json").unlink()
    page = _parse(build_report(folder))
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert page.sections == [sid for sid, _ in SECTIONS]
    for what in (
        "maps",
        "interface profiles",
        "particle table",
        "correlations",
        "composite or glass results",
    ):
        assert f"No {what} in this session." in text
    assert [img["alt"] for img in page.images] == ["timeline"]


def test_composite_section(tmp_path, builders):
    folder = tmp_path / "composite"
    builders["composite"](folder)
    page = _parse(build_report(folder))
    alts = {img["alt"] for img in page.images}
    assert {
        "cl_cl",
        "eels_edge_eels",
        "iodine_profile_eels",
        "eds_domains_domains",
        "size_distribution_nanospheres",
    } <= alts
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "could not be drawn" not in text
    assert "No timeline in this session." in text


def test_errors(tmp_path):
    with pytest.raises(InputError, match="no such results folder"):
        build_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="no results.zarr"):
        build_report(tmp_path / "empty")


def test_cli(results_dir, tmp_path, capsys):
    assert main(["report", str(results_dir), "--quiet"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(results_dir / "report.html")
    assert main(["report", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "no such results folder" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "notresults").mkdir()
    assert main(["report", str(tmp_path / "notresults")]) == 2
    assert "not a perovscope results folder" in capsys.readouterr().err
    assert main(["report", str(results_dir), "--truth", str(tmp_path / "no_truth.zarr")]) == 2


def test_numbers_are_formatted_to_four_significant_digits():
    from perovscope.report import format_number

    assert format_number(2.41367) == "2.414"
    assert format_number(3.41e7) == "3.41e+07"
    assert format_number(1500.0) == "1500"
    assert format_number(np.nan) == "–"
    assert format_number(np.int64(3)) == "3"
    assert re.fullmatch(r"-?\d\.\d{3}e[+-]\d+", format_number(-1.23456e-9))


def test_interfaces_from_layer_labels(report):
    from perovscope.report import interface_lines

    grid = report[2]["grid"].to_dataset()
    lines = interface_lines(None, grid["layer"], 0)
    assert [n for n, _ in lines] == ["HTL/emitter", "emitter/ETL", "ETL/Al"]
    np.testing.assert_allclose([y for _, y in lines], [7.5 * 0.8, 15.5 * 0.8, 22.5 * 0.8])
