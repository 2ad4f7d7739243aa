"""Closed-form synthetic spectrum images with ground truth for the spectroscopy tests."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr


@pytest.fixture
def cl_map():
    """CL map (16, 20, wavelength) in nm: Gaussian emission around 710 nm + offset, Poisson counts.

    Peak heights 800–1600 counts (a bright STEM-CL particle at ~1 nm channel resolution), σ 12–18 nm,
    0.34 nm channels (the CsPbI3/ZIF-62 study's dispersion). Returns (DataArray, truth dict).
    """
    rng = np.random.default_rng(7)
    ny, nx = 16, 20
    wl = np.arange(620.0, 800.0, 0.34)
    centre = rng.uniform(705.0, 715.0, (ny, nx))
    sigma = rng.uniform(12.0, 18.0, (ny, nx))
    amp = rng.uniform(800.0, 1600.0, (ny, nx))
    offset = 20.0
    mean = amp[..., None] * np.exp(-0.5 * ((wl - centre[..., None]) / sigma[..., None]) ** 2) + offset
    counts = rng.poisson(mean).astype(np.float32)
    da = xr.DataArray(counts, dims=("y", "x", "wavelength"),
                      coords={"y": ("y", np.arange(ny) * 5.0, {"units": "nm"}),
                              "x": ("x", np.arange(nx) * 5.0, {"units": "nm"}),
                              "wavelength": ("wavelength", wl, {"units": "nm"})},
                      attrs={"units": "counts", "signal": "cl"})
    return da, {"centre": centre, "sigma": sigma, "amplitude": amp, "offset": offset}


def _iodine_edge(e, onset=619.0):
    """Closed-form I M4,5-like edge shape: smooth step at the onset decaying as exp(-(E-E0)/120)."""
    rise = np.clip((e - onset) / 8.0, 0.0, 1.0)
    return rise * np.exp(-np.clip(e - onset, 0, None) / 120.0)


@pytest.fixture
def eels_linescan():
    """EELS line scan (x, energy) across an interface: A E^-r background + iodine edge whose
    amplitude follows an erf profile of known width. Returns (DataArray, truth dict)."""
    from scipy.special import erf

    rng = np.random.default_rng(3)
    e = np.arange(540.0, 760.0, 0.5)
    x = np.arange(0.0, 60.0, 1.0)
    width = 6.0
    profile = 0.5 * (1 - erf((x - 30.0) / (np.sqrt(2) * width)))  # iodine 1 → 0 across x = 30 nm
    r = 3.0 + 0.05 * np.sin(x / 7)
    a_coef = 2.0e4 * 600.0 ** r  # background = 2e4 counts/channel at 600 eV
    bg = a_coef[:, None] * e[None, :] ** -r[:, None]
    edge_amp = 6000.0 * (0.05 + profile)
    edge = edge_amp[:, None] * _iodine_edge(e)[None, :]
    counts = rng.poisson(bg + edge).astype(float)
    da = xr.DataArray(counts, dims=("x", "energy"),
                      coords={"x": ("x", x, {"units": "nm"}),
                              "energy": ("energy", e, {"units": "eV"})},
                      attrs={"units": "counts", "signal": "eels"})
    win = (e >= 619.0) & (e <= 669.0)
    truth = {"A": a_coef, "r": r, "profile": profile, "width": width,
             "edge_signal": edge[:, win].sum(axis=1), "edge_window": (619.0, 669.0)}
    return da, truth


@pytest.fixture(scope="module")
def edx_map():
    """EDX map (16, 16, energy) of CsPb(Br1-xClx)3, x = 0.1 … 0.9 along columns, 300 kV.

    Rendered by the simulator's own X-ray emission model (``edx_simulated.py``), never by the fitter's
    design matrix, so the fit is tested against independent physics. Returns (DataArray, truth dict).
    """
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("edx_simulated.py")
    spec = importlib.util.spec_from_file_location("edx_simulated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.simulated_edx_map()
