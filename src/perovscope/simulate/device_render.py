"""Per-block renderers of the device session (one frame or a band of scan rows at a time).

Every block draws its Poisson noise from its own generator seeded by ``(seed, modality, frame, first
row)``, so a block's content does not depend on which other blocks are computed, in which order or on
which worker: the eager tree, the lazy tree and the zarr stream are identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .device_diffraction import device_lattices, frame_patterns
from .eds import eds_expected, element_spectra, energy_axis_eV
from .evolution import History, evolve
from .fields import sample_fields
from .fourdstem import disk_template, electron_wavelength_nm
from .geometry import Stack, build_stack
from .haadf import electrons_per_pixel, haadf_expected
from .lamella import Lamella, build_lamella
from .materials import ATOM_DENSITY_NM3, ATOMIC_NUMBER, ELEMENTS

__all__ = ["Session", "prepare", "grid_points", "render_4dstem_block", "render_haadf_frame",
           "render_eds_frame", "rows_per_chunk"]

_TAG_4D, _TAG_HAADF, _TAG_EDS = 4, 5, 6


@dataclass(frozen=True)
class Session:
    """Everything shared by the block renderers (small: no per-pixel arrays)."""

    p: dict
    grids: dict
    stack: Stack
    hist: History
    drift: np.ndarray
    lattices: dict
    dk: float
    disk_radius_px: float
    energy: np.ndarray
    spectra: np.ndarray
    z: np.ndarray
    ne: dict
    dtypes: dict
    lamella: Lamella


def grid_points(grid, shift_px=(0.0, 0.0), hp=1.0):
    """Specimen coordinates (y, x) in nm of a modality's pixel centres, optionally drift-shifted."""
    ny, nx = grid["shape"]
    (oy, ox), (sy, sx) = grid["origin"], grid["step"]
    yy = oy + sy * np.arange(ny) - shift_px[0] * hp
    xx = ox + sx * np.arange(nx) - shift_px[1] * hp
    return np.meshgrid(yy, xx, indexing="ij")


def _count_dtype(bound: float):
    """Smallest unsigned dtype certain to hold Poisson draws of means up to ``bound``."""
    return np.uint16 if bound + 12 * np.sqrt(bound) + 20 < np.iinfo(np.uint16).max else np.uint32


def prepare(p: dict, grids: dict) -> Session:
    """Build the stack, run the time evolution and fix calibrations, doses and output dtypes."""
    ss = np.random.SeedSequence(p["seed"])
    r_geom, r_evo, r_drift = (np.random.default_rng(s) for s in ss.spawn(3))
    hp = p["haadf_pixel_nm"]
    width = grids["haadf"]["shape"][1] * hp
    thick = {k: p[f"{k.lower()}_nm"] for k in ("glass", "ITO", "HTL", "emitter", "ETL", "LiF")}
    stack = build_stack(thick, width_nm=width, roughness_nm=p["roughness_nm"],
                        correlation_nm=p["roughness_correlation_nm"], rng=r_geom)
    hist = evolve(stack, rng=r_evo, n_frames=p["n_frames"], frame_interval_s=p["frame_interval_s"],
                  log_per_frame=p["log_per_frame"], emitter_nm=p["emitter_nm"], x_cl=p["x_cl"],
                  width_nm=width, p=p)
    steps = r_drift.normal(0.0, p["drift_step_px"], (p["n_frames"], 2)) + np.asarray(p["drift_velocity_px"])
    steps[0] = 0.0
    drift = np.cumsum(steps, axis=0)
    lam = electron_wavelength_nm(p["beam_energy_keV"])
    dk = p["k_pixel_size_inv_nm"]
    radius_px = p["convergence_semiangle_mrad"] * 1e-3 / lam / dk
    det = p["detector_shape"]
    g_max = np.hypot(det[0], det[1]) / 2 * dk + 2 * radius_px * dk
    z = np.array([ATOMIC_NUMBER[e] for e in ELEMENTS], dtype=float)
    energy = energy_axis_eV(p["eds_channels"], p["eds_channel_eV"])
    spectra = element_spectra(ELEMENTS, z, energy, beam_energy_keV=p["beam_energy_keV"],
                              solid_angle_sr=p["eds_solid_angle_sr"], fwhm_mn_ka=p["fwhm_mn_ka_eV"])
    ne = {"4dstem": electrons_per_pixel(p["dose_4dstem_e_per_A2"], grids["4dstem"]["step"],
                                        name="dose_4dstem_e_per_A2"),
          "haadf": electrons_per_pixel(p["haadf_dose_e_per_A2"], grids["haadf"]["step"],
                                       name="haadf_dose_e_per_A2"),
          "eds": electrons_per_pixel(p["eds_dose_e_per_A2"], grids["eds"]["step"], name="eds_dose_e_per_A2")}
    # upper bounds of the expected counts per pixel/channel fix the integer dtypes before rendering
    bound_4d = ne["4dstem"] * (disk_template(radius_px).max() + 1.0 / (2 * np.pi * radius_px))
    hy, hx = grids["haadf"]["shape"]
    lamella = build_lamella(p, (hy * hp, hx * hp),
                            margin_nm=8.0 + hp * (np.abs(drift).max() + 2 * p["drift_step_px"] + 1))
    col_max = lamella.thickness_nm * lamella.relative.max() * max(ATOM_DENSITY_NM3.values())
    bound_eds = ne["eds"] * col_max * spectra.max()
    dtypes = ({"4dstem": _count_dtype(bound_4d), "haadf": np.uint32, "eds": _count_dtype(bound_eds)}
              if p["noise"] else {"4dstem": np.float32, "haadf": np.float64, "eds": np.float64})
    return Session(p, grids, stack, hist, drift, device_lattices(x_cl=p["x_cl"], g_max=g_max), dk,
                   radius_px, energy, spectra, z, ne, dtypes, lamella)


