"""The viewer page in real headless Chromium: slider, timeline cursor, hover read-out, event markers."""

from __future__ import annotations

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from perovscope.viewer.data import decode_frame

from .conftest import LAYER_NAMES, N_FRAMES
from .test_http import raw_request


def state(driver, key=None):
    s = driver.execute_script("return window.viewerState;")
    return s if key is None else s[key]


def wait_drawn(driver, var, frame, timeout=15):
    WebDriverWait(driver, timeout).until(
        lambda d: (d.execute_script("return window.viewerState.drawn;") or {}) == {"var": var, "frame": frame}
    )


@pytest.fixture(scope="module")
def page(driver, server):
    driver.get(server.url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return !!(window.viewerState || {}).ready"))
    assert state(driver, "error") is None
    wait_drawn(driver, "grid/atomic_percent:Cs", 0)
    return driver


def select_map(driver, group, var):
    Select(driver.find_element(By.ID, "group")).select_by_value(group)
    Select(driver.find_element(By.ID, "var")).select_by_value(var)
    wait_drawn(driver, var, state(driver, "frame"))


def hover_pixel(driver, i, j):
    """Move the pointer to the centre of map pixel (row i, column j)."""
    canvas = driver.find_element(By.ID, "map")
    rect = driver.execute_script("const r = arguments[0].getBoundingClientRect(); "
                                 "return [r.width, r.height];", canvas)
    h, w = state(driver, "shape")
    dx = (j + 0.5) / w * rect[0] - rect[0] / 2
    dy = (i + 0.5) / h * rect[1] - rect[1] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, int(round(dx)), int(round(dy))).perform()
    WebDriverWait(driver, 5).until(lambda d: state(d, "pixel") == [i, j])


def test_page_loads_without_errors(page):
    assert page.find_element(By.ID, "frame-label").text.startswith(f"frame 0 / {N_FRAMES - 1}")
    assert page.find_element(By.ID, "session").text == "viewer-test"
    groups = [o.get_attribute("value") for o in Select(page.find_element(By.ID, "group")).options]
    assert groups == ["grid", "strain"]
    severe = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def test_slider_moves_frame_and_timeline_cursor(page, store):
    select_map(page, "strain", "strain/exx")
    slider = page.find_element(By.ID, "frame")
    page.execute_script("window.viewerApi.setFrame(0);")
    wait_drawn(page, "strain/exx", 0)
    assert state(page, "timelineCursorTime") == pytest.approx(10.0)
    slider.click()  # focus; the click itself may move the slider, so set a known start with Home
    slider.send_keys(Keys.HOME)
    for _ in range(3):
        slider.send_keys(Keys.ARROW_RIGHT)
    wait_drawn(page, "strain/exx", 3)
    assert state(page, "frame") == 3
    t3 = float(store["strain"]["time_s"].values[3])
    assert page.find_element(By.ID, "frame-label").text == f"frame 3 / {N_FRAMES - 1} · t = {t3:g} s"
    assert state(page, "timelineCursorTime") == pytest.approx(t3)
    assert page.find_element(By.ID, "timeline-cursor").text == f"t = {t3:g} s"
    print(f"\n[viewer] browser frame change (fetch + decode + draw): {state(page, 'lastFrameMs'):.1f} ms")


def test_hover_readout_matches_store(page, server, store):
    select_map(page, "strain", "strain/exx")
    page.execute_script("window.viewerApi.setFrame(3);")
    wait_drawn(page, "strain/exx", 3)
    i, j = 10, 20
    hover_pixel(page, i, j)
    s = state(page)
    header, _ = decode_frame(raw_request(server, "/api/slice?var=strain/exx&frame=3")[2])
    truth = float(store["strain/exx"].values[3, i, j])
    assert s["value"] == pytest.approx(truth, abs=header["step"])
    assert s["std"] == pytest.approx(float(store["strain/exx_std"].values[3, i, j]), rel=2e-3)
    assert s["position_nm"] == pytest.approx([2.0 * i, 2.0 * j])
    # strain pixel (10, 20) is at (20 nm, 40 nm): grid row round(20 / 1.5) = 13 -> layer 1
    layer_row = int(round(2.0 * i / 1.5))
    expected_layer = LAYER_NAMES[int(store["grid/layer"].values[3, layer_row, int(round(2.0 * j / 1.5))])]
    assert s["layer"] == expected_layer == "emitter"
    text = page.find_element(By.ID, "readout").text
    assert "±" in text and "layer: emitter" in text and "y = 20 nm, x = 40 nm" in text
    shown = float(text.split("=")[1].split("±")[0])
    assert shown == pytest.approx(truth, rel=2e-3, abs=header["step"])
    # a NaN pixel reads NaN, not a number
    page.execute_script("window.viewerApi.setFrame(2);")
    wait_drawn(page, "strain/exx", 2)
    hover_pixel(page, 5, 7)
    assert state(page, "value") is None and "exx = NaN" in page.find_element(By.ID, "readout").text


