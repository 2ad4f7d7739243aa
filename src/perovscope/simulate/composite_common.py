"""Helpers shared by the particle/domain samples (``composite``, ``nanospheres``, ``glass_domains``).

Argument checks that raise :class:`~perovscope.errors.InputError` naming the parameter, size
distributions matched to a requested mean and standard deviation, non-overlapping placement of disks,
vectorised distance maps to a set of disks (broadcast over particles in chunks, never a loop over
pixels), atom densities of compounds, calibrated coordinates and Poisson counting.

References
----------
.. [1] S. J. Pennycook and D. E. Jesson, "High-resolution Z-contrast imaging of crystals",
   Ultramicroscopy 37, 14-38 (1991): HAADF intensity grows as about Z^1.7 per atom.
.. [2] J. W. Evans, "Random and cooperative sequential adsorption", Rev. Mod. Phys. 65, 1281 (1993):
   random sequential addition of hard disks (jamming near 55 % coverage).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import xarray as xr

from .. import physics as _physics
from ..errors import InputError

#: Avogadro's number per nm³·cm³/g conversion: atoms/nm³ = density[g/cm³] / M[g/mol] * AVOGADRO_NM3.
AVOGADRO_NM3 = 602.214076  # 6.022e23 / 1e21 nm³ per cm³

#: Atomic numbers of the elements used by these samples.
_SAMPLE_ELEMENTS = ("H", "C", "N", "O", "F", "Na", "Al", "Si", "P", "Zn", "Br", "I", "Cs", "Pb")
ATOMIC_NUMBER = {el: _physics.ATOMIC_NUMBER[el] for el in _SAMPLE_ELEMENTS}
#: Standard atomic weights (g/mol) of those elements (:data:`perovscope.physics.ATOMIC_WEIGHT`).
ATOMIC_WEIGHT = {el: _physics.ATOMIC_WEIGHT[el] for el in _SAMPLE_ELEMENTS}


# --------------------------------------------------------------------------------------------- checks
def check_positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float, raising :class:`InputError` naming ``name`` unless it is > 0 (or >= 0)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name}: must be a finite number {bound}, got {value!r}")
    return v


def check_fraction(name: str, value, *, open_low: bool = False, open_high: bool = False) -> float:
    """Return ``value`` as float, raising :class:`InputError` naming ``name`` unless it lies in [0, 1]."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a fraction between 0 and 1, got {value!r}") from None
    low_bad = v <= 0 if open_low else v < 0
    high_bad = v >= 1 if open_high else v > 1
    if not np.isfinite(v) or low_bad or high_bad:
        lo = "(0" if open_low else "[0"
        hi = "1)" if open_high else "1]"
        raise InputError(f"{name}: must be a fraction in {lo}, {hi}, got {value!r}")
    return v


def check_count(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as int, raising :class:`InputError` naming ``name`` unless an integer >= minimum."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}") from None
    if v != value or v < minimum:
        raise InputError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return v


def make_rng(seed) -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for a non-negative integer seed, else :class:`InputError`."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed: expected a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def check_shape(name: str, value, *, minimum: int = 8) -> tuple[int, int]:
    """Return a 2-tuple of ints >= ``minimum`` or raise :class:`InputError` naming ``name``."""
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected two integers (rows, columns), got {value!r}") from None
    if len(shape) != 2 or min(shape) < minimum:
        raise InputError(f"{name}: expected two integers >= {minimum} (rows, columns), got {value!r}")
    return shape  # type: ignore[return-value]


# ------------------------------------------------------------------------------------- populations
def lognormal_sizes(rng: np.random.Generator, n: int, mean: float, sd: float) -> np.ndarray:
    """Draw ``n`` log-normal sizes whose distribution has the given arithmetic ``mean`` and ``sd``.

    With s² = ln(1 + sd²/mean²) and μ = ln(mean) − s²/2 the log-normal has exactly that mean and sd.
    ``sd = 0`` gives ``n`` copies of ``mean``.
    """
    if sd == 0:
        return np.full(n, float(mean))
    s2 = np.log1p((sd / mean) ** 2)
    return rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), size=n)


