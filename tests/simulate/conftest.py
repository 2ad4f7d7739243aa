"""Shared small device sessions for the simulator tests (built once per test session)."""

from __future__ import annotations

import pytest

from perovscope.simulate import simulate_device

#: Small but complete session: 4 frames (the last one after the collapse onset at 140 s).
SMALL = dict(n_frames=4, frame_interval_s=60.0, scan_shape=(20, 20), detector_shape=(64, 64),
             haadf_shape=(96, 96), haadf_pixel_nm=1.6, eds_shape=(12, 12), eds_channels=1024,
             eds_channel_eV=20.0)


@pytest.fixture(scope="session")
def device_small():
    """Noisy small session, seed 1."""
    return simulate_device(seed=1, **SMALL)


@pytest.fixture(scope="session")
def device_clean():
    """Same session without Poisson noise and without thermal-diffuse background (exact disks)."""
    return simulate_device(seed=1, noise=False, thermal_diffuse_fraction=0.0, **SMALL)
