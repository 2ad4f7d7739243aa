"""Particle boundaries of the CsPbI3 / ZIF-62 glass composite against the simulator's truth."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from perovscope.imaging import find_particles
from perovscope.interfaces import edge_distance, interdiffusion_width, profile_across


@pytest.fixture(scope="module")
def composite():
    from perovscope.simulate import simulate_composite

    return simulate_composite()


def test_particle_edges_distance_and_iodine_halo_width(composite):
    haadf = composite["haadf/haadf"].compute()
    truth = composite["truth/eels"].to_dataset()
    labels, table = find_particles(haadf, poisson=True)
    d_true = composite["truth/particles/diameter_nm"].values
    assert len(table) == d_true.size
    assert table["diameter_nm"].mean() == pytest.approx(d_true.mean(), rel=0.03)
    dist = edge_distance(labels)
    band = np.abs(truth["distance_to_interface_nm"].values) < 10
    err = np.abs(dist.values - truth["distance_to_interface_nm"].values)[band]
    px = float(haadf.x[1] - haadf.x[0])
    assert err.mean() < 0.5 * px                      # edges located to a fraction of a pixel
    # iodine outside the grains: I(d) = erfc(d / w) / 2, i.e. erf_step with sigma = w / sqrt(2)
    iodine = xr.DataArray(truth["iodine_fraction"].values, dims=("y", "x"))
    prof = profile_across(iodine, dist, bin_width=1.0, d_min=-10, d_max=25)
    fit = interdiffusion_width(prof)
    w_true = float(composite["truth/iodine_width_nm"])
    assert fit["width"] * np.sqrt(2) == pytest.approx(w_true, rel=0.15)
    assert abs(fit["centre"]) < px                    # the halo starts at the found particle edge


def test_particle_table_joins_cl_centre_map(composite):
    from scipy.spatial import cKDTree

    from perovscope.imaging import particle_table

    haadf = composite["haadf/haadf"].compute()
    labels, _ = find_particles(haadf, poisson=True)
    px = float(haadf.x[1] - haadf.x[0])
    cl_map = composite["truth/cl/cl_centre_nm"].values              # per-pixel CL peak centre (nm)
    table = particle_table(labels.values, pixel_size_nm=px, maps={"cl_centre_nm": cl_map})
    truth = composite["truth/particles"].to_dataset()
    _, idx = cKDTree(np.c_[truth["centre_y_nm"], truth["centre_x_nm"]]).query(
        table[["centroid_y", "centroid_x"]].to_numpy())
    assert len(set(idx)) == len(table)                             # one-to-one with the truth
    # the truth map holds each particle's CL centre on its pixels: the join must return it exactly
    np.testing.assert_allclose(table["cl_centre_nm"].to_numpy(), truth["cl_centre_nm"].values[idx],
                               atol=1e-9)
