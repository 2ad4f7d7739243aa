"""Structure, metadata, determinism, argument checking and time evolution of ``simulate_device``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.dims import METADATA_KEYS
from perovscope.errors import InputError
from perovscope.io import open_results, save
from perovscope.simulate import simulate_device
from perovscope.simulate.materials import ATOM_DENSITY_NM3, LAYER_NAMES, PHASE_NAMES

TINY = dict(n_frames=2, scan_shape=(6, 6), detector_shape=(32, 32), haadf_shape=(24, 24),
            haadf_pixel_nm=6.4, eds_shape=(4, 4), eds_channels=256, eds_channel_eV=80.0)


def _arrays(tree):
    return {f"{node.path}/{k}": v.values for node in tree.subtree for k, v in node.dataset.data_vars.items()}


def test_deterministic_per_seed():
    a, b, c = (simulate_device(seed=s, **TINY) for s in (5, 5, 6))
    aa, bb, cc = _arrays(a), _arrays(b), _arrays(c)
    assert aa.keys() == bb.keys()
    for k in aa:
        np.testing.assert_array_equal(aa[k], bb[k], err_msg=k)
    assert not np.array_equal(aa["/4dstem/4dstem"], cc["/4dstem/4dstem"])
    assert not np.array_equal(aa["/haadf/haadf"], cc["/haadf/haadf"])


def test_contract_nodes_dims_units_and_metadata(device_small):
    t = device_small
    d4, h, e = t["4dstem/4dstem"], t["haadf/haadf"], t["eds/eds"]
    assert d4.dims == ("time", "scan_y", "scan_x", "ky", "kx") and d4.shape == (4, 20, 20, 64, 64)
    assert h.dims == ("time", "y", "x") and e.dims == ("time", "y", "x", "energy")
    for da, sig in ((d4, "4dstem"), (h, "haadf"), (e, "eds")):
        assert da.attrs["signal"] == sig and da.attrs["units"] == "counts"
        assert np.issubdtype(da.dtype, np.unsignedinteger)
        for c in da.dims:
            assert "units" in da[c].attrs, (sig, c)
        extra = set(da.attrs) - set(METADATA_KEYS) - {"units"}
        assert not extra, extra
        assert da.attrs["dose_e_per_A2"] > 0 and da.attrs["dwell_time_s"] > 0
    assert d4.ky.attrs["units"] == "1/nm" and d4.scan_x.attrs["units"] == "nm"
    assert e.energy.attrs["units"] == "eV" and h.time.attrs["units"] == "s"
    assert d4.attrs["convergence_semiangle_mrad"] == 1.0 and d4.attrs["beam_energy_keV"] == 300.0
    log = t["bias_log"].dataset
    assert {"current_A", "voltage_V", "el_intensity"} <= set(log.data_vars) and log.time.attrs["units"] == "s"
    st = t["truth/strain"].dataset
    assert {"exx", "eyy", "exy", "theta", "phase", "lattice_parameter_nm", "cl_fraction", "crystallinity",
            "reference_mask"} <= set(st.data_vars)
    assert st.reference_mask.dtype == bool and st.reference_mask.dims == ("scan_y", "scan_x")
    assert st.phase.attrs["phase_names"] == list(PHASE_NAMES)
    comp = t["truth/composition"].dataset.composition
    assert comp.dims == ("time", "y", "x", "element") and comp.attrs["units"] == "at.%"
    np.testing.assert_allclose(comp.sum("element"), 100.0, rtol=1e-12)
    assert t["truth/layers"].attrs["layer_names"] == list(LAYER_NAMES)
    assert t["truth/alcl3_thickness_nm"].dims == ("time",)
    parts = t["truth/particles"].dataset
    assert {"centre_y_nm", "centre_x_nm", "radius_nm", "nucleation_frame", "phase"} <= set(parts.data_vars)
    assert set(t["truth/drift"].dataset.data_vars) == {"shift_y_px", "shift_x_px"}
    assert t["truth/affine"].dataset["4dstem"].shape == (2, 3)


def test_affine_maps_pixel_grids_onto_haadf(device_small):
    t = device_small
    hp = float(t["haadf/haadf"].x[1] - t["haadf/haadf"].x[0])
    for name in ("4dstem", "eds"):
        a = t["truth/affine"].dataset[name].values
        step = float(np.diff(t[f"{name}/{name}"][("scan_x" if name == "4dstem" else "x")][:2])[0])
        assert a[0, 0] == pytest.approx(step / hp) and a[1, 1] == pytest.approx(step / hp)
        # the pixel centred on a block of HAADF pixels maps onto the block's centre
        n_block = step / hp
        assert a[0, 2] == pytest.approx((n_block - 1) / 2)


@pytest.mark.parametrize(("kw", "name"), [
    ({"emitter_nm": -5.0}, "emitter_nm"), ({"htl_nm": -1.0}, "htl_nm"),
    ({"lamella_thickness_nm": 0.0}, "lamella_thickness_nm"),
    ({"dose_4dstem_e_per_A2": 0.0}, "dose_4dstem_e_per_A2"), ({"eds_dose_e_per_A2": -1.0}, "eds_dose"),
    ({"haadf_dose_e_per_A2": float("nan")}, "haadf_dose"), ({"x_cl": 1.2}, "x_cl"),
    ({"x_cl": -0.1}, "x_cl"), ({"pb_metal_fraction": 2}, "pb_metal_fraction"),
    ({"scan_shape": (0, 4)}, "scan_shape"), ({"n_frames": 0}, "n_frames"),
    ({"not_a_parameter": 1}, "not_a_parameter"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"detector_shape": (32, 48)}, "detector_shape"),
])
def test_bad_arguments_raise_input_error_naming_parameter(kw, name):
    with pytest.raises(InputError, match=name):
        simulate_device(**{**TINY, **kw})


def test_degradation_timeline(device_small):
    tr = device_small["truth"].dataset
    al = tr.alcl3_thickness_nm.values
    assert al[0] == 0.0 and np.all(np.diff(al) > 0)
    assert np.all(np.diff(tr.voltage_V.values) > 0)
    assert np.all(np.diff(tr.el_intensity.values) < 0)
    assert np.all(np.diff(tr.mean_cl_fraction.values) < 0)
    log = device_small["bias_log"].dataset
    # measured log: noise 2 mV / 0.5 % vs. changes of ~0.5 V and ~50 % over the run
    assert log.voltage_V.values[-1] - log.voltage_V.values[0] > 0.1
    assert log.el_intensity.values[-1] < 0.9 * log.el_intensity.values[0]
    np.testing.assert_array_equal(log.current_A.values, 1e-7)
    # AlCl3 holds exactly the Cl lost by the emitter: 3 Cl per AlCl3 formula unit
    a_ref = device_small["truth/strain"].attrs["nominal_lattice_parameter_nm"]
    x0 = 0.3
    lost = (x0 - tr.mean_cl_site_occupancy.values) * 40.0 * 3.0 / a_ref ** 3  # Cl per nm² of interface
    np.testing.assert_allclose(al, lost / (3 * ATOM_DENSITY_NM3["AlCl3"] / 4), rtol=1e-9, atol=1e-12)


def test_alcl3_layer_and_particles_appear_in_truth_maps(device_small):
    lay = device_small["truth/layers"].dataset
    k = list(LAYER_NAMES).index("AlCl3")
    counts = (lay.label == k).sum(("y", "x")).values
    assert counts[0] == 0 and counts[-1] > 0
    parts = device_small["truth/particles"].dataset
    r = parts.radius_nm.values
    assert np.all(np.diff(r, axis=0) >= 0)                  # particles only grow
    born = parts.nucleation_frame.values
    for j in range(r.shape[1]):
        if born[j] >= 0:
            assert r[born[j], j] > 0 and (born[j] == 0 or r[born[j] - 1, j] == 0)
    assert parts.preexisting.values.sum() == 4 and np.all(born[parts.preexisting.values] == 0)


def test_collapse_lowers_crystallinity_late(device_small):
    st = device_small["truth/strain"].dataset
    emitter = st.phase.isin([PHASE_NAMES.index("perovskite"), PHASE_NAMES.index("amorphous_perovskite")])
    cryst = st.crystallinity.where(emitter).sum(("scan_y", "scan_x")).values
    assert cryst[1] == pytest.approx(cryst[0], rel=0.02)   # before the onset at 140 s: unchanged
    assert cryst[-1] < 0.97 * cryst[1]                       # frame 3 (180 s) is after the onset
    lay = device_small["truth/layers"].dataset              # finer grid resolves the collapsed rim
    amorph = (lay.phase == PHASE_NAMES.index("amorphous_perovskite")).sum(("y", "x")).values
    assert amorph[0] == 0 and amorph[-1] > 0


def test_save_roundtrip(tmp_path):
    tree = simulate_device(seed=2, **TINY)
    path = save(tree, tmp_path / "device.zarr")
    back = open_results(path)
    for k, v in _arrays(tree).items():
        got = back[k.lstrip("/")]
        np.testing.assert_array_equal(got.values, v, err_msg=k)
        assert got.dtype == v.dtype, k
    assert isinstance(back["truth/strain"], xr.DataTree)
    assert back["4dstem/4dstem"].attrs["signal"] == "4dstem"


def test_lazy_streamed_and_eager_trees_are_identical(tmp_path):
    import dask.array as da

    from perovscope.simulate import stream_device

    eager = _arrays(simulate_device(seed=4, **TINY))
    lazy_tree = simulate_device(seed=4, lazy=True, **TINY)
    d4 = lazy_tree["4dstem/4dstem"].data
    assert isinstance(d4, da.Array) and set(d4.chunks[0]) == {1}      # one frame per block
    lazy = _arrays(lazy_tree)
    path = stream_device(tmp_path / "stream.zarr", seed=4, **TINY)
    streamed = open_results(path)
    for k, v in eager.items():
        np.testing.assert_array_equal(np.asarray(lazy[k]), v, err_msg=k)
        np.testing.assert_array_equal(streamed[k.lstrip("/")].values, v, err_msg=k)


def test_row_bands_render_the_same_patterns():
    from perovscope.simulate.device import device_grids
    from perovscope.simulate.device_params import validate
    from perovscope.simulate.device_render import prepare, render_4dstem_block

    p = validate({**TINY, "noise": False, "seed": 2})
    sess = prepare(p, device_grids(p))
    whole = render_4dstem_block(sess, 1, 0, 6)
    bands = np.concatenate([render_4dstem_block(sess, 1, a, b) for a, b in ((0, 1), (1, 4), (4, 6))], axis=1)
    np.testing.assert_array_equal(whole, bands)


def test_bias_log_csv_round_trip(tmp_path, device_small):
    from perovscope.io import read
    from perovscope.simulate import write_bias_log_csv

    path = write_bias_log_csv(device_small, tmp_path / "bias.csv")
    back = read(path)
    log = device_small["bias_log"].dataset
    np.testing.assert_allclose(back["time"].values, log.time.values, rtol=1e-8)
    for name in ("current_A", "voltage_V", "el_intensity"):
        np.testing.assert_allclose(back[name].values, log[name].values, rtol=1e-8)
