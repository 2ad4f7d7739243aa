"""Every file of ../shared/data/MANIFEST.md is read and every asserted value there is reproduced.

Values are compared exactly (integers, pixel values, sums of integer data) or "to the digits shown" in
the manifest: the calibrated step/offset, converted back to the unit the manifest uses, must lie within
one unit of the last decimal the manifest prints.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import numpy as np
import pytest
import xarray as xr

import perovscope.io as pio


def digits(value: float, shown: str) -> None:
    """Assert ``value`` equals the manifest number ``shown`` to the decimals printed there.

    The manifest sometimes rounds and sometimes truncates (869.98382568 is printed 869.983825), so
    the value must lie within one unit of the last printed decimal: |value - shown| < 10**-decimals.
    """
    decimals = -Decimal(shown).as_tuple().exponent
    assert abs(float(value) - float(shown)) < 10.0**-decimals, f"{value!r} != {shown} to {decimals} decimals"


def step(da: xr.DataArray, dim: str) -> float:
    c = da[dim].values
    return float(c[1] - c[0])


def acquired(da) -> str:
    return da.attrs["acquired"].replace("T", " ")


def test_mib_4x2_6bit(data_file):
    da = pio.read(data_file("rosettasciio/001_4x2_6bit.mib"))
    assert isinstance(da, xr.DataArray)
    assert da.dims == ("scan_y", "scan_x", "ky", "kx")
    assert da.shape == (2, 4, 256, 256) and da.dtype == np.uint8
    assert da.attrs["signal"] == "4dstem" and da.attrs["units"] == "counts"
    assert all(da[d].attrs["units"] == "px" for d in da.dims)  # uncalibrated
    assert da.attrs["exposure_s"] == 0.1  # 100.0 ms per frame
    assert da.attrs["dwell_time_s"] == 0.1
    assert da.attrs["acquired"] == "2021-05-07T16:51:10.905800928Z"
    data = da.values
    assert int(data.sum(dtype=np.int64)) == 3623664
    assert int(data.max()) == 63
    frame_sums = data.reshape(8, -1).sum(axis=1, dtype=np.int64).tolist()
    assert frame_sums == [448386, 449671, 452147, 455427, 450760, 453755, 455591, 457927]


def test_mib_without_hdr(data_file, tmp_path):
    src = data_file("rosettasciio/001_4x2_6bit.mib")
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    assert not dst.with_suffix(".hdr").exists()
    da = pio.read(dst)
    assert da.size == 8 * 256 * 256 and da.dtype == np.uint8
    assert int(da.sum().values) == 3623664
    assert da.attrs["acquired"] == "2021-05-07T16:51:10.905800928Z"


def test_mib_through_its_header(data_file):
    da = pio.read(data_file("rosettasciio/001_4x2_6bit.hdr"))
    assert da.shape == (2, 4, 256, 256)


def test_dm3_multi_signal(data_file):
    tree = pio.read(data_file("rosettasciio/multi_signal.dm3"))
    assert isinstance(tree, xr.DataTree)
    assert set(tree.children) == {"haadf", "line_profile"}
    haadf = tree["haadf/haadf"]
    assert haadf.dims == ("y", "x") and haadf.shape == (512, 512) and haadf.dtype == np.uint16
    digits(step(haadf, "x"), "0.017751578")
    digits(step(haadf, "y"), "0.017751578")
    assert haadf.x.attrs["units"] == "nm"
    assert int(haadf.values.sum(dtype=np.int64)) == 949490255
    assert haadf.attrs["beam_energy_keV"] == 300.0
    assert haadf.attrs["camera_length_mm"] == 77.0
    assert haadf.attrs["magnification"] == 1e7
    digits(haadf.attrs["dwell_time_s"] * 1e5, "3.24")  # 3.24e-05 s
    assert acquired(haadf) == "2019-12-10 15:32:41"
    assert tree["line_profile/line_profile"].shape == (512,)


def test_dm3_stem_image(data_file):
    da = pio.read(data_file("rosettasciio/test_STEM_image.dm3"))
    assert da.shape == (68, 68) and da.dtype == np.uint32 and da.dims == ("y", "x")
    digits(step(da, "x"), "0.248538")
    assert da.attrs["beam_energy_keV"] == 200.0
    assert da.attrs["dwell_time_s"] == pytest.approx(3.5e-6, rel=1e-12)
    assert da.attrs["camera_length_mm"] == 135.0
    assert da.attrs["magnification"] == 225000.0
    assert da.attrs["microscope"] == "FEI Titan"
    assert acquired(da) == "2016-08-08 16:26:37"


def test_velox_emd_image(data_file):
    da = pio.read(data_file("SciFiDatasets/EMDReader_Image_FEI.emd"))
    assert da.shape == (512, 512) and da.dtype == np.uint16 and da.attrs["signal"] == "haadf"
    assert da.x.attrs["units"] == "nm"
    digits(step(da, "x") / 1e3, "0.0053024148")  # µm/px in the manifest
    digits(step(da, "y") / 1e3, "0.0053024148")
    values = da.values
    assert values[10, 10] == 9190 and values[100, 100] == 9191 and values[300, 300] == 9190
    assert da.attrs["beam_energy_keV"] == 200.0  # AccelerationVoltage 200000 V


def test_bcf_packed_16bit(data_file):
    tree = pio.read(data_file("rosettasciio/30x30_instructively_packed_16bit_compressed.bcf"))
    edx = tree["eds/eds"]
    assert edx.dims == ("y", "x", "energy") and edx.shape == (30, 30, 2048) and edx.dtype == np.uint16
    digits(step(edx, "x") / 1e3, "1.66740910949362")
    digits(step(edx, "y") / 1e3, "1.66740910949362")
    digits(step(edx, "energy") / 1e3, "0.009999")
    digits(float(edx.energy[0]) / 1e3, "-0.47225277")
    assert edx.energy.attrs["units"] == "eV"
    expected = np.load(data_file("rosettasciio/30x30_16bit.npy"))
    np.testing.assert_array_equal(edx.values[:, :, 222:224], expected)
    assert int(edx.values.sum(dtype=np.int64)) == 18621362
    assert edx.attrs["beam_energy_keV"] == 20.0
    assert edx.attrs["detector_elevation_deg"] == 35.0
    assert edx.attrs["detector_azimuth_deg"] == 90.0
    assert edx.attrs["real_time_s"] == 70.07298
    assert edx.attrs["sample"] == "chevkinite"
    assert edx.attrs["elements"] == "Al C Ca Ce Fe Gd K Mg Na Nd O P Si Sm Th Ti".split()
    assert tree["bse/bse"].shape == (30, 30)


def test_bcf_tem(data_file):
    tree = pio.read(data_file("rosettasciio/test_TEM.bcf"))
    edx = tree["eds/eds"]
    assert edx.shape == (64, 64, 2048) and edx.dtype == np.uint8
    digits(step(edx, "energy") / 1e3, "0.010001")
    digits(float(edx.energy[0]) / 1e3, "-0.475448")
    assert int(edx.values.sum(dtype=np.int64)) == 26005
    assert edx.attrs["beam_energy_keV"] == 200.0
    assert sorted(edx.attrs["elements"]) == ["Cu", "O", "Pd", "Ti"]
    assert tree["haadf/haadf"].shape == (64, 64)


def test_velox_emd_spectrum_image(data_file):
    tree = pio.read(data_file("rosettasciio/Test SI 16x16 215 kx.emd"))
    edx = tree["eds/eds"]
    assert edx.dims == ("y", "x", "energy") and edx.shape == (16, 16, 4096) and edx.dtype == np.uint16
    digits(step(edx, "x"), "3.59925")
    digits(step(edx, "energy") / 1e3, "0.01")
    digits(float(edx.energy[0]) / 1e3, "-0.25")
    assert edx.attrs["elements"] == ["C", "O", "Ca", "Cu"]
    assert int(edx.values.sum(dtype=np.int64)) == 42097
    haadf = tree["haadf/haadf"]
    assert haadf.shape == (16, 16)
    assert int(haadf.values.sum(dtype=np.int64)) == 2367830
    assert edx.attrs["beam_energy_keV"] == 300.0
    maps = tree["element_map/element_map"]
    assert maps.dims == ("y", "x", "element") and sorted(maps.element.values) == ["C", "Ca", "Cu", "O"]


def test_dm3_eds_spectrum(data_file):
    da = pio.read(data_file("rosettasciio/test-EDS_spectrum.dm3"))
    assert da.dims == ("energy",) and da.shape == (4096,) and da.dtype == np.uint32
    assert da.attrs["signal"] == "eds"
    digits(step(da, "energy") / 1e3, "0.005")
    digits(float(da.energy[0]) / 1e3, "-0.478")
    assert da.attrs["live_time_s"] == 3.806 and da.attrs["real_time_s"] == 4.233
    assert da.attrs["detector_elevation_deg"] == 18.0 and da.attrs["detector_azimuth_deg"] == 45.0
    assert int(da.values.sum()) == 17051 and int(da.values.max()) == 3525
    assert da.attrs["beam_energy_keV"] == 200.0 and "Titan" in da.attrs["microscope"]


def test_dm4_eels_spectrum_image(data_file):
    da = pio.read(data_file("rosettasciio/EELS_SI.dm4"))
    assert da.dims == ("y", "x", "energy") and da.shape == (2, 2, 2048) and da.dtype == np.float32
    assert step(da, "energy") == 1.0 and float(da.energy[0]) == 300.0
    digits(step(da, "x") / 1e3, "0.0019920736")
    assert da.attrs["convergence_semiangle_mrad"] == 21.0
    assert da.attrs["collection_semiangle_mrad"] == 62.0
    digits(da.attrs["dwell_time_s"] * 1e2, "1.9950125")  # 1.9950125e-2 s
    assert acquired(da) == "2019-05-14 20:50:13"
    digits(float(da.values.sum(dtype=np.float64)), "7169069.07")
    assert da.attrs["beam_energy_keV"] == 200.0 and "Titan" in da.attrs["microscope"]
    assert da.attrs["spectrometer"] == "GIF Quantum ER"


@pytest.mark.parametrize("name", ["SciFiDatasets/DMReader_EELS_STO.dm3",
                                  "SciFiDatasets/DMReader_EELS_STO.dm4"])
def test_dm_eels_sto(data_file, name):
    da = pio.read(data_file(name))
    assert da.dims == ("energy",) and da.shape == (2048,) and da.dtype == np.float32
    assert step(da, "energy") == 0.25 and float(da.energy[0]) == 350.0
    assert float(da.values[200]) == 135727.0 and float(da.energy[200]) == 400.0
    assert da.attrs["exposure_s"] == 2.0
    assert float(da.values.sum(dtype=np.float64)) == 162759720.0


def test_dm3_carbon_edge(data_file):
    da = pio.read(data_file("openNCEM/08_carbon.dm3"))
    assert da.dims == ("energy",) and da.shape == (2048,) and da.dtype == np.float32
    digits(step(da, "energy"), "0.1")
    digits(float(da.energy[0]), "240")
    digits(float(da.energy[-1]), "444.7")
    assert float(da.values[0]) == 21281
    assert da.attrs["beam_energy_keV"] == 300.0


@pytest.mark.parametrize(("name", "offset", "total"), [("exspy/coreloss_spectrum.msa", 360.0, 47020089),
                                                       ("exspy/lowloss_spectrum.msa", -40.0, 1254382)])
def test_msa(data_file, name, offset, total):
    da = pio.read(data_file(name))
    assert da.dims == ("energy",) and da.shape == (2048,) and da.attrs["signal"] == "eels"
    digits(step(da, "energy"), "0.2")
    assert float(da.energy[0]) == offset
    assert float(da.values.sum()) == total


def test_dm4_monocl_line_scan(data_file):
    da = pio.read(data_file("rosettasciio/test-MonoCL_spectrum-SI.dm4"))
    assert da.dims == ("x", "wavelength") and da.shape == (67, 1336) and da.dtype == np.float32
    assert da.attrs["signal"] == "cl"
    digits(step(da, "wavelength"), "0.0934361")
    digits(float(da.wavelength[0]), "811.0257")
    digits(step(da, "x") / 1e3, "0.0206345")
    digits(da.attrs["central_wavelength_nm"], "869.983825")
    digits(da.attrs["exposure_s"], "0.05")
    assert da.attrs["grating_lines_per_mm"] == 600.0
    assert da.attrs["beam_energy_keV"] == 5.0


def test_dm4_monarc_map(data_file):
    da = pio.read(data_file("rosettasciio/test-MonarcCL_spectrum-SI.dm4"))
    assert da.dims == ("y", "x", "wavelength") and da.shape == (3, 3, 670) and da.dtype == np.float32
    digits(step(da, "wavelength"), "0.146675")
    digits(float(da.wavelength[0]), "315.863")
    assert da.attrs["grating_lines_per_mm"] == 1200.0
    digits(da.attrs["exposure_s"], "0.05")
    assert da.attrs["beam_energy_keV"] == 5.0


def test_hspy_cl_map(data_file):
    da = pio.read(data_file("lumispy/asymmetric_peak_map.hspy"))
    assert da.dims == ("y", "x", "wavelength") and da.shape == (16, 30, 334) and da.dtype == np.float32
    assert da.attrs["signal"] == "cl"  # a 2-D map of spectra
    digits(step(da, "wavelength"), "0.819014")
    digits(float(da.wavelength[0]), "530.79")
    digits(step(da, "x") / 1e3, "0.0400135")
    assert "30K" in da.attrs["title"]  # recorded at 30 K


def test_labspec_xml(data_file):
    da = pio.read(data_file("rosettasciio/jobinyvon_test_spec.xml"))
    assert da.dims == ("wavelength",) and da.shape == (34,) and da.attrs["signal"] == "pl"
    wl = da.wavelength.values
    assert wl[0] == 522.574 and wl[-1] == 537.361 and np.all(np.diff(wl) > 0)
    steps = np.diff(wl)
    assert steps.max() - steps.min() > 1e-4  # non-uniform axis kept as explicit coordinates
    expected = [1496, 1242, 1094, 986, 948, 900, 858, 855, 840, 822, 824, 820, 810, 809, 791, 781, 771,
                782, 795, 790, 777, 771, 769, 767, 756, 755, 759, 740, 743, 763, 759, 727, 764, 760]
    np.testing.assert_array_equal(da.values, expected[::-1])
    assert da.attrs["laser_wavelength_nm"] == 632.817


def test_bruker_rawdata_xml(data_file):
    da = pio.read(data_file("xrd-analysis/RawData0.xml"))
    assert da.dims == ("two_theta",) and da.shape == (3714,) and da.two_theta.attrs["units"] == "deg"
    assert da.two_theta.values[:3].tolist() == [2, 2.0102, 2.0205]
    assert da.values[:3].tolist() == [1080, 1024, 1009]
    assert (float(da.two_theta[-1]), float(da[-1])) == (40.0099, 472)
    assert da.attrs["anode"] == "Cu"  # Cu Kα


def test_bruker_brml(data_file):
    da = pio.read(data_file("xrd-analysis/test.brml"))
    assert da.shape == (2443,) and da.attrs["signal"] == "xrd"
    assert float(da.two_theta[0]) == 20 and float(da.two_theta[-1]) == 79.9968
    assert da.attrs["anode"] == "Cu" and da.attrs["xray_wavelength_A"] == 1.5406


def test_xy_two_column(data_file):
    da = pio.read(data_file("xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy"))
    assert da.dims == ("two_theta",) and da.shape == (3449,)
    x = da.two_theta.values
    assert x[0] == 10 and float(da.values[1]) == -0.0755227112146954 and x[3448] == 70.0050142705441


def test_every_manifest_file_is_covered(data_dir):
    """Guard: a file added to the manifest without a test here fails this test."""
    import re

    text = (data_dir / "MANIFEST.md").read_text()
    listed = set(re.findall(r"^\| `([^`]+)`", text, flags=re.M))
    covered = {
        "rosettasciio/001_4x2_6bit.mib", "rosettasciio/multi_signal.dm3", "rosettasciio/test_STEM_image.dm3",
        "SciFiDatasets/EMDReader_Image_FEI.emd",
        "rosettasciio/30x30_instructively_packed_16bit_compressed.bcf", "rosettasciio/test_TEM.bcf",
        "rosettasciio/Test SI 16x16 215 kx.emd", "rosettasciio/test-EDS_spectrum.dm3",
        "rosettasciio/EELS_SI.dm4", "SciFiDatasets/DMReader_EELS_STO.dm3", "openNCEM/08_carbon.dm3",
        "exspy/coreloss_spectrum.msa", "rosettasciio/test-MonoCL_spectrum-SI.dm4",
        "rosettasciio/test-MonarcCL_spectrum-SI.dm4", "lumispy/asymmetric_peak_map.hspy",
        "rosettasciio/jobinyvon_test_spec.xml", "xrd-analysis/RawData0.xml", "xrd-analysis/test.brml",
        "xrd-analysis/MG1-Cu2O-28_bg_subtracted.xy",
    }
    assert listed <= covered, f"manifest files without a reader test: {sorted(listed - covered)}"
