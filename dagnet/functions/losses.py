"""The table of losses: each name with its terms in numpy and its compiled error signal.

Arrays are unit-major, shaped (outputs, N) like the engine's state. ``terms`` gives each output
unit's share of the loss for each example, so E_n is their sum over axis 0; ``signal`` is what a
training step calls: it writes ∂E/∂ŷ and sums the loss in one compiled loop, because a dozen
numpy calls cost more than the whole step at batch 1. This module imports nothing else from
dagnet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[np.floating]


def squared_error_terms(y_hat: Array, y: Array) -> Array:
    """½ (ŷ − y)², one value per output unit and example: E = ½ Σ_outputs (ŷ − y)² sums them."""
    return 0.5 * (y_hat - y) ** 2


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


class Loss(NamedTuple):
    """One loss, in the two forms dagnet computes it in."""

    terms: Callable[[Array, Array], Array]
    """(ŷ, y) → each output's loss per example, (outputs, N)."""
    signal: Callable[[Array, NDArray[np.int64], Array, Array, Array], float]
    """Compiled (z, output positions, y, out, by_output) → Σ_n E_n, writing ∂E/∂ŷ into ``out``
    and each output's share of the sum into ``by_output``."""


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(squared_error_terms, squared_error_signal),
}
"""name → :class:`Loss`."""
