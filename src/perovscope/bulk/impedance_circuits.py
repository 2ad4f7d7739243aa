"""Equivalent circuits of impedance spectroscopy: the circuit-string parser and element models.

A circuit is written as in the impedance.py convention [1]_: elements joined by ``-`` are in series,
``p(A,B,...)`` puts its comma-separated branches in parallel, and each element is a type prefix
followed by a label (``R0``, ``C1``, ``CPE1``, ``Wo1``)::

    R0-p(R1,C1)-p(R2-Wo1,C2)        two arcs and a finite-length diffusion
    randles                          shortcut for R0-p(R1-Wo1,C1)
    randles-cpe                      shortcut for R0-p(R1-Wo1,CPE1)

Element impedances (ω = 2πf, j² = −1), each with analytic derivatives with respect to its
parameters, so the batched fit gets an exact Jacobian:

=====  ===========================================  =====================
type   impedance                                    parameters (units)
=====  ===========================================  =====================
R      R                                            R (Ω)
C      1 / (jωC)                                    C (F)
L      jωL                                          L (H)
CPE    1 / (Q (jω)^α)                               Q (Ω⁻¹ s^α), α (1)
W      A_W (1 − j) / √ω  (semi-infinite Warburg)    A_W (Ω s^-½)
Wo     Z₀ coth(√(jωτ)) / √(jωτ)  (finite, open)     Z₀ (Ω), τ (s)
Ws     Z₀ tanh(√(jωτ)) / √(jωτ)  (finite, short)    Z₀ (Ω), τ (s)
=====  ===========================================  =====================

Series impedances add; a parallel block has Z = 1/Σ(1/Zᵢ), whose derivative with respect to a
parameter of branch i is (Z/Zᵢ)² ∂Zᵢ/∂p.

References
----------
.. [1] M. D. Murbach, B. Gerwe, N. Dawson-Elli and L. Tsui, "impedance.py: A Python package for
   electrochemical impedance analysis", J. Open Source Softw. 5, 2349 (2020) (circuit notation).
.. [2] M. E. Orazem and B. Tribollet, Electrochemical Impedance Spectroscopy, 2nd ed., Wiley (2017),
   ch. 4 (elements), ch. 11 (diffusion impedances), ch. 13 (constant-phase elements).
.. [3] J. E. B. Randles, "Kinetics of rapid electrode reactions", Discuss. Faraday Soc. 1, 11 (1947).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["ELEMENTS", "Element", "Circuit", "parse_circuit", "circuit_impedance", "SHORTCUTS"]

#: Element type -> (parameter suffixes, units, positive flags); a one-parameter element is named by its label.
ELEMENTS = {
    "R": (("",), ("Ohm",), (True,)),
    "C": (("",), ("F",), (True,)),
    "L": (("",), ("H",), (True,)),
    "CPE": (("_Q", "_alpha"), ("Ohm^-1 s^alpha", "1"), (True, False)),
    "W": (("",), ("Ohm s^-1/2",), (True,)),
    "Wo": (("_Z0", "_tau"), ("Ohm", "s"), (True, True)),
    "Ws": (("_Z0", "_tau"), ("Ohm", "s"), (True, True)),
}

#: Named circuits accepted in place of a circuit string.
SHORTCUTS = {"randles": "R0-p(R1-Wo1,C1)", "randles-cpe": "R0-p(R1-Wo1,CPE1)",
             "rc": "R0-p(R1,C1)", "rcpe": "R0-p(R1,CPE1)", "2rc": "R0-p(R1,C1)-p(R2,C2)",
             "2rcpe": "R0-p(R1,CPE1)-p(R2,CPE2)"}

_TYPES = sorted(ELEMENTS, key=len, reverse=True)  # longest prefix first (CPE before C, Wo before W)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Element:
    """One circuit element: its type, label and the indices of its parameters in the full vector."""

    kind: str
    label: str
    index: tuple[int, ...]


@dataclass(frozen=True)
class Circuit:
    """A parsed circuit: the tree of ``("s", [...])``/``("p", [...])`` nodes and :class:`Element` leaves.

    Attributes
    ----------
    text : str
        The circuit string (shortcuts expanded).
    tree : tuple
        ``("s", children)`` for series, ``("p", children)`` for parallel, an :class:`Element` for a leaf.
    names, units : tuple of str
        Parameter names (``R0``, ``CPE1_Q``, ``Wo1_tau``, ...) and units, in fit order.
    positive : ndarray of bool
        Parameters that are positive (fitted as logarithms); the CPE exponent α is not (bounded 0–1).
    elements : tuple of Element
        The leaves in order.
    """

    text: str
    tree: tuple
    names: tuple
    units: tuple
    positive: np.ndarray
    elements: tuple

    @property
    def n_params(self) -> int:
        return len(self.names)

    def impedance(self, frequency, params):
        """Impedance ``(..., n)`` (complex) of parameters ``(..., p)`` at ``frequency`` (Hz)."""
        return circuit_impedance(self, frequency, params)


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise InputError(f"circuit {text!r}: unbalanced ')' at position {i}")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise InputError(f"circuit {text!r}: unbalanced '(' — close every p(...)")
    parts.append(text[start:])
    return parts


def parse_circuit(text: str) -> Circuit:
    """Parse a circuit string (or a name of :data:`SHORTCUTS`) into a :class:`Circuit`.

    Raises
    ------
    InputError
        Empty or malformed string, an unknown element type, a repeated element label, or a
        parallel block with fewer than two branches.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("circuit is empty; give e.g. --circuit \"R0-p(R1,C1)\" or --circuit randles")
    raw = text.strip()
    expanded = SHORTCUTS.get(raw.lower(), raw).replace(" ", "")
    names: list[str] = []
    units: list[str] = []
    positive: list[bool] = []
    leaves: list[Element] = []
    labels: set[str] = set()

    def series(s: str):
        parts = _split_top(s, "-")
        if any(not p for p in parts):
            raise InputError(f"circuit {expanded!r}: empty element in {s!r} (doubled or trailing '-')")
        nodes = [node(p) for p in parts]
        return nodes[0] if len(nodes) == 1 else ("s", nodes)

    def node(s: str):
        if s.startswith("p(") and s.endswith(")"):
            branches = _split_top(s[2:-1], ",")
            if len(branches) < 2 or any(not b for b in branches):
                raise InputError(f"circuit {expanded!r}: {s!r} needs two or more non-empty branches")
            return ("p", [series(b) for b in branches])
        if not _NAME.fullmatch(s):
            raise InputError(f"circuit {expanded!r}: cannot read {s!r}; elements are "
                             f"{', '.join(ELEMENTS)} followed by a label, joined by '-' and p(…,…)")
        kind = next((t for t in _TYPES if s.startswith(t)), None)
        if kind is None:
            raise InputError(f"circuit {expanded!r}: unknown element {s!r}; known types: "
                             f"{', '.join(ELEMENTS)}")
        if s in labels:
            raise InputError(f"circuit {expanded!r}: element {s!r} appears twice; give each a unique label")
        labels.add(s)
        suffixes, unit, pos = ELEMENTS[kind]
        first = len(names)
        names.extend(s + suf for suf in suffixes)
        units.extend(unit)
        positive.extend(pos)
        leaf = Element(kind, s, tuple(range(first, len(names))))
        leaves.append(leaf)
        return leaf

    tree = series(expanded)
    return Circuit(expanded, tree, tuple(names), tuple(units), np.array(positive), tuple(leaves))


