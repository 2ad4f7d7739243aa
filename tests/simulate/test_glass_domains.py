"""Known-answer tests of the ``glass-domains`` sample (ZIF-62 glass / phosphate glass EDS map)."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.errors import InputError
from perovscope.simulate.composite_common import ATOMIC_NUMBER
from perovscope.simulate.eds import element_spectra
from perovscope.simulate.glass_domains import GLASS_ELEMENTS, simulate_glass_domains
from perovscope.spectroscopy.xray_lines import xray_lines

SMALL = dict(image_shape=(40, 40), eds_channels=1000)


@pytest.fixture(scope="module")
def noisy():
    return simulate_glass_domains(seed=1, **SMALL)


@pytest.fixture(scope="module")
def clean():
    return simulate_glass_domains(seed=1, noise=False, **SMALL)


def test_deterministic_per_seed(noisy):
    again = simulate_glass_domains(seed=1, **SMALL)
    other = simulate_glass_domains(seed=2, **SMALL)
    np.testing.assert_array_equal(noisy["eds/eds"].values, again["eds/eds"].values)
    np.testing.assert_array_equal(noisy["truth/domain"].values, again["truth/domain"].values)
    assert not np.array_equal(noisy["truth/domain"].values, other["truth/domain"].values)


@pytest.mark.parametrize("fraction", [0.5, 0.3, 0.0])
def test_area_fraction_of_the_rendered_map_equals_truth(fraction):
    tree = simulate_glass_domains(seed=4, image_shape=(50, 60), eds_channels=16, mof_area_fraction=fraction)
    d = tree["truth/domain"].values
    assert d.dtype == bool
    assert float(tree["truth/area_fraction"]) == d.mean()
    # quantile thresholding hits the request to within half a pixel
    assert abs(d.mean() - fraction) <= 0.5 / d.size
    # the HAADF image shows the same map: every MOF pixel is darker than every phosphate pixel
    h = simulate_glass_domains(seed=4, image_shape=(50, 60), eds_channels=16, mof_area_fraction=fraction,
                               noise=False)["haadf/haadf"].values
    if 0 < fraction < 1:
        assert h[d].max() < h[~d].min()


def test_composition_truth(clean):
    t = clean["truth"]
    comp = t["composition"].values
    np.testing.assert_allclose(comp.sum(-1), 100.0)
    mof = t["domain_composition"].sel(phase="mof_glass")
    pho = t["domain_composition"].sel(phase="phosphate_glass")
    # agZIF-62 Zn(Im)1.75(bIm)0.25 = Zn C7 N4 (+ H): Zn:C:N = 1:7:4, 2 at.% O by default
    np.testing.assert_allclose([mof.sel(element="C") / mof.sel(element="Zn"),
                                mof.sel(element="N") / mof.sel(element="Zn")], [7, 4])
    assert float(mof.sel(element="O")) == pytest.approx(2.0)
    # (1-x)(Na2O)z(P2O5) - x(AlO1.5)(AlF3)y with x=0.25, z=y=1: Na:P = z, Al:F = (1+y):(3y)
    assert float(pho.sel(element="Na") / pho.sel(element="P")) == pytest.approx(1.0)
    assert float(pho.sel(element="Al") / pho.sel(element="F")) == pytest.approx(2 / 3)
    d = t["domain"].values
    np.testing.assert_allclose(comp[d], np.broadcast_to(mof.values, comp[d].shape))


def test_eds_counts_match_dose_times_cross_section(clean):
    eds = clean["eds/eds"]
    t = clean["truth"]
    d = t["domain"].values
    e = eds.energy.values
    spectra = element_spectra(GLASS_ELEMENTS, [ATOMIC_NUMBER[x] for x in GLASS_ELEMENTS], e,
                              beam_energy_keV=200.0, solid_angle_sr=0.7)
    electrons = 2000.0 * 250.0**2  # dose (e/Å²) × pixel area (25 nm = 250 Å)
    for k in range(2):  # mof_glass, phosphate_glass
        col = 100.0 * t["atom_density_nm3"].values[k] * t["domain_composition"].values[k] / 100
        expected = electrons * col @ spectra
        pix = eds.values[d] if k == 0 else eds.values[~d]
        np.testing.assert_allclose(pix, np.broadcast_to(expected, pix.shape), rtol=1e-10)
    # thin film: counts are linear in dose
    double = simulate_glass_domains(seed=1, noise=False, dose_e_per_A2=4000.0, **SMALL)["eds/eds"].values
    np.testing.assert_allclose(double, 2 * eds.values, rtol=1e-12)


def test_characteristic_lines_at_tabulated_energies(clean):
    eds = clean["eds/eds"]
    e = eds.energy.values
    d = clean["truth/domain"].values
    mof, pho = eds.values[d][0], eds.values[~d][0]
    for spec, el in ((mof, "Zn"), (pho, "P"), (pho, "Al")):
        line = max((ln for ln in xray_lines(el) if ln.energy_eV < e[-1]), key=lambda ln: ln.weight)
        w = np.abs(e - line.energy_eV) < 100
        # the local maximum sits within one 10 eV channel of the tabulated energy
        assert abs(e[w][np.argmax(spec[w])] - line.energy_eV) <= 10.0


def test_zn_map_segments_domains_and_counts_are_poisson(noisy):
    eds = noisy["eds/eds"]
    e = eds.energy.values
    d = noisy["truth/domain"].values
    zn_k = eds.values[..., (e > 8400) & (e < 8900)].sum(-1).astype(float)
    seg = zn_k > 0.5 * zn_k[d].mean()
    assert (seg == d).mean() > 0.97  # ~11 Zn K counts vs ~0.1: misclassification ~ Poisson tail
    assert abs(seg.mean() - float(noisy["truth/area_fraction"])) < 0.03
    # constant expectation within a phase: variance/mean of total counts = 1 within 4 s.e.
    total = eds.values.sum(-1).astype(float)
    for m in (total[d], total[~d]):
        assert abs(m.var(ddof=1) / m.mean() - 1) < 4 * np.sqrt(2 / m.size)
    assert eds.dtype == np.uint16 and eds.attrs["signal"] == "eds" and eds.energy.attrs["units"] == "eV"


def test_interface_width_mixes_compositions_but_keeps_the_mask():
    sharp = simulate_glass_domains(seed=6, image_shape=(48, 48), eds_channels=16, noise=False)
    soft = simulate_glass_domains(seed=6, image_shape=(48, 48), eds_channels=16, noise=False,
                                  interface_width_nm=30.0)
    d = sharp["truth/domain"].values
    np.testing.assert_array_equal(d, soft["truth/domain"].values)
    zn_sharp = sharp["truth/composition"].sel(element="Zn").values
    zn_soft = soft["truth/composition"].sel(element="Zn").values
    np.testing.assert_allclose(soft["truth/composition"].values.sum(-1), 100.0)
    zn_mof = float(sharp["truth/domain_composition"].sel(phase="mof_glass", element="Zn"))
    assert set(np.unique(zn_sharp)) == {0.0, zn_mof}
    between = (zn_soft > 0.05 * zn_mof) & (zn_soft < 0.95 * zn_mof)
    assert between.sum() > 0.1 * d.size  # a blurred boundary zone of intermediate Zn content
    # Zn stays highest inside MOF domains on average
    assert zn_soft[d].mean() > 0.6 * zn_mof > zn_soft[~d].mean()


@pytest.mark.parametrize("kwargs, name", [
    ({"mof_area_fraction": 1.5}, "mof_area_fraction"),
    ({"dose_e_per_A2": 0}, "dose_e_per_A2"),
    ({"pixel_size_nm": -1}, "pixel_size_nm"),
    ({"phosphate_x": 2}, "phosphate_x"),
    ({"thickness_nm": -10}, "thickness_nm"),
    ({"interface_width_nm": -1}, "interface_width_nm"),
])
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(InputError, match=name):
        simulate_glass_domains(**{**SMALL, "eds_channels": 16, **kwargs})