def place_disks(rng: np.random.Generator, radii: np.ndarray, extent: tuple[float, float], *,
                gap: float = 0.0, margin: float = 0.0, candidates: int = 256, max_rounds: int = 40,
                what: str = "particles") -> np.ndarray:
    """Random sequential addition of non-overlapping disks inside a rectangle.

    Disks are placed largest first; for each, a batch of ``candidates`` uniformly random centres is
    tested against every disk already placed at once (broadcasting), and the first free one is taken.
    This loops over particles, not pixels.

    Parameters
    ----------
    radii : (n,) array
        Disk radii (nm).
    extent : (height, width)
        Rectangle size (nm); disks lie fully inside it, ``margin`` away from its border.
    gap : float
        Minimum surface-to-surface distance between disks (nm).

    Returns
    -------
    (n, 2) array of (y, x) centres in the order of ``radii``.

    Raises
    ------
    InputError
        If the rectangle is too crowded to place every disk.
    """
    radii = np.asarray(radii, dtype=float)
    order = np.argsort(-radii, kind="stable")
    placed = np.empty((0, 2))
    placed_r = np.empty(0)
    centres = np.empty((radii.size, 2))
    h, w = extent
    for i in order:
        r = radii[i]
        lo = r + margin
        if 2 * lo > min(h, w):
            raise InputError(f"{what}: a particle of radius {r:.3g} nm does not fit in a field of view of "
                             f"{h:.4g} x {w:.4g} nm; enlarge the image or reduce the size")
        for _ in range(max_rounds):
            cand = np.column_stack([rng.uniform(lo, h - lo, candidates), rng.uniform(lo, w - lo, candidates)])
            if placed.size:
                d = np.hypot(cand[:, None, 0] - placed[None, :, 0], cand[:, None, 1] - placed[None, :, 1])
                free = np.all(d >= placed_r[None, :] + r + gap, axis=1)
            else:
                free = np.ones(candidates, bool)
            hit = np.flatnonzero(free)
            if hit.size:
                centres[i] = cand[hit[0]]
                break
        else:
            raise InputError(f"{what}: could not place {radii.size} non-overlapping particles in "
                             f"{h:.4g} x {w:.4g} nm; reduce the number of particles or enlarge the image")
        placed = np.vstack([placed, centres[i]])
        placed_r = np.append(placed_r, r)
    return centres