def _element(kind: str, omega, cols, derivatives: bool):
    """Impedance ``(N, n)`` of one element and its derivatives (list of ``(N, n)``), params ``(N, 1)``."""
    jw = 1j * omega
    if kind == "R":
        (r,) = cols
        z = np.broadcast_to(r + 0j, (r.shape[0], omega.size))
        return z, [np.ones_like(z)] if derivatives else None
    if kind == "C":
        (c,) = cols
        z = 1.0 / (jw * c)
        return z, [-z / c] if derivatives else None
    if kind == "L":
        (ind,) = cols
        z = jw * ind
        return z, [np.broadcast_to(jw, z.shape) + 0j] if derivatives else None
    if kind == "CPE":
        q, alpha = cols
        log_jw = np.log(omega) + 0.5j * np.pi
        z = np.exp(-alpha * log_jw) / q
        return z, [-z / q, -z * log_jw] if derivatives else None
    if kind == "W":
        (aw,) = cols
        unit = (1.0 - 1.0j) / np.sqrt(omega)
        z = aw * unit
        return z, [np.broadcast_to(unit, z.shape) + 0j] if derivatives else None
    z0, tau = cols
    s = np.sqrt(jw * tau)
    t = np.tanh(s)
    if kind == "Wo":
        shape = 1.0 / (t * s)  # coth(s)/s
        z = z0 * shape
        if not derivatives:
            return z, None
        coth = 1.0 / t
        return z, [shape, -z0 / (2.0 * tau) * ((coth * coth - 1.0) + coth / s)]
    shape = t / s  # Ws
    z = z0 * shape
    if not derivatives:
        return z, None
    return z, [shape, z0 / (2.0 * tau) * ((1.0 - t * t) - t / s)]


