"""Formats without a real file in ../shared/data (HyperSpy zspy/hspy, NanoMegas blockfile, DigitalSurf
sur) are written with RosettaSciIO's own writers from a known array, then read back with perovscope."""

from __future__ import annotations

import importlib
import warnings

import dask.array as dsa
import numpy as np
import pytest

import perovscope.io as pio


def _signal(data, axes, signal_type=""):
    return {"data": data, "axes": axes, "original_metadata": {},
            "metadata": {"General": {"title": "synthetic"}, "Signal": {"signal_type": signal_type},
                         "Acquisition_instrument": {"TEM": {"beam_energy": 300.0}}},
            "package_info": {"name": "perovscope-tests", "version": "0"}, "attributes": {"_lazy": False},
            "tmp_parameters": {}, "learning_results": {}, "models": {}}


def _ax(name, size, scale, units, navigate):
    return {"name": name, "size": size, "scale": scale, "offset": 0.0, "units": units, "navigate": navigate}


FOURD = np.random.default_rng(3).integers(0, 200, size=(2, 3, 8, 8)).astype(np.uint8)
FOURD_AXES = [_ax("y", 2, 2.0, "nm", True), _ax("x", 3, 2.0, "nm", True), _ax("ky", 8, 0.1, "1/nm", False),
              _ax("kx", 8, 0.1, "1/nm", False)]


@pytest.mark.parametrize(("module", "name"), [("rsciio.zspy", "scan.zspy"), ("rsciio.hspy", "scan.hspy"),
                                              ("rsciio.hspy", "scan.h5"), ("rsciio.blockfile", "scan.blo")])
def test_4dstem_containers_roundtrip(tmp_path, module, name):
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # writer notes about zarr store classes / blockfile units
        importlib.import_module(module).file_writer(str(path), _signal(FOURD, FOURD_AXES,
                                                                       "electron_diffraction"))
    da = pio.read(path)
    assert da.dims == ("scan_y", "scan_x", "ky", "kx") and da.attrs["signal"] == "4dstem"
    assert isinstance(da.data, dsa.Array)  # lazy formats
    np.testing.assert_array_equal(da.values, FOURD)
    np.testing.assert_allclose(da.scan_x.values, [0.0, 2.0, 4.0])
    assert da.scan_x.attrs["units"] == "nm"


def test_zspy_opened_read_only(tmp_path, monkeypatch):
    """RosettaSciIO opens lazy zspy stores in "r+" by default; perovscope asks for "r"."""
    api = importlib.import_module("rsciio.zspy._api")
    path = tmp_path / "scan.zspy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api.file_writer(str(path), _signal(FOURD, FOURD_AXES, "electron_diffraction"))
    modes = []
    real_open = api.zarr.open

    def spy(store, **kwargs):
        modes.append(kwargs.get("mode"))
        return real_open(store, **kwargs)

    monkeypatch.setattr(api.zarr, "open", spy)
    np.testing.assert_array_equal(pio.read(path).values, FOURD)
    assert modes == ["r"]


def test_hspy_keeps_calibration_and_metadata(tmp_path):
    path = tmp_path / "si.hspy"
    data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    axes = [_ax("y", 4, 0.5, "µm", True), _ax("x", 5, 0.5, "µm", True), _ax("Energy", 6, 0.01, "keV", False)]
    importlib.import_module("rsciio.hspy").file_writer(str(path), _signal(data, axes, "EDS_TEM"))
    da = pio.read(path)
    assert da.dims == ("y", "x", "energy") and da.attrs["signal"] == "eds"
    np.testing.assert_allclose(da.x.values, [0, 500, 1000, 1500, 2000])  # µm -> nm
    np.testing.assert_allclose(da.energy.values, 10.0 * np.arange(6))  # keV -> eV
    assert da.attrs["beam_energy_keV"] == 300.0
    np.testing.assert_array_equal(da.values, data)


def test_digitalsurf_line_spectrum(tmp_path):
    path = tmp_path / "line.sur"
    data = np.arange(40, dtype=np.float32).reshape(5, 8)
    axes = [_ax("x", 5, 1.0, "µm", True), _ax("Energy", 8, 0.01, "keV", False)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the writer's float -> int32 cast note
        importlib.import_module("rsciio.digitalsurf").file_writer(str(path), _signal(data, axes))
    da = pio.read(path)
    assert da.dims == ("x", "energy") and da.x.attrs["units"] == "nm" and da.energy.attrs["units"] == "eV"
    # .sur stores floats as 32-bit integers scaled to the data range: quantisation ~ range / 2**31.
    # RosettaSciIO 0.15's writer overflows its int32 cast at the data maximum (it reads back as the
    # minimum), a writer bug outside perovscope, so that one element is left out of the comparison.
    keep = np.arange(data.size) != np.argmax(data)
    np.testing.assert_allclose(da.values.ravel()[keep], data.ravel()[keep], rtol=0, atol=1e-4)
    np.testing.assert_allclose(da.x.values, 1000.0 * np.arange(5))


def test_berkeley_emd_spectrum_image(tmp_path):
    """Berkeley (NCEM) EMD written by RosettaSciIO's writer: dims, µm -> nm, keV -> eV, data."""
    path = tmp_path / "si.emd"
    data = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    axes = [_ax("y", 3, 0.5, "µm", True), _ax("x", 4, 0.5, "µm", True), _ax("Energy", 5, 0.01, "keV", False)]
    axes[2]["offset"] = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module("rsciio.emd").file_writer(str(path), _signal(data, axes, "EDS_TEM"))
    da = pio.read(path)
    assert da.dims == ("y", "x", "energy") and da.attrs["signal"] == "eds"
    np.testing.assert_allclose(da.x.values, [0, 500, 1000, 1500])
    np.testing.assert_allclose(da.energy.values, [100, 110, 120, 130, 140])
    np.testing.assert_array_equal(da.values, data)
