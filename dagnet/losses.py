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
    z: Array, output_positions: NDArray[np.int64], y: Array, out: Array, by_output: Array
) -> float:
    """Write ∂E/∂ŷ = ŷ − y for every output row of the state ``z`` into ``out`` (outputs, N),
    each output's loss summed over the batch into ``by_output``, and return their sum, Σ_n E_n
    (never a warning, even on overflow)."""
    for r in range(len(output_positions)):
        y_hat = z[output_positions[r]]
        output_total = 0.0
        for n in range(y.shape[1]):
            difference = y_hat[n] - y[r, n]
            out[r, n] = difference
            output_total += 0.5 * difference * difference
        by_output[r] = output_total
    return by_output.sum()


ERROR_SIGNALS: dict[str, Callable[[Array, NDArray[np.int64], Array, Array, Array], float]] = {
    "squared_error": squared_error_signal,
}
"""name → compiled (z, output positions, y, out, by_output) → Σ_n E_n, writing ∂E/∂ŷ into
``out`` and each output's share of the sum into ``by_output``."""
