"""Automatic start values for equivalent-circuit fits, from a distribution of relaxation times.

A circuit fit converges only from a start near the answer, and the elements of an impedance
spectrum span many decades. The start is read off the data in three batched steps:

1. **Distribution of relaxation times** (DRT). For a fixed grid of time constants τₘ (four per decade,
   one decade beyond the measured range on each side) the impedance
   ``Z(ω) ≈ R∞ + Σ gₘ/(1 + jωτₘ) + 1/(jωCₛ) [+ jωL]`` is *linear* in ``R∞, gₘ, 1/Cₛ, L``. All spectra
   are solved at once by Tikhonov (ridge) regression with a second-difference penalty on g(τ) [1]_,
   with the fit's weights on the stacked real and imaginary parts [2]_; g is clipped at zero and
   R∞, 1/Cₛ (and L) refitted. Two penalty weights are used: a light one resolves close arcs, a heavy
   one resists noise.
2. **Processes.** The highest local maxima of g(τ) inside the measured window are the candidate arcs
   (every choice of as many as the circuit has R–C/CPE blocks, among a few more than that); an arc's
   resistance is the sum of g over its own peak (down to 5 % of its height) and its time constant
   the g-weighted geometric mean of τ. What lies nearer the slow end of the grid is the tail that
   starts the diffusion elements (W, Wo, Ws); what lies at the fast end belongs to R∞.
3. **Assignment.** Which arc belongs to which block is not fixed by the string (the block written
   first need not be the fastest), so every permutation of the arcs over the blocks, each with five
   diffusion time constants, is turned into a parameter vector; series C/CPE start from the
   lowest-frequency point. The candidates closest to the data (same weights as the fit) are
   returned, best first.

Everything is vectorised over the spectra; the loops run over candidates and circuit elements.

References
----------
.. [1] T. H. Wan, M. Saccoccio, C. Chen and F. Ciucci, "Influence of the discretization methods on
   the distribution of relaxation times deconvolution: implementing radial basis functions with
   DRTtools", Electrochim. Acta 184, 483 (2015).
.. [2] B. A. Boukamp, "A nonlinear least squares fit procedure for analysis of immittance data of
   electrochemical systems", Solid State Ionics 20, 31 (1986) (modulus weighting, start values).
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import linear_least_squares
from .impedance_circuits import Circuit, Element, circuit_impedance

__all__ = ["relaxation_times", "initial_guess", "rc_blocks"]

_CAPACITIVE = ("C", "CPE")
_DIFFUSION = ("W", "Wo", "Ws")
_ALPHA0 = 0.9
_EDGE = 0.05
#: DRT penalty weights tried: a sharp one resolves close arcs, a smooth one resists noise.
_RIDGES = (1e-4, 1e-2)


def _leaves(node):
    if isinstance(node, Element):
        return [node]
    return [leaf for child in node[1] for leaf in _leaves(child)]


def relaxation_times(frequency, impedance, *, sigma, per_decade: int = 4, inductive: bool = False,
                     method: str = "ridge", ridge: float = 1e-2):
    """Non-negative DRT of each spectrum on a shared τ grid.

    Parameters
    ----------
    frequency : ndarray (n,)
        Ascending frequencies (Hz).
    impedance : ndarray (N, n) complex
        Spectra.
    sigma : ndarray (N, 2n)
        Standard deviations of the stacked real and imaginary parts (``inf`` drops a point).
    per_decade : int
        Grid density.
    inductive : bool
        Add a series inductance column.
    method : {"ridge", "nnls"}
        Second-difference Tikhonov regression clipped at zero (fast, one solve) or non-negative
        least squares (active set, slower).
    ridge : float
        Penalty weight relative to the mean diagonal of the g-block of the normal matrix.

    Returns
    -------
    tau : ndarray (M,)
        Time-constant grid (s).
    r_inf, g, inv_cs, ind : ndarray (N,), (N, M), (N,), (N,)
        High-frequency resistance, DRT resistances, 1/series capacitance and series inductance.
    """
    omega = 2.0 * np.pi * frequency
    lo = np.log10(1.0 / omega.max()) - 1.0
    hi = np.log10(1.0 / omega.min()) + 1.0
    tau = np.logspace(lo, hi, int(np.ceil((hi - lo) * per_decade)) + 1)
    kern = 1.0 / (1.0 + 1j * omega[:, None] * tau[None, :])
    cols = [np.concatenate([np.ones_like(omega), np.zeros_like(omega)])[:, None],
            np.concatenate([kern.real, kern.imag], axis=0),
            np.concatenate([np.zeros_like(omega), -1.0 / omega])[:, None]]
    if inductive:
        cols.append(np.concatenate([np.zeros_like(omega), omega])[:, None])
    design = np.concatenate(cols, axis=1)
    y = np.concatenate([impedance.real, impedance.imag], axis=-1)
    m, k = tau.size, design.shape[1]
    if method == "nnls":
        scale = np.sqrt(np.sum(design**2, axis=0))
        scale[scale == 0] = 1.0
        coef = np.nan_to_num(linear_least_squares(y, design / scale, nonneg=True, sigma=sigma).coef / scale)
    else:
        # Tikhonov (ridge) regression with a second-difference penalty on g(τ) [1]_: one batched
        # solve; the non-negativity is imposed afterwards by clipping
        w = 1.0 / np.where(np.isfinite(sigma) & (sigma > 0), sigma, np.inf) ** 2
        gram = np.einsum("ik,ni,il->nkl", design, w, design)
        rhs = np.einsum("ik,ni,ni->nk", design, w, y)
        lap = np.zeros((m - 2, k))
        for j in range(m - 2):
            lap[j, 1 + j:4 + j] = (1.0, -2.0, 1.0)
        pen = lap.T @ lap
        lam = ridge * np.trace(gram[:, 1:m + 1, 1:m + 1], axis1=1, axis2=2) / m
        reg = gram + lam[:, None, None] * pen + 1e-12 * np.trace(gram, axis1=1, axis2=2)[:, None, None] \
            / k * np.eye(k)
        coef = np.maximum(np.nan_to_num(np.linalg.solve(reg, rhs[:, :, None])[:, :, 0]), 0.0)
        # clipping g shifts the rest: refit R∞, 1/Cs (and L) to the data left by the clipped g(τ)
        other = np.r_[0, np.arange(m + 1, k)]
        d_o = design[:, other]
        res = y - coef[:, 1:m + 1] @ design[:, 1:m + 1].T
        g_o = np.einsum("ik,ni,il->nkl", d_o, w, d_o) + 1e-300 * np.eye(other.size)
        coef[:, other] = np.maximum(np.linalg.solve(g_o, np.einsum("ik,ni,ni->nk", d_o, w, res)[:, :, None])
                                    [:, :, 0], 0.0)
    ind = coef[:, m + 2] if inductive else np.zeros(coef.shape[0])
    return tau, coef[:, 0], coef[:, 1:m + 1], coef[:, m + 1], ind


def _smoothed(g):
    gs = np.copy(g)
    gs[:, 1:-1] = 0.25 * g[:, :-2] + 0.5 * g[:, 1:-1] + 0.25 * g[:, 2:]
    return gs


def _peak_sets(tau, g, n_arc: int, window):
    """Index arrays ``(N, n_arc)`` of DRT maxima to try as the arcs: every choice of ``n_arc`` among the
    few highest local maxima inside the measured window (a rising tail can hold taller spikes than the
    arcs themselves, so the highest are not always the arcs)."""
    n, m = g.shape
    gs = _smoothed(g)
    left = np.concatenate([np.full((n, 1), -np.inf), gs[:, :-1]], axis=1)
    right = np.concatenate([gs[:, 1:], np.full((n, 1), -np.inf)], axis=1)
    inside = (tau >= window[0]) & (tau <= window[1])
    is_max = (gs > left) & (gs >= right) & (gs > 0) & inside
    # local maxima first (by height), then the other in-window points (by height) as fillers
    score = np.where(is_max, gs + gs.max(axis=1, keepdims=True) + 1.0, np.where(inside, gs, -np.inf))
    n_top = min(n_arc + (2 if n_arc <= 2 else 1), int(inside.sum()))
    top = np.argsort(-score, axis=1)[:, :n_top]
    if n_arc == 0 or n_top < n_arc:
        yield np.repeat(top[:, :1], n_arc, axis=1) if n_arc else top[:, :0]
        return
    for combo in itertools.combinations(range(n_top), n_arc):
        yield np.sort(top[:, list(combo)], axis=1)


def _processes(tau, g, peaks, tail: bool, window):
    """Resistances and time constants of the arcs at DRT maxima ``peaks`` (N, k), and of the slow
    tail (what lies nearer the long-τ end of the grid) when ``tail``."""
    n, m = g.shape
    logt = np.log(tau)
    gs = _smoothed(g)
    inside = (tau >= window[0]) & (tau <= window[1])
    # the grid ends beyond the measured window anchor what lies outside it: faster processes (part of
    # R∞) and the slow tail (diffusion, blocking electrodes). Each point joins its nearest anchor (in
    # log τ), but an arc keeps only its own peak: the run of points around its maximum down to
    # ``_EDGE`` of the peak height, so that a rising tail never inflates an arc
    anchors = np.concatenate([np.zeros((n, 1), dtype=int), peaks, np.full((n, 1), m - 1)], axis=1)
    owner = np.argmin(np.abs(logt[None, :, None] - logt[anchors][:, None, :]), axis=2)
    one_hot = owner[:, :, None] == np.arange(anchors.shape[1])[None, None, :]
    idx = np.arange(m)[None, :]
    for k in range(1, anchors.shape[1] - 1):
        a = anchors[:, k:k + 1]
        low = gs < _EDGE * np.take_along_axis(gs, a, axis=1)
        right = np.min(np.where(low & (idx > a), idx, m), axis=1, keepdims=True)
        left = np.max(np.where(low & (idx < a), idx, -1), axis=1, keepdims=True)
        one_hot[:, :, k] &= (idx > left) & (idx < right)
    r = np.einsum("nm,nmk->nk", g, one_hot)
    gi = g * inside[None, :]  # time constants from the measured window only
    ri = np.einsum("nm,nmk->nk", gi, one_hot)
    lt = np.einsum("nm,nmk->nk", gi * logt[None, :], one_hot)
    t = np.where(ri > 0, np.exp(lt / np.where(ri > 0, ri, 1.0)), tau[anchors])
    t = np.clip(t, window[0], window[1])
    r_tail, t_tail = (r[:, -1], t[:, -1]) if tail else (np.zeros(n), np.full(n, window[1]))
    return r[:, 1:-1], t[:, 1:-1], r_tail, t_tail


def _blocks(circuit: Circuit):
    """Top-level series members: (elements outside blocks, list of parallel blocks' leaves)."""
    tree = circuit.tree
    members = tree[1] if (not isinstance(tree, Element) and tree[0] == "s") else [tree]
    loose, blocks = [], []
    for mem in members:
        if isinstance(mem, Element):
            loose.append(mem)
        else:
            blocks.append(_leaves(mem))
    return loose, blocks


def _candidates(circuit: Circuit, frequency, drt, z_low, assignment=None):
    """Yield candidate start vectors ``(N, p)``; ``z_low`` = (ω, Z) at each spectrum's lowest frequency."""
    tau, r_inf, g, inv_cs, ind = drt
    n_spec = g.shape[0]
    omega = 2.0 * np.pi * frequency
    loose, blocks = _blocks(circuit)
    rc_blocks = [b for b in blocks if any(e.kind == "R" for e in b) and any(e.kind in _CAPACITIVE for e in b)]
    other_blocks = [b for b in blocks if b not in rc_blocks]
    n_rc = len(rc_blocks)
    has_diff = any(e.kind in _DIFFUSION for e in circuit.elements)
    window = (1.0 / omega.max(), 1.0 / omega.min())
    r_scale = np.maximum(np.sum(g, axis=1), np.abs(r_inf)) + 1e-300
    t_mid = np.sqrt(window[0] * window[1])
    w_lo, z_lo = z_low
    neg_im = np.maximum(-z_lo.imag, 1e-6 * np.abs(z_lo) + 1e-300)
    cs = np.where(inv_cs > 0, 1.0 / np.maximum(inv_cs, 1e-300), 1.0 / (w_lo * neg_im))
    q_lo = np.sin(_ALPHA0 * np.pi / 2) / (w_lo**_ALPHA0 * neg_im)
    n_loose_r = max(sum(e.kind == "R" for e in loose), 1)
    perms = list(itertools.permutations(range(n_rc)))[:6] if assignment is None else [assignment]
    for peaks in _peak_sets(tau, g, n_rc, window):
        r_arc, t_arc, r_diff, t_diff = _processes(tau, g, peaks, has_diff, window)
        r_diff = np.where(r_diff > 0, r_diff, 0.1 * r_scale)
        common = dict(cs=cs, q_lo=q_lo, ind=ind, omega=omega, r_diff=r_diff)
        yield from _assign(circuit, loose, rc_blocks, other_blocks, perms, has_diff, common, r_inf, r_scale,
                           n_loose_r, r_arc, t_arc, t_diff, t_mid, n_spec)


def _assign(circuit, loose, rc_blocks, other_blocks, perms, has_diff, common, r_inf, r_scale, n_loose_r,
            r_arc, t_arc, t_diff, t_mid, n_spec):
    for perm in perms:
        for tscale in ((1.0, 0.3, 3.0, 0.1, 10.0) if has_diff else (1.0,)):
            p = np.empty((n_spec, circuit.n_params))
            td = t_diff * tscale
            for e in loose:
                _set_element(p, e, r=np.maximum(r_inf, 1e-3 * r_scale) / n_loose_r, t=t_mid, t_diff=td,
                             **common)
            for b, arc in zip(rc_blocks, perm, strict=False):
                n_r = sum(e.kind == "R" for e in b)
                rb = np.maximum(r_arc[:, arc], 1e-3 * r_scale)
                for e in b:
                    _set_element(p, e, r=rb / n_r, t=t_arc[:, arc], t_diff=td, r_block=rb, **common)
            for b in other_blocks:
                for e in b:
                    _set_element(p, e, r=0.1 * r_scale, t=t_mid, t_diff=td, **common)
            yield p


def _set_element(p, e: Element, *, r, t, cs, q_lo, ind, omega, r_diff, t_diff, r_block=None):
    i = e.index
    if e.kind == "R":
        p[:, i[0]] = r
    elif e.kind == "C":
        p[:, i[0]] = cs if r_block is None else t / r_block
    elif e.kind == "CPE":
        p[:, i[0]] = q_lo if r_block is None else t**_ALPHA0 / r_block
        p[:, i[1]] = _ALPHA0
    elif e.kind == "L":
        p[:, i[0]] = np.where(ind > 0, ind, 1e-3 * np.abs(r) / omega.max())
    elif e.kind == "W":
        p[:, i[0]] = r_diff / np.sqrt(t_diff)
    elif e.kind == "Wo":
        p[:, i[0]] = 3.0 * r_diff
        p[:, i[1]] = 3.0 * t_diff
    else:  # Ws
        p[:, i[0]] = r_diff
        p[:, i[1]] = 2.5 * t_diff


def rc_blocks(circuit: Circuit) -> int:
    """Number of top-level parallel blocks holding both a resistor and a C or CPE (the arcs)."""
    _, blocks = _blocks(circuit)
    return sum(any(e.kind == "R" for e in b) and any(e.kind in _CAPACITIVE for e in b) for b in blocks)


def _check_assignment(assignment, circuit: Circuit):
    n_rc = rc_blocks(circuit)
    if assignment is None:
        return None
    if isinstance(assignment, str):
        if assignment != "written":
            raise InputError(f"assignment must be None, 'written' or a permutation, got {assignment!r}")
        return tuple(range(n_rc))
    perm = tuple(int(a) for a in assignment)
    if sorted(perm) != list(range(n_rc)):
        raise InputError(f"assignment {assignment!r} must be a permutation of 0..{n_rc - 1}: one arc (0 = "
                         f"fastest) for each of the {n_rc} R-C blocks of {circuit.text!r}, in written order")
    return perm


def initial_guess(frequency, impedance, circuit: Circuit, *, sigma, mask=None, assignment=None,
                  n_best: int = 1) -> np.ndarray:
    """Start values for :func:`perovscope.bulk.impedance.fit_circuit` (see the module notes).

    Parameters
    ----------
    frequency : ndarray (n,)
        Ascending frequencies (Hz).
    impedance : ndarray (N, n) complex
        Spectra.
    circuit : Circuit
        Parsed circuit.
    sigma : ndarray (N, 2n)
        Weights of the stacked real and imaginary parts (as in the fit).
    mask : ndarray (N, 2n) of bool, optional
        Points used (``False`` = excluded, e.g. inductive points).
    assignment : None, "written" or sequence of int
        Which DRT arc (0 = fastest) starts each R–C block, in the order the blocks are written.
        ``None`` tries every permutation and keeps the ones closest to the data; ``"written"``
        takes the blocks as written to run from high to low frequency.
    n_best : int
        How many candidates to return per spectrum, best first.

    Returns
    -------
    ndarray (n_best, N, p)
    """
    perm = _check_assignment(assignment, circuit)
    z = np.asarray(impedance)
    n_spec, n = z.shape
    s = np.where(mask, sigma, np.inf) if mask is not None else sigma
    inductive = any(e.kind == "L" for e in circuit.elements)
    drts = [relaxation_times(frequency, z, sigma=s, inductive=inductive, ridge=lam) for lam in _RIDGES]
    valid = np.isfinite(s[:, :n]) if mask is None else (mask[:, :n] & np.isfinite(s[:, :n]))
    first = np.argmax(valid, axis=1)
    z_low = (2.0 * np.pi * frequency[first], z[np.arange(n_spec), first])
    y = np.concatenate([z.real, z.imag], axis=-1)
    w = 1.0 / np.where(np.isfinite(s) & (s > 0), s, np.inf) ** 2
    costs = np.full((n_spec, 0), np.inf)
    cands = np.zeros((n_spec, 0, circuit.n_params))
    for cand in (c for drt in drts for c in _candidates(circuit, frequency, drt, z_low, perm)):
        model = circuit_impedance(circuit, frequency, cand)
        r = y - np.concatenate([model.real, model.imag], axis=-1)
        cost = np.sum(w * np.where(np.isfinite(r), r, 1e150) ** 2, axis=-1)
        cost = np.where(np.isfinite(cost), cost, np.inf)
        costs = np.concatenate([costs, cost[:, None]], axis=1)
        cands = np.concatenate([cands, cand[:, None, :]], axis=1)
        if costs.shape[1] > n_best:
            keep = np.argsort(costs, axis=1, kind="stable")[:, :n_best]
            costs = np.take_along_axis(costs, keep, axis=1)
            cands = np.take_along_axis(cands, keep[:, :, None], axis=1)
    order = np.argsort(costs, axis=1, kind="stable")
    cands = np.take_along_axis(cands, order[:, :, None], axis=1)
    if cands.shape[1] < n_best:  # fewer candidates than asked for: repeat the best
        cands = np.concatenate([cands, np.repeat(cands[:, :1], n_best - cands.shape[1], axis=1)], axis=1)
    return np.moveaxis(cands, 1, 0)
