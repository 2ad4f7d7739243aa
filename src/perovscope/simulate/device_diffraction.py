"""Diffracting components of the device lamella and the per-frame 4D-STEM rendering.

Crystalline components and their zone axes (reciprocal lattices from
:func:`perovscope.diffraction.phases.reciprocal_lattice`):

* emitter CsPb(Br,Cl)₃, cubic [001], orientation ``emitter_orientation_deg``, deformed per position;
* ITO (bixbyite, a = 1.0117 nm, body-centred) [001] at 25°; Al [011] at 40°;
* particles: Pb [011], PbBr₂-type PbX₂ [010], CsPb₂Br₅-type [001], each particle at its own in-plane
  orientation.

Amorphous components give diffuse rings at their first-neighbour peak (1/nm): silica 2.4 (Si–O–Si
0.42 nm), organic HTL/ETL 2.2 (π–π/chain packing ≈ 0.45 nm), nanocrystalline LiF 4.3 ((111)),
corrosion-product AlCl₃ 3.3 and collapsed perovskite 2.9 (Pb–X ≈ 0.3 nm; X–X 0.42 nm).

References
----------
.. [1] J. M. Zuo and J. C. H. Spence, Advanced Transmission Electron Microscopy, Springer (2017).
.. [2] M. Marezio, Acta Cryst. 20, 723 (1966) — In₂O₃ a = 1.0117 nm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..diffraction.phases import mixed_halide_perovskite, phase_from_lattice, reciprocal_lattice
from ..errors import InputError
from .fourdstem import render_patterns, ring_template
from .materials import LAYER_NAMES

__all__ = ["Lattice", "device_lattices", "RING_K_INV_NM", "frame_patterns"]

#: Diffuse-ring positions (1/nm) and widths (1/nm) of the amorphous components.
RING_K_INV_NM = {"glass": (2.4, 0.45), "HTL": (2.2, 0.5), "ETL": (2.2, 0.5), "LiF": (4.3, 0.35),
                 "AlCl3": (3.3, 0.45), "amorphous_perovskite": (2.9, 0.5)}
_FIXED_ORIENTATION_DEG = {"ITO": 25.0, "Al": 40.0}


@dataclass(frozen=True)
class Lattice:
    """Reference reciprocal lattice of one component: g vectors (1/nm) and weights summing to 1."""

    gx: np.ndarray
    gy: np.ndarray
    weight: np.ndarray


def _lattice(phase, zone, g_max) -> Lattice:
    try:
        rl = reciprocal_lattice(phase, zone, g_max)
    except InputError:                              # no reflection reaches the detector
        return Lattice(np.zeros(0), np.zeros(0), np.zeros(0))
    w = np.sqrt(np.maximum(rl.intensity, 0.0))    # |F|: dynamical flattening of |F|² (module doc)
    keep = w > 1e-3
    w = w[keep]
    return Lattice(rl.gx[keep], rl.gy[keep], w / w.sum())


def device_lattices(*, x_cl: float, g_max: float) -> dict[str, Lattice]:
    """Reference lattices of every crystalline component up to ``g_max`` (1/nm)."""
    ito = phase_from_lattice("ITO", 1.0117, centering="I", formula="In2O3:Sn")
    return {
        "perovskite": _lattice(mixed_halide_perovskite(x_cl), (0, 0, 1), g_max),
        "ITO": _lattice(ito, (0, 0, 1), g_max),
        "Al": _lattice("Al", (0, 1, 1), g_max),
        "Pb": _lattice("Pb", (0, 1, 1), g_max),
        "PbX2": _lattice("PbBr2", (0, 1, 0), g_max),
        "CsPb2X5": _lattice("CsPb2Br5", (0, 0, 1), g_max),
    }


def _rotate(gx, gy, phi_deg):
    """Rotate (gx, gy) by φ (turning +x towards +y); φ broadcasts over leading axes."""
    c, s = np.cos(np.deg2rad(phi_deg)), np.sin(np.deg2rad(phi_deg))
    c, s = np.asarray(c)[..., None], np.asarray(s)[..., None]
    return c * gx - s * gy, s * gx + c * gy


def frame_patterns(fields: dict, lattices: dict[str, Lattice], *, p: dict, detector_shape,
                   dk: float, disk_radius_px: float) -> np.ndarray:
    """Expected diffraction probability per detector pixel, (n_pos, ny, nx), for one frame.

    ``fields`` are :func:`.fields.sample_fields` at the probe positions (flattened). The direct beam,
    Bragg disks, rings and thermal-diffuse background of every pattern add up to 1 (minus what leaves
    the detector).
    """
    # thin-specimen regime: every scattered fraction is proportional to the local lamella thickness
    # (FIB curtaining), the fractions being those of the nominal thickness
    rel_t = fields["thickness_nm"] / p["lamella_thickness_nm"]
    eta_b, eta_a = p["bragg_fraction"] * rel_t, p["diffuse_fraction"] * rel_t
    eta_t = p["thermal_diffuse_fraction"] * rel_t
    wl = fields["layer_weights"] * fields["matrix_fraction"][:, None]
    ke = LAYER_NAMES.index("emitter")
    ce = fields["emitter_crystallinity"]
    weights = {"perovskite": wl[:, ke] * ce,
               "ITO": wl[:, LAYER_NAMES.index("ITO")], "Al": wl[:, LAYER_NAMES.index("Al")],
               **fields["particle_weight"]}
    rings = {n: wl[:, LAYER_NAMES.index(n)] for n in ("glass", "HTL", "ETL", "LiF", "AlCl3")}
    rings["amorphous_perovskite"] = wl[:, ke] * (1 - ce)
    n = wl.shape[0]
    kys, kxs, amps = [np.zeros((n, 1))], [np.zeros((n, 1))], []
    scattered = np.full(n, eta_t)
    for name, w in weights.items():
        if not np.any(w > 0) or lattices[name].gx.size == 0:
            continue
        lat = lattices[name]
        if name == "perovskite":
            gx, gy = _rotate(lat.gx, lat.gy, p["emitter_orientation_deg"])       # (1, R)
            finv_t = np.linalg.inv(fields["F"]).transpose(0, 2, 1)             # F^{-T}
            qx = finv_t[:, 0, 0, None] * gx + finv_t[:, 0, 1, None] * gy
            qy = finv_t[:, 1, 0, None] * gx + finv_t[:, 1, 1, None] * gy
        elif name in _FIXED_ORIENTATION_DEG:
            qx, qy = _rotate(lat.gx, lat.gy, _FIXED_ORIENTATION_DEG[name])
            qx, qy = np.broadcast_to(qx, (n, lat.gx.size)), np.broadcast_to(qy, (n, lat.gx.size))
        else:
            qx, qy = _rotate(lat.gx, lat.gy, fields["particle_orientation"][name])
        kys.append(qy / dk)
        kxs.append(qx / dk)
        amps.append((eta_b * w)[:, None] * lat.weight[None, :])
        scattered += eta_b * w
    ring_w = np.stack([eta_a * rings[k] for k in RING_K_INV_NM], axis=1)
    scattered += ring_w.sum(axis=1)
    amps.insert(0, (1.0 - scattered)[:, None])
    templates = [ring_template(detector_shape, k0 / dk, wd / dk) for k0, wd in RING_K_INV_NM.values()]
    ny, nx = detector_shape
    kk = np.hypot(*np.meshgrid((np.arange(ny) - ny // 2) * dk, (np.arange(nx) - nx // 2) * dk,
                               indexing="ij"))
    tds = np.exp(-kk / p["thermal_diffuse_k_inv_nm"])
    templates.append(tds / tds.sum())
    diffuse = np.concatenate([ring_w, np.broadcast_to(eta_t, (n,))[:, None]], axis=1)
    return render_patterns(np.concatenate(kys, axis=1), np.concatenate(kxs, axis=1),
                           np.concatenate(amps, axis=1), detector_shape=detector_shape,
                           disk_radius_px=disk_radius_px, diffuse=diffuse,
                           diffuse_templates=np.stack(templates))