def test_categorical_and_element_maps(page, store):
    select_map(page, "grid", "grid/layer")
    hover_pixel(page, 30, 5)
    assert state(page, "layer") == LAYER_NAMES[int(store["grid/layer"].values[state(page, "frame"), 30, 5])]
    assert "layer = ETL" in page.find_element(By.ID, "readout").text
    hover_pixel(page, 0, 3)  # label -1: unassigned
    assert state(page, "layer") == "(none)" and "layer = (none)" in page.find_element(By.ID, "readout").text
    select_map(page, "grid", "grid/atomic_percent:Br")
    f = state(page, "frame")
    hover_pixel(page, 4, 4)
    br = float(store["grid/atomic_percent"].sel(element="Br").values[f, 4, 4])
    assert state(page, "value") == pytest.approx(br, abs=0.05)
    assert "at.%" in page.find_element(By.ID, "readout").text


def test_colour_range_and_map_inputs(page):
    select_map(page, "strain", "strain/eyy")
    assert state(page, "cmap") == "diverging"
    assert state(page, "vmin") == pytest.approx(-state(page, "vmax"))
    Select(page.find_element(By.ID, "cmap")).select_by_value("cividis")
    vmax = page.find_element(By.ID, "vmax")
    vmax.clear()
    vmax.send_keys("0.001", Keys.TAB)
    WebDriverWait(page, 5).until(lambda d: state(d, "vmax") == pytest.approx(1e-3))
    assert state(page, "cmap") == "cividis"
    page.find_element(By.ID, "auto-range").click()
    assert state(page, "vmax") > 1e-3


def test_event_marker_jumps_to_frame(page, store):
    select_map(page, "strain", "strain/exx")
    page.execute_script("window.viewerApi.setFrame(0);")
    wait_drawn(page, "strain/exx", 0)
    markers = {m.get_attribute("data-name"): m for m in page.find_elements(By.CSS_SELECTOR, ".event-marker")}
    assert set(markers) == {"EL half-life", "R doubling"}  # "collapse" was not reached (frame -1)
    assert "not reached: collapse" in page.find_element(By.ID, "events-note").text
    markers["R doubling"].click()
    wait_drawn(page, "strain/exx", 4)
    assert page.find_element(By.ID, "frame-label").text.startswith(f"frame 4 / {N_FRAMES - 1}")
    assert page.find_element(By.ID, "frame").get_attribute("value") == "4"
    assert state(page, "timelineCursorTime") == pytest.approx(float(store["timeline"]["time_s"].values[4]))
    markers["EL half-life"].click()
    wait_drawn(page, "strain/exx", 3)


def test_play_pause(page):
    page.execute_script("window.viewerApi.setFrame(0);")
    page.find_element(By.ID, "play").click()
    WebDriverWait(page, 10).until(lambda d: state(d, "frame") >= 2)
    page.find_element(By.ID, "play").click()
    assert state(page, "playing") is False
    stopped = state(page, "frame")
    page.execute_script("return new Promise(r => setTimeout(r, 800));")
    assert state(page, "frame") == stopped


def test_screenshot(page, store):
    select_map(page, "strain", "strain/exx")
    page.execute_script("window.viewerApi.setFrame(3);")
    wait_drawn(page, "strain/exx", 3)
    hover_pixel(page, 10, 20)
    page.save_screenshot("/tmp/viewer.png")
    # the map really shows the data: the left edge of exx (negative) is drawn bluer than the right edge
    rgb = page.execute_script("""
        const c = document.getElementById('map'), g = c.getContext('2d');
        const a = g.getImageData(2, c.height / 2, 1, 1).data;
        const b = g.getImageData(c.width - 3, c.height / 2, 1, 1).data;
        return [Array.from(a), Array.from(b)];""")
    left, right = np.array(rgb[0][:3]), np.array(rgb[1][:3])
    assert left[2] > left[0] and right[0] > right[2]
    assert [e for e in page.get_log("browser") if e["level"] == "SEVERE"] == []
