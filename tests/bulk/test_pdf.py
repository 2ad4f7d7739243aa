"""S(Q) → F(Q) → G(r) on a Debye-equation fcc cluster, the Lorch window, the differential PDF."""

from __future__ import annotations

import numpy as np
import pytest

from perovscope.bulk.pdf import (
    differential,
    lorch_window,
    pdf_from_structure_factor,
    reduced_structure_function,
    reduced_structure_function_from_pdf,
)
from perovscope.errors import InputError

A = 3.52


def debye_fcc(q, radius=14.0, u=0.003):
    """S(Q) of a spherical fcc cluster by the Debye equation, thermal factor exp(−Q²U) per pair."""
    n = np.arange(-5, 6)
    cells = np.stack(np.meshgrid(n, n, n, indexing="ij"), -1).reshape(-1, 3)
    basis = np.array([(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)])
    pos = (cells[:, None, :] + basis[None]).reshape(-1, 3) * A
    pos = pos[np.linalg.norm(pos, axis=1) <= radius]
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)[np.triu_indices(len(pos), 1)]
    dist, count = np.unique(np.round(d, 6), return_counts=True)
    arg = q[:, None] * dist
    return 1 + (2 / len(pos)) * (count * np.sin(arg) / arg * np.exp(-q[:, None] ** 2 * u)).sum(1)


def _peak(r, g, near):
    sel = np.flatnonzero((r > near - 0.15) & (r < near + 0.15))
    j = sel[np.argmax(g[sel])]
    y0, y1, y2 = g[j - 1], g[j], g[j + 1]
    return r[j] + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) * (r[1] - r[0])


def test_fcc_peaks_at_the_neighbour_distances():
    q = np.linspace(0.8, 30.0, 3000)
    sq = debye_fcc(q)
    shells = A * np.sqrt([0.5, 1.0, 1.5, 2.0, 2.5])  # a/√2, a, a√(3/2), a√2, a√(5/2)
    r, g = pdf_from_structure_factor(sq, q, r_max=8.0, dr=0.005)
    _, gl = pdf_from_structure_factor(sq, q, r_max=8.0, dr=0.005, lorch=True)
    _, gf = pdf_from_structure_factor(reduced_structure_function(sq, q), q, kind="F", r=r)
    assert np.allclose(g, gf)
    # σ = √(2U) = 0.077 Å: the 1/r weighting and the cluster envelope shift a peak by ≲ σ²/r ≈ 2 mÅ,
    # termination ripples of the neighbours by a few mÅ more
    for d in shells:
        assert _peak(r, g, d) == pytest.approx(d, abs=0.006)
        assert _peak(r, gl, d) == pytest.approx(d, abs=0.006)
    first = (r > 2.2) & (r < 2.8)
    assert gl[first].max() < g[first].max()  # Lorch: broader, lower peaks ...
    ripple = (r > 1.0) & (r < 2.1)  # below the first peak: −4πρ₀r plus the termination ripples

    def wiggle(y):
        return np.std(y[ripple] - np.polyval(np.polyfit(r[ripple], y[ripple], 1), r[ripple]))

    assert wiggle(gl) < 0.5 * wiggle(g)  # ... and damped termination ripples


def test_series_transform_is_batched_and_reversible():
    q = np.linspace(0.5, 25.0, 1500)
    sq = np.stack([debye_fcc(q, radius=rad) for rad in (10.0, 12.0)])
    r, g = pdf_from_structure_factor(sq, q, qmax=20.0, r_max=15.0, dr=0.01)
    assert g.shape == (2, r.size)
    _, g1 = pdf_from_structure_factor(sq[1], q, qmax=20.0, r_max=15.0, dr=0.01)
    assert np.allclose(g[1], g1)
    # back to F(Q) inside (qmin, qmax): G was band-limited there, r_max = 15 Å resolves ΔQ ≈ 0.2 Å⁻¹
    qq = np.linspace(3.0, 18.0, 50)
    back = reduced_structure_function_from_pdf(g[0], r, q=qq)
    f = np.interp(qq, q, reduced_structure_function(sq[0], q))
    assert np.corrcoef(back, f)[0, 1] > 0.99


def test_lorch_window():
    assert lorch_window(0.0, 20.0) == 1.0
    assert lorch_window(10.0, 20.0) == pytest.approx(2 / np.pi)
    assert lorch_window(20.0, 20.0) == pytest.approx(0.0, abs=1e-15) and lorch_window(25.0, 20.0) == 0.0


def test_differential_recovers_weights_and_the_interaction_term():
    q = np.linspace(0.5, 20.0, 800)
    a, b = np.sin(2.1 * q) * np.exp(-0.05 * q), np.cos(1.3 * q) * np.exp(-0.08 * q)
    extra = 0.05 * np.exp(-0.5 * ((q - 7.0) / 0.1) ** 2)  # a Bragg-like feature of new correlations
    comp = 0.3 * a + 0.7 * b + extra
    res = differential(comp, [a, b], q)
    # the new feature projects slightly onto the end members: weights within 0.005, Δ within 0.01
    assert res.weights == pytest.approx([0.3, 0.7], abs=5e-3)
    assert np.max(np.abs(res.difference - extra)) < 0.01 and np.all(res.weights_std > 0)
    given = differential(np.stack([comp, 2 * comp]), np.stack([a, b]), q, weights=[0.3, 0.7])
    assert np.allclose(given.difference[0], extra) and np.all(given.weights_std == 0)
    # linear: the transform of ΔF is the difference of the transforms
    r, g_comp = pdf_from_structure_factor(comp, q, kind="F", r_max=10)
    _, g_ends = pdf_from_structure_factor(np.stack([a, b]), q, kind="F", r_max=10)
    _, g_diff = pdf_from_structure_factor(given.difference[0], q, kind="F", r_max=10)
    assert np.allclose(differential(g_comp, g_ends, r, weights=[0.3, 0.7]).difference, g_diff)


def test_bad_input_raises():
    q = np.linspace(0.5, 20, 100)
    s = np.ones_like(q)
    with pytest.raises(InputError, match="not sorted"):
        pdf_from_structure_factor(s, np.r_[q[:50], q[50:][::-1]])
    with pytest.raises(InputError, match="duplicated"):
        pdf_from_structure_factor(s, np.r_[q[:10], q[9], q[11:]])
    with pytest.raises(InputError, match="at least"):
        pdf_from_structure_factor(s, q, qmin=5.0, qmax=5.1)
    with pytest.raises(InputError, match="kind"):
        pdf_from_structure_factor(s, q, kind="G")
    with pytest.raises(InputError, match="end_members"):
        differential(s, np.ones((2, 5)), q)
