"""The science steps of ``perovscope run`` against the simulator's truth (the issue's bars).

One simulated session (tests/pipeline/conftest.py: default device, seed 3 — the steps were tuned on
seed 0 only) runs through every step of ``STEPS`` once; each test checks one bar.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.spatial import cKDTree

from perovscope.interfaces import layer_distance
from perovscope.pipeline.steps import STEP_NAMES, STEPS
from perovscope.pipeline.steps._common import slug
from perovscope.pipeline.steps.quantities import _line_angle, band_strain, pixel_distance

pytestmark = pytest.mark.slow

EMITTER_IFACES = ("HTL/emitter", "emitter/ETL")


def test_steps_are_in_dependency_order():
    seen = {"4dstem", "haadf", "eds", "bias_log"}
    for step in STEPS:
        assert set(step.needs) <= seen | set(step.optional), step.name
        seen.add(step.name)
    assert STEP_NAMES == ("strain", "edx", "drift", "particles", "nucleation", "registration", "grid",
                          "interfaces", "profiles", "quantities")


def test_store_layout_units_and_std(device_session):
    _, res = device_session
    nf = res["drift"].sizes["time"]
    for name in ("strain", "edx", "registration", "grid", "interfaces", "profiles", "quantities"):
        ds = res[name]
        assert ds.sizes["time"] == nf and "time_s" in ds.coords, name
        for v in ds.data_vars:
            assert "units" in ds[v].attrs, (name, v)
    assert set(res["strain"]["exx"].dims) == {"time", "scan_y", "scan_x"}
    assert set(res["edx"]["atomic_percent"].dims) == {"time", "y", "x", "element"}
    assert set(res["grid"]["atomic_percent"].dims) == {"time", "element", "y", "x"}
    assert res["grid"]["layer"].attrs["layer_names"][-1] == "LiF+AlCl3+Al"
    assert list(res["interfaces"]["interface"].values)[2:4] == list(EMITTER_IFACES)
    assert set(res["registration"]["affine"].dims) == {"time", "modality", "row", "col"}
    q = res["quantities"]
    for col in ("alcl3_thickness_nm", "cl_fraction_edx", "cl_fraction_vegard", "cl_cathode_at_percent",
                "crystallinity_emitter", "exx_htl_emitter", "e_normal_emitter_etl",
                "interface_position_nm_htl_emitter", "interdiffusion_width_nm_emitter_etl"):
        assert col in q and col + "_std" in q, col
        assert np.all(q[col + "_std"].values[np.isfinite(q[col].values)] >= 0), col
    for col in ("pb_particle_count", "cluster_count", "registration_rms_px_eds"):
        assert col in q, col
    assert {"particle"} == set(res["particles"].dims) and {"site"} == set(res["nucleation"].dims)


def test_alcl3_thickness_per_frame(device_session):
    tree, res = device_session
    q = res["quantities"]
    err = q["alcl3_thickness_nm"].values - tree["truth/alcl3_thickness_nm"].values
    # the bar: every frame within one HAADF pixel (0.8 nm). At the default EDX dose the AlCl3 row
    # holds ~18 Cl counts per 4.8 nm pixel at 2.4 nm (sem 0.02-0.28 nm); measured max |err| 0.28 nm
    # (seed 0, tuning), 0.30 nm (seed 3); the errors are consistent with the propagated sem
    assert np.abs(err).max() < 0.8
    assert np.all(np.abs(err) < 4 * q["alcl3_thickness_nm_std"].values + 0.05)


def test_pb_nanoparticles_nucleation_frames_and_count(device_session):
    tree, res = device_session
    tp = tree["truth/particles"].to_dataset()
    metal = tp["phase_name"].values == "Pb"
    nuc = res["nucleation"]
    pb = nuc.where(nuc["kind"] == "Pb", drop=True)
    dist, idx = cKDTree(np.c_[tp["centre_y_nm"], tp["centre_x_nm"]]).query(
        np.c_[pb["centroid_y_nm"].values, pb["centroid_x_nm"].values])
    assert np.all(dist < 2.0) and np.all(metal[idx])            # every site called Pb is a Pb particle
    assert sorted(idx) == sorted(np.flatnonzero(metal))        # ... and every Pb particle is found
    # nucleation frame exact for every Pb nanoparticle (the imaging area's recipe: exact on seeds 0-7)
    np.testing.assert_array_equal(pb["nucleation_frame"].values.astype(int),
                                  tp["nucleation_frame"].values[idx])
    count_true = ((tp["radius_nm"].values > 0) & metal).sum(axis=1)
    count = res["quantities"]["pb_particle_count"].values
    assert np.all(np.abs(count - count_true) <= 0.1 * count_true)   # within 10 % (exact at 0)


def _grid_points(shape):
    r, c = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return np.stack([r.ravel(), c.ravel(), np.ones(r.size)])


def test_registration_of_every_modality(device_session):
    tree, res = device_session
    reg = res["registration"]
    # modality pixels -> frame-0 HAADF pixels: truth/affine for EDX and 4D-STEM (they do not drift),
    # -truth/drift for HAADF. Bar 0.3 px over every pixel of every frame. Measured (seed 0 / 3):
    # EDX 0.09 / 0.07 px after temporal pooling (per frame 0.10-0.31 px: the offset along the layers
    # is noise-limited, predicted sd 0.3 px), 4D-STEM 0.02 / 0.04 px, HAADF 0.04 / 0.03 px
    for m, node in (("eds", "eds/eds"), ("4dstem", "4dstem/4dstem")):
        pts = _grid_points(tree[node].shape[1:3])
        truth = tree[f"truth/affine/{m}"].values
        fit = reg["affine"].sel(modality=m).values
        err = np.array([np.abs(a @ pts - truth @ pts).max() for a in fit])
        assert err.max() < 0.3, (m, err)
        # rms_px is an upper estimate of the error (noise + contrast mismatch)
        assert np.all(err < 3 * reg["rms_px"].sel(modality=m).values), (m, err)
    drift = tree["truth/drift"].to_dataset()
    a = reg["affine"].sel(modality="haadf").values
    np.testing.assert_allclose(-a[:, 0, 2], drift["shift_y_px"].values, atol=0.3)
    np.testing.assert_allclose(-a[:, 1, 2], drift["shift_x_px"].values, atol=0.3)


def truth_band_means(tree, band_nm: float, min_crystallinity: float = 0.5) -> dict:
    """Band means of truth/strain with the steps' band definition, at the truth interfaces.

    The same band as the ``quantities`` step: scan pixel centres with ``0 < d ≤ band_nm`` into the
    emitter (distance along the normal to the interface line, read from the grid's distance map at
    the pixel's grid position through ``truth/affine``), lattice with crystallinity ≥ 0.5 (the
    simulator's own collapse criterion; the step uses the measured crystallinity relative to the
    reference region), the same normal/tangential rotation by the local direction of the line.
    """
    tl = tree["truth/layers"].to_dataset()
    hp = float(tl.x[1] - tl.x[0])
    names = list(tl["interface"].values)
    ts = tree["truth/strain"].to_dataset()
    affine = tree["truth/affine/4dstem"].values
    shape = ts["exx"].shape[1:]
    cols = affine[1, 1] * np.arange(shape[1])[None, :] + affine[1, 2] + 0 * np.arange(shape[0])[:, None]
    out: dict = {}
    for t in range(ts.sizes["time"]):
        st = ts.isel(time=t)
        st = st.assign({k + "_std": st[k] * 0 for k in ("exx", "eyy", "exy")})
        for iface, sign in zip(EMITTER_IFACES, (1.0, -1.0), strict=True):
            rows = tl["interface_profile_y_nm"].values[t, names.index(iface)] / hp
            g = xr.Dataset({"interface_row": (("interface", "x"), rows[None]),
                            "layer": (("y", "x"), np.zeros((tl.sizes["y"], tl.sizes["x"]), int))},
                           coords={"y": tl.y, "x": tl.x})
            d = pixel_distance(layer_distance(g, interface=0).values[None], affine, shape)[0]
            valid = st["crystallinity"].values >= min_crystallinity
            for comp, (m, _) in band_strain(st, sign * d, band_nm, _line_angle(rows, cols), valid).items():
                out.setdefault(f"{comp}_{slug(iface)}", []).append(m)
    return {k: np.array(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def band_errors(device_session):
    tree, res = device_session
    from perovscope.pipeline.steps.quantities import DEFAULTS

    truth = truth_band_means(tree, DEFAULTS["band_nm"])
    q = res["quantities"]
    collapse = tree.attrs["parameters"]["collapse_time_s"]
    before = q["time_s"].values < collapse
    return {k: q[k].values - v for k, v in truth.items()}, before


def test_interface_strain_before_the_collapse(band_errors):
    # Bar: band means within 5e-4 of the truth band means. ~50-100 pixels per band, each to 2.5e-4
    # rms, give ~3e-5 of noise; what is left is the reference (interior of frame 0's emitter, > 12 nm
    # from any other phase, vs the truth's > 3 lambda from both interfaces: offsets < 1e-4) and the
    # pixels at the band's edges. Measured max |err| frames 0-4: 2e-4 (seed 0), 3e-4 (seed 3)
    errors, before = band_errors
    for k, err in errors.items():
        assert np.all(np.isfinite(err[before])), k
        assert np.abs(err[before]).max() < 5e-4, (k, err)


@pytest.mark.xfail(strict=True, reason="after the lattice collapse (t >= 150 s) strain_map's disk fit is "
                   "biased in partially collapsed pixels: +2e-4 (crystallinity 0.8) to +8e-4 (0.5) per "
                   "pixel, isotropic, from the amorphous-perovskite ring under the disks; band errors "
                   "measured 5-7e-4 (seeds 0, 3)")
def test_interface_strain_after_the_collapse(band_errors):
    errors, before = band_errors
    for k, err in errors.items():
        finite = np.isfinite(err) & ~before
        assert np.abs(err[finite]).max() < 5e-4, (k, err)


def _k_ratio_model_error(a: str, b: str, *, beam_energy_keV: float) -> float:
    """Relative error of the analysis' k_a/k_b against the simulator's emission model (K lines)."""
    from perovscope.physics import xray_lines
    from perovscope.physics.elements import ATOMIC_WEIGHT
    from perovscope.simulate.xray_emission import alpha_line_yield, detector_efficiency
    from perovscope.spectroscopy.quantification import k_factor

    def true_k(el):                                 # k ∝ M / (detected alpha photons per atom)
        e = next(ln.energy_eV for ln in xray_lines(el, family="K") if ln.name[1] == "a")
        s = alpha_line_yield(el, "K", beam_energy_keV=beam_energy_keV, solid_angle_sr=1.0)
        return ATOMIC_WEIGHT[el] / (s * float(detector_efficiency(e)))

    kv = beam_energy_keV
    model = k_factor(a, "K", beam_energy_keV=kv) / k_factor(b, "K", beam_energy_keV=kv)
    return model / (true_k(a) / true_k(b)) - 1


def test_cl_series_follow_the_truth(device_session):
    tree, res = device_session
    q = res["quantities"]
    truth = tree["truth/mean_cl_fraction"].values
    # EDX: ~40 Cl Ka counts per 2x2-binned emitter pixel, ~60 pixels in the emitter: sd ~0.005;
    # measured |err| <= 0.015 (seed 0), 0.009 (seed 3)
    # plus the model error: the analysis' Cliff–Lorimer k-factors and the simulator's X-ray emission
    # are independent models; a relative error d of k_Cl/k_Br moves x by x(1-x)·d (d = -3.8 % at 300 kV)
    err = q["cl_fraction_edx"].values - truth
    d = _k_ratio_model_error("Cl", "Br", beam_energy_keV=300.0)
    assert abs(d) < 0.05                            # the K-line models agree to a few per cent
    model = truth * (1 - truth) * abs(d)
    assert np.abs(err).max() < 0.03
    assert np.all(np.abs(err) < 4 * q["cl_fraction_edx_std"].values + 0.005 + model)
    # Vegard: lattice parameter per pixel to ~1e-4 relative, x to ~5e-3; measured |err| <= 0.007
    assert np.nanmax(np.abs(q["cl_fraction_vegard"].values - truth)) < 0.02
    # Cl at the cathode rises as Cl reaches the Al and AlCl3 grows (truth: 0 -> 2.4 nm)
    cl = q["cl_cathode_at_percent"].values
    assert cl[-1] - cl[0] > 5 * np.hypot(*q["cl_cathode_at_percent_std"].values[[0, -1]])
