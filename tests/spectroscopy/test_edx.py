"""EDX line fitting and Cliff–Lorimer quantification against synthetic maps with known composition."""

import numpy as np
import pytest
import xarray as xr

from perovscope.errors import InputError
from perovscope.spectroscopy.decomposition import bin_spectrum_image, denoise_nmf, denoise_pca
from perovscope.spectroscopy.edx import edx_model, fit_edx
from perovscope.spectroscopy.maps import edx_quantify_map
from perovscope.spectroscopy.quantification import cliff_lorimer, halide_ratio, k_factor


def test_model_columns_and_quant_lines():
    e = np.arange(2048) * 10.0 + 5.0
    m = edx_model(e, ["Cs", "Pb", "Br", "Cl"], beam_energy_keV=300)
    assert m.quant_lines == ("Cs_La", "Pb_La", "Br_Ka", "Cl_Ka")
    # each line column integrates to the family's weight sum (alpha line = 1 count)
    col = m.columns.index("Cl_K")
    assert m.design[:, col].sum() == pytest.approx(1.09, rel=1e-3)
    with pytest.raises(InputError, match="elements"):
        edx_model(e[:100], ["Pb"], beam_energy_keV=300)  # axis ends at 1 keV: no Pb line


def test_net_counts_unbiased(edx_map):
    da, truth = edx_map
    fit = fit_edx(da.values, da.energy.values, truth["elements"], beam_energy_keV=300.0)
    # mean over 256 pixels: Poisson error of the mean ≲ 1 % for every line (≥ 100 counts/pixel)
    rel = fit.net_counts.mean(axis=(0, 1)) / truth["net_counts"].mean(axis=(0, 1)) - 1
    assert np.all(np.abs(rel) < 0.02)


def test_composition_after_binning(edx_map):
    da, truth = edx_map
    binned = da.coarsen(y=2, x=2).sum()
    # the simulator's exact thin-foil k-factors: what calibration on its standards would give
    ds = edx_quantify_map(binned, truth["elements"], k_factors=truth["k_factors"])
    assert ds["atomic_percent"].dims == ("y", "x", "element")
    assert list(ds.element.values) == truth["elements"]
    at_true = truth["atomic_percent"].reshape(8, 2, 8, 2, 4).mean(axis=(1, 3))
    err = np.abs(ds["atomic_percent"].values - at_true)
    # ~8000 counts per binned pixel: at.% error σ ≈ 0.5; spec 2 at.% at every pixel
    assert err.max() < 2.0
    ratio = halide_ratio(ds["atomic_percent"].values, truth["elements"])
    x_true = truth["x_cl"].reshape(8, 2, 8, 2).mean(axis=(1, 3))
    assert np.abs(ratio - x_true).max() < 0.03
    np.testing.assert_allclose(ds["atomic_percent"].sum("element"), 100.0)


def test_eager_equals_lazy_and_overrides(edx_map):
    da, truth = edx_map
    eager = edx_quantify_map(da, truth["elements"])
    lazy = edx_quantify_map(da.chunk({"y": 5, "x": 3}), truth["elements"])
    assert hasattr(lazy["net_counts"].data, "dask")
    xr.testing.assert_allclose(lazy.compute(), eager)
    doubled = edx_quantify_map(da, truth["elements"],
                               k_factors={"Cl": 2 * eager.attrs["k_factors"]["Cl"]})
    assert doubled.attrs["k_factors"]["Cl"] == pytest.approx(2 * eager.attrs["k_factors"]["Cl"])
    assert np.all(doubled["weight_percent"].sel(element="Cl") >
                  eager["weight_percent"].sel(element="Cl"))


def test_cliff_lorimer_closed_form():
    # two elements with k = 1 and 2: C_A/C_B = k_A I_A / (k_B I_B)
    q = cliff_lorimer(np.array([[100.0, 100.0]]), ["Si", "Cu"], k_factors={"Si": 1.0, "Cu": 2.0})
    np.testing.assert_allclose(q.weight_percent, [[100 / 3, 200 / 3]])
    molar = np.array([100 / 3 / 28.085, 200 / 3 / 63.546])
    np.testing.assert_allclose(q.atomic_percent[0], 100 * molar / molar.sum(), rtol=1e-10)
    assert np.all(np.isnan(cliff_lorimer(np.zeros((1, 2)), ["Si", "Cu"]).atomic_percent))
    with pytest.raises(InputError, match="k_factors"):
        cliff_lorimer(np.ones((1, 2)), ["Si", "Cu"], k_factors={"Si": -1, "Cu": 1})
    assert k_factor("Si", "K") == pytest.approx(1.0)
    assert 1.0 < k_factor("Cl", "K", beam_energy_keV=300) < k_factor("Br", "K", beam_energy_keV=300)


