"""Every format the README calls lazy is read lazily (dask arrays, no computation until asked), and a
format whose reader cannot read lazily is read eagerly by ``read(path)`` and says so.

Real files where ../shared/data has one (Gatan dm3/dm4, Velox EMD, Merlin mib, HyperSpy hspy);
otherwise files written by RosettaSciIO's own writers (HyperSpy zspy, NanoMegas blockfile, Berkeley
EMD); perovscope's zarr results through ``perovscope.io.save``. FEI TIA and JEOL have neither a real
file nor a writer (listed in the README). Delmic HDF5 has no lazy reader in RosettaSciIO: a file in the
Odemis layout is written here with h5py and must read with ``lazy=True`` (the default).
"""

from __future__ import annotations

import importlib
import warnings

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from dask.callbacks import Callback

import perovscope.io as pio
from perovscope.io.formats import FORMATS
from perovscope.io.reader import _call_reader

REAL = {
    "digitalmicrograph": ["rosettasciio/EELS_SI.dm4", "rosettasciio/test_STEM_image.dm3"],
    "emd": ["SciFiDatasets/EMDReader_Image_FEI.emd", "rosettasciio/Test SI 16x16 215 kx.emd"],
    "quantumdetector": ["rosettasciio/001_4x2_6bit.mib"],
    "hspy": ["lumispy/asymmetric_peak_map.hspy"],
}
WRITTEN = {"zspy": ("rsciio.zspy", "scan.zspy"), "blockfile": ("rsciio.blockfile", "scan.blo"),
           "emd_berkeley": ("rsciio.emd", "scan.emd")}
NO_TEST_FILE = {"tia", "jeol"}  # neither a real file nor a RosettaSciIO writer (README)

DATA = np.random.default_rng(5).integers(0, 200, size=(2, 3, 8, 8)).astype(np.uint8)


class _Computes(Callback):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _start(self, dsk):
        self.n += 1


def _arrays(obj):
    if isinstance(obj, xr.DataTree):
        return [node[v] for node in obj.subtree for v in node.data_vars]
    return [obj]


def _assert_lazy_then_equal(path):
    with _Computes() as counter:
        lazy = pio.read(path)
        arrays = _arrays(lazy)
        assert arrays and all(isinstance(a.data, dsa.Array) for a in arrays), path
        assert counter.n == 0, f"{path}: read() computed data"
    eager = _arrays(pio.read(path, lazy=False))
    for a, b in zip(arrays, eager, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
        assert "lazy_fallback" not in a.attrs


def test_every_lazy_format_is_covered():
    lazy = {f.name for f in FORMATS if f.lazy and f.module is not None}
    assert lazy <= set(REAL) | {"zspy", "blockfile"} | NO_TEST_FILE
    assert not any(f.lazy for f in FORMATS if f.name == "delmic")


@pytest.mark.parametrize("rel", [r for rels in REAL.values() for r in rels])
def test_real_lazy_file(data_file, rel):
    _assert_lazy_then_equal(data_file(rel))


def _signal(data, axes, signal_type):
    return {"data": data, "axes": axes, "original_metadata": {},
            "metadata": {"General": {"title": "written"}, "Signal": {"signal_type": signal_type}},
            "package_info": {"name": "perovscope-tests", "version": "0"}, "attributes": {"_lazy": False},
            "tmp_parameters": {}, "learning_results": {}, "models": {}}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_written_lazy_file(tmp_path, name):
    module, filename = WRITTEN[name]
    axes = [{"name": n, "size": s, "scale": 1.0, "offset": 0.0, "units": u, "navigate": nav}
            for n, s, u, nav in (("y", 2, "nm", True), ("x", 3, "nm", True), ("ky", 8, "1/nm", False),
                                 ("kx", 8, "1/nm", False))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module(module).file_writer(str(tmp_path / filename),
                                                    _signal(DATA, axes, "electron_diffraction"))
    _assert_lazy_then_equal(tmp_path / filename)


def test_results_store_is_lazy(tmp_path):
    da = xr.DataArray(DATA, dims=("scan_y", "scan_x", "ky", "kx"), name="4dstem", attrs={"signal": "4dstem"})
    pio.save(da.to_dataset(), tmp_path / "r.zarr")
    _assert_lazy_then_equal(tmp_path / "r.zarr")


def write_delmic(path, cube):
    """A Delmic (Odemis) HDF5 CL spectrum image: one acquisition, CTZYX image, wavelengths in m."""
    import h5py

    n_c, ny, nx = cube.shape[-1], cube.shape[0], cube.shape[1]
    with h5py.File(path, "w") as fh:
        acq = fh.create_group("Acquisition0")
        img = acq.create_group("ImageData")
        image = img.create_dataset("Image", data=np.moveaxis(cube, -1, 0)[:, None, None])
        for i, label in enumerate("CTZYX"):
            image.dims[i].label = label
        img["DimensionScaleC"] = np.linspace(500e-9, 560e-9, n_c)
        img["DimensionScaleX"] = 50e-9
        img["DimensionScaleY"] = 50e-9
        img["XOffset"] = 0.0
        img["YOffset"] = 0.0
        img["TOffset"] = 1.7e9
        phys = acq.create_group("PhysicalData")
        phys["Title"] = np.bytes_("Spectrum")
        phys["ChannelDescription"] = np.array([b"Spectrum"])
        for item in phys.values():
            item.attrs["State"] = np.array([114])  # "reported" (Odemis ST_REPORTED)
        svi = acq.create_group("SVIData")
        svi["Company"] = np.bytes_("Delmic")
        svi["WriterVersion"] = np.bytes_("odemis 3.5")
    assert (ny, nx) == cube.shape[:2]


def test_delmic_read_lazily_falls_back_to_eager(tmp_path):
    cube = np.random.default_rng(1).integers(0, 1000, size=(3, 4, 16)).astype(np.uint16)
    path = tmp_path / "cl.h5"
    write_delmic(path, cube)
    da = pio.read(path)  # lazy by default: used to fail with "Lazy loading is not supported"
    assert da.attrs["signal"] == "cl" and da.dims == ("y", "x", "wavelength")
    assert isinstance(da.data, np.ndarray)
    assert "cannot be read lazily" in da.attrs["lazy_fallback"]
    np.testing.assert_array_equal(da.values, cube)
    np.testing.assert_allclose(da["wavelength"].values, np.linspace(500, 560, 16))
    assert "lazy_fallback" not in pio.read(path, lazy=False).attrs


def test_reader_refusing_lazy_is_rerun_eagerly():
    calls = []

    def reader(filename, lazy=False):
        calls.append(lazy)
        if lazy:
            raise NotImplementedError("Lazy loading is not supported.")
        return [{"data": np.zeros(3)}]

    fmt = next(f for f in FORMATS if f.name == "tia")
    signals, note = _call_reader(reader, pio.read.__globals__["Path"]("x.ser"), fmt, {"lazy": True})
    assert calls == [True, False] and len(signals) == 1 and "cannot read lazily" in note
    with pytest.raises(NotImplementedError):  # other NotImplementedErrors are not swallowed
        _call_reader(lambda filename, lazy=False: (_ for _ in ()).throw(NotImplementedError("DM5")),
                     pio.read.__globals__["Path"]("x.ser"), fmt, {"lazy": True})
