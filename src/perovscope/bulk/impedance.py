"""Impedance spectroscopy: batched equivalent-circuit fits with automatic start values.

:func:`fit_circuit` fits one circuit (:mod:`.impedance_circuits`) to a batch of spectra sharing a
frequency axis — a temperature series, an ageing series — in one complex nonlinear least-squares
problem: the real and imaginary parts are stacked into one real residual vector and minimised by the
batched Levenberg–Marquardt of :func:`perovscope.spectroscopy.fitting.levenberg_marquardt` with the
circuit's analytic Jacobian. Positive elements are fitted as logarithms (they span decades), the CPE
exponent within [0, 1]. Weighting ``"modulus"`` divides both residuals of a point by ``|Z|`` (the
usual choice when the noise is unknown [1]_ [2]_); ``"unit"`` fits absolute residuals. Standard
errors come from the curvature at the solution scaled by the reduced χ² (the weights are relative).

Start values are found from the data (:mod:`.impedance_start`): the few candidates closest to the
data are each fitted for a few iterations, and the best is fitted to convergence. Points with
``Z'' > 0`` (inductive cable artefacts at high frequency) are dropped unless the circuit has an
inductor.

The DC resistance from the arc, σ = l/(R·A) and the Arrhenius fit are in :mod:`.impedance_conductivity`.

References
----------
.. [1] B. A. Boukamp, "A nonlinear least squares fit procedure for analysis of immittance data of
   electrochemical systems", Solid State Ionics 20, 31 (1986).
.. [2] J. R. Macdonald and L. D. Potter, "A flexible procedure for analyzing impedance spectroscopy
   results: description and illustrations", Solid State Ionics 24, 61 (1987).
.. [3] M. E. Orazem and B. Tribollet, Electrochemical Impedance Spectroscopy, 2nd ed., Wiley (2017),
   ch. 19 (regression, weighting, confidence intervals).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..spectroscopy.fitting import levenberg_marquardt
from ._checks import ascending, check_min_points, check_positive
from .impedance_circuits import Circuit, circuit_impedance, parse_circuit
from .impedance_start import initial_guess

__all__ = ["CircuitFit", "fit_circuit", "prepare_spectra", "fit_circuit_dataset", "WEIGHTINGS"]

WEIGHTINGS = ("modulus", "unit")
_SCREEN_ITER = 30  # iterations given to every automatic start before the best one is finished
_LOG_LIMIT = 100.0  # positive elements are kept within e^±100


class CircuitFit(NamedTuple):
    """Result of :func:`fit_circuit`; array fields have the leading shape ``(...)`` of the spectra.

    Attributes
    ----------
    params, std : ndarray (..., p)
        Element values and standard errors, in the order of ``names``.
    start : ndarray (..., p)
        The start values used.
    cost : ndarray (...)
        Weighted residual sum of squares.
    chi2_reduced : ndarray (...)
        ``cost / (m − p)`` with ``m`` the number of real residuals used.
    flag : ndarray (...)
        0 converged, 1 iteration limit, 2 failed, 3 masked (see :mod:`perovscope.spectroscopy.fitting`).
    n_points : ndarray (...)
        Frequencies used per spectrum.
    names, units : tuple of str
        Parameter names and units.
    circuit : str
        The circuit string.
    """

    params: np.ndarray
    std: np.ndarray
    start: np.ndarray
    cost: np.ndarray
    chi2_reduced: np.ndarray
    flag: np.ndarray
    n_points: np.ndarray
    names: tuple
    units: tuple
    circuit: str

    def impedance(self, frequency) -> np.ndarray:
        """The fitted model at ``frequency`` (Hz), ``(..., n)`` complex."""
        return circuit_impedance(self.circuit, frequency, self.params)


def prepare_spectra(frequency, impedance, *, source: str | None = None):
    """Checked ``(frequency ascending (n,), impedance (..., n) complex)``.

    Raises
    ------
    InputError
        Unsorted or duplicated frequencies, non-positive frequencies, fewer than 3 points, a
        non-complex or mis-shaped impedance array, or non-finite values.
    """
    f = check_positive(frequency, name="frequency", why="ω = 2πf enters logarithms and square roots",
                       source=source)
    f, z = ascending(f, impedance, name="frequency", min_points=3, source=source)
    z = np.asarray(z)
    if not np.iscomplexobj(z):
        raise InputError(f"{source + ': ' if source else ''}impedance must be complex (Z' + jZ''), got "
                         f"{z.dtype}; build it as z_real + 1j * z_imag")
    if not np.all(np.isfinite(z)):
        raise InputError(f"{source + ': ' if source else ''}impedance holds "
                         f"{int(np.sum(~np.isfinite(z)))} NaN/inf values; remove those frequencies")
    return f, z.astype(complex)


def _weights(z, weighting: str):
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    if weighting == "modulus":
        mod = np.abs(z)
        mod = np.where(mod > 0, mod, np.inf)
        return np.concatenate([mod, mod], axis=-1)
    return np.ones(z.shape[:-1] + (2 * z.shape[-1],))


def fit_circuit(frequency, impedance, circuit, *, p0=None, weighting: str = "modulus",
                exclude_inductive: bool | None = None, assignment=None, n_starts: int = 6,
                max_iter: int = 200, tol: float = 1e-10, source: str | None = None) -> CircuitFit:
    """Fit an equivalent circuit to every spectrum of a batch at once.

    Parameters
    ----------
    frequency : array_like (n,)
        Frequencies (Hz), either direction.
    impedance : array_like (..., n) complex
        Spectra ``Z' + jZ''`` (capacitive arcs have ``Z'' < 0``).
    circuit : str or Circuit
        Circuit string (``"R0-p(R1,C1)-p(R2-Wo1,C2)"``) or a shortcut (``"randles"``).
    p0 : array_like (..., p), optional
        Start values; found automatically when omitted (:func:`.impedance_start.initial_guess`).
    weighting : {"modulus", "unit"}
        Residuals divided by ``|Z|`` (default) or absolute.
    exclude_inductive : bool, optional
        Drop points with ``Z'' > 0``; default: yes unless the circuit has an inductor.
    assignment : None, "written" or sequence of int
        For the automatic start: which arc (0 = fastest) belongs to each R–C block as written
        (``None``: the permutation closest to the data). Ignored with ``p0``.
    n_starts : int
        Automatic start candidates per spectrum (those closest to the data): each is fitted for
        ``_SCREEN_ITER`` iterations, the lowest is then fitted to convergence. 1 fits only the closest.
    max_iter, tol : int, float
        Levenberg–Marquardt iteration limit and relative cost tolerance.
    source : str, optional
        File the data came from (for error messages).

    Returns
    -------
    CircuitFit

    Raises
    ------
    InputError
        Bad axis or data (:func:`prepare_spectra`), too few points for the circuit's parameters,
        a malformed circuit, or ``p0`` of the wrong length.
    """
    circ = circuit if isinstance(circuit, Circuit) else parse_circuit(circuit)
    f, z = prepare_spectra(frequency, impedance, source=source)
    lead, n = z.shape[:-1], z.shape[-1]
    zf = z.reshape(-1, n)
    if exclude_inductive is None:
        exclude_inductive = not any(e.kind == "L" for e in circ.elements)
    keep = ~(zf.imag > 0) if exclude_inductive else np.ones(zf.shape, dtype=bool)
    n_used = np.sum(keep, axis=1)
    check_min_points(int(n_used.min()), (circ.n_params + 2) // 2 + 1,
                     what=f"circuit {circ.text!r} ({circ.n_params} parameters; each frequency gives two "
                          "values)", source=source)
    mask = np.concatenate([keep, keep], axis=1)
    sigma = _weights(zf, weighting)
    if p0 is None:
        with np.errstate(all="ignore"):
            starts = initial_guess(f, zf, circ, sigma=sigma, mask=mask, assignment=assignment,
                                   n_best=max(int(n_starts), 1))
    else:
        if np.shape(p0)[-1:] != (circ.n_params,):
            raise InputError(f"p0 has {np.shape(p0)[-1:]} values but {circ.text!r} has "
                             f"{circ.n_params} parameters ({', '.join(circ.names)})")
        p0f = np.asarray(p0, dtype=float)
        start = np.array(np.broadcast_to(p0f, lead + (circ.n_params,))).reshape(-1, circ.n_params)
        starts = start[None]
    n_try, n_spec = starts.shape[0], zf.shape[0]
    start = starts.reshape(-1, circ.n_params)
    pos = circ.positive
    bad_start = np.any((start[:, pos] <= 0), axis=1) | ~np.all(np.isfinite(start), axis=1)
    q0 = np.where(pos, np.log(np.where(start > 0, start, 1.0)), start)
    q0[bad_start] = np.nan
    lower = np.where(pos, -_LOG_LIMIT, 0.0)
    upper = np.where(pos, _LOG_LIMIT, 1.0)

    def to_params(q):
        return np.where(pos, np.exp(np.clip(q, -_LOG_LIMIT, _LOG_LIMIT)), q)

    def model(q):
        zm = circuit_impedance(circ, f, to_params(q))
        return np.concatenate([zm.real, zm.imag], axis=-1)

    def jacobian(q):
        p = to_params(q)
        _, dz = circuit_impedance(circ, f, p, jacobian=True)
        dz = dz * np.where(pos, p, 1.0)[:, None, :]
        return np.concatenate([dz.real, dz.imag], axis=1)

    y = np.concatenate([zf.real, zf.imag], axis=-1)
    with np.errstate(all="ignore"):  # trial steps far off may overflow; LM rejects them
        if n_try > 1:
            # every start is fitted for a few iterations; each spectrum keeps the one that got lowest
            tile = (n_try, 1)
            pre = levenberg_marquardt(model, jacobian, np.tile(y, tile), q0, lower=lower, upper=upper,
                                      sigma=np.tile(sigma, tile), mask=np.tile(mask, tile),
                                      max_iter=_SCREEN_ITER, tol=tol)
            cost = np.where(np.isfinite(pre.cost), pre.cost, np.inf).reshape(n_try, n_spec)
            pick = np.argmin(cost, axis=0) * n_spec + np.arange(n_spec)
            start = start[pick]
            q0 = np.where(np.isfinite(pre.params[pick]), pre.params[pick], q0[pick])
        res = levenberg_marquardt(model, jacobian, y, q0, lower=lower, upper=upper, sigma=sigma, mask=mask,
                                  max_iter=max_iter, tol=tol)
    params = to_params(res.params)
    params[~np.isfinite(res.params)] = np.nan
    dof = np.maximum(2 * n_used - circ.n_params, 1)
    chi2r = res.cost / dof
    std_q = res.std * np.sqrt(chi2r)[:, None]
    std = np.where(pos, params * std_q, std_q)
    shape = lead + (circ.n_params,)
    return CircuitFit(params.reshape(shape), std.reshape(shape), start.reshape(shape),
                      res.cost.reshape(lead), chi2r.reshape(lead), res.flag.reshape(lead),
                      n_used.reshape(lead), circ.names, circ.units, circ.text)


def fit_circuit_dataset(impedance, circuit, *, dim: str = "frequency", **kwargs):
    """Labelled :func:`fit_circuit`: a complex DataArray over ``dim`` (Hz) -> a Dataset of elements.

    Every leading dimension (``temperature``, ``time``, ...) and its coordinates are kept. Each element
    becomes a variable (``R0``, ``C1``, ...) with ``attrs["units"]`` plus ``<name>_std``; ``chi2_reduced``,
    ``flag`` and the fitted model ``impedance_fit`` over ``dim`` are added.
    """
    import xarray as xr

    if dim not in impedance.dims:
        raise InputError(f"impedance has no {dim!r} dimension (dims: {impedance.dims}); pass dim=")
    da = impedance.transpose(..., dim)
    f = np.asarray(da[dim].values, dtype=float)
    fit = fit_circuit(f, da.values, circuit, **kwargs)
    lead = da.dims[:-1]
    coords = {k: v for k, v in da.coords.items() if dim not in v.dims}
    out = xr.Dataset(coords=coords)
    for k, (name, unit) in enumerate(zip(fit.names, fit.units, strict=False)):
        out[name] = xr.DataArray(fit.params[..., k], dims=lead, attrs={"units": unit})
        out[f"{name}_std"] = xr.DataArray(fit.std[..., k], dims=lead, attrs={"units": unit})
    out["chi2_reduced"] = xr.DataArray(fit.chi2_reduced, dims=lead, attrs={"units": "1"})
    out["flag"] = xr.DataArray(fit.flag, dims=lead, attrs={"units": "1"})
    zfit = fit.impedance(f)
    out["impedance_fit"] = xr.DataArray(zfit, dims=da.dims, coords={dim: da[dim]}, attrs={"units": "Ohm"})
    out.attrs.update(circuit=fit.circuit, weighting=kwargs.get("weighting", "modulus"))
    return out
