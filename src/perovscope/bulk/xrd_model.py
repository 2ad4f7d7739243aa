"""The whole-pattern model of a powder diffractogram and its Jacobian, for a batch of patterns.

Each powder line k of each phase gives one peak per X-ray line l (Kα1, Kα2, ...):

* position ``2θ = 2 asin(λ_l/2d) + zero − (360/π)(s/R) cos θ``: zero shift (deg) and specimen
  displacement s (mm) on a goniometer of radius R [1]_;
* area ``S · m · Σ|F|² · LP(2θ) · r_l`` (scale S, multiplicity m, Lorentz–polarization LP, line
  ratio r_l) — with the cell's own |F|² the Hill–Howard relation gives weight fractions from S [3]_;
* a pseudo-Voigt of the Thompson–Cox–Hastings form: Gaussian FWHM² = U tan²θ + V tanθ + W
  (Caglioti [2]_), Lorentzian FWHM = X/cosθ + Y tanθ, combined into one FWHM and mixing η [4]_;

on a Chebyshev background. Peaks are evaluated on a window of ``n_fwhm`` widths either side and
renormalised to their full area. The Jacobian is analytic in the profile (derivatives of
:func:`perovscope.bulk.lineshapes.profile_jac`), chained through per-peak derivatives of position,
width, mixing and area (central differences of closed forms, cheap because they are per peak).

References
----------
.. [1] H. P. Klug and L. E. Alexander, *X-ray Diffraction Procedures*, 2nd ed., Wiley (1974), ch. 5.
.. [2] G. Caglioti, A. Paoletti and F. P. Ricci, Nucl. Instrum. 3, 223 (1958).
.. [3] R. J. Hill and C. J. Howard, J. Appl. Cryst. 20, 467 (1987).
.. [4] P. Thompson, D. E. Cox and J. B. Hastings, J. Appl. Cryst. 20, 79 (1987).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .xrd_phases import CrystalPhase, lattice_free_names
from .xrd_profile import peak_blocks, scatter_blocks
from .xrd_reflections import (
    Radiation,
    ReflectionSet,
    cell_from_free,
    inverse_d2,
    line_intensity,
    lorentz_polarization,
    reflection_set,
)

__all__ = ["PatternModel", "PROFILE_NAMES", "tch_profile", "build_model"]

PROFILE_NAMES = ("U", "V", "W", "X", "Y", "B")
_DEG = 180.0 / np.pi


def tch_profile(gamma_g, gamma_l):
    """Thompson–Cox–Hastings pseudo-Voigt FWHM and mixing η from Gaussian and Lorentzian FWHMs."""
    g, lo = np.asarray(gamma_g, dtype=float), np.asarray(gamma_l, dtype=float)
    f5 = (g**5 + 2.69269 * g**4 * lo + 2.42843 * g**3 * lo**2 + 4.47163 * g**2 * lo**3
          + 0.07842 * g * lo**4 + lo**5)
    f = np.maximum(f5, 1e-300) ** 0.2
    q = lo / f
    eta = np.clip(1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3, 0.0, 1.0)
    return f, eta


@dataclass(frozen=True, eq=False)
class PatternModel:
    """Parameter layout, reflections and evaluation of the pattern model over the axis ``x`` (deg).

    The full parameter vector is ``zero, displacement, bkg0..bkgM`` then, per phase,
    ``scale, <free lattice parameters>, U, V, W, X, Y, B`` (``names``).
    """

    x: np.ndarray
    phases: tuple
    reflections: tuple
    radiation: Radiation
    background_order: int = 6
    radius_mm: float = 240.0
    monochromator_2theta: float = 0.0
    n_fwhm: float = 12.0
    names: tuple = field(default=())
    slices: tuple = field(default=())

    @property
    def n_params(self) -> int:
        return len(self.names)

    @property
    def n_bkg(self) -> int:
        return self.background_order + 1

    def index(self, name: str) -> int:
        return self.names.index(name)

    def basis(self) -> np.ndarray:
        """Chebyshev polynomials ``T_k(t)`` ``(n, M+1)`` of t mapped from the 2θ range to [−1, 1]."""
        t = 2.0 * (self.x - self.x[0]) / (self.x[-1] - self.x[0]) - 1.0
        return np.polynomial.chebyshev.chebvander(t, self.background_order)

    def lattice(self, i: int, p) -> np.ndarray:
        """Cells ``(N, 6)`` of phase ``i`` from full parameters ``p`` ``(N, P)``."""
        sl = self.slices[i]
        names = lattice_free_names(self.phases[i])
        return cell_from_free(p[:, sl.start + 1:sl.start + 1 + len(names)], names, self.phases[i].cell)

    # ---------------------------------------------------------------- per-peak quantities
    def phase_peaks(self, i: int, p):
        """Area, centre, FWHM, η and ``cos θ`` of phase ``i``'s peaks ``(N, L·K)`` (lines outermost)."""
        refl: ReflectionSet = self.reflections[i]
        sl = self.slices[i]
        q = p[:, sl]
        k = len(lattice_free_names(self.phases[i]))
        scale = q[:, 0:1]
        u, v, w, x, y, b = (q[:, 1 + k + j:2 + k + j] for j in range(6))
        inv_d2 = inverse_d2(refl.hkl, self.lattice(i, p))
        inten = line_intensity(refl, inv_d2, b_overall=b[:, 0])  # already summed over each line
        inv_d = np.sqrt(np.maximum(inv_d2, 1e-12))
        out = []
        for lam, ratio in zip(self.radiation.wavelengths, self.radiation.ratios, strict=True):
            sin_t = lam * inv_d / 2.0
            ok = sin_t < 0.9995
            th = np.arcsin(np.minimum(sin_t, 0.9995))
            cos_t, tan_t = np.cos(th), np.tan(th)
            tt = 2.0 * th * _DEG
            gg = np.sqrt(np.maximum(u * tan_t**2 + v * tan_t + w, 1e-8))
            gl = np.maximum(x / cos_t + y * tan_t, 0.0)
            fwhm, eta = tch_profile(gg, gl)
            area = scale * inten * lorentz_polarization(tt, monochromator_2theta=self.monochromator_2theta)
            out.append((np.where(ok, area * ratio, 0.0), tt, fwhm, eta, cos_t))
        return tuple(np.concatenate(v, axis=1) for v in zip(*out, strict=True))

    def shift(self, p, cos_t):
        """Zero shift plus displacement term (deg), broadcast to the peaks."""
        z = p[:, 0:1]
        s = p[:, 1:2]
        return z - 2.0 * _DEG * s / self.radius_mm * cos_t

    def peaks(self, p):
        """Per-peak ``(area, centre, fwhm, eta)`` ``(N, J)`` of every phase, and the phase of each peak."""
        parts = [self.phase_peaks(i, p) for i in range(len(self.phases))]
        area, tt, fwhm, eta, cos_t = (np.concatenate(v, axis=1) for v in zip(*parts, strict=True))
        owner = np.concatenate([np.full(pp[0].shape[1], i) for i, pp in enumerate(parts)])
        return area, tt + self.shift(p, cos_t), fwhm, eta, cos_t, owner

    # ---------------------------------------------------------------- pattern and Jacobian
    def evaluate(self, p, *, components: bool = False, phases=None):
        """Calculated patterns ``(N, n)`` for full parameters ``(N, P)``.

        With ``components`` also the background ``(N, n)`` and each phase's contribution
        ``(N, n_phases, n)``; ``phases`` restricts the peaks to those phases (no background).
        """
        p = np.atleast_2d(np.asarray(p, dtype=float))
        n = self.x.size
        if phases is not None:
            parts = [self.phase_peaks(i, p) for i in phases]
            area, tt, fwhm, eta, cos_t = (np.concatenate(v, axis=1) for v in zip(*parts, strict=True))
            blocks = peak_blocks(self.x, area, tt + self.shift(p, cos_t), fwhm, eta, n_fwhm=self.n_fwhm)
            out = scatter_blocks(n, blocks)
            return np.zeros((p.shape[0], n)) if out is None else out
        area, centre, fwhm, eta, _, owner = self.peaks(p)
        blocks = peak_blocks(self.x, area, centre, fwhm, eta, n_fwhm=self.n_fwhm)
        bkg = p[:, 2:2 + self.n_bkg] @ self.basis().T
        if not components:
            peaks = scatter_blocks(n, blocks)
            return bkg if peaks is None else bkg + peaks
        parts = []
        for i in range(len(self.phases)):
            part = scatter_blocks(n, blocks, lambda b, i=i: (b.value[:, owner[b.cols] == i],
                                                              owner[b.cols] == i))
            parts.append(np.zeros_like(bkg) if part is None else part)
        parts = np.stack(parts, axis=1)
        return bkg + parts.sum(axis=1), bkg, parts

    def jacobian(self, p, free):
        """``∂model/∂p`` ``(N, n, len(free))`` for the free parameter indices ``free``."""
        p = np.atleast_2d(np.asarray(p, dtype=float))
        n = self.x.size
        area, centre, fwhm, eta, cos_t, owner = self.peaks(p)
        blocks = peak_blocks(self.x, area, centre, fwhm, eta, n_fwhm=self.n_fwhm, derivatives=True)
        pos = np.concatenate([np.arange(np.sum(owner == i)) for i in range(len(self.phases))])
        basis = self.basis()
        out = np.zeros((p.shape[0], n, len(free)))
        dshift = -2.0 * _DEG * cos_t / self.radius_mm
        derivs = {}
        for i, sl in enumerate(self.slices):
            ks = [int(k) for k in free if sl.start <= k < sl.stop]
            if ks:
                derivs.update(self._fd_phase(i, p, ks))
        for col, k in enumerate(free):
            if 2 <= k < 2 + self.n_bkg:
                out[:, :, col] = basis[:, k - 2]
                continue
            if k == 0:
                def weights(b):
                    return b.dc, None
            elif k == 1:
                def weights(b):
                    return b.dc * dshift[:, b.cols, None], None
            else:
                i = next(j for j, sl in enumerate(self.slices) if sl.start <= k < sl.stop)
                g = derivs[int(k)]

                def weights(b, i=i, g=g):
                    sel = owner[b.cols] == i
                    q = pos[b.cols[sel]]
                    w = (b.unit[:, sel] * g[0][:, q, None] + b.dc[:, sel] * g[1][:, q, None]
                         + b.dw[:, sel] * g[2][:, q, None] + b.de[:, sel] * g[3][:, q, None])
                    return w, sel
            part = scatter_blocks(n, blocks, weights)
            if part is not None:
                out[:, :, col] = part
        return out

    def _fd_phase(self, i, p, ks):
        """Derivatives of phase ``i``'s (area, centre, fwhm, η) wrt each parameter in ``ks``.

        The scale enters linearly (area at unit scale); the others by central differences of the
        closed forms, all perturbations evaluated in one batched call.
        """
        nrow = p.shape[0]
        out = {}
        rest = []
        for k in ks:
            if self.names[k].endswith(".scale"):
                one = p.copy()
                one[:, k] = 1.0
                area = self.phase_peaks(i, one)[0]
                zero = np.zeros_like(area)
                out[k] = (area, zero, zero, zero)
            else:
                rest.append(k)
        if not rest:
            return out
        steps = {"U": 1e-7, "V": 1e-7, "W": 1e-8, "X": 1e-7, "Y": 1e-7, "B": 1e-5}
        hs = [np.maximum(np.abs(p[:, k]) * 1e-6, steps.get(self.names[k].rsplit(".", 1)[-1], 1e-7))
              for k in rest]
        stack = np.repeat(p[None], 2 * len(rest), axis=0)
        for j, (k, h) in enumerate(zip(rest, hs, strict=True)):
            stack[2 * j, :, k] += h
            stack[2 * j + 1, :, k] -= h
        flat = stack.reshape(-1, p.shape[1])
        q = self.phase_peaks(i, flat)
        centre = q[1] + self.shift(flat, q[4])
        vals = [v.reshape(2 * len(rest), nrow, -1) for v in (q[0], centre, q[2], q[3])]
        for j, (k, h) in enumerate(zip(rest, hs, strict=True)):
            out[k] = tuple((v[2 * j] - v[2 * j + 1]) / (2.0 * h[:, None]) for v in vals)
        return out


