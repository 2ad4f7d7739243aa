"""Time evolution of the biased perovskite LED: Cl⁻ drift–diffusion, AlCl₃ growth, Pb particles, strain,
lattice collapse and the electrical log.

Everything here is one-dimensional along the growth direction (or a short particle list), so it is
cheap; the per-pixel fields are assembled from it in :mod:`.device`.

* **Cl⁻ migration** — the Cl occupancy ``c(s, t)`` of the emitter's halide sites (depth ``s`` from the
  HTL side) obeys the drift–diffusion equation ``∂c/∂t = D ∂²c/∂s² - v ∂c/∂s`` with no flux into the
  HTL and an extraction flux ``κ c`` into the ETL towards the Al cathode [1]_ [2]_. It is integrated
  with a conservative finite-volume upwind scheme (explicit, CFL-limited sub-steps), so the Cl that
  leaves the emitter is accounted for exactly.
* **AlCl₃** — every 3 Cl⁻ reaching the cathode convert one Al to AlCl₃ (ρ = 2.48 g/cm³), so the layer
  thickness is ``N_Cl / (3 n_AlCl3)`` with ``N_Cl`` the Cl lost per unit interface area [2]_.
* **Pb particles** — pre-existing Pb-rich clusters (PbX₂, CsPb₂X₅) sit at the emitter interfaces;
  new particles nucleate near them at random times. Classical nucleation theory: only nuclei larger
  than the critical radius ``r* = 2γΩ/Δμ`` are stable, so a particle exists with ``r = r*`` from its
  nucleation time on [4]_ [5]_, then grows by diffusion-limited growth ``r² = r*² + 2 k (t - t_n)`` [3]_.
  Particles never interpenetrate: a site closer to an earlier particle than the sum of their final
  radii (+1 nm) is re-drawn.
* **Strain and collapse** — the interfacial misfit amplitude builds up linearly until
  ``collapse_time_s``, then relaxes exponentially while the lattice near the interfaces loses
  crystallinity: ``C = 1 - A(t) (e^{-d₁/λ} + e^{-d₂/λ})``, ``A = 1 - e^{-(t - t_c)/τ}``.
* **Electrical log** — constant current; voltage ``V = V₀ + I (R₀ + R_Al t_AlCl3 + R_d (1 - C̄))``
  (series resistance of the insulating AlCl₃ and of the damaged interfaces); electroluminescence
  ``EL = EL₀ C̄ / (1 + k_trap Σ r²/r_ref²)`` over metallic Pb particles (non-radiative traps) [2]_.

References
----------
.. [1] C. Eames et al., "Ionic transport in hybrid lead iodide perovskite solar cells",
   Nat. Commun. 6, 7497 (2015) — halide-vacancy drift–diffusion.
.. [2] "Multimodal electron microscopy of halide perovskite interfacial dynamics", Nature (2026),
   doi:10.1038/s41586-026-10238-8: Cl⁻ to the Al cathode, AlCl₃, metallic Pb, EL loss, rising resistance.
.. [3] C. Wagner, "Theorie der Alterung von Niederschlägen durch Umlösen", Z. Elektrochem. 65, 581
   (1961) — diffusion-limited growth r² ∝ t.
.. [4] D. A. Porter, K. E. Easterling and M. Y. Sherif, Phase Transformations in Metals and Alloys,
   3rd ed., CRC Press (2009), §4.1 and §5.1 — homogeneous nucleation, critical radius r* = 2γ/ΔG_v.
.. [5] D. Kashchiev, Nucleation: Basic Theory with Applications, Butterworth-Heinemann (2000), ch. 3
   (electrochemical nucleation: Δμ = z e η).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import Stack, interface_heights
from .materials import ATOM_DENSITY_NM3

__all__ = ["History", "cl_drift_diffusion", "crystallinity_profile", "evolve"]


@dataclass(frozen=True)
class History:
    """The 1-D state of the device at every frame plus the finely sampled electrical log."""

    frame_time_s: np.ndarray          # (n_frame,)
    depth_nm: np.ndarray              # (n_z,) emitter depth from the HTL side (cell centres)
    cl_site: np.ndarray               # (n_frame, n_z) Cl occupancy of halide sites
    br_site: float                    # Br occupancy of halide sites (immobile)
    alcl3_nm: np.ndarray              # (n_frame,)
    misfit: np.ndarray                # (n_frame,) misfit amplitude (dimensionless)
    collapse: np.ndarray              # (n_frame,) collapse amplitude A in [0, 1]
    particle_yx_nm: np.ndarray        # (n_particle, 2)
    particle_radius_nm: np.ndarray    # (n_frame, n_particle), 0 before nucleation
    nucleation_time_s: np.ndarray     # (n_particle,)
    nucleation_frame: np.ndarray      # (n_particle,) first frame with radius > 0
    particle_phase: tuple[str, ...]   # (n_particle,)
    particle_orientation_deg: np.ndarray  # (n_particle,)
    preexisting: np.ndarray           # (n_particle,) bool
    log_time_s: np.ndarray            # (n_log,)
    log_voltage_V: np.ndarray         # (n_log,) noise-free
    log_el: np.ndarray                # (n_log,) noise-free
    log_alcl3_nm: np.ndarray          # (n_log,)


def cl_drift_diffusion(c0: np.ndarray, dz: float, *, diffusivity: float, drift_velocity: float,
                       extraction_velocity: float, t_out: np.ndarray):
    """Integrate ``∂c/∂t = D c'' - v c'`` with zero flux at s=0 and flux ``κ c`` out at s=L.

    Returns ``(c_at_t_out (n_t, n_z), lost (n_t,))`` where ``lost`` is ∫(c0 - c) ds (nm × occupancy),
    exactly the time-integrated outflow (finite volumes conserve it to round-off).
    """
    c = np.asarray(c0, dtype=float).copy()
    v, dcoef, kap = float(drift_velocity), float(diffusivity), float(extraction_velocity)
    limits = [0.4 * dz * dz / dcoef if dcoef > 0 else np.inf,
              0.4 * dz / abs(v) if v else np.inf, 0.4 * dz / kap if kap > 0 else np.inf]
    dt_max = min(limits)
    total0 = c.sum() * dz
    out = np.empty((len(t_out), c.size))
    lost = np.empty(len(t_out))
    t = 0.0
    for i, target in enumerate(t_out):
        span = float(target) - t
        if span > 0:
            n = max(1, int(np.ceil(span / dt_max)))
            dt = span / n
            for _ in range(n):
                upwind = np.where(v >= 0, c[:-1], c[1:])
                face = v * upwind - dcoef * np.diff(c) / dz           # interior faces
                flux = np.concatenate([[0.0], face, [kap * c[-1]]])
                c = c - dt / dz * np.diff(flux)
            t = float(target)
        out[i] = c
        lost[i] = total0 - c.sum() * dz
    return out, lost


def _exclude_overlaps(y, x, r_final, *, stack: Stack, k_top: int, width_nm: float, seed: int,
                      gap_nm: float = 1.0, tries: int = 500):
    """Move particles that would overlap an earlier one (final radii + ``gap_nm``) to a free site.

    Particles sit at mid-depth of the lamella, so spheres whose centres are closer than the sum of
    their radii would interpenetrate (physically they would coalesce into one particle). A later
    particle (in nucleation order) that overlaps is re-drawn — lateral position, interface side and
    depth as in :func:`evolve` — from its own generator ``(seed, 13)``, so configurations without an
    overlap are unchanged. Loops over particles (a few tens).
    """
    y, x = np.array(y, dtype=float), np.array(x, dtype=float)
    rng = np.random.default_rng([seed, 13])
    for j in range(1, y.size):
        for _ in range(tries):
            clear = np.hypot(y[:j] - y[j], x[:j] - x[j]) >= r_final[:j] + r_final[j] + gap_nm
            if clear.all():
                break
            xj = rng.uniform(0.05 * width_nm, 0.95 * width_nm)
            h = interface_heights(stack, np.array([xj]))[:, 0]
            dj = rng.uniform(1.0, 3.5)
            y[j], x[j] = (h[k_top] + dj, xj) if rng.integers(0, 2) == 0 else (h[k_top + 1] - dj, xj)
    return y, x


def crystallinity_profile(d_top_nm, d_bottom_nm, collapse, *, length_nm: float):
    """Crystalline fraction ``clip(1 - A (e^{-d₁/λ} + e^{-d₂/λ}), 0, 1)`` at interface distances d."""
    a = np.asarray(collapse, dtype=float)
    damage = a * (np.exp(-np.maximum(d_top_nm, 0) / length_nm)
                  + np.exp(-np.maximum(d_bottom_nm, 0) / length_nm))
    return np.clip(1.0 - damage, 0.0, 1.0)


def evolve(stack: Stack, *, rng: np.random.Generator, n_frames: int, frame_interval_s: float,
           log_per_frame: int, emitter_nm: float, x_cl: float, width_nm: float, p: dict) -> History:
    """Run the device model; ``p`` holds the rate parameters documented in :func:`simulate_device`."""
    per = int(log_per_frame)
    log_t = np.arange((n_frames - 1) * per + 1) * (frame_interval_s / per)
    frame_t = log_t[::per]
    dz = 0.25
    nz = max(8, int(round(emitter_nm / dz)))
    dz = emitter_nm / nz
    depth = (np.arange(nz) + 0.5) * dz
    c_log, lost = cl_drift_diffusion(np.full(nz, x_cl), dz, diffusivity=p["cl_diffusivity_nm2_s"],
                                     drift_velocity=p["cl_drift_velocity_nm_s"],
                                     extraction_velocity=p["cl_extraction_velocity_nm_s"], t_out=log_t)
    a_ref = p["a_ref_nm"]
    halide_density = 3.0 / a_ref ** 3                      # halide sites per nm³
    alcl3_formula_density = ATOM_DENSITY_NM3["AlCl3"] / 4.0
    alcl3 = lost * halide_density / (3.0 * alcl3_formula_density)

    tc, tau = p["collapse_time_s"], p["collapse_tau_s"]
    m0, build = p["misfit_strain"], p["misfit_buildup"]
    peak = m0 * (1 + build)
    misfit = np.where(log_t < tc, m0 * (1 + build * log_t / tc),
                      peak * np.exp(-np.maximum(log_t - tc, 0) / p["strain_relax_tau_s"]))
    collapse = np.where(log_t < tc, 0.0, -np.expm1(-np.maximum(log_t - tc, 0) / tau))
    cryst = crystallinity_profile(depth[None], emitter_nm - depth[None], collapse[:, None],
                                  length_nm=p["collapse_length_nm"]).mean(axis=1)

    # particles: pre-existing Pb-rich clusters, then new nucleation near the emitter interfaces
    n_old, n_new = int(p["n_preexisting_clusters"]), int(p["n_pb_particles"])
    k_top = stack.names.index("emitter") - 1
    x_all = rng.uniform(0.05 * width_nm, 0.95 * width_nm, n_old + n_new)
    side = rng.integers(0, 2, n_old + n_new)                # 0: HTL side, 1: ETL side
    heights = interface_heights(stack, x_all)
    depth_in = rng.uniform(1.0, 3.5, n_old + n_new)
    y_all = np.where(side == 0, heights[k_top] + depth_in, heights[k_top + 1] - depth_in)
    t_end = log_t[-1]
    t_nuc = np.concatenate([np.zeros(n_old), np.sort(rng.uniform(0.0, 0.8, n_new)) * t_end])
    phases = ["PbX2" if i % 2 == 0 else "CsPb2X5" for i in range(n_old)]
    phases += ["Pb" if u < p["pb_metal_fraction"] else ("PbX2" if u < 0.5 + p["pb_metal_fraction"] / 2
                                                         else "CsPb2X5")
               for u in rng.uniform(size=n_new)]
    orient = rng.uniform(0.0, 90.0, n_old + n_new)
    r_old = rng.uniform(*p["cluster_radius_nm"], n_old)
    r0, kg = p["pb_critical_radius_nm"], p["particle_growth_nm2_s"]
    dt_p = log_t[:, None] - t_nuc[None, n_old:]
    r_new = np.where(dt_p >= 0, np.sqrt(r0 ** 2 + 2 * kg * np.maximum(dt_p, 0)), 0.0)
    radius_log = np.concatenate([np.broadcast_to(r_old, (log_t.size, n_old)), r_new], axis=1)
    y_all, x_all = _exclude_overlaps(y_all, x_all, radius_log[-1], stack=stack, k_top=k_top,
                                     width_nm=width_nm, seed=p["seed"])
    metal = np.array([ph == "Pb" for ph in phases], dtype=bool)
    traps = (radius_log[:, metal] ** 2).sum(axis=1) / p["trap_reference_radius_nm"] ** 2

    current = p["current_A"]
    voltage = p["turn_on_voltage_V"] + current * (p["series_resistance_ohm"]
                                                  + p["alcl3_resistance_ohm_per_nm"] * alcl3
                                                  + p["damage_resistance_ohm"] * (1 - cryst))
    el = p["el_initial"] * cryst / (1.0 + p["trap_strength"] * traps)

    radius_f = radius_log[::per]
    nuc_frame = np.array([int(np.argmax(radius_f[:, j] > 0)) if np.any(radius_f[:, j] > 0) else -1
                          for j in range(radius_f.shape[1])], dtype=np.int32)
    return History(
        frame_time_s=frame_t, depth_nm=depth, cl_site=c_log[::per], br_site=1.0 - x_cl,
        alcl3_nm=alcl3[::per], misfit=misfit[::per], collapse=collapse[::per],
        particle_yx_nm=np.stack([y_all, x_all], axis=1), particle_radius_nm=radius_f,
        nucleation_time_s=t_nuc, nucleation_frame=nuc_frame, particle_phase=tuple(phases),
        particle_orientation_deg=orient, preexisting=np.arange(n_old + n_new) < n_old,
        log_time_s=log_t, log_voltage_V=voltage, log_el=el, log_alcl3_nm=alcl3)
