"""Small compiled kernels of the CL Gaussian fit (:mod:`.cl_fit`): the 4×4 normal matrix, its
Cholesky solve, and the start values (exact order statistics without sorting, running-mean peak,
area-over-height width).

References
----------
.. [1] W. H. Press et al., Numerical Recipes, 3rd ed., CUP (2007), §2.9 (Cholesky), §8.5 (selection).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

__all__ = []

_FAST = {"reassoc", "contract", "nsz"}  # vectorised sums; no assumptions about NaN/inf


@kernel()
def _normal(S, u, n, m):
    """Fill m (4, 4) from the moment sums S (Σe zᵏ, Σe² zᵏ) with u = a/s and n channels."""
    m[0, 0], m[0, 1], m[0, 2], m[0, 3] = S[3], u * S[4], u * S[5], S[0]
    m[1, 1], m[1, 2], m[1, 3] = u * u * S[5], u * u * S[6], u * S[1]
    m[2, 2], m[2, 3] = u * u * S[7], u * S[2]
    m[3, 3] = n
    for i in range(4):
        for k in range(i):
            m[i, k] = m[k, i]


@kernel()
def _cholesky(m, lw):
    """Lower Cholesky factor of the 4×4 matrix m into lw; False if not positive definite."""
    for i in range(4):
        for k in range(i + 1):
            acc = m[i, k]
            for t in range(k):
                acc -= lw[i, t] * lw[k, t]
            if i == k:
                if not acc > 0.0:  # also catches NaN
                    return False
                lw[i, i] = math.sqrt(acc)
            else:
                lw[i, k] = acc / lw[k, k]
    return True


@kernel()
def _cho_solve(lw, g, out):
    for i in range(4):
        acc = g[i]
        for t in range(i):
            acc -= lw[i, t] * out[t]
        out[i] = acc / lw[i, i]
    for i in range(3, -1, -1):
        acc = out[i]
        for t in range(i + 1, 4):
            acc -= lw[t, i] * out[t]
        out[i] = acc / lw[i, i]


@kernel(fastmath=_FAST)
def _count_below(y, v):
    """#(y < v), branch-free (vectorised)."""
    below = 0
    for j in range(y.size):
        below += 1 if y[j] < v else 0
    return below


@kernel()
def _order_stats(y, k, buf):
    """The k-th and (k+1)-th smallest values of finite y (0-based, k + 1 < y.size) without sorting
    the spectrum (a sort-based selection mispredicts a branch per element): the bracket [lo, hi)
    with #(y < lo) <= k and #(y < hi) >= k + 2 shrinks by interpolation (regula falsi on the count,
    bisection when that stalls) using vectorised counts, then the few values left in it are sorted.
    ``buf`` has at least y.size + 1 elements."""
    n = y.size
    lo, hi = _minmax(y)
    if lo == hi:
        return lo, lo
    hi = np.nextafter(hi, np.inf)
    c_lo, c_hi = 0, n
    interp = True
    while c_hi - c_lo > 32 and hi - lo > 1e-9 * max(abs(lo), abs(hi)):
        mid = lo + (hi - lo) * (k + 1.5 - c_lo) / (c_hi - c_lo) if interp else 0.5 * (lo + hi)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
        width = hi - lo
        below = _count_below(y, mid)
        if below >= k + 2:
            hi, c_hi = mid, below
        elif below <= k:
            lo, c_lo = mid, below
        else:  # the k-th lies below mid, the (k+1)-th above: both in the bracket
            break
        interp = hi - lo < 0.5 * width  # fall back to one bisection step after a poor guess
    m = 0
    for j in range(n):  # collect the bracket (store always, advance conditionally)
        v = np.float64(y[j])
        buf[m] = v
        m += 1 if lo <= v < hi else 0
    part = np.sort(buf[:m])
    return part[k - c_lo], part[k + 1 - c_lo]


@kernel()
def _minmax(v):
    """Smallest and largest element of a finite array in one pass."""
    low = top = np.float64(v[0])
    for j in range(v.size):
        x = np.float64(v[j])
        low = x if x < low else low
        top = x if x > top else top
    return low, top


@kernel(fastmath=_FAST)
def _area(y, dxg, off):
    area = 0.0
    for j in range(y.size):
        v = y[j] - off
        area += (v if v > 0.0 else 0.0) * dxg[j]
    return area


@kernel()
def _guess(x, y, dxg, dmin, span, sm, buf, p):
    """Start values (the policy of ``cl._moment_guess``): offset = 5th percentile, peak of the
    5-channel running mean, width = area / (height √(2π)); ``dxg`` = |gradient(x)|."""
    n = y.size
    pos = 0.05 * (n - 1)  # linear interpolation between order statistics (numpy's default)
    k = int(pos)
    if k + 1 < n:
        vk, above = _order_stats(y, k, buf)
    else:
        vk = above = _minmax(y)[0]
    off = vk + (above - vk) * (pos - k)
    for j in range(min(2, n)):  # edges: the spectrum padded with its end values
        sm[j] = sm[n - 1 - j] = 0.0
    for j in range(min(2, n)):
        for t in range(-2, 3):
            sm[j] += (y[min(max(j + t, 0), n - 1)] - off) / 5.0
            sm[n - 1 - j] += (y[min(max(n - 1 - j + t, 0), n - 1)] - off) / 5.0
    if n > 4:
        y0, y1, y2, y3, y4, mid = y[:n - 4], y[1:n - 3], y[2:n - 2], y[3:n - 1], y[4:], sm[2:n - 2]
        for j in range(n - 4):
            mid[j] = (np.float64(y0[j]) + y1[j] + y2[j] + y3[j] + y4[j]) / 5.0 - off
    top = _minmax(sm)[1]
    ipk = 0
    while sm[ipk] != top:  # first channel at the maximum (the running mean is finite)
        ipk += 1
    amp = max(top, 1e-12)
    area = _area(y, dxg, off)
    sig = area / (amp * math.sqrt(2.0 * math.pi))
    p[0], p[1], p[2], p[3] = amp, x[ipk], min(max(sig, 2.0 * dmin), 0.5 * span), off
