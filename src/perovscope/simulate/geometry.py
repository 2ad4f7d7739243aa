"""Layer stack of the device cross-section: rough interfaces, layer weights and labels at any point.

Coordinates are the specimen frame in nm: ``y`` along the growth direction (image rows, increasing
downwards from the glass towards the Al cathode) and ``x`` along the interfaces (image columns). This
frame coincides with the HAADF grid of frame 0.

Each interface is a height profile ``h_k(x)``: its nominal position plus a Gaussian-correlated random
roughness of given RMS amplitude and lateral correlation length (a standard model of thin-film
interface roughness). Interfaces never cross. Chemically, each interface is intermixed over an error
function of width ``interface_width_nm`` (interdiffusion), so layer weights at a point are

    w_k(y, x) = Φ((y - h_{k-1}(x)) / σ) - Φ((y - h_k(x)) / σ),

which sum to one; a layer of zero thickness gets zero weight.

References
----------
.. [1] S. K. Sinha, E. B. Sirota, S. Garoff and H. B. Stanley, "X-ray and neutron scattering from rough
   surfaces", Phys. Rev. B 38, 2297 (1988) — Gaussian height statistics with a correlation length.
.. [2] J. Crank, The Mathematics of Diffusion, 2nd ed., Oxford (1975) — erf interdiffusion profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import ndtr

from .materials import LAYER_NAMES

__all__ = ["Stack", "build_stack", "interface_heights", "layer_weights", "layer_label",
           "interface_slopes"]


@dataclass(frozen=True)
class Stack:
    """Rough interfaces of the layer stack.

    Attributes
    ----------
    names : tuple of str
        Layer names top to bottom (:data:`materials.LAYER_NAMES`).
    x_nm : numpy.ndarray, shape (n,)
        Lateral sampling of the interface profiles.
    heights_nm : numpy.ndarray, shape (n_layers - 1, n)
        ``heights_nm[k]`` is the boundary between layer ``k`` and ``k + 1``; the AlCl₃ layer has zero
        thickness here (its lower boundary is moved per frame as it grows).
    """

    names: tuple[str, ...]
    x_nm: np.ndarray
    heights_nm: np.ndarray

    @property
    def interface_names(self) -> list[str]:
        return [f"{a}/{b}" for a, b in zip(self.names[:-1], self.names[1:], strict=True)]

    def with_alcl3(self, thickness_nm: float) -> Stack:
        """The stack with an AlCl₃ layer of ``thickness_nm`` grown into the Al below the LiF."""
        h = self.heights_nm.copy()
        k = self.names.index("AlCl3")
        h[k] = h[k - 1] + float(thickness_nm)
        return Stack(self.names, self.x_nm, h)


def build_stack(thicknesses_nm: dict[str, float], *, width_nm: float, roughness_nm: float,
                correlation_nm: float, rng: np.random.Generator, dx_nm: float = 0.25) -> Stack:
    """Rough layer stack with the given (visible) thicknesses; the Al fills everything below.

    Parameters
    ----------
    thicknesses_nm : dict
        Thickness of each layer except the last (``Al``) and ``AlCl3`` (grown later), in nm.
    width_nm : float
        Lateral extent to sample (the field of view plus a margin).
    roughness_nm : float
        RMS height deviation of every interface.
    correlation_nm : float
        Lateral correlation length (σ of the Gaussian smoothing kernel) of the roughness.
    rng : numpy.random.Generator
        Source of the random profiles.
    dx_nm : float
        Lateral sampling step.
    """
    names = LAYER_NAMES
    x = np.arange(-4 * correlation_nm, width_nm + 4 * correlation_nm + dx_nm, dx_nm)
    nominal = np.cumsum([thicknesses_nm.get(n, 0.0) for n in names[:-1]])
    h = np.empty((len(names) - 1, x.size))
    for k, y0 in enumerate(nominal):
        noise = gaussian_filter1d(rng.standard_normal(x.size), correlation_nm / dx_nm, mode="wrap")
        sd = noise.std()
        h[k] = y0 + (roughness_nm * noise / sd if sd > 0 and roughness_nm > 0 else 0.0)
    k_alcl3 = names.index("AlCl3")
    h[k_alcl3] = h[k_alcl3 - 1]
    h = np.maximum.accumulate(h, axis=0)  # interfaces never cross
    return Stack(names, x, h)


def interface_heights(stack: Stack, x_nm) -> np.ndarray:
    """Interface heights ``(n_interface, *x.shape)`` at lateral positions ``x_nm`` (linear interp)."""
    x = np.asarray(x_nm, dtype=float)
    return np.stack([np.interp(x, stack.x_nm, hk) for hk in stack.heights_nm])


def interface_slopes(stack: Stack, x_nm) -> np.ndarray:
    """Slopes dh/dx ``(n_interface, *x.shape)`` of every interface at ``x_nm``."""
    x = np.asarray(x_nm, dtype=float)
    grad = np.gradient(stack.heights_nm, stack.x_nm, axis=1)
    return np.stack([np.interp(x, stack.x_nm, gk) for gk in grad])


def layer_weights(y_nm, heights, *, width_nm: float) -> np.ndarray:
    """Fractions ``(..., n_layers)`` of every layer at points ``y_nm`` given interface heights there.

    ``heights`` has shape ``(n_interface, *y.shape)``; with ``width_nm == 0`` the weights are sharp
    (0 or 1).
    """
    y = np.asarray(y_nm, dtype=float)
    d = y[None] - heights
    above = ndtr(d / width_nm) if width_nm > 0 else (d > 0).astype(float)
    ones = np.ones((1, *y.shape))
    zeros = np.zeros((1, *y.shape))
    cum = np.concatenate([ones, above, zeros])       # P(beyond boundary k-1)
    w = cum[:-1] - cum[1:]
    return np.moveaxis(np.clip(w, 0.0, 1.0), 0, -1)


def layer_label(y_nm, heights) -> np.ndarray:
    """Integer layer index at points ``y_nm``: the number of interfaces above the point."""
    y = np.asarray(y_nm, dtype=float)
    return np.sum(y[None] >= heights, axis=0).astype(np.int16)
