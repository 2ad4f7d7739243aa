"""Powder reflections of a crystal phase: X-ray lines, d-spacings, multiplicities and intensities.

:func:`reflection_set` lists every reflection of a phase down to a d-spacing, merges the ones
equivalent under the Laue group (with Friedel pairs) into powder lines with their multiplicity,
and drops systematic absences (gemmi's space-group tables). Intensities are kinematic X-ray
structure factors written out here, not taken from a library calculator:

    F(h) = Σ_j o_j (f0_j(s) + f'_j + i f''_j) exp(−B_j s²) exp(2πi h·x_j),   s = sin θ/λ = 1/(2d)

with the International Tables (IT92) four-Gaussian form factors f0 [2]_ and the Cromer–Liberman
anomalous-dispersion corrections f', f'' at the X-ray energy [3]_ (both tables read through gemmi).
Atoms are grouped into scattering types (element, B); the sum over a powder line of ``|F|²`` is then
``Re Σ_tt' f_t f_t'* C_tt'`` with ``C`` precomputed once, so intensities are re-evaluated cheaply
for every trial cell of a refinement. :func:`reference_pattern` gives the stick pattern (hkl, d, 2θ,
relative intensity) of a phase — a built-in one or a CIF.

References
----------
.. [1] *International Tables for Crystallography*, Vol. C (2004), §6.1 (form factors) and §4.2
   (X-ray wavelengths); Vol. A (2016) (space groups).
.. [2] D. Waasmaier and A. Kirfel, Acta Cryst. A 51, 416 (1995); IT Vol. C Table 6.1.1.4 (IT92
   coefficients).
.. [3] D. T. Cromer and D. Liberman, J. Chem. Phys. 53, 1891 (1970).
.. [4] G. Hölzer et al., "Kα1,2 and Kβ1,3 x-ray emission lines of the 3d transition metals",
   Phys. Rev. A 56, 4554 (1997); R. D. Deslattes et al., Rev. Mod. Phys. 75, 35 (2003) (Mo, Ag).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from .xrd_phases import CrystalPhase

__all__ = ["XRAY_LINES", "Radiation", "radiation", "ReflectionSet", "reflection_set", "inverse_d2",
           "cell_from_free", "line_intensity", "lorentz_polarization", "HC_EV_A", "ReferencePattern",
           "reference_pattern"]

#: h·c in eV·Å.
HC_EV_A = 12398.419843320026

#: Characteristic lines (Å): Kα1, Kα2, Kβ1 [4]_.
XRAY_LINES = {
    "Cr": (2.289726, 2.293651, 2.084881),
    "Fe": (1.936042, 1.939980, 1.756610),
    "Co": (1.788996, 1.792835, 1.620826),
    "Cu": (1.540593, 1.544414, 1.392234),
    "Mo": (0.709317, 0.713607, 0.632303),
    "Ag": (0.559422, 0.563813, 0.497082),
}


@dataclass(frozen=True)
class Radiation:
    """Wavelengths (Å) and relative intensities of the lines that make each reflection."""

    wavelengths: tuple
    ratios: tuple
    label: str = ""

    @property
    def energy_ev(self) -> float:
        return HC_EV_A / self.wavelengths[0]


def radiation(spec="Cu", *, ka2_ratio: float = 0.5, kbeta_ratio: float = 0.0) -> Radiation:
    """Radiation from an anode name (``"Cu"``: Kα1 + Kα2; ``"CuKa1"``: Kα1 only) or wavelengths (Å).

    Parameters
    ----------
    spec : str, float or sequence of float
        ``"Cu"``, ``"Co"``, ``"Mo"``, ... ; ``"CuKa1"``; a number (one line, e.g. synchrotron
        ``0.10173``); or ``"1.5406,1.5444"`` / a pair (Kα1, Kα2).
    ka2_ratio : float
        I(Kα2)/I(Kα1), 0.5 for a lab tube (two electrons in 2p3/2 vs one in 2p1/2).
    kbeta_ratio : float
        I(Kβ)/I(Kα1) left by an imperfect filter (0 = none).
    """
    if isinstance(spec, Radiation):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        key = text[:2].capitalize()
        if key in XRAY_LINES and (len(text) == 2 or text[2:].lower() in ("ka", "ka1", "kα", "kα1")):
            ka1, ka2, kb = XRAY_LINES[key]
            if text[2:].lower() in ("ka1", "kα1"):
                return Radiation((ka1,), (1.0,), f"{key} Kα1")
            waves, ratios = [ka1, ka2], [1.0, float(ka2_ratio)]
            if kbeta_ratio > 0:
                waves.append(kb)
                ratios.append(float(kbeta_ratio))
            return Radiation(tuple(waves), tuple(ratios), f"{key} Kα1,2")
        try:
            spec = [float(t) for t in text.replace(";", ",").split(",") if t.strip()]
        except ValueError:
            raise InputError(f"wavelength {spec!r}: give an anode ({', '.join(XRAY_LINES)}), 'CuKa1', "
                             "or wavelengths in Å such as 1.5406 or 1.5406,1.5444") from None
    waves = [float(v) for v in np.atleast_1d(spec)]
    if not waves or len(waves) > 2 or not all(0.05 < w < 5.0 for w in waves):
        raise InputError(f"wavelength {spec!r}: one or two wavelengths between 0.05 and 5 Å are needed")
    ratios = [1.0] if len(waves) == 1 else [1.0, float(ka2_ratio)]
    return Radiation(tuple(waves), tuple(ratios), ",".join(f"{w:g} Å" for w in waves))


def cell_from_free(free, names, base):
    """Six cell parameters ``(..., 6)`` from the free lattice parameters ``(..., k)`` named ``names``."""
    free = np.asarray(free, dtype=float)
    out = np.broadcast_to(np.asarray(base, dtype=float), free.shape[:-1] + (6,)).copy()
    idx = {"a": 0, "b": 1, "c": 2, "alpha": 3, "beta": 4, "gamma": 5}
    for k, n in enumerate(names):
        out[..., idx[n]] = free[..., k]
    if names[:2] == ("a", "c") or names == ("a",) or names == ("a", "alpha"):
        out[..., 1] = out[..., 0]
        if names == ("a",) or names == ("a", "alpha"):
            out[..., 2] = out[..., 0]
        if names == ("a", "alpha"):
            out[..., 4] = out[..., 5] = out[..., 3]
    return out


def inverse_d2(hkl, cell):
    """``1/d²`` (Å⁻²) of reflections ``hkl`` ``(K, 3)`` for cells ``(..., 6)`` -> ``(..., K)``."""
    cell = np.asarray(cell, dtype=float)
    a, b, c = cell[..., 0], cell[..., 1], cell[..., 2]
    ca, cb, cg = (np.cos(np.radians(cell[..., i])) for i in (3, 4, 5))
    g = np.empty(cell.shape[:-1] + (3, 3))
    g[..., 0, 0], g[..., 1, 1], g[..., 2, 2] = a * a, b * b, c * c
    g[..., 0, 1] = g[..., 1, 0] = a * b * cg
    g[..., 0, 2] = g[..., 2, 0] = a * c * cb
    g[..., 1, 2] = g[..., 2, 1] = b * c * ca
    gstar = np.linalg.inv(g)
    h = np.asarray(hkl, dtype=float)
    return np.einsum("ki,...ij,kj->...k", h, gstar, h)


@dataclass(frozen=True, eq=False)
class ReflectionSet:
    """Powder lines of one phase: representative ``hkl`` (K, 3), multiplicity (K,) and the
    type-pair sums ``gram`` (K, T, T) of the structure factor; ``f0`` (T, 9) IT92 coefficients,
    ``fp``/``fpp`` (T,) anomalous terms and ``b_iso`` (T,) of the scattering types ``elements``."""

    phase: CrystalPhase
    hkl: np.ndarray
    multiplicity: np.ndarray
    gram: np.ndarray
    elements: tuple
    f0: np.ndarray
    fp: np.ndarray
    fpp: np.ndarray
    b_iso: np.ndarray

    def __len__(self) -> int:
        return len(self.hkl)

    def labels(self) -> list[str]:
        return ["".join(f"{v}" if 0 <= v < 10 else f"({v})" for v in row) for row in self.hkl]


def _scattering_types(phase: CrystalPhase, energy_ev: float | None):
    import gemmi

    el, xyz, occ, b = phase.cell_atoms()
    keys = sorted({(e, round(float(bb), 4)) for e, bb in zip(el, b, strict=True)})
    index = {k: i for i, k in enumerate(keys)}
    t_of_atom = np.array([index[(e, round(float(bb), 4))] for e, bb in zip(el, b, strict=True)])
    f0 = np.array([gemmi.Element(e).it92.get_coefs() for e, _ in keys], dtype=float)
    fp = np.zeros(len(keys))
    fpp = np.zeros(len(keys))
    if energy_ev is not None:
        for i, (e, _) in enumerate(keys):
            fp[i], fpp[i] = gemmi.cromer_liberman(z=gemmi.Element(e).atomic_number, energy=energy_ev)
    return keys, t_of_atom, f0, fp, fpp, xyz, occ


def reflection_set(phase: CrystalPhase, d_min: float, *, energy_ev: float | None = None,
                   margin: float = 1.03) -> ReflectionSet:
    """All powder lines of ``phase`` with d ≥ ``d_min`` (Å) for cells up to ``margin`` × larger.

    Parameters
    ----------
    phase : CrystalPhase
    d_min : float
        Smallest d-spacing (Å) needed (``λ_max / (2 sin θ_max)``).
    energy_ev : float, optional
        X-ray energy for the anomalous-dispersion terms; None leaves them out.
    margin : float
        Lines are kept if they stay above ``d_min`` when the cell grows by this factor
        (thermal expansion, refinement).
    """
    if not d_min > 0:
        raise InputError(f"d_min must be > 0 Å, got {d_min!r}")
    sg = phase.spacegroup
    cell = np.asarray(phase.cell, dtype=float)
    lengths = cell[:3] * margin
    hmax = np.ceil(lengths / d_min).astype(int)
    grids = np.meshgrid(*(np.arange(-m, m + 1) for m in hmax), indexing="ij")
    hkl = np.stack([g.ravel() for g in grids], axis=-1)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    big = cell.copy()
    big[:3] *= margin
    keep = inverse_d2(hkl, big) <= 1.0 / d_min**2
    hkl = hkl[keep]
    if hkl.size == 0:
        raise InputError(f"phase {phase.name}: no reflection has d ≥ {d_min:.3f} Å; widen the 2θ range")
    ops = sg.operations()
    absent = np.asarray(ops.systematic_absences(np.ascontiguousarray(hkl, dtype=np.int32)), dtype=bool)
    hkl = hkl[~absent]
    # powder line = orbit under the Laue group (rotations of the point group and Friedel's law)
    rots = np.array([np.array(op.rot, dtype=float) / op.DEN for op in ops.sym_ops])
    images = np.rint(np.einsum("ki,oij->koj", hkl, rots)).astype(np.int64)
    images = np.concatenate([images, -images], axis=1)
    span = int(np.abs(hkl).max()) + 1
    code = (images[..., 0] * (2 * span + 1) + images[..., 1]) * (2 * span + 1) + images[..., 2]
    code = code + np.sum(images >= 0, axis=-1) * (2 * span + 1) ** 3  # prefer non-negative indices
    best = np.argmax(code, axis=1)
    rep_code = code[np.arange(len(hkl)), best]
    uniq, first, group = np.unique(rep_code, return_index=True, return_inverse=True)
    rep = images[first, best[first]]
    mult = np.bincount(group, minlength=len(uniq))
    keys, t_of_atom, f0, fp, fpp, xyz, occ = _scattering_types(phase, energy_ev)
    ntype = len(keys)
    phase_fac = np.exp(2j * np.pi * (hkl @ xyz.T)) * occ  # (Kall, atoms)
    t_sum = np.zeros((len(hkl), ntype), dtype=complex)
    for t in range(ntype):
        t_sum[:, t] = phase_fac[:, t_of_atom == t].sum(axis=1)
    pair = t_sum[:, :, None] * np.conj(t_sum[:, None, :])
    gram = np.zeros((len(uniq), ntype, ntype), dtype=complex)
    np.add.at(gram, group, pair)
    order = np.argsort(inverse_d2(rep, cell), kind="stable")
    return ReflectionSet(phase, rep[order], mult[order], gram[order], tuple(k[0] for k in keys), f0, fp,
                         fpp, np.array([k[1] for k in keys]))


def line_intensity(refl: ReflectionSet, inv_d2, *, b_overall=0.0) -> np.ndarray:
    """Σ over each powder line of ``|F|²`` (electrons², unit cell) at ``1/d²`` ``(..., K)``.

    ``b_overall`` (Å², broadcast against the leading axes) is added to every atom's B.
    """
    s2 = np.asarray(inv_d2, dtype=float) / 4.0  # (sin θ/λ)²
    a, b = refl.f0[:, 0:4], refl.f0[:, 4:8]
    f0 = np.einsum("ti,...kti->...kt", a, np.exp(-b[None] * s2[..., None, None])) + refl.f0[:, 8]
    dw = np.exp(-(refl.b_iso + np.asarray(b_overall, dtype=float)[..., None, None]) * s2[..., None])
    f = (f0 + refl.fp + 1j * refl.fpp) * dw
    return np.einsum("...kt,kts,...ks->...k", f, refl.gram, np.conj(f)).real


def lorentz_polarization(two_theta_deg, *, monochromator_2theta: float = 0.0):
    """Bragg–Brentano Lorentz–polarization factor (unpolarised beam, optional monochromator)."""
    tt = np.radians(np.asarray(two_theta_deg, dtype=float))
    c2m = np.cos(np.radians(monochromator_2theta)) ** 2
    th = tt / 2.0
    return (1.0 + c2m * np.cos(tt) ** 2) / ((1.0 + c2m) * np.sin(th) ** 2 * np.cos(th))


class ReferencePattern(NamedTuple):
    """Stick pattern of one phase: ``hkl`` labels, d (Å), 2θ (deg), relative intensity (max 100)."""

    phase: str
    hkl: tuple
    d: np.ndarray
    two_theta: np.ndarray
    intensity: np.ndarray
    multiplicity: np.ndarray


def reference_pattern(phase, *, wavelength="CuKa1", two_theta_range=(5.0, 90.0), min_intensity=0.1,
                      monochromator_2theta: float = 0.0) -> ReferencePattern:
    """Calculated stick pattern of a phase (built-in name, CIF path or CrystalPhase).

    Intensities are ``m·Σ|F|²·LP`` at the first wavelength, relative to the strongest line (100);
    lines weaker than ``min_intensity`` are dropped.
    """
    from .xrd_phases import get_phase

    ph = get_phase(phase)
    rad = radiation(wavelength)
    lam = rad.wavelengths[0]
    lo, hi = (float(v) for v in two_theta_range)
    if not 0 < lo < hi < 180:
        raise InputError(f"two_theta_range must satisfy 0 < lo < hi < 180 deg, got {two_theta_range!r}")
    refl = reflection_set(ph, lam / (2.0 * np.sin(np.radians(hi / 2.0))), energy_ev=rad.energy_ev,
                          margin=1.0)
    inv_d2 = inverse_d2(refl.hkl, ph.cell)
    d = 1.0 / np.sqrt(inv_d2)
    tt = 2.0 * np.degrees(np.arcsin(np.minimum(lam / (2.0 * d), 1.0)))
    inten = line_intensity(refl, inv_d2)
    inten = inten * lorentz_polarization(tt, monochromator_2theta=monochromator_2theta)
    keep = (tt >= lo) & (tt <= hi)
    inten = 100.0 * inten / np.max(inten[keep]) if keep.any() else inten
    keep &= inten >= min_intensity
    labels = tuple(np.array(refl.labels())[keep])
    return ReferencePattern(ph.name, labels, d[keep], tt[keep], inten[keep], refl.multiplicity[keep])
