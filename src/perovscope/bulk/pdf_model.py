"""Real-space model of a crystal's pair distribution function G(r), with analytic parameter derivatives.

The model is the small-box crystal PDF of PDFfit2 (Farrow et al. 2007), written from its equations:

    G(r) = scale · T_Qmax{ E(r) · [ (1/r) Σ_p m_p g(r; μ_p, σ_p) − 4π ρ₀ r ] },

* the sum runs over the distinct pair distances ``d_p`` of the reference cell (shells), scaled by the
  lattice (``μ_p = d_p a/a_ref``: isotropic expansion of the whole cell), with multiplicities
  ``m_p = Σ_{i,j} w_i w_j / (N ⟨w⟩²)`` (``w`` the scattering weights, e.g. Z for X-rays, N atoms per
  cell); ``g`` is a unit-area Gaussian;
* the peak width from isotropic displacements ``U_iso`` (the same for every atom) with correlated
  motion (Jeong et al. 1999/2003): ``σ_p = √(2U) √(1 − δ₁/μ_p − δ₂/μ_p² + Q_broad² μ_p²)``, multiplied
  by ``sratio`` for ``μ_p < rcut`` (PDFfit2's low-r sharpening of the nearest-neighbour peaks);
* ``ρ₀ = N/V`` the atom number density of the (scaled) cell, ``−4πρ₀r`` the baseline;
* ``E(r) = exp(−(Q_damp r)²/2)``, the damping by the instrument's Q resolution;
* ``T_Qmax`` the termination at Qmax: the model is computed on a uniform grid from r = 0 to past the
  fitted range (``r_max`` plus at least 3 Å or six ripples ``6·2π/Qmax``, smoothly tapered to zero over
  the extension), sine-transformed (a type-I DST: the exact odd extension G(−r) = −G(r)), cut at Qmax
  and transformed back — the convolution with the sinc of Qmax, done by FFT.

Every step is linear in the Gaussians, so the Jacobian columns (lattice parameter, U_iso, δ₁, δ₂,
Q_damp, Q_broad, sratio, scale) are built analytically alongside and go through the same termination.

References
----------
.. [1] C. L. Farrow, P. Juhás, J. W. Liu, D. Bryndin, E. S. Božin, J. Bloch, Th. Proffen and
   S. J. L. Billinge, "PDFfit2 and PDFgui: computer programs for studying nanostructure in crystals",
   J. Phys.: Condens. Matter 19, 335219 (2007).
.. [2] I.-K. Jeong, Th. Proffen, F. Mohiuddin-Jacobs and S. J. L. Billinge, "Measuring correlated
   atomic motion using X-ray diffraction", J. Phys. Chem. A 103, 921–924 (1999).
.. [3] Th. Proffen and S. J. L. Billinge, "PDFFIT, a program for full profile structural refinement of
   the atomic pair distribution function", J. Appl. Cryst. 32, 572–575 (1999).
.. [4] T. Egami and S. J. L. Billinge, *Underneath the Bragg Peaks*, 2nd ed., Pergamon (2012), ch. 5.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["Crystal", "cubic_crystal", "crystal_from_phase", "PairShells", "pair_shells", "terminate",
           "PARAMETERS", "crystal_pdf"]

#: Model parameters, in the order of :func:`crystal_pdf`'s parameter vectors.
PARAMETERS = ("scale", "a", "uiso", "delta1", "delta2", "qdamp", "qbroad", "sratio")


class Crystal(NamedTuple):
    """A crystal: cell ``(a, b, c, α, β, γ)`` (Å, degrees), every atom of the cell as fractional
    ``positions`` (m, 3), scattering ``weights`` (m,) (per fully occupied atom: Z for X-rays, b for
    neutrons), site ``labels`` and ``occupancy`` (m,) (default 1)."""

    cell: tuple
    positions: np.ndarray
    weights: np.ndarray
    labels: tuple = ()
    occupancy: np.ndarray | None = None


_CUBIC = {
    "fcc": [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0)],
    "bcc": [(0, 0, 0), (0.5, 0.5, 0.5)],
    "sc": [(0, 0, 0)],
    "diamond": [(0, 0, 0), (0, 0.5, 0.5), (0.5, 0, 0.5), (0.5, 0.5, 0), (0.25, 0.25, 0.25),
                (0.25, 0.75, 0.75), (0.75, 0.25, 0.75), (0.75, 0.75, 0.25)],
}


def cubic_crystal(kind: str, a: float, *, weight: float = 1.0, label: str = "X") -> Crystal:
    """A one-element cubic crystal: ``kind`` in ``fcc``, ``bcc``, ``sc``, ``diamond``; lattice ``a`` (Å)."""
    if kind not in _CUBIC:
        raise InputError(f"unknown cubic lattice {kind!r}; use one of {sorted(_CUBIC)}")
    if not a > 0:
        raise InputError(f"lattice parameter must be > 0, got {a}")
    pos = np.array(_CUBIC[kind], dtype=float)
    return Crystal((float(a),) * 3 + (90.0,) * 3, pos, np.full(len(pos), float(weight)), (label,) * len(pos))


def crystal_from_phase(phase) -> Crystal:
    """A :class:`Crystal` from a :class:`perovscope.bulk.xrd_phases.CrystalPhase` (a built-in phase or
    one read from a CIF): every atom of the cell, X-ray weights Z (the atomic form factor at Q = 0)."""
    import gemmi

    el, xyz, occ, _ = phase.cell_atoms()
    z = np.array([gemmi.Element(str(e)).atomic_number for e in el], dtype=float)
    return Crystal(tuple(float(v) for v in phase.cell), np.asarray(xyz, dtype=float), z,
                   tuple(str(e) for e in el), np.asarray(occ, dtype=float))


def _lattice_matrix(cell):
    a, b, c, al, be, ga = (float(v) for v in cell)
    al, be, ga = np.radians([al, be, ga])
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    cz2 = c * c - cx * cx - cy * cy
    if not (a > 0 and b > 0 and c > 0 and cz2 > 0):
        raise InputError(f"impossible cell {cell}")
    return np.array([[a, 0, 0], [b * np.cos(ga), b * np.sin(ga), 0], [cx, cy, np.sqrt(cz2)]])


class PairShells(NamedTuple):
    """Distinct pair distances of a crystal (``distance`` (p,), Å, for the reference cell) with their
    weighted multiplicities per atom, the atoms per cell, the cell volume (Å³) and ``a_ref``."""

    distance: np.ndarray
    multiplicity: np.ndarray
    n_atoms: float
    volume: float
    a_ref: float


def pair_shells(crystal: Crystal, r_max: float, *, decimals: int = 6) -> PairShells:
    """All pair distances ``0 < d ≤ r_max`` of ``crystal``, grouped into shells.

    Parameters
    ----------
    crystal : Crystal
    r_max : float
        Largest distance (Å) in the reference cell.
    decimals : int
        Distances equal to this many decimals (Å) form one shell.

    Returns
    -------
    PairShells
    """
    lat = _lattice_matrix(crystal.cell)
    pos = np.asarray(crystal.positions, dtype=float).reshape(-1, 3)
    occ = (np.ones(pos.shape[0]) if crystal.occupancy is None
           else np.asarray(crystal.occupancy, dtype=float).reshape(-1))
    w = np.asarray(crystal.weights, dtype=float).reshape(-1)
    if w.size != pos.shape[0] or w.size == 0 or occ.size != w.size:
        raise InputError("crystal needs one weight (and occupancy) per position")
    w = w * occ
    n_atoms = float(occ.sum())
    volume = float(abs(np.linalg.det(lat)))
    # translations: enough cells along each axis to reach r_max (distance between lattice planes)
    recip = np.linalg.inv(lat).T
    reach = np.ceil(r_max * np.linalg.norm(recip, axis=1)).astype(int) + 1
    rng = [np.arange(-n, n + 1) for n in reach]
    shifts = np.stack(np.meshgrid(*rng, indexing="ij"), axis=-1).reshape(-1, 3)
    dist, mult = [], []
    wbar2 = (w.sum() / n_atoms) ** 2
    for i in range(pos.shape[0]):  # loop over sites of the cell (small), vectorised over neighbours
        vec = (pos[None, :, :] + shifts[:, None, :] - pos[i]) @ lat
        d = np.linalg.norm(vec, axis=-1)
        ww = np.broadcast_to(w[i] * w[None, :], d.shape)
        keep = (d > 1e-8) & (d <= r_max)
        dist.append(d[keep])
        mult.append(ww[keep])
    d = np.concatenate(dist)
    m = np.concatenate(mult) / (n_atoms * wbar2)
    key = np.round(d, decimals)
    uniq, inv = np.unique(key, return_inverse=True)
    return PairShells(uniq, np.bincount(inv, weights=m), n_atoms, volume, float(crystal.cell[0]))


def terminate(g, dr: float, qmax: float, *, n_ext: int = 0):
    """Cut the Fourier components of ``g`` (``(..., M)``, on ``r = dr, 2dr, …``) above ``qmax``.

    ``g`` is treated as odd about r = 0 and zero from ``(M+1)·dr`` on (type-I sine transform); the last
    ``n_ext`` points are tapered smoothly (cosine) to zero first. Equivalent to convolving ``g`` with
    the sinc of ``qmax`` (the termination ripples of a transform stopped at Qmax).
    """
    from scipy.fft import dst, idst

    g = np.asarray(g, dtype=float)
    m = g.shape[-1]
    if n_ext > 0:
        taper = np.ones(m)
        k = min(n_ext, m)
        taper[m - k:] = 0.5 * (1 + np.cos(np.pi * (np.arange(1, k + 1) / (k + 1))))
        g = g * taper
    if not qmax or not np.isfinite(qmax):
        return g
    spec = dst(g, type=1, axis=-1)
    qj = np.pi * np.arange(1, m + 1) / ((m + 1) * dr)
    spec = np.where(qj <= qmax, spec, 0.0)
    return idst(spec, type=1, axis=-1)


def _gauss(x, mu, sig):
    z = (x - mu) / sig
    return np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * sig), z


def crystal_pdf(r, params, shells: PairShells, *, qmax: float | None, rcut: float = 0.0, jacobian=None):
    """G(r) of the crystal model for a batch of parameter vectors, optionally with derivatives.

    Parameters
    ----------
    r : array_like (n,)
        Where G is wanted (Å, increasing, > 0).
    params : array_like (..., 8)
        ``(scale, a, uiso, delta1, delta2, qdamp, qbroad, sratio)`` per pattern (:data:`PARAMETERS`).
    shells : PairShells
        From :func:`pair_shells`, reaching at least ``max(r)·a/a_ref`` plus the extension.
    qmax : float or None
        Termination (None or 0: no termination ripples).
    rcut : float
        ``sratio`` multiplies the widths of peaks below this distance.
    jacobian : sequence of int, optional
        Indices into :data:`PARAMETERS` whose derivatives to return.

    Returns
    -------
    ndarray (..., n), or (G, dG (..., n, len(jacobian))) when ``jacobian`` is given.
    """
    r = np.asarray(r, dtype=float)
    p = np.asarray(params, dtype=float)
    lead = p.shape[:-1]
    p = p.reshape(-1, len(PARAMETERS))
    npx = p.shape[0]
    scale, a, uiso, d1, d2, qdamp, qb, sratio = (p[:, i:i + 1] for i in range(len(PARAMETERS)))
    dr = min(float(np.min(np.diff(r))) if r.size > 1 else 0.01, 0.01)
    ext = max(3.0, 12 * np.pi / qmax) if qmax else 3.0
    m = int(np.ceil((r[-1] + ext) / dr))
    grid = dr * np.arange(1, m + 1)
    n_ext = int(round(0.6 * ext / dr))
    s = a / shells.a_ref
    rho0 = shells.n_atoms / (shells.volume * s ** 3)
    want = [] if jacobian is None else list(jacobian)
    peaks = np.zeros((npx, m))
    dpk = {j: np.zeros((npx, m)) for j in want if j in (1, 2, 3, 4, 6, 7)}
    sig0 = np.sqrt(2.0 * np.maximum(uiso, 0.0))
    dmax = (grid[-1] + 6.0 * float(np.max(sig0)) + 0.5) / float(np.min(s))
    for d, mult in zip(shells.distance, shells.multiplicity, strict=True):  # loop over shells (peaks)
        if d > dmax:
            break
        mu = s * d
        corr = 1.0 - d1 / mu - d2 / mu ** 2 + qb ** 2 * mu ** 2
        rc = np.sqrt(np.maximum(corr, 1e-12))
        ratio = np.where(mu < rcut, sratio, 1.0)
        sig = np.maximum(sig0 * rc * ratio, 1e-5)
        half = 6.0 * float(np.max(sig))
        lo = max(int(np.floor((float(np.min(mu)) - half) / dr)) - 1, 0)
        hi = min(int(np.ceil((float(np.max(mu)) + half) / dr)), m)
        if hi <= lo:
            continue
        x = grid[lo:hi]
        g, z = _gauss(x, mu, sig)
        peaks[:, lo:hi] += mult * g
        if dpk:
            dg_dmu = g * z / sig
            dg_dsig = g * (z * z - 1.0) / sig
            dsig_dcorr = sig0 * ratio / (2.0 * rc)
            if 1 in dpk:
                dcorr_dmu = d1 / mu ** 2 + 2 * d2 / mu ** 3 + 2 * qb ** 2 * mu
                dpk[1][:, lo:hi] += mult * (dg_dmu + dg_dsig * dsig_dcorr * dcorr_dmu) * (d / shells.a_ref)
            if 2 in dpk:
                dpk[2][:, lo:hi] += mult * dg_dsig * sig / (2.0 * np.maximum(uiso, 1e-12))
            if 3 in dpk:
                dpk[3][:, lo:hi] += mult * dg_dsig * dsig_dcorr * (-1.0 / mu)
            if 4 in dpk:
                dpk[4][:, lo:hi] += mult * dg_dsig * dsig_dcorr * (-1.0 / mu ** 2)
            if 6 in dpk:
                dpk[6][:, lo:hi] += mult * dg_dsig * dsig_dcorr * (2.0 * qb * mu ** 2)
            if 7 in dpk:
                dpk[7][:, lo:hi] += mult * dg_dsig * np.where(mu < rcut, sig0 * rc, 0.0)
    env = np.exp(-0.5 * (qdamp * grid) ** 2)
    base = peaks / grid - 4.0 * np.pi * rho0 * grid
    g0 = env * base
    out = [g0]
    for j in want:
        if j == 0:
            out.append(g0)  # scaled below: d/dscale = the unscaled model
        elif j == 5:
            out.append(scale * (-qdamp * grid ** 2) * g0)
        elif j == 1:
            out.append(scale * env * (dpk[1] / grid + 4.0 * np.pi * grid * 3.0 * rho0 / a))
        else:
            out.append(scale * env * dpk[j] / grid)
    stack = terminate(np.stack(out, axis=1), dr, qmax or 0.0, n_ext=n_ext)
    stack[:, 0] *= scale
    # linear interpolation from the model grid onto r (exact where r is on the grid)
    pos = np.clip((r - dr) / dr, 0.0, m - 1.0)
    i0 = np.minimum(np.floor(pos).astype(int), m - 2)
    frac = pos - i0
    res = stack[..., i0] * (1.0 - frac) + stack[..., i0 + 1] * frac
    gfit = res[:, 0].reshape(lead + (r.size,))
    if jacobian is None:
        return gfit
    return gfit, np.moveaxis(res[:, 1:], 1, -1).reshape(lead + (r.size, len(want)))