def build_model(x, phases, radiation: Radiation, *, background_order: int = 6, radius_mm: float = 240.0,
                monochromator_2theta: float = 0.0, n_fwhm: float = 12.0, margin: float = 1.03,
                anomalous: bool = True) -> PatternModel:
    """A :class:`PatternModel` over ``x`` (2θ, deg, increasing) for ``phases``."""
    x = np.asarray(x, dtype=float)
    lam_max = max(radiation.wavelengths)
    d_min = lam_max / (2.0 * np.sin(np.radians(min(float(x[-1]) + 1.0, 179.0) / 2.0)))
    energy = radiation.energy_ev if anomalous else None
    refl = tuple(reflection_set(ph, d_min, energy_ev=energy, margin=margin) for ph in phases)
    names = ["zero", "displacement", *(f"bkg{k}" for k in range(background_order + 1))]
    slices = []
    seen: dict[str, int] = {}
    for ph in phases:
        base = ph.name if ph.name not in seen else f"{ph.name}_{seen[ph.name] + 1}"
        seen[ph.name] = seen.get(ph.name, 0) + 1
        start = len(names)
        names += [f"{base}.scale", *(f"{base}.{n}" for n in lattice_free_names(ph)),
                  *(f"{base}.{n}" for n in PROFILE_NAMES)]
        slices.append(slice(start, len(names)))
    return PatternModel(x, tuple(phases), refl, radiation, background_order, radius_mm, monochromator_2theta,
                        n_fwhm, tuple(names), tuple(slices))


def default_parameters(model: PatternModel, *, fwhm: float = 0.1, scale: float = 1.0) -> np.ndarray:
    """A full parameter vector ``(P,)``: cells of the phases, FWHM ≈ ``fwhm`` (deg), zero shift 0."""
    p = np.zeros(model.n_params)
    tt_mid = np.radians(0.5 * (model.x[0] + model.x[-1]) / 2.0)
    for i, ph in enumerate(model.phases):
        sl = model.slices[i]
        names = lattice_free_names(ph)
        cell = dict(zip(("a", "b", "c", "alpha", "beta", "gamma"), ph.cell, strict=True))
        p[sl.start] = scale
        p[sl.start + 1:sl.start + 1 + len(names)] = [cell[n] for n in names]
        prof = sl.start + 1 + len(names)
        p[prof + 2] = (0.75 * fwhm) ** 2
        p[prof + 3] = 0.4 * fwhm * np.cos(tt_mid)
    return p


def phase_of(model: PatternModel, name: str) -> CrystalPhase | None:
    return next((ph for ph in model.phases if ph.name == name), None)