def _evaluate(node, omega, p, derivatives: bool):
    """(Z, {param index: dZ}) of a node for parameters ``p`` (N, P)."""
    if isinstance(node, Element):
        z, d = _element(node.kind, omega, [p[:, i:i + 1] for i in node.index], derivatives)
        return z, (dict(zip(node.index, d, strict=False)) if derivatives else None)
    kind, children = node
    parts = [_evaluate(c, omega, p, derivatives) for c in children]
    if kind == "s":
        z = sum(zc for zc, _ in parts)
        return z, ({k: v for _, dc in parts for k, v in dc.items()} if derivatives else None)
    y = sum(1.0 / zc for zc, _ in parts)
    z = 1.0 / y
    if not derivatives:
        return z, None
    out = {}
    for zc, dc in parts:
        factor = (z / zc) ** 2
        out.update({k: factor * v for k, v in dc.items()})
    return z, out


def circuit_impedance(circuit: Circuit | str, frequency, params, *, jacobian: bool = False):
    """Impedance of a circuit for a batch of parameter vectors.

    Parameters
    ----------
    circuit : Circuit or str
        A parsed circuit or a circuit string.
    frequency : array_like (n,)
        Frequencies in Hz (positive).
    params : array_like (..., p)
        Parameter vectors in the order of ``circuit.names``.
    jacobian : bool
        Also return ∂Z/∂p, ``(..., n, p)`` complex.

    Returns
    -------
    ndarray (..., n) complex, or (Z, dZ) with ``jacobian=True``.
    """
    if isinstance(circuit, str):
        circuit = parse_circuit(circuit)
    omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
    p = np.asarray(params, dtype=float)
    if p.shape[-1] != circuit.n_params:
        raise InputError(f"circuit {circuit.text!r} has {circuit.n_params} parameters "
                         f"({', '.join(circuit.names)}), got {p.shape[-1]} values")
    lead = p.shape[:-1]
    pf = p.reshape(-1, circuit.n_params)
    z, d = _evaluate(circuit.tree, omega, pf, jacobian)
    z = np.asarray(z).reshape(lead + (omega.size,))
    if not jacobian:
        return z
    jac = np.stack([np.broadcast_to(d[i], (pf.shape[0], omega.size)) for i in range(circuit.n_params)],
                   axis=-1)
    return z, jac.reshape(lead + (omega.size, circuit.n_params))
