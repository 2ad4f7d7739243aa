"""Local state of the device lamella at arbitrary specimen points for one frame.

Given the layer stack, the 1-D history and a frame index, :func:`sample_fields` returns at every point
(vectorised over points) the projected composition and atom density, the phase label, the crystalline
fraction, the Cl fraction, the deformation gradient of the emitter lattice (relative to the nominal
Vegard lattice of the starting composition) and the weights of every diffracting component.

Strain model of the emitter (cross-section, x along the interfaces, y along growth):

* chemical expansion ``a(x_Cl)/a_ref - 1`` (isotropic, Vegard);
* interfacial misfit ``ε_xx = -m(t) (e^{-d₁/λ} + e^{-d₂/λ})`` (in-plane compression at both emitter
  interfaces) with the Poisson response ``ε_yy = -2ν/(1-ν) ε_xx`` of a biaxially strained film [1]_;
* a lattice tilt following the local interface slope, ``θ = κ Σ atan(h'_i) e^{-d_i/λ}``.

``F = (1 + ε_chem)(I + ε_mis + ω)``; truth strain is ``F F_ref⁻¹`` decomposed into ε and ω (see
:mod:`.device`).

References
----------
.. [1] L. B. Freund and S. Suresh, Thin Film Materials, Cambridge (2003), ch. 1–2 (misfit strain,
   biaxial Poisson response).
"""

from __future__ import annotations

import numpy as np

from .evolution import History, crystallinity_profile
from .fourdstem import deformation_gradient
from .geometry import Stack, interface_heights, interface_slopes, layer_label, layer_weights
from .lamella import Lamella, lamella_thickness
from .materials import (
    ATOM_DENSITY_NM3,
    ELEMENTS,
    LAYER_NAMES,
    PHASE,
    emitter_lattice_parameter_nm,
    layer_compositions,
    particle_composition,
    perovskite_composition,
)

__all__ = ["sample_fields", "LAYER_PHASE", "PARTICLE_PHASE_ORDER"]

#: Phase label of each layer (index-aligned with LAYER_NAMES).
LAYER_PHASE = np.array([PHASE[n] for n in ("glass", "ITO", "HTL", "perovskite", "ETL", "LiF", "AlCl3",
                                           "Al")], dtype=np.int16)
PARTICLE_PHASE_ORDER = ("Pb", "PbX2", "CsPb2X5")


