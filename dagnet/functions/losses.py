"""The table of losses: each name with its per-example terms, its output error ∂E/∂ŷ, its
compiled error signal, and how ``explain`` writes it.

One entry per loss is everything dagnet knows of it: ``terms`` and ``error`` are formulas of
plain arithmetic, so the same lines serve numpy arrays (unit-major, (outputs, N), as the
engine's state), PyTorch tensors (the benchmark's rivals) and single numbers (the reference
engine); ``signal`` is what a training step calls, writing ∂E/∂ŷ and summing the loss in one
compiled loop, because a dozen numpy calls cost more than the whole step at batch 1. A new loss
is one entry here, plus its tests. This module imports nothing else from dagnet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["LOSSES", "Loss"]

Array = NDArray[np.floating]
Values = Any  # numbers, numpy arrays or torch tensors: the formulas are plain arithmetic
Write = Callable[[str, str], str]
"""(ŷ, y) as text → a loss's text for one output."""


@dataclass(frozen=True)
class Loss:
    """One loss E, as every part of dagnet computes or writes it."""

    terms: Callable[[Values, Values], Values]
    """(ŷ, y) → each output's share of E_n for each example; E_n is their sum over outputs."""
    error: Callable[[Values, Values], Values]
    """(ŷ, y) → ∂E_n/∂ŷ, the error an output unit's δ starts from."""
    signal: Callable[[Array, NDArray[np.int64], Array, Array, Array], float]
    """Compiled (z, output positions, y, out, by_output) → Σ_n E_n, writing ∂E/∂ŷ for every
    output row of the state ``z`` into ``out`` (outputs, N) and each output's share of the sum
    into ``by_output``; never a warning, even on overflow."""
    formula: str
    """E_n over all outputs, in Unicode: ``E = ½ Σ_o (ŷ_o − y_o)²``."""
    ascii_formula: str
    term_text: Callable[[str, str, bool], str]
    """(ŷ, y, ascii) → one output's share of E as text, for the sum ``explain`` writes out."""
    error_text: Callable[[str, str, bool], str]
    """(ŷ, y, ascii) → ∂E/∂ŷ as text, the start of an output unit's error signal."""
    sum_prefix: tuple[str, str] = ("", "")
    """What stands before the sum of an example's terms (Unicode, ASCII): ``½ `` for squared
    error, which factors the half out of its terms."""


def _squared_error_terms(y_hat: Values, y: Values) -> Values:
    return 0.5 * (y_hat - y) ** 2


def _squared_error(y_hat: Values, y: Values) -> Values:
    return y_hat - y


@njit(cache=True)
def _squared_error_signal(
    z: Array, output_positions: NDArray[np.int64], y: Array, out: Array, by_output: Array
) -> float:
    for r in range(len(output_positions)):
        y_hat = z[output_positions[r]]
        output_total = 0.0
        for n in range(y.shape[1]):
            difference = y_hat[n] - y[r, n]
            out[r, n] = difference
            output_total += 0.5 * difference * difference
        by_output[r] = output_total
    return float(by_output.sum())


def _minus(y_hat: str, y: str, plain: bool) -> str:
    return f"{y_hat}{' - ' if plain else ' − '}{y}"


LOSSES: dict[str, Loss] = {
    "squared_error": Loss(
        terms=_squared_error_terms,
        error=_squared_error,
        signal=_squared_error_signal,
        formula="E = ½ Σ_o (ŷ_o − y_o)²",
        ascii_formula="E = 1/2 sum_o (yhat_o - y_o)^2",
        term_text=lambda y_hat, y, plain: f"({_minus(y_hat, y, plain)}){'^2' if plain else '²'}",
        error_text=_minus,
        sum_prefix=("½ ", "1/2 "),
    ),
}
"""name → :class:`Loss`."""