def rows_per_chunk(sess: Session, *, max_values: float = 4e6) -> int:
    """Scan rows per 4D-STEM block so that one block holds at most ~``max_values`` detector pixels."""
    ny, nx = sess.grids["4dstem"]["shape"]
    det = sess.p["detector_shape"]
    return int(max(1, min(ny, max_values // (nx * det[0] * det[1]))))


def _rng(sess: Session, *key: int) -> np.random.Generator:
    return np.random.default_rng([sess.p["seed"], *key])


def render_4dstem_block(sess: Session, t: int, r0: int, r1: int) -> np.ndarray:
    """Counts of frame ``t``, scan rows ``r0:r1``: shape (1, r1 - r0, scan_x, ky, kx)."""
    g4 = sess.grids["4dstem"]
    y, x = grid_points(g4)
    y, x = y[r0:r1].ravel(), x[r0:r1].ravel()
    f = sample_fields(y, x, stack=sess.stack, hist=sess.hist, frame=t, p=sess.p, lamella=sess.lamella)
    det = sess.p["detector_shape"]
    mean = frame_patterns(f, sess.lattices, p=sess.p, detector_shape=det, dk=sess.dk,
                          disk_radius_px=sess.disk_radius_px)
    mean *= sess.ne["4dstem"]
    out = _rng(sess, _TAG_4D, t, r0).poisson(mean) if sess.p["noise"] else mean
    return out.astype(sess.dtypes["4dstem"]).reshape(1, r1 - r0, g4["shape"][1], *det)


def haadf_fields(sess: Session, t: int) -> dict:
    """Specimen fields at the (drifted) HAADF pixel centres of frame ``t``."""
    y, x = grid_points(sess.grids["haadf"], sess.drift[t], sess.p["haadf_pixel_nm"])
    return sample_fields(y, x, stack=sess.stack, hist=sess.hist, frame=t, p=sess.p, lamella=sess.lamella)


def eds_fields(sess: Session, t: int) -> dict:
    """Specimen of frame ``t`` averaged over the area of every EDX pixel.

    The probe is rastered over each spectrum-image pixel (sub-pixel scanning; equivalently a finer
    acquisition binned), so a pixel records the area average of the X-ray generation ``∝ t n c_i``.
    The pixel is integrated with the midpoint rule on a sub-grid of step ≤ ``eds_subpixel_nm``.
    Returns ``composition`` (atom-weighted mean fractions), ``atom_density`` (thickness-weighted
    mean), ``thickness_nm`` (area mean) — so ``thickness × atom_density × composition`` is the
    pixel's mean atom column density of each element — and ``phase`` at the pixel centre.
    """
    g, p = sess.grids["eds"], sess.p
    y, x = grid_points(g)
    (sy, sx), sub = g["step"], p["eds_subpixel_nm"]
    ny_s, nx_s = (max(1, int(np.ceil(s / sub - 1e-9))) for s in (sy, sx))
    oy = ((np.arange(ny_s) + 0.5) / ny_s - 0.5) * sy
    ox = ((np.arange(nx_s) + 0.5) / nx_s - 0.5) * sx
    ys = (y[..., None, None] + oy[:, None]).reshape(*y.shape, -1)
    xs = (x[..., None, None] + ox[None, :]).reshape(*x.shape, -1)
    f = sample_fields(ys, xs, stack=sess.stack, hist=sess.hist, frame=t, p=p, lamella=sess.lamella)
    tn = f["thickness_nm"] * f["atom_density"]
    col = (f["composition"] * tn[..., None]).mean(axis=-2)
    tn_mean, t_mean = tn.mean(axis=-1), f["thickness_nm"].mean(axis=-1)
    centre = sample_fields(y, x, stack=sess.stack, hist=sess.hist, frame=t, p=p, lamella=sess.lamella)
    return {"composition": col / tn_mean[..., None], "atom_density": tn_mean / t_mean,
            "thickness_nm": t_mean, "phase": centre["phase"]}


def render_haadf_frame(sess: Session, t: int) -> np.ndarray:
    """HAADF counts of frame ``t`` (1, y, x) with the frame's drift."""
    f = haadf_fields(sess, t)
    p = sess.p
    mean = haadf_expected(f["composition"], sess.z, electrons_per_pixel=sess.ne["haadf"],
                          thickness_nm=f["thickness_nm"], atom_density_nm3=f["atom_density"],
                          exponent=p["haadf_exponent"], background=p["haadf_dark_counts"])
    out = _rng(sess, _TAG_HAADF, t).poisson(mean) if p["noise"] else mean
    return out.astype(sess.dtypes["haadf"])[None]


def render_eds_frame(sess: Session, t: int) -> np.ndarray:
    """EDX counts of frame ``t`` (1, y, x, energy)."""
    f = eds_fields(sess, t)
    mean = eds_expected(f["composition"], sess.spectra, electrons_per_pixel=sess.ne["eds"],
                        thickness_nm=f["thickness_nm"], atom_density_nm3=f["atom_density"])
    out = _rng(sess, _TAG_EDS, t).poisson(mean) if sess.p["noise"] else mean
    return out.astype(sess.dtypes["eds"])[None]
