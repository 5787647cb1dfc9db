"""Check the engine's gradients against central finite differences, parameter by parameter.

For every weight and bias θ the mean loss E over a batch is evaluated at θ + h and θ − h and
(E(θ + h) − E(θ − h)) / 2h is compared with the engine's ∂E/∂θ from backpropagation, in float64.
The comparison is the *relative error*

    |g − ĝ| / max(|g|, |ĝ|, FLOOR)

of the engine's g and the finite difference ĝ. The floor keeps the error of a gradient near zero
meaningful: below it the error is an absolute one, scaled by 1/FLOOR, instead of a ratio of two
rounding errors. Each evaluation is a compiled forward pass over the whole batch; the loop over
parameters stays in Python because this is a check, not the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagnet.engine.network import Network, unit_major

__all__ = [
    "EPSILON",
    "FLOOR",
    "TOLERANCE",
    "UnitCheck",
    "finite_differences",
    "gradcheck",
    "relative_error",
]

Array = NDArray[np.float64]

EPSILON = 1e-6
"""The default step h of the central differences."""

FLOOR = 1e-7
"""Gradients smaller than this count as this large in the relative error's denominator."""

TOLERANCE = 1e-5
"""The default largest relative error a check accepts."""


@dataclass(frozen=True)
class UnitCheck:
    """The worst parameter of one unit: its weights in and its bias.

    ``parameter`` names it as ``(source, target)`` for a weight or the unit id for the bias.
    """

    unit: str
    parameters: int
    parameter: tuple[str, str] | str
    engine: float
    finite_difference: float
    relative_error: float


def relative_error(engine: ArrayLike, finite_difference: ArrayLike) -> Array:
    """|g − ĝ| / max(|g|, |ĝ|, FLOOR), elementwise.

    Examples
    --------
    >>> relative_error([1.0, 1e-12], [1.001, 0.0]).round(6).tolist()
    [0.000999, 1e-05]
    """
    g, g_hat = np.asarray(engine, dtype=np.float64), np.asarray(finite_difference, np.float64)
    return np.abs(g - g_hat) / np.maximum(np.maximum(np.abs(g), np.abs(g_hat)), FLOOR)


def finite_differences(
    net: Network, inputs: ArrayLike, targets: ArrayLike, epsilon: float = EPSILON
) -> tuple[Array, Array]:
    """Central differences of the mean loss for every weight and bias (Plan order).

    ``net`` is left as it was found. Input units have no bias; their entries are 0.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> weight, bias = finite_differences(dagnet.Network(graph), [[1.0]], [[0.5]])
    >>> weight.round(8).tolist(), bias.round(8).tolist()  # δ_y z_x = (2 − 0.5) · 1
    ([1.5], [0.0, 1.5])
    """
    x = unit_major(inputs, net.input_ids, "inputs")
    y = unit_major(targets, net.output_ids, "targets")

    def loss() -> float:
        return net.mean_loss(net.evaluate(x)[1], y)

    def derivative(values: NDArray[np.floating], index: int) -> float:
        kept = values[index]
        try:
            values[index] = kept + epsilon
            above = loss()
            values[index] = kept - epsilon
            below = loss()
        finally:
            values[index] = kept
        return (above - below) / (2 * epsilon)

    weight = np.array([derivative(net.weight, p) for p in range(net.plan.n_edges)])
    bias = np.zeros(net.plan.n_units)
    for j in range(net.plan.n_inputs, net.plan.n_units):
        bias[j] = derivative(net.bias, j)
    return weight, bias


def gradcheck(
    net: Network, inputs: ArrayLike, targets: ArrayLike, epsilon: float = EPSILON
) -> list[UnitCheck]:
    """Compare backpropagation with finite differences; the worst parameter of each unit.

    Parameters
    ----------
    net : Network
    inputs : array_like, shape (N, input units)
    targets : array_like, shape (N, output units)
    epsilon : float
        The step h of the central differences.

    Returns
    -------
    list of UnitCheck
        One per non-input unit, in execution order.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 2.0}]})
    >>> [check] = gradcheck(dagnet.Network(graph), [[1.0], [2.0]], [[0.5], [3.0]])
    >>> check.unit, check.parameters, bool(check.relative_error < 1e-8)
    ('y', 2, True)
    """
    plan = net.plan
    x = unit_major(inputs, net.input_ids, "inputs")
    y = unit_major(targets, net.output_ids, "targets")
    _, weight_gradient, bias_gradient = net.backpropagate(*net.evaluate(x), y)
    weight_fd, bias_fd = finite_differences(net, inputs, targets, epsilon)
    weight_error = relative_error(weight_gradient, weight_fd)
    bias_error = relative_error(bias_gradient, bias_fd)
    checks = []
    for j in range(plan.n_inputs, plan.n_units):
        edges = range(plan.in_start[j], plan.in_start[j + 1])
        # The bias first, then the in-edges: on a tie the bias is named.
        candidates: list[tuple[Any, tuple[str, str] | str, Any, Any]] = [
            (bias_error[j], plan.unit_ids[j], bias_gradient[j], bias_fd[j])
        ]
        candidates += [
            (
                weight_error[p],
                (plan.unit_ids[plan.in_source[p]], plan.unit_ids[j]),
                weight_gradient[p],
                weight_fd[p],
            )
            for p in edges
        ]
        error, parameter, engine, fd = max(candidates, key=lambda candidate: candidate[0])
        checks.append(
            UnitCheck(plan.unit_ids[j], len(candidates), parameter, engine, fd, float(error))
        )
    return checks
