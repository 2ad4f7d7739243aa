"""Signed distance of every pixel to an interface: layer interface lines or object (particle) edges.

Layer interfaces are given as a row position per column (possibly curved). The distance of a pixel to
the interface is the Euclidean distance to the interface polyline (densified to a tenth of a pixel and
searched with a k-d tree), i.e. measured along the local normal, so profiles averaged at equal
distance follow curved interfaces. Sign: positive below the interface (larger row, later in the
growth direction), negative above.

Object edges (particles, grains, domains) use exact Euclidean distance transforms [1]_ of the mask and
of its complement; the edge lies half-way between the last inside and first outside pixel centres, so
half a pixel is subtracted. Sign: positive outside the object, negative inside.

References
----------
.. [1] C. R. Maurer, R. Qi and V. Raghavan, "A linear time algorithm for computing exact Euclidean
   distance transforms of binary images in arbitrary dimensions", IEEE Trans. PAMI 25, 265-270
   (2003). :doi:`10.1109/TPAMI.2003.1177156`
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from ..errors import InputError

__all__ = ["distance_to_line", "distance_to_edges"]


def distance_to_line(line_rows, shape: tuple[int, int], *, pixel_size_nm: float = 1.0,
                     densify: int = 10) -> np.ndarray:
    """Signed distance (nm) of every pixel of a ``shape`` grid to an interface line.

    Parameters
    ----------
    line_rows : array_like, shape (W,)
        Sub-pixel row of the interface in each column (NaN where unknown; those columns are bridged).
    shape : (int, int)
        Grid (H, W).
    pixel_size_nm : float
        Pixel size (nm).
    densify : int
        Points per pixel along the polyline.

    Returns
    -------
    ndarray, shape (H, W)
        Signed distance in nm (positive below the line); all NaN if the line has no finite point.
    """
    y = np.asarray(line_rows, dtype=float)
    h, w = shape
    if y.shape != (w,):
        raise InputError(f"distance_to_line: line has {y.shape} points, the grid has {w} columns")
    cols = np.arange(w, dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        return np.full(shape, np.nan)
    fine_c = np.linspace(cols[ok][0], cols[ok][-1], max(2, int((cols[ok][-1] - cols[ok][0]) * densify) + 1))
    fine_r = np.interp(fine_c, cols[ok], y[ok])
    # extend flat beyond the ends so the edge columns are measured along the normal too
    pad = np.arange(1, 2 * h * densify + 1) / densify
    fine_c = np.concatenate([fine_c[0] - pad[::-1], fine_c, fine_c[-1] + pad])
    fine_r = np.concatenate([np.full(pad.size, fine_r[0]), fine_r, np.full(pad.size, fine_r[-1])])
    rr, cc = np.mgrid[0:h, 0:w]
    dist, _ = cKDTree(np.column_stack([fine_r, fine_c])).query(np.column_stack([rr.ravel(), cc.ravel()]))
    below = rr > np.interp(cols, cols[ok], y[ok])[None, :]
    return np.where(below, 1.0, -1.0) * dist.reshape(shape) * pixel_size_nm


def distance_to_edges(mask, *, pixel_size_nm: float = 1.0) -> np.ndarray:
    """Signed distance (nm) of every pixel to the edge of the objects in ``mask`` (positive outside).

    Parameters
    ----------
    mask : array_like of bool or int, shape (H, W)
        Objects (non-zero, e.g. a particle label map) and background (zero).
    pixel_size_nm : float
        Pixel size (nm).

    Returns
    -------
    ndarray, shape (H, W)
        Distance from the nearest edge, ``-`` inside and ``+`` outside; NaN everywhere (and a
        warning from the caller's side) if the mask is all object or all background.

    References
    ----------
    Maurer, Qi & Raghavan, IEEE TPAMI 25, 265 (2003).
    """
    m = np.asarray(mask) != 0
    if m.ndim != 2:
        raise InputError(f"distance_to_edges: expected a 2-D mask, got shape {m.shape}")
    if m.all() or not m.any():
        return np.full(m.shape, np.nan)
    outside = ndimage.distance_transform_edt(~m) - 0.5
    inside = ndimage.distance_transform_edt(m) - 0.5
    return np.where(m, -inside, outside) * pixel_size_nm
