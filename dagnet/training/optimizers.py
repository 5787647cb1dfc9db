"""Optimizers: each turns gradients into parameter updates and owns whatever state it keeps.

An optimizer's ``step`` updates the parameter arrays in place. Gradients arrive already averaged
over the minibatch (∂E/∂w = (1/N) Σ_n δ_j z_i), so plain gradient descent is the seed's rule
Δw_{i→j} = −(η/N) Σ_n δ_j z_i exactly, and the same for biases.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["OPTIMIZERS", "SGD"]


class SGD:
    """Plain minibatch gradient descent: p ← p − η ∂E/∂p.

    Parameters
    ----------
    learning_rate : float
        η, the step size.
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(
        self, parameters: Sequence[NDArray[np.floating]], gradients: Sequence[NDArray[np.floating]]
    ) -> None:
        for parameter, gradient in zip(parameters, gradients, strict=True):
            parameter -= self.learning_rate * gradient


OPTIMIZERS = {"sgd": SGD}
"""name → optimizer class, constructed with the learning rate."""
