"""The probe radius is measured from the data; metadata that disagree are reported, never trusted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from perovscope.diffraction.analysis import strain_map
from perovscope.diffraction.detector import electron_wavelength_nm
from perovscope.diffraction.probe import RADIUS_TOLERANCE, measure_probe
from perovscope.errors import CalibrationWarning, InputError


def _labelled(s, radius_meta_px):
    det = s.data.shape[-1]
    k = (np.arange(det) - (det - 1) / 2) * s.pixel_inv_nm
    alpha = radius_meta_px * electron_wavelength_nm(200.0) * s.pixel_inv_nm * 1e3  # mrad
    return xr.DataArray(s.data, dims=("scan_y", "scan_x", "ky", "kx"),
                        coords={"ky": ("ky", k, {"units": "1/nm"}), "kx": ("kx", k, {"units": "1/nm"})},
                        attrs={"units": "counts", "signal": "4dstem", "beam_energy_keV": 200.0,
                               "convergence_semiangle_mrad": alpha})


def test_wrong_convergence_metadata_is_caught_and_the_data_are_used(small_strained):
    # metadata claiming 10.2-px disks where the data hold 4-px disks (a default convergence angle)
    da = _labelled(small_strained, 10.2)
    with pytest.warns(CalibrationWarning, match=r"measures [34]\.\d+ px .*\(2\.56 mrad.* imply 10\.20 px"):
        ds = strain_map(da, bad_mask=small_strained.bad, phases=False,
                        reference=small_strained.reference_mask)
    # the disk-model fit resolves the radius to its 0.05-px grid; the 0.5-px blur of the renderer
    # moves the half-intensity radius by < 0.05 px
    assert ds.attrs["probe_radius_px"] == pytest.approx(small_strained.radius_px, abs=0.1)
    assert ds.attrs["probe_radius_source"] == "data"
    assert ds.attrs["probe_radius_metadata_px"] == pytest.approx(10.2, rel=1e-6)
    crystal = small_strained.crystal
    fitted = np.asarray(ds["reason"].values == 0)
    # every crystalline pattern is fitted (with the metadata radius none was)
    assert fitted[crystal].mean() > 0.95
    # and the strain is as good as with the true probe template given by hand
    ref = strain_map(da.assign_attrs(convergence_semiangle_mrad=None), probe=small_strained.probe,
                     bad_mask=small_strained.bad, phases=False, reference=small_strained.reference_mask)
    for name in ("exx", "eyy", "exy"):
        truth = getattr(small_strained, name)[crystal]
        err = np.asarray(ds[name].values)[crystal] - truth
        err_ref = np.asarray(ref[name].values)[crystal] - truth
        assert np.sqrt(np.nanmean(err**2)) < 1.2 * np.sqrt(np.nanmean(err_ref**2)) + 5e-5


def test_consistent_metadata_give_no_warning(small_strained):
    da = _labelled(small_strained, small_strained.radius_px * (1 + 0.5 * RADIUS_TOLERANCE))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        est = measure_probe(da)
    assert est.note == "" and est.source == "data"
    assert est.radius_px == pytest.approx(small_strained.radius_px, abs=0.1)


def test_radius_set_by_hand_is_used_and_recorded(small_strained):
    da = _labelled(small_strained, 10.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        est = measure_probe(da, probe_radius_px=4.2)
    assert est.source == "user" and est.radius_px == 4.2
    assert est.measured_px == pytest.approx(small_strained.radius_px, abs=0.1)
    with pytest.raises(InputError, match="probe_radius_px"):
        measure_probe(da, probe_radius_px=-1.0)
