"""Imaging and interfaces against the simulator's ground truth (perovscope.simulate, docs/simulate.md)."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.imaging import (
    backtrack_nucleation_baseline,
    chord_contrast,
    count_from_nucleation,
    drift_correct,
    fringe_amplitude,
    fringe_spacing,
    link_particles,
    local_fringes,
    particle_response,
    particle_table,
    particles_per_frame,
    register_modalities,
    segment_particles,
    site_contrast,
    size_distribution,
    track_summary,
)
from perovscope.interfaces import (
    interdiffusion_width,
    layer_distance,
    profile_across,
    segment_domains,
    segment_layers,
)


def _grid_points(n):
    r, c = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.stack([r.ravel(), c.ravel(), np.ones(r.size)])


@pytest.fixture(scope="module")
def device():
    from perovscope.simulate import simulate_device

    # small 4D-STEM (only used for a virtual image); HAADF 192x192 at 0.8 nm/px and EDX as default
    return simulate_device(scan_shape=(16, 16), detector_shape=(16, 16))


@pytest.fixture(scope="module")
def nanospheres():
    from perovscope.simulate import simulate_nanospheres

    return simulate_nanospheres()


@pytest.fixture(scope="module", params=[0, 1, 2], ids=lambda s: f"seed{s}")
def device_seed(request):
    """The device session on three seeds (HAADF only matters: tiny 4D-STEM and EDX)."""
    from perovscope.simulate import simulate_device

    return simulate_device(seed=request.param, scan_shape=(8, 8), detector_shape=(8, 8),
                           eds_shape=(8, 8), eds_channels=32)


def test_device_drift(device_seed):
    truth = device_seed["truth/drift"].to_dataset()
    # rows: the layer stack gives strong y contrast; columns: the x structure is the FIB curtaining
    # (8 % rms thickness, 2 nm correlation) and the interface roughness. A Tukey taper would add a
    # fixed envelope to the strong layer contrast that pulls the x shift towards 0 (measured bias
    # -0.65 x truth), content entering the field biases it further, and at low dose the noise x noise
    # term of the correlation dominates its x slope; hence the periodic component, the overlap
    # refinement and 1 px smoothing. The x error left is a bias, not noise (noiseless frames: up to
    # 0.085 px; Cramer-Rao sd of an x shift difference from the gradient energy at 100 e/A^2:
    # 0.02 px): rows at interfaces change (lattice collapse, Cl migration) and their sharp edges are
    # point-sampled (aliased); weight_rows down-weights rows whose aligned series varies more than
    # shot noise, and all-pairs least squares removes frame 0's noise from every shift.
    # Measured max |error| y / x: seed 0 0.006 / 0.037, seed 1 0.027 / 0.064, seed 2 0.006 / 0.037
    # px (validation seeds 3-5: <= 0.030 / 0.042 px); before: x 0.035, 0.084, 0.113 px.
    ds = drift_correct(device_seed["haadf/haadf"], window="periodic", refine_overlap=True,
                       smooth_sigma=1.0, reference="all", weight_rows=True)
    np.testing.assert_allclose(ds["shift_y"].values, truth["shift_y_px"].values, atol=0.1)
    np.testing.assert_allclose(ds["shift_x"].values, truth["shift_x_px"].values, atol=0.1)


@pytest.mark.xfail(reason="single-frame NCC across modalities: with the simulator's own X-ray emission model "
                   "(not the analysis'), EDX total counts and Z^1.7 HAADF differ in layer contrast (LiF and "
                   "AlCl3 have EDX but no HAADF contrast) and the offset across the layers is biased "
                   "+0.33-0.49 px (seeds 0-3; Cramer-Rao sd 0.08 px), along the layers noise-limited "
                   "(sd 0.39-0.52 px per frame). perovscope run's registration (row-high-passed "
                   "refinement, pooled over frames) meets 0.3 px: tests/pipeline/test_steps_device.py",
                   strict=False)
def test_device_edx_to_haadf_registration(device):
    haadf = device["haadf/haadf"].isel(time=0).astype(float)
    edx = device["eds/eds"].isel(time=0).sum("energy").astype(float)   # EDX total counts (Z contrast)
    truth = device["truth/affine/eds"].values
    # both calibrations are known, so only the offset is fitted (the layer stack leaves the scale
    # along the layers undetermined); 6 HAADF px per EDX px
    fit = register_modalities(haadf, edx, model="translation")
    pts = _grid_points(edx.sizes["y"])
    assert np.abs(fit.matrix @ pts - truth @ pts).max() < 0.3


def test_device_layer_interfaces(device):
    aligned = drift_correct(device["haadf/haadf"])["aligned"].isel(x=slice(6, -6))
    truth = device["truth/layers/interface_profile_y_nm"].isel(x=slice(6, -6)).values / 0.8   # px
    # HAADF resolves glass | ITO | HTL | emitter | ETL | cathode (LiF + AlCl3 + Al have no HAADF
    # contrast between AlCl3 and Al; LiF is 2 px with the mean of ETL and Al intensities)
    ds = segment_layers([aligned], n_layers=6)
    rows = ds["interface_row"].values                                     # (time, 5, x)
    err = rows[:, :4] - truth[:, :4]
    assert np.abs(np.nanmean(err, axis=-1)).max() < 1.0                   # positions within 1 px
    assert np.nanmedian(np.abs(err)) < 0.5
    # ETL | cathode: the half-way crossing lies at the centre of the LiF interlayer
    lif_centre = 0.5 * (truth[:, 4] + truth[:, 5])
    assert np.abs(np.nanmean(rows[:, 4] - lif_centre, axis=-1)).max() < 1.0
    # interdiffusion width of the glass|ITO ... emitter|ETL interfaces, frame 0, along the normals
    width_true = device.attrs["parameters"]["interface_width_nm"]
    frame = ds.isel(time=0)
    for k in range(4):
        prof = profile_across(aligned.isel(time=0), layer_distance(frame, interface=k), bin_width=0.4,
                              d_min=-8, d_max=8)
        assert interdiffusion_width(prof)["width"] == pytest.approx(width_true, rel=0.15)


def test_device_pb_nucleation_frames_and_count(device_seed):
    # Default device: HAADF 100 e/A^2 per frame, Pb nuclei appear at the critical radius r* = 1.5 nm
    # (classical nucleation theory) and grow as r^2 = r*^2 + 2kt. A nucleus (~3.5 noise sd in one
    # frame) is below a safe whole-image detection threshold, so: strict detection (1.8 = 6.4 sd of
    # the response, whose noise sd is 1/(2 sqrt(pi)) = 0.28 at 1 px smoothing) confirmed in >= 2
    # frames, then hysteresis back in time at the known site. The site test compares the site's
    # centre-minus-annulus contrast with the median of its own earlier frames: the static FIB
    # thickness texture (blobs of ~1 noise unit at 2 nm correlation, as large as a nucleus) cancels;
    # a fixed level on the raw response did not (late by a frame where the texture is dark, early
    # where it is bright). Sites are re-centred on the last-minus-first change image: particles at
    # the emitter/transport-layer edges are segmented ~1.5 px off centre. Level 0.85 = 2.3 sd of the
    # contrast difference; the weakest nucleus (r = 1.59 nm) gives 0.93, the pre-nucleation max over
    # seeds 0-7 is 0.76 (noise sd 0.37): exact on seeds 0-7 (3-7 validation, not in this test).
    device = device_seed
    aligned = drift_correct(device["haadf/haadf"], window="periodic", refine_overlap=True,
                            smooth_sigma=1.0, reference="all", weight_rows=True)["aligned"]
    frames = np.nan_to_num(aligned.values, nan=float(np.nanmedian(aligned.values)))
    nf = frames.shape[0]
    resp = particle_response(frames, smooth_px=1.0, background_px=8.0)   # > largest diameter (12 px)
    _, table = particles_per_frame(resp, pixel_size_nm=0.8, threshold=1.8, smooth_px=0,
                                   min_diameter_nm=1.0, exclude_border=True)
    summary = track_summary(link_particles(table, max_displacement_nm=2.5, memory=1))
    summary = summary[(summary["n_frames"] >= 2) | (summary["nucleation_frame"] == nf - 1)]
    contrast = site_contrast(frames, summary, pixel_size_nm=0.8, refine_px=2)
    summary = backtrack_nucleation_baseline(summary, contrast, level=0.85)
    # metallic Pb vs the Pb-rich halides by Z-contrast per chord: q - 1 = 2.1 (Pb), 0.4 (PbX2),
    # -0.04 (CsPb2X5: no HAADF contrast) in the emitter; threshold half-way (1.25). The projected-
    # sphere fit takes amplitude and radius from all the particle's pixels (a thresholded diameter
    # made PbX2 particles small and their q - 1 up to 4); measured seeds 0-7: Pb 1.31-2.76, PbX2 <= 0.90
    q = chord_contrast(frames[-1], summary, pixel_size_nm=0.8, thickness_nm=50.0, diameter="chord_fit")
    assert np.all(np.abs(q[q > 1.25] - 2.1) < 0.8)                       # the Pb ones measure ~2.1
    pb = summary[q > 1.25]
    tp = device["truth/particles"].to_dataset()
    metal = tp["phase_name"].values == "Pb"
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(np.c_[tp["centre_y_nm"], tp["centre_x_nm"]]).query(
        pb[["centroid_y", "centroid_x"]].to_numpy())
    assert np.all(dist < 2.0) and np.all(metal[idx])                     # every one is a Pb particle
    assert sorted(idx) == sorted(np.flatnonzero(metal))                 # ... and every Pb particle found
    # the bar: nucleation frame exact for every Pb nanoparticle, count within 10 % per frame
    np.testing.assert_array_equal(pb["nucleation_frame"].to_numpy(), tp["nucleation_frame"].values[idx])
    count_true = ((tp["radius_nm"].values > 0) & metal).sum(axis=1)
    count = count_from_nucleation(pb, nf)
    assert np.all(np.abs(count - count_true) <= 0.1 * count_true)


def test_nanosphere_sizes(nanospheres):
    h = nanospheres["haadf/haadf"].compute()
    truth = nanospheres["truth/spheres/diameter_nm"].values
    labels = segment_particles(h.values, pixel_size_nm=6.0, poisson=True)
    table = particle_table(labels, pixel_size_nm=6.0, intensity=h.values, moment_shape="sphere")
    dist = size_distribution(table["diameter_moment_nm"])
    assert dist.n == truth.size
    # projected spheres: the intensity-weighted second moment (2R^2/5) is threshold-free
    assert dist.mean == pytest.approx(truth.mean(), rel=0.03)
    assert dist.sd == pytest.approx(truth.std(ddof=1), rel=0.10)


def test_nanocrystal_sizes_and_fringes(nanospheres):
    tem = nanospheres["tem/tem"].compute()
    px = float(tem.x[1] - tem.x[0])
    tn = nanospheres["truth/nanocrystals"].to_dataset()
    d_true = float(nanospheres["truth/fringe_spacing_nm"])
    fs = fringe_spacing(tem.values, pixel_size_nm=px, window_px=64, step_px=64)
    assert fs.d_nm == pytest.approx(d_true, rel=0.005)
    assert fs.d_sem_nm < 0.001
    # crystals = where the 0.33 nm fringes are: fringe-amplitude map, segmented, sized by moments
    smooth = 0.3
    amp = fringe_amplitude(tem.values, pixel_size_nm=px, d_nm=fs.d_nm, smooth_nm=smooth)
    labels = segment_particles(amp, pixel_size_nm=px, min_diameter_nm=3.0, smooth_px=0)
    table = particle_table(labels, pixel_size_nm=px, intensity=amp, moment_shape="sphere",
                           blur_px=smooth / px, grow_px=3 * smooth / px)
    assert len(table) == tn.sizes["nanocrystal"]
    d = table["diameter_moment_nm"].to_numpy()
    assert d.mean() == pytest.approx(tn["diameter_nm"].values.mean(), rel=0.03)
    assert d.std(ddof=1) == pytest.approx(tn["diameter_nm"].values.std(ddof=1), rel=0.10)
    # orientation of each crystal's fringes (g-vector angle, mod 180) at its centre
    angles = []
    for cy, cx in zip(tn["centre_y_nm"].values / px, tn["centre_x_nm"].values / px, strict=True):
        r0 = int(np.clip(round(cy) - 32, 0, tem.shape[0] - 64))
        c0 = int(np.clip(round(cx) - 32, 0, tem.shape[1] - 64))
        angles.append(local_fringes(tem.values[r0:r0 + 64, c0:c0 + 64], pixel_size_nm=px).angle_deg[0, 0])
    diff = (np.array(angles) - tn["fringe_orientation_deg"].values % 180 + 90) % 180 - 90
    assert np.abs(diff).max() < 2.0


def test_glass_domain_area_fraction():
    from perovscope.simulate import simulate_glass_domains
    from perovscope.spectroscopy.xray_lines import xray_lines

    tree = simulate_glass_domains()
    eds = tree["eds/eds"]
    energy = eds["energy"].values

    def k_line_map(element):
        # background-subtracted K-line window (Zn K, not Zn L, which overlaps Na K of the phosphate)
        line = max((ln for ln in xray_lines(element) if ln.family == "K"), key=lambda ln: ln.weight)
        win = np.abs(energy - line.energy_eV) < 80
        side = (np.abs(energy - line.energy_eV) > 120) & (np.abs(energy - line.energy_eV) < 200)
        return eds.values[..., win].sum(-1) - eds.values[..., side].mean(-1) * win.sum()

    res = segment_domains(k_line_map("Zn"), np.stack([k_line_map("Al"), k_line_map("P")]),
                          pixel_size_nm=float(eds.x[1] - eds.x[0]))
    truth = tree["truth/domain"].values                  # True = MOF (Zn) glass
    assert res.area_fraction_a == pytest.approx(truth.mean(), abs=0.02)
    assert (res.mask == truth).mean() > 0.95
    assert len(res.domains_a) > 0 and res.interface_length_per_area > 0


def test_device_4dstem_total_counts_to_haadf_registration():
    # 4D-STEM -> HAADF: the counts that stay on the camera (incident minus what is scattered beyond
    # it, which scales with the local thickness like HAADF) share HAADF's structure along and across
    # the layers; a virtual ADF inside the camera shows diffraction (crystalline vs amorphous)
    # contrast instead and is biased (1.6 px). 48x48 scan (3.2 nm = 4 HAADF px); measured over seeds
    # 0-2: 0.07-0.09 px (0.15-0.66 px at 24x24, where probes at 6.4 nm point-sample 0.6 nm interfaces)
    from perovscope.simulate import simulate_device

    tree = simulate_device(n_frames=1, scan_shape=(48, 48), detector_shape=(32, 32), eds_shape=(8, 8),
                           eds_channels=64)
    haadf = tree["haadf/haadf"].isel(time=0).astype(float)
    total = tree["4dstem/4dstem"].isel(time=0).astype(float).sum(("ky", "kx"))
    total = total.rename(scan_y="y", scan_x="x")
    fit = register_modalities(haadf, total, model="translation")
    pts = _grid_points(48)
    truth = tree["truth/affine/4dstem"].values
    assert np.abs(fit.matrix @ pts - truth @ pts).max() < 0.3