def disk_distance(py: np.ndarray, px: np.ndarray, cy: np.ndarray, cx: np.ndarray, radius: np.ndarray, *,
                  chunk: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed distance from points to the nearest disk boundary, and which disk that is.

    Broadcasts points against particles ``chunk`` particles at a time (memory ``chunk × points``).

    Returns
    -------
    distance : array like ``py``
        ``|p − c_k| − R_k`` minimised over disks k (negative inside a disk).
    label : int array like ``py``
        Index of the nearest disk (0-based).
    radial : array like ``py``
        ``|p − c_k| / R_k`` for that disk (0 at its centre, 1 on its edge).
    """
    py = np.asarray(py, dtype=float)
    px = np.asarray(px, dtype=float)
    chunk = max(1, min(int(chunk), 4_000_000 // max(py.size, 1)))  # bound memory to ~4M per temporary
    best = np.full(py.shape, np.inf)
    label = np.zeros(py.shape, dtype=np.int64)
    radial = np.full(py.shape, np.inf)
    for start in range(0, len(cy), chunk):
        sl = slice(start, start + chunk)
        shape = (-1,) + (1,) * py.ndim
        rho = np.hypot(py[None] - cy[sl].reshape(shape), px[None] - cx[sl].reshape(shape))
        dist = rho - radius[sl].reshape(shape)
        k = np.argmin(dist, axis=0)
        dmin = np.take_along_axis(dist, k[None], axis=0)[0]
        better = dmin < best
        best = np.where(better, dmin, best)
        label = np.where(better, k + start, label)
        rk = np.take_along_axis(rho, k[None], axis=0)[0] / radius[sl][k]
        radial = np.where(better, rk, radial)
    return best, label, radial


# ---------------------------------------------------------------------------------------- contrast
def atom_columns(formula: dict[str, float], density_g_cm3: float, elements: Sequence[str]
                 ) -> tuple[np.ndarray, float]:
    """Atomic fractions over ``elements`` and number density (atoms/nm³) of a compound, H excluded.

    ``formula`` maps element symbols to atoms per formula unit and ``density_g_cm3`` is the mass
    density; n = ρ N_A / M × (non-H atoms per formula unit). Hydrogen is dropped (invisible to EDX,
    negligible in HAADF [1]_) but counted in the formula mass.
    """
    mass = sum(ATOMIC_WEIGHT[e] * n for e, n in formula.items())
    heavy = {e: n for e, n in formula.items() if e != "H"}
    missing = set(heavy) - set(elements)
    if missing:
        raise InputError(f"elements: {sorted(missing)} of the formula are not in the element list")
    n_atoms = sum(heavy.values())
    frac = np.array([heavy.get(e, 0.0) / n_atoms for e in elements])
    return frac, density_g_cm3 / mass * AVOGADRO_NM3 * n_atoms


# ------------------------------------------------------------------------------------ data model
def spatial_coord(n: int, pixel_size_nm: float, dim: str) -> xr.DataArray:
    """Calibrated coordinate ``i * pixel_size_nm`` (offset 0, as a reader writes it) in nm."""
    return xr.DataArray(np.arange(n) * pixel_size_nm, dims=(dim,), attrs={"units": "nm", "long_name": dim})


def axis_coord(values: np.ndarray, dim: str, units: str) -> xr.DataArray:
    """A 1-D coordinate with ``attrs['units']``."""
    return xr.DataArray(np.asarray(values, dtype=float), dims=(dim,),
                        attrs={"units": units, "long_name": dim})


def counts(rng: np.random.Generator, expected: np.ndarray, *, noise: bool) -> np.ndarray:
    """Poisson counts (uint32) of the ``expected`` array, or the float64 expectation when ``noise`` is off."""
    expected = np.asarray(expected, dtype=float)
    if not noise:
        return expected
    return rng.poisson(np.maximum(expected, 0.0)).astype(np.uint32)


def render_rows(rng: np.random.Generator, n_rows: int, expected_rows, *, noise: bool,
                block: int = 16) -> np.ndarray:
    """Counts of a large cube rendered in blocks of image rows (memory bounded by the block).

    ``expected_rows(slice) -> array (rows, ...)`` gives the expected counts of those rows. Poisson
    draws follow C order block after block, which is the order of one draw over the whole cube, so
    the result does not depend on ``block``.
    """
    out = None
    for start in range(0, n_rows, block):
        rows = slice(start, min(start + block, n_rows))
        part = counts(rng, expected_rows(rows), noise=noise)
        if out is None:
            out = np.empty((n_rows,) + part.shape[1:], dtype=part.dtype)
        out[rows] = part
    return out


def reader_attrs(sample: str, params_json: str) -> dict:
    """The provenance attributes a perovscope reader adds to every signal (``source_file``,
    ``format``, ``original_metadata`` as a JSON string), filled with the simulation parameters."""
    return {"source_file": f"perovscope.simulate:{sample}", "format": "perovscope-simulate",
            "original_metadata": params_json}


def parameters_json(sample: str, params: dict) -> str:
    """The simulation parameters as a JSON string (kept in the root attrs for provenance)."""

    def conv(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, Sequence) and not isinstance(v, str):
            return [conv(x) for x in v]
        return v

    return json.dumps({"sample": sample, **{k: conv(v) for k, v in params.items()}}, sort_keys=True)
