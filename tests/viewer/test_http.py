"""The viewer's HTTP surface with raw sockets (paths reach the server exactly as written)."""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import pytest

from perovscope.errors import InputError
from perovscope.viewer import ResultsData, ViewerServer, loopback_address
from perovscope.viewer.data import decode_frame

from .conftest import LAYER_NAMES, N_FRAMES, PHASE_NAMES, SECRET


def raw_request(server, target: str, method: str = "GET", host: str | None = None, body: bytes = b""):
    """Send one request line as given; return (status, headers, body)."""
    port = server.server_address[1]
    head = (f"{method} {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + body)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    raw = b"".join(chunks)
    header_blob, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_blob.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    return status, headers, payload


TRAVERSALS = [
    "/files/../../etc/passwd",
    "/../../../../etc/passwd",
    "/static/../../../../etc/passwd",
    "/files/../sibling.txt",
    "/files/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/files/%2e%2e/sibling.txt",
    "/files/%2E%2E/%2E%2E/etc/passwd",
    "/files/..%2fsibling.txt",
    "/files/..%2F..%2Fetc%2Fpasswd",
    "/files/%252e%252e%252fsibling.txt",
    "/files/%252e%252e/%252e%252e/etc/passwd",
    "/files/%25252e%25252e%25252fsibling.txt",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "//etc/passwd",
    "/files/..\\sibling.txt",
    "/files/%5c..%5csibling.txt",
    "/files/..%5csibling.txt",
    "/files/report.html%00.png",
    "/files/%00",
    "/files/C:/Windows/win.ini",
    "/files/%c0%ae%c0%ae/sibling.txt",
    "/files/./../sibling.txt",
    "/files/figures/../../sibling.txt",
    "/files/leak.txt",
    "/files/leakdir/secret.txt",
    "/files/leakdir/",
    "/files/leakdir",
    "/files/.work/partial.txt",
    "/files/.work/",
    "http://127.0.0.1/files/../sibling.txt",
    "/api/../files/../sibling.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_refused(server, target):
    status, _, body = raw_request(server, target)
    assert status in (403, 404), (target, status)
    assert SECRET.encode() not in body and b"root:" not in body


def test_raw_nul_byte_refused(server):
    status, _, body = raw_request(server, "/files/report.html\x00")
    assert status in (400, 403, 404)
    assert SECRET.encode() not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_only_get_and_head(server, method):
    status, headers, _ = raw_request(server, "/api/index", method=method, body=b"x=1")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"


def test_foreign_host_header_refused(server):
    status, _, _ = raw_request(server, "/api/index", host="attacker.example:80")
    assert status == 403
    status, _, _ = raw_request(server, "/api/index", host=f"localhost:{server.server_address[1]}")
    assert status == 200


def test_files_inside_results_are_served(server, results_dir):
    status, headers, body = raw_request(server, "/files/report.html")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"report" in body
    status, _, body = raw_request(server, "/files/figures/ok_link.txt")  # a link that stays inside
    assert (status, body) == (200, b"inside")
    status, _, body = raw_request(server, "/files/")
    names = {e["name"] for e in json.loads(body)["entries"]}
    assert {"report.html", "figures/", "tables/", "results.zarr/"} <= names
    assert not names & {"leak.txt", "leakdir/", ".work/"}
    status, headers, body = raw_request(server, "/files/report.html", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_page_and_static(server):
    status, headers, body = raw_request(server, "/")
    assert status == 200 and b'id="frame-label"' in body
    assert "script-src 'self'" in headers["content-security-policy"]
    for name in ("viewer.js", "timeline.js", "viewer.css", "colormaps.js"):
        assert raw_request(server, f"/static/{name}")[0] == 200
    assert raw_request(server, "/static/secret.py")[0] == 404
    assert raw_request(server, "/static/__init__.py")[0] == 404


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.10", "10.0.0.1", "8.8.8.8",
                                  "example.com", "::ffff:10.0.0.1", "[2001:db8::1]"])
def test_bind_non_loopback_refused(results_dir, host):
    with pytest.raises(InputError, match="loopback"):
        ViewerServer(results_dir, host=host, port=0)


def test_loopback_addresses_allowed():
    assert loopback_address("127.0.0.1") == "127.0.0.1"
    assert loopback_address("127.3.2.1") == "127.3.2.1"
    assert loopback_address("localhost") == "127.0.0.1"
    assert loopback_address("::1") == "::1"
    assert loopback_address("[::1]") == "::1"


def test_port_zero_picks_free_port(results_dir):
    srv = ViewerServer(results_dir, host="127.0.0.1", port=0)
    try:
        port = srv.server_address[1]
        assert port > 0 and srv.url == f"http://127.0.0.1:{port}/"
        with pytest.raises(InputError, match="--port"):
            ViewerServer(results_dir, port=port)  # in use
    finally:
        srv.server_close()


def test_index(server, store):
    status, _, body = raw_request(server, "/api/index")
    doc = json.loads(body)
    e = {x["id"]: x for x in doc["entries"]}
    assert status == 200 and doc["session"] == "viewer-test" and doc["layer"] == "grid/layer"
    exx = e["strain/exx"]
    assert exx["symmetric"] and exx["range"][0] == -exx["range"][1] and "strain" in exx["range_note"]
    values = store["strain/exx"].values
    assert exx["range"][1] == pytest.approx(np.nanmax(np.abs(np.nanpercentile(values, [1, 99]))))
    assert exx["std"] == "strain/exx_std" and exx["frames"] == N_FRAMES and exx["units"] == "1"
    assert exx["shape"] == [24, 32] and exx["x"]["extent"] == [-1.0, 63.0] and exx["x"]["units"] == "nm"
    assert e["strain/exx_std"]["uncertainty_of"] == "strain/exx"
    assert e["strain/phase"]["categorical"] and e["strain/phase"]["category_names"] == PHASE_NAMES
    assert e["grid/layer"]["categorical"] and e["grid/layer"]["category_names"] == LAYER_NAMES
    assert e["grid/layer"]["range"] == [-1, 2]
    assert e["strain/reason"]["categorical"] and e["strain/reason"]["category_names"] == ["ok", "1", "vacuum"]
    assert e["strain/reference_mask"]["category_names"] == ["no", "yes"]
    assert {f"grid/atomic_percent:{el}" for el in ("Cs", "Pb", "Br")} <= set(e)
    br = e["grid/atomic_percent:Br"]
    assert not br["symmetric"] and br["units"] == "at.%" and br["shape"] == [40, 48]
    br_values = store["grid/atomic_percent"].sel(element="Br").values
    assert br["range"] == pytest.approx(np.percentile(br_values, [1, 99]))
    assert e["grid/haadf"]["y"]["step"] == 1.5
    assert doc["files"]["report.html"] == "/files/report.html"


def test_symmetric_when_values_span_both_signs(tmp_path):
    import xarray as xr

    v = np.linspace(-3, 2, 6 * 8 * 8).reshape(6, 8, 8)
    ds = xr.Dataset({"theta": (("time", "y", "x"), v, {"units": "deg"}),
                     "shift": (("time", "y", "x"), v + 2.9, {"units": "nm"})})
    xr.DataTree.from_dict({"/": xr.Dataset(), "g": ds}).to_zarr(tmp_path / "results.zarr")
    e = {x["id"]: x for x in ResultsData(tmp_path).index()["entries"]}
    assert e["g/theta"]["symmetric"] and "both signs" in e["g/theta"]["range_note"]
    assert not e["g/shift"]["symmetric"]


@pytest.mark.parametrize("fmt", ["f16", "u8"])
def test_slice_round_trip(server, store, fmt):
    for var, frame in [("strain/exx", 2), ("strain/eyy", 5), ("grid/haadf", 0)]:
        status, headers, body = raw_request(server, f"/api/slice?var={var}&frame={frame}&fmt={fmt}")
        assert status == 200 and headers["content-type"] == "application/octet-stream"
        header, values = decode_frame(body)
        truth = store[var].isel(time=frame).values
        assert header["shape"] == list(truth.shape) and header["frame"] == frame
        np.testing.assert_array_equal(np.isnan(values), np.isnan(truth))
        assert np.nanmax(np.abs(values - truth)) <= header["step"] / 2 * 1.0001
    header, values = decode_frame(raw_request(server, "/api/slice?var=grid/atomic_percent:Br&frame=4")[2])
    np.testing.assert_allclose(values, store["grid/atomic_percent"].sel(element="Br").isel(time=4), atol=0.05)
    header, values = decode_frame(raw_request(server, "/api/slice?var=grid/layer&frame=1")[2])
    assert header["dtype"] == "uint8" and header["step"] == 0
    np.testing.assert_array_equal(values, store["grid/layer"].isel(time=1).values)


def test_slice_errors(server):
    assert raw_request(server, "/api/slice?var=strain/nope&frame=0")[0] == 404
    assert raw_request(server, f"/api/slice?var=strain/exx&frame={N_FRAMES}")[0] == 404
    assert raw_request(server, "/api/slice?var=strain/exx&frame=-1")[0] == 404
    assert raw_request(server, "/api/slice?var=strain/exx&frame=two")[0] == 400
    assert raw_request(server, "/api/slice?var=strain/exx&frame=0&fmt=png")[0] == 400
    assert raw_request(server, "/api/nothing")[0] == 404


def test_timeline_and_events(server, store):
    doc = json.loads(raw_request(server, "/api/timeline")[2])
    assert doc["time_s"] == list(store["timeline"]["time_s"].values) and doc["frame"] == list(range(N_FRAMES))
    r = doc["columns"]["resistance_ohm"]
    assert r["units"] == "ohm" and r["values"] == pytest.approx(store["timeline/resistance_ohm"].values)
    assert r["std"] == pytest.approx(store["timeline/resistance_ohm_std"].values)
    assert "resistance_ohm_std" not in doc["columns"] and doc["columns"]["alcl3_thickness_nm"]["std"] is None
    ev = json.loads(raw_request(server, "/api/events")[2])["events"]
    assert [e["name"] for e in ev] == ["EL half-life", "R doubling", "collapse"]
    assert ev[1]["frame"] == 4 and ev[2]["frame"] == -1 and ev[2]["time_s"] is None


def test_frame_cache_timing(results_dir, capsys):
    """Reports (never asserts) how long a frame takes from the store and from the cache."""
    data = ResultsData(results_dir)
    data.index()
    t0 = time.perf_counter()
    data.slice_bytes("strain/exx", 3)
    t1 = time.perf_counter()
    data.slice_bytes("strain/exx", 3)
    t2 = time.perf_counter()
    with capsys.disabled():
        print(f"\n[viewer] slice strain/exx: first read {1e3 * (t1 - t0):.2f} ms, "
              f"cached {1e3 * (t2 - t1):.3f} ms")
    assert data.slice_bytes("strain/exx", 3) is data.slice_bytes("strain/exx", 3)
