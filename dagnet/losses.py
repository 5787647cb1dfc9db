"""The table of losses: each name with E(ŷ, y) per example and its gradient ∂E/∂ŷ.

Arrays are unit-major, shaped (outputs, N) like the engine's state, so a loss sums over axis 0
(the output units) and returns one value per example. Each loss also has a compiled form that
a training step uses: a dozen numpy calls cost more than the whole step at batch 1. This module
imports nothing else from dagnet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[np.floating]


def squared_error(y_hat: Array, y: Array) -> Array:
    """E = ½ Σ_outputs (ŷ − y)², one value per example."""
    return np.sum(squared_error_terms(y_hat, y), axis=0)


def squared_error_terms(y_hat: Array, y: Array) -> Array:
    """½ (ŷ − y)², one value per output unit and example: the terms E sums over the outputs."""
    return 0.5 * (y_hat - y) ** 2


def squared_error_gradient(y_hat: Array, y: Array) -> Array:
    """∂E/∂ŷ = ŷ − y."""
    return y_hat - y


LOSSES: dict[str, tuple[Callable[[Array, Array], Array], Callable[[Array, Array], Array]]] = {
    "squared_error": (squared_error, squared_error_gradient),
}
"""name → (E, ∂E/∂ŷ)."""

LOSS_TERMS: dict[str, Callable[[Array, Array], Array]] = {
    "squared_error": squared_error_terms,
}
"""name → the loss of each output unit separately, (outputs, N); summed over axis 0 it is E."""


@njit(cache=True)
def squared_error_signal(
    z: Array, output_positions: NDArray[np.int64], y: Array, out: Array
) -> float:
    """Write ∂E/∂ŷ = ŷ − y for every output row of the state ``z`` into ``out`` (outputs, N),
    and return Σ_n E_n, the loss summed over the batch (never a warning, even on overflow)."""
    total = 0.0
    for r in range(len(output_positions)):
        y_hat = z[output_positions[r]]
        for n in range(y.shape[1]):
            difference = y_hat[n] - y[r, n]
            out[r, n] = difference
            total += 0.5 * difference * difference
    return total


ERROR_SIGNALS: dict[str, Callable[[Array, NDArray[np.int64], Array, Array], float]] = {
    "squared_error": squared_error_signal,
}
"""name → compiled (z, output positions, y, out) → Σ_n E_n, writing ∂E/∂ŷ into ``out``."""
