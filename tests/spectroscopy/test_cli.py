"""The cl / eels / edx commands on perovscope .zarr stores (the simulator's output)."""

import numpy as np
import pytest

from perovscope.cli import main
from perovscope.io import open_results, save

simulate = pytest.importorskip("perovscope.simulate")


@pytest.fixture(scope="module")
def composite_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "composite.zarr"
    save(simulate.simulate_composite(seed=0, image_shape=(32, 32), n_particles=2), path)
    return path


def test_cl_and_eels_on_zarr(composite_store, tmp_path):
    out = tmp_path / "cl.zarr"
    assert main(["cl", str(composite_store), "--out", str(out), "--quiet"]) == 0
    res = open_results(out).to_dataset()
    truth = open_results(composite_store)["truth/cl"].to_dataset()
    emitting = truth["cl_amplitude"].values > 0
    err = np.abs(res["centre"].values - truth["cl_centre_nm"].values)[emitting]
    assert np.nanmax(err) < 0.2 and res["fwhm"].attrs["units"] == "nm"
    out = tmp_path / "eels.zarr"
    assert main(["eels", str(composite_store), "--background-window", "580", "618", "--out", str(out),
                 "--quiet", "--poisson", "--edges", "I_M45"]) == 0
    res = open_results(out).to_dataset()
    assert res["edge_signal"].dims == ("y", "x", "edge")
    truth = open_results(composite_store)["truth/eels"].to_dataset()
    t_edge = truth["edge_signal"].sel(energy=slice(619, 669)).sum("energy").values
    iodine = t_edge > 0.5 * t_edge.max()
    # default counts: per-pixel extrapolation noise ~5 %; the particle-mean within 3 %
    ratio = res["edge_signal"].isel(edge=0).values[iodine].sum() / t_edge[iodine].sum()
    assert abs(ratio - 1) < 0.03
    assert res["background_subtracted"].dims == ("y", "x", "energy")
    assert float(res.energy[0]) == 580.0
    assert np.all(np.isfinite(res["power_law_r"].values))


def test_edx_on_zarr_with_binning_and_pca(tmp_path):
    store = tmp_path / "dev.zarr"
    save(simulate.simulate_device(seed=0, n_frames=1, scan_shape=(8, 8), detector_shape=(32, 32),
                                  eds_shape=(16, 16)), store)
    out = tmp_path / "edx.zarr"
    assert main(["edx", str(store), "--bin", "2", "--pca", "6", "--out", str(out), "--quiet"]) == 0
    res = open_results(out).to_dataset()
    assert res["atomic_percent"].dims == ("time", "y", "x", "element")
    assert res.sizes["y"] == 8 and "Pb" in res.element.values
    assert out.with_suffix(".png").is_file()
    # unknown element is a user error, exit status 2
    assert main(["edx", str(store), "--elements", "Xx", "--out", str(tmp_path / "x.zarr"),
                 "--quiet"]) == 2
