"""The table of losses: each name with E(ŷ, y) per example and its gradient ∂E/∂ŷ.

Arrays are unit-major, shaped (outputs, N) like the engine's state, so a loss sums over axis 0
(the output units) and returns one value per example. This module imports nothing else from
dagnet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
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