def sample_fields(y, x, *, stack: Stack, hist: History, frame: int, p: dict,
                  lamella: Lamella | None = None) -> dict:
    """Evaluate the specimen at points ``(y, x)`` (nm, same shape) for ``frame``.

    Returns a dict of arrays over the points: ``composition`` (..., element) fractions,
    ``atom_density`` (atoms/nm³ averaged through the lamella), ``phase`` (int16), ``layer`` (int16),
    ``crystallinity``, ``cl_fraction`` (NaN outside the emitter), ``F`` (..., 2, 2) emitter
    deformation gradient, ``emitter_weight``, ``layer_weights`` (..., layer) and per particle phase
    ``particle_weight[phase]`` with ``particle_orientation[phase]`` (deg), and ``thickness_nm``, the
    local lamella thickness (``lamella``'s map, or the uniform ``lamella_thickness_nm`` without one).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    st = stack.with_alcl3(hist.alcl3_nm[frame])
    h = interface_heights(st, x)
    w = layer_weights(y, h, width_nm=p["interface_width_nm"])
    label = layer_label(y, h)
    ke = LAYER_NAMES.index("emitter")
    h_top, h_bot = h[ke - 1], h[ke]
    d_top, d_bot = y - h_top, h_bot - y
    frac = np.clip(d_top / np.maximum(h_bot - h_top, 1e-9), 0.0, 1.0)
    depth = frac * hist.depth_nm[-1] / (1 - 0.5 / hist.depth_nm.size)  # scale to the 1-D grid
    cl = np.interp(depth, hist.depth_nm, hist.cl_site[frame])
    occ = cl + hist.br_site
    xcl = cl / occ
    a_loc = emitter_lattice_parameter_nm(xcl)

    # column densities (atoms / nm³ through the lamella) of the matrix layers
    comps = layer_compositions(p["x_cl"])
    col = np.zeros((*y.shape, len(ELEMENTS)))
    for k, name in enumerate(LAYER_NAMES):
        if name == "emitter":
            n_e = (2.0 + 3.0 * occ) / a_loc ** 3
            col += (w[..., k] * n_e)[..., None] * perovskite_composition(xcl, occ)
        else:
            col += (w[..., k] * ATOM_DENSITY_NM3[name])[..., None] * comps[name]

    # particles: projected fraction = chord through a sphere centred in the lamella / thickness
    t_lam = lamella_thickness(lamella, y, x, default_nm=p["lamella_thickness_nm"])
    pyx = hist.particle_yx_nm
    r = hist.particle_radius_nm[frame]
    d2 = (y[..., None] - pyx[:, 0]) ** 2 + (x[..., None] - pyx[:, 1]) ** 2
    chord = 2.0 * np.sqrt(np.maximum(r ** 2 - d2, 0.0))
    f = np.minimum(chord / t_lam[..., None], 1.0)
    ftot = f.sum(axis=-1)
    scale = np.where(ftot > 1, 1.0 / np.maximum(ftot, 1e-12), 1.0)
    f = f * scale[..., None]
    ftot = np.minimum(ftot, 1.0)
    col *= (1.0 - ftot)[..., None]
    part_w, part_or = {}, {}
    for ph in PARTICLE_PHASE_ORDER:
        sel = np.array([q == ph for q in hist.particle_phase], dtype=bool)
        fp = f[..., sel]
        comp = particle_composition(ph, p["x_cl"])
        col += (fp.sum(axis=-1) * ATOM_DENSITY_NM3[ph])[..., None] * comp
        part_w[ph] = fp.sum(axis=-1)
        orient = hist.particle_orientation_deg[sel]
        part_or[ph] = orient[np.argmax(fp, axis=-1)] if sel.any() else np.zeros(y.shape)
    density = col.sum(axis=-1)
    composition = col / density[..., None]

    cryst_e = crystallinity_profile(d_top, d_bot, hist.collapse[frame], length_nm=p["collapse_length_nm"])
    phase = LAYER_PHASE[label]
    emitter = label == ke
    phase = np.where(emitter & (cryst_e < 0.5), PHASE["amorphous_perovskite"], phase)
    inside = d2 < r ** 2                                       # particle footprints
    if inside.shape[-1]:
        which = np.argmax(np.where(inside, f, -1.0), axis=-1)
        ph_of = np.array([PHASE[q] for q in hist.particle_phase], dtype=np.int16)
        phase = np.where(inside.any(axis=-1), ph_of[which], phase)
    crystalline_layer = np.isin(LAYER_PHASE, [PHASE["ITO"], PHASE["Al"]])
    crystallinity = ((w * crystalline_layer).sum(axis=-1) + w[..., ke] * cryst_e) * (1 - ftot) + ftot

    # emitter deformation gradient relative to the nominal lattice a_ref
    lam = p["misfit_decay_nm"]
    e_top, e_bot = np.exp(-np.maximum(d_top, 0) / lam), np.exp(-np.maximum(d_bot, 0) / lam)
    mis = hist.misfit[frame] * (e_top + e_bot)
    nu = p["poisson_ratio"]
    slope = interface_slopes(st, x)
    theta = p["interface_tilt_coupling"] * (np.arctan(slope[ke - 1]) * e_top
                                            + np.arctan(slope[ke]) * e_bot)
    chem = a_loc / p["a_ref_nm"]
    F = chem[..., None, None] * deformation_gradient(-mis, 2 * nu / (1 - nu) * mis, 0.0, theta)
    return {
        "composition": composition, "atom_density": density, "phase": phase.astype(np.int16),
        "layer": label, "layer_weights": w, "crystallinity": crystallinity,
        "emitter_crystallinity": cryst_e, "cl_fraction": np.where(emitter, xcl, np.nan),
        "a_nm": np.where(emitter, a_loc, np.nan), "F": F, "matrix_fraction": 1.0 - ftot,
        "particle_weight": part_w, "particle_orientation": part_or,
        "d_top_nm": d_top, "d_bottom_nm": d_bot, "thickness_nm": t_lam,
    }
