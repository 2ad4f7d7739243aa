"""EDX test map rendered by the simulator (perovscope.simulate), not by the fitter's design matrix.

The spectra come from :func:`perovscope.simulate.element_spectra` (Casnati cross-sections, tabulated
yields, exact per-channel Gaussian integrals, Kramers thin-target continuum, detector efficiency), so
a fit of them tests the analysis' line shapes and background model against independent physics.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

ELEMENTS = ["Cs", "Pb", "Br", "Cl"]
BEAM_KEV = 300.0
SOLID_ANGLE_SR = 0.7
#: Target mean counts per pixel in the four quantification lines together.
QUANT_COUNTS = 2000.0


def true_line_sensitivity(element: str, family: str) -> float:
    """Detected alpha-line photons per electron per (atom/nm²) in the simulator (nm²)."""
    from perovscope.physics import xray_lines
    from perovscope.simulate.xray_emission import alpha_line_yield, detector_efficiency

    e_alpha = next(ln.energy_eV for ln in xray_lines(element, family=family) if ln.name[1] == "a")
    return (alpha_line_yield(element, family, beam_energy_keV=BEAM_KEV, solid_angle_sr=SOLID_ANGLE_SR)
            * float(detector_efficiency(e_alpha)))


def simulated_edx_map(seed: int = 11):
    """EDX map (16, 16, energy) of CsPb(Br1-xClx)3 with x = 0.1 … 0.9 along columns, 300 kV.

    ~2000 counts per pixel in the four quantification lines (Cs Lα, Pb Lα, Br Kα, Cl Kα), all other
    lines and the continuum as the simulator renders them, Poisson counts.

    Returns
    -------
    (DataArray, dict)
        Truth: ``atomic_percent`` (16, 16, 4), ``x_cl`` (16, 16), ``elements``, ``net_counts``
        (16, 16, 4) expected alpha-line counts, ``expected_counts`` (16, 16, n) the noise-free
        spectra, ``k_factors`` (the simulator's exact thin-foil
        k-factors, relative to the first element's line: ``k ∝ A / sensitivity``).
    """
    from perovscope.physics import ATOMIC_NUMBER, ATOMIC_WEIGHT
    from perovscope.simulate import eds_expected, element_spectra, energy_axis_eV
    from perovscope.spectroscopy.edx import quantification_family

    rng = np.random.default_rng(seed)
    e = energy_axis_eV(2048, 10.0)
    ny, nx = 16, 16
    xcl = np.broadcast_to(np.linspace(0.1, 0.9, nx), (ny, nx))
    at = np.stack([np.full((ny, nx), 20.0), np.full((ny, nx), 20.0), 60.0 * (1 - xcl), 60.0 * xcl],
                  axis=-1)
    spectra = element_spectra(ELEMENTS, [ATOMIC_NUMBER[el] for el in ELEMENTS], e,
                              beam_energy_keV=BEAM_KEV, solid_angle_sr=SOLID_ANGLE_SR)
    fams = [quantification_family(el, float(e[-1]), beam_energy_keV=BEAM_KEV) for el in ELEMENTS]
    sens = np.array([true_line_sensitivity(el, f) for el, f in zip(ELEMENTS, fams, strict=True)])
    thickness_nm, density = 50.0, 60.0
    per_electron = (at / 100.0 * density * thickness_nm) * sens        # alpha-line photons per electron
    electrons = QUANT_COUNTS / per_electron.sum(-1).mean()
    mean = eds_expected(at / 100.0, spectra, electrons_per_pixel=electrons, thickness_nm=thickness_nm,
                        atom_density_nm3=density)
    counts = rng.poisson(mean).astype(np.uint16)
    da = xr.DataArray(counts, dims=("y", "x", "energy"),
                      coords={"y": ("y", np.arange(ny) * 2.0, {"units": "nm"}),
                              "x": ("x", np.arange(nx) * 2.0, {"units": "nm"}),
                              "energy": ("energy", e, {"units": "eV"})},
                      attrs={"units": "counts", "signal": "eds", "beam_energy_keV": BEAM_KEV})
    k = np.array([ATOMIC_WEIGHT[el] for el in ELEMENTS]) / sens
    truth = {"atomic_percent": at, "x_cl": xcl, "elements": list(ELEMENTS),
             "net_counts": electrons * per_electron, "families": fams, "expected_counts": mean,
             "k_factors": {el: float(v / k[0]) for el, v in zip(ELEMENTS, k, strict=True)}}
    return da, truth