def test_binning_and_denoising(edx_map):
    da, truth = edx_map
    b = bin_spectrum_image(da.values, (2, 2))
    # counts stay integer counts (widened so that sums cannot overflow)
    assert b.shape == (8, 8, da.sizes["energy"]) and b.dtype.kind == "u"
    assert b.sum() == da.values.sum()
    # PCA with Poisson scaling: the denoised map is closer to the noise-free mean than the raw one
    raw = da.values.astype(float)
    mean = truth["expected_counts"]  # the simulator's noise-free spectra
    den = denoise_pca(raw, n_components=4)
    assert np.mean((den - mean) ** 2) < 0.5 * np.mean((raw - mean) ** 2)
    nmf = denoise_nmf(raw[:8, :8], n_components=3, max_iter=100)
    assert nmf.shape == (8, 8, raw.shape[-1]) and np.all(nmf >= 0)
    with pytest.raises(InputError, match="n_components"):
        denoise_pca(raw, n_components=0)


def test_k_factors_from_pure_standards():
    # standards rendered with the package's own line shapes and known sensitivities s_i: the measured
    # k-factors must equal A_i / s_i relative to Si (noise-free: to 1e-6)
    from perovscope.spectroscopy.quantification import k_factors_from_standards
    from perovscope.spectroscopy.xray_lines import ATOMIC_WEIGHTS

    e = np.arange(2048) * 10.0 + 5.0
    els = ["Si", "Cl", "Br", "Pb"]
    m = edx_model(e, els, beam_energy_keV=300.0, background="none")
    sens = np.array([2.0, 1.5, 0.7, 0.4])
    spectra = np.zeros((4, e.size))
    for i, c in enumerate(m.quant_columns):
        spectra[i] = 1000.0 * sens[i] * m.design[:, c]
    k = k_factors_from_standards(spectra, e, els, beam_energy_keV=300.0, background="none")
    expected = {el: ATOMIC_WEIGHTS[el] / s / (ATOMIC_WEIGHTS["Si"] / 2.0) for el, s in zip(els, sens,
                                                                                          strict=True)}
    for el in els:
        assert k[el] == pytest.approx(expected[el], rel=1e-6)
    with pytest.raises(InputError, match="spectra"):
        k_factors_from_standards(spectra[:2], e, els)


@pytest.mark.parametrize("options", [{"poisson": True}, {"background": "polynomial"}])
def test_fit_options_unbiased(edx_map, options):
    # Poisson-weighted fit and polynomial background: the mean net counts over 256 pixels stay
    # within 3 % of the truth for the three major lines (Cl, with ~200 counts/pixel at x=0.1, 5 %);
    # data-weighted least squares would be ~7 % low: the weights come from the model (IRLS)
    da, truth = edx_map
    poisson = options.pop("poisson", False)
    fit = fit_edx(da.values, da.energy.values, truth["elements"], beam_energy_keV=300.0,
                  poisson=poisson, **options)
    rel = fit.net_counts.mean(axis=(0, 1)) / truth["net_counts"].mean(axis=(0, 1)) - 1
    assert np.all(np.abs(rel[:3]) < 0.03) and abs(rel[3]) < 0.05


def test_theoretical_k_factors_closed_form_and_reference():
    # Al Kα sensitivity by hand: Bethe (Powell K constants n=2, b=0.9, c=0.65) at the Al K edge
    # (1559 eV, Elam et al. 2002), the tabulated ω_K(Al) = 0.0330 of the same database, Kα share
    # 1/(1 + w_Kβ), efficiency 1 − exp(−(E/150 eV)²)
    from perovscope.spectroscopy.xray_generation import line_sensitivity, theoretical_k_factors
    from perovscope.spectroscopy.xray_lines import xray_lines

    ka, kb = (ln for ln in xray_lines("Al", family="K"))
    ec = 1.559
    u = 300.0 / ec
    sigma = 6.51e-20 * 2 * 0.9 * np.log(0.65 * u) / (u * ec ** 2) * 1e14
    omega = 0.0329767
    eff = -np.expm1(-(ka.energy_eV / 150.0) ** 2)
    want = sigma * omega / (1 + kb.weight) * eff
    assert line_sensitivity("Al", "K", beam_energy_keV=300.0) == pytest.approx(want, rel=1e-12)
    # k-factors are ratios: changing the reference rescales all of them by one factor
    si = theoretical_k_factors(["Cl", "Br", "Pb"], beam_energy_keV=300.0)
    cl = theoretical_k_factors(["Cl", "Br", "Pb"], beam_energy_keV=300.0, reference="Cl")
    assert cl["Cl"] == pytest.approx(1.0)
    for el in si:
        assert cl[el] == pytest.approx(si[el] / si["Cl"], rel=1e-12)
    with pytest.raises(InputError, match="not excited"):
        theoretical_k_factors(["Br"], families=["K"], beam_energy_keV=10.0)  # Br K edge 13.5 keV
