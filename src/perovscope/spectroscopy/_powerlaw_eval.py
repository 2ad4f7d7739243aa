"""Fast evaluation and subtraction of per-pixel power laws ``B_i(E) = exp(ln B0_i − r_i ln(E/E_s))``.

Evaluating one ``exp`` per pixel and channel costs four passes over the output (product, sum, exp,
difference). Around a reference exponent ``r̄`` the background factorises exactly as

``exp(−r_i L) = exp(−r̄ L) · exp(−d_i L) = exp(−r̄ L) Σ_j (−d_i L)^j / j! + R``,  ``d_i = r_i − r̄``,
``L = ln(E/E_s) ∈ [0, L_max]``,

a rank-(K+1) matrix product ``U V`` with ``U_ij = B0_i (−d_i)^j / j!`` and ``V_jk = L_k^j exp(−r̄ L_k)``:
one GEMM (memory-bound, a single output pass) and one in-place subtraction. The Taylor remainder is
bounded by ``x^(K+1)/(K+1)! · e^x`` relative (``x = |d_i| L_max``); K is chosen so that it is below
the output precision (1e-7 relative for float32, 1e-13 for float64). Pixels whose exponent is too far
from ``r̄`` (``x > 1``) are evaluated directly with ``exp``. BLAS runs single-threaded here (callers
thread over blocks of pixels; nested BLAS threads oversubscribe the cores).

References
----------
.. [1] R. F. Egerton, Electron Energy-Loss Spectroscopy in the Electron Microscope, 3rd ed.,
   Springer (2011), §4.4.2 (power-law background ``A E^-r``).
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

__all__ = ["subtract_power_law", "single_thread_blas"]

_X_MAX = 1.0  # largest |d| L_max handled by the expansion


def _order(x_max: float, tol: float) -> int:
    k = 0
    while x_max ** (k + 1) / math.factorial(k + 1) * math.exp(x_max) > tol and k < 30:
        k += 1
    return k


@functools.lru_cache(maxsize=1)
def _controller():
    # a handle on the loaded BLAS libraries (finding them reads /proc: ~1 ms, so done once)
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        return None
    return ThreadpoolController()


def single_thread_blas():
    """Context manager limiting BLAS to one thread (for code that threads over blocks itself)."""
    c = _controller()
    return contextlib.nullcontext() if c is None else c.limit(limits=1, user_api="blas")


def subtract_power_law(out, counts, ln_b0, r, log_rel, *, limit_blas: bool = True):
    """``out[i, k] = counts[i, k] − exp(ln_b0[i] − r[i] log_rel[k])`` for all pixels.

    Parameters
    ----------
    out : ndarray (N, n), float32 or float64
        Output (written in place; its dtype sets the precision).
    counts : ndarray (N, n)
        Spectra on the output channels (may be a strided view).
    ln_b0, r : ndarray (N,)
        Log background at the first output channel and power-law exponent (NaN for bad pixels:
        their output is NaN).
    log_rel : ndarray (n,)
        ``ln(E/E_s)``, non-negative, ``E_s`` the first output channel.
    limit_blas : bool
        Run the matrix product with single-threaded BLAS (set ``False`` when the caller already
        holds :func:`single_thread_blas` around a threaded loop).
    """
    dt = out.dtype
    lr = np.asarray(log_rel, dtype=float)
    ln_b0 = np.asarray(ln_b0, dtype=float)
    r = np.asarray(r, dtype=float)
    ok = np.isfinite(ln_b0) & np.isfinite(r)
    l_max = float(lr.max()) if lr.size else 0.0
    r_bar = float(np.median(r[ok])) if ok.any() else 0.0
    d = np.where(ok, r - r_bar, np.inf)
    near = np.abs(d) * l_max <= _X_MAX
    k = _order(float(np.max(np.abs(d[near]), initial=0.0)) * l_max,
               1e-7 if dt == np.float32 else 1e-13)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        base = np.exp(np.where(near, ln_b0, 0.0))
        step = -np.where(near, d, 0.0)
        u = np.empty((r.size, k + 1), dtype=dt)  # B0 (−d)^j / j! by running products (no pow)
        v = np.empty((k + 1, lr.size), dtype=dt)  # L^j exp(−r̄ L)
        tu, tv = base.copy(), np.exp(-r_bar * lr)
        for jj in range(k + 1):
            if jj:
                tu *= step / jj
                tv *= lr
            u[:, jj], v[jj] = tu, tv
        with single_thread_blas() if limit_blas else contextlib.nullcontext():
            np.matmul(u, v, out=out)
        far = np.flatnonzero(~near)
        if far.size:  # outliers and bad pixels: direct exp (NaN stays NaN)
            out[far] = np.exp(ln_b0[far, None] - r[far, None] * lr[None, :])
        np.subtract(counts, out, out=out)
    return out
