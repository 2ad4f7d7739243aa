"""Known values of the X-ray line and EELS edge tables (Bearden 1967; Ahn & Krivanek 1983)."""

import numpy as np
import pytest

from perovscope.errors import InputError
from perovscope.spectroscopy.eels_edges import EDGES, canonical_edge_name, edge_onset_eV
from perovscope.spectroscopy.xray_lines import ELEMENTS, detector_fwhm_eV, xray_lines

REQUIRED = "Cs Pb Br Cl I Al Zn P Na F O C N Si K In Sn Ti Cu Ca Fe Pd Mn Sr Ce Mg Gd Nd Sm Th".split()


def test_every_required_element_has_lines():
    for el in REQUIRED:
        lines = xray_lines(el)
        assert lines, el
        assert all(ln.energy_eV > 0 and ln.weight > 0 for ln in lines)
        # the alpha line of every family present has weight 1
        for fam in {ln.family for ln in lines}:
            assert max(ln.weight for ln in lines if ln.family == fam) == 1.0


@pytest.mark.parametrize(("el", "name", "energy"), [
    ("Cu", "Ka", 8047.8), ("Cl", "Ka", 2622.4), ("Br", "La", 1480.4), ("Pb", "Ma", 2345.5),
    ("Pb", "La", 10551.5), ("Cs", "La", 4286.5), ("I", "La", 3937.7), ("Al", "Ka", 1486.7),
    ("O", "Ka", 524.9), ("Mn", "Ka", 5898.8),
])
def test_line_energies_bearden(el, name, energy):
    # Bearden (1967) to 0.1 eV
    e = {ln.name: ln.energy_eV for ln in xray_lines(el)}[name]
    assert e == pytest.approx(energy, abs=0.1)


def test_families_and_errors():
    assert {ln.family for ln in xray_lines("Pb")} == {"L", "M"}
    assert [ln.name for ln in xray_lines("Cl", family="K")] == ["Ka", "Kb"]
    assert ELEMENTS["Pb"] == 82
    with pytest.raises(InputError, match="element"):
        xray_lines("Xx")
    with pytest.raises(InputError, match="family"):
        xray_lines("Cu", family="Q")


def test_detector_resolution_scaling():
    # at Mn Ka the FWHM is the quoted value; Fano term: d(FWHM^2)/dE = 2.5 eV
    assert detector_fwhm_eV(5898.8) == pytest.approx(130.0)
    assert detector_fwhm_eV(5898.8, fwhm_mn_ka=125.0) == pytest.approx(125.0)
    e = np.array([1000.0, 8047.8])
    expected = np.sqrt(130.0**2 + 2.5 * (e - 5898.8))
    np.testing.assert_allclose(detector_fwhm_eV(e), expected)
    assert np.all(np.diff(detector_fwhm_eV(np.linspace(100, 20000, 50))) >= 0)
    with pytest.raises(InputError, match="fwhm_mn_ka"):
        detector_fwhm_eV(1000.0, fwhm_mn_ka=-1)


def test_edge_table():
    assert edge_onset_eV("I M4,5") == 619.0
    assert edge_onset_eV("I_M45") == 619.0
    assert edge_onset_eV("I_M5") == 619.0
    assert edge_onset_eV("O K") == 532.0
    assert edge_onset_eV("Ti L2,3") == 456.0
    assert edge_onset_eV("Mn_L3") == 640.0
    for name in ["Cs_M45", "Br_L23", "Cl_L23", "Pb_M45", "Pb_N45", "O_K", "N_K", "C_K", "Zn_L23",
                 "Al_K", "Al_L23", "Si_L23", "Si_K", "P_L23", "Ti_L23", "Mn_L23", "Sr_L23"]:
        assert name in EDGES
    assert canonical_edge_name("Cs M4,5") == "Cs_M45"
    with pytest.raises(InputError, match="edge"):
        edge_onset_eV("Xx K")
    with pytest.raises(InputError, match="edge"):
        edge_onset_eV("I_Q9")
