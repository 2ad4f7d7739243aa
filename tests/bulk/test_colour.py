"""CIE 1931 colour: monochromatic lines on the spectral locus, dominant wavelength and purity, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.bulk.colour import WHITE_POINTS, chromaticity, chromaticity_of, dominant_wavelength
from perovscope.bulk.lineshapes import gaussian
from perovscope.errors import InputError

LAM = np.arange(360.0, 830.0, 0.25)


def _colour_science():
    """colour-science, imported without leaking its numpy print setting (legacy="1.13") into the session."""
    with np.printoptions():
        import colour
    return colour


def _line(centre, width=0.05):
    """A narrow emission line on a fine local grid (the colour integrals see only this range)."""
    lam = np.arange(centre - 1.0, centre + 1.0, 0.002)
    return lam, gaussian(lam, 1.0, centre, width)

# CIE 1931 2° colour-matching functions at 520 nm (CIE 015:2018, table of the standard observer)
CMF_520 = (0.06327, 0.71000, 0.07825)


def test_shipped_table_is_the_cie_1931_observer_of_colour_science():
    colour = _colour_science()

    from perovscope.bulk.colour import cmfs_1931

    ref = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    lam, values = cmfs_1931()
    np.testing.assert_array_equal(lam, ref.wavelengths)
    np.testing.assert_allclose(values, ref.values, rtol=1e-8, atol=0)
    np.testing.assert_allclose(values[lam == 520][0], CMF_520, atol=1e-6)


def test_monochromatic_line_lies_on_the_spectral_locus_at_520_nm():
    lam, y = _line(520.0)
    c = chromaticity_of(y, lam)
    total = sum(CMF_520)
    # a 0.05 nm wide line: xy of the tabulated CMFs (0.0743, 0.8338) to 2e-5
    assert float(c.x) == pytest.approx(CMF_520[0] / total, abs=2e-5)
    assert float(c.y) == pytest.approx(CMF_520[1] / total, abs=2e-5)
    np.testing.assert_allclose([float(c.X), float(c.Y), float(c.Z)], CMF_520, rtol=2e-4)
    assert float(c.dominant_wavelength) == pytest.approx(520.0, abs=0.05)
    assert float(c.purity) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("centre", [450.0, 480.0, 560.0, 600.0, 640.0])
def test_lines_across_the_visible_match_colour_science(centre):
    colour = _colour_science()

    lam, y = _line(centre)
    c = chromaticity_of(y, lam)
    xy = colour.XYZ_to_xy(colour.wavelength_to_XYZ(centre))
    np.testing.assert_allclose([float(c.x), float(c.y)], xy, atol=5e-5)
    assert float(c.dominant_wavelength) == pytest.approx(centre, abs=0.1)


def test_dominant_wavelength_and_purity_agree_with_colour_science_on_random_colours():
    colour = _colour_science()

    rng = np.random.default_rng(0)
    xy = rng.uniform(0.1, 0.6, (25, 2))
    white = np.array(WHITE_POINTS["D65"])
    wl, purity, comp = dominant_wavelength(xy, white="D65")
    for k in range(25):  # a loop over test points for the reference implementation only
        ref = float(colour.dominant_wavelength(xy[k], white)[0])
        # colour-science returns the nearest 1-nm locus sample; ours interpolates between samples
        assert wl[k] == pytest.approx(ref, abs=0.75)
        assert bool(comp[k]) == (ref < 0)
        assert purity[k] == pytest.approx(float(colour.excitation_purity(xy[k], white)), rel=1e-4)


def test_broad_band_purity_and_white():
    c = chromaticity_of(gaussian(LAM, 1.0, 520.0, np.array([[22.7], [62.5]])), LAM)
    assert c.purity.shape == (2,)
    assert c.purity[0] > c.purity[1] > 0.3  # a narrow band is purer
    flat = chromaticity_of(np.ones(LAM.size), LAM)
    assert float(flat.x) == pytest.approx(1 / 3, abs=2e-4)
    assert float(flat.purity) < 1e-3


def test_labelled_wrapper_from_an_energy_axis():
    from perovscope.bulk.pl import to_energy_axis

    e, ye = to_energy_axis(gaussian(LAM, 1.0, 520.0, 20.0), LAM)
    da = xr.DataArray(ye, dims=["energy"], coords={"energy": ("energy", e, {"units": "eV"})})
    ds = chromaticity(da)
    direct = chromaticity_of(gaussian(LAM, 1.0, 520.0, 20.0), LAM)
    assert float(ds["x"]) == pytest.approx(float(direct.x), abs=1e-6)
    assert ds["dominant_wavelength"].attrs["units"] == "nm"


def test_bad_input_raises():
    y = gaussian(LAM, 1.0, 520.0, 20.0)
    with pytest.raises(InputError, match="wavelength is required"):
        chromaticity_of(y, 1239.84 / LAM, units="eV")
    with pytest.raises(InputError, match="white"):
        chromaticity_of(y, LAM, white="D99")
    with pytest.raises(InputError, match="visible"):
        chromaticity_of(np.ones(10), np.linspace(900, 1000, 10))
    with pytest.raises(InputError, match="no positive"):
        chromaticity_of(-y, LAM)
    with pytest.raises(InputError, match="duplicated"):
        chromaticity_of(y[:5], np.array([500.0, 501, 501, 502, 503]))


def _write(path, lam, y, header="wavelength_nm,intensity"):
    np.savetxt(path, np.c_[lam, y], delimiter=",", header=header, comments="")
    return path


def test_cli_table_json_figure_and_bad_file(run_bulk, tmp_path):
    lam = np.arange(380.0, 780.0, 0.5)
    g = _write(tmp_path / "green.csv", lam, gaussian(lam, 1e5, 518.0, 22.7) + 5)
    r = _write(tmp_path / "red.csv", lam, gaussian(lam, 1e5, 630.0, 35.0) + 5)
    status, text, err, out = run_bulk("colour", g, r)
    assert status == 0 and "dominant_wavelength" in text and "green.csv" in text
    assert (out / "colour.png").is_file() and (out / "colour.zarr").is_dir()
    status, rows, _, _ = run_bulk("colour", g, "--white", "0.3127,0.3290", "--json", "--no-figure")
    assert status == 0 and rows[0]["x"] == pytest.approx(0.0887, abs=5e-4)
    assert rows[0]["dominant_wavelength"] == pytest.approx(518.0, abs=1.0)
    (tmp_path / "bad.csv").write_text("wavelength,intensity\n500,1\n501\n")
    status, _, err, _ = run_bulk("colour", tmp_path / "bad.csv")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
