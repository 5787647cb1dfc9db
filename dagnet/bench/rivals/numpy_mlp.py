"""The plain numpy rival: a dense layered network (an MLP) as numpy matrix products, layer by
layer, the limit that BLAS sets for networks that happen to be layers.

:func:`dense_layers` says whether a network is one (and names what breaks the rule when it is
not); :func:`numpy_mlp_step` takes the training step on it, every state array allocated once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import DTypeLike, NDArray

from dagnet.bench.rivals.common import (
    Array,
    IntArray,
    Parameters,
    Step,
    float_dtype,
    layout_of,
)
from dagnet.engine.network import Network
from dagnet.functions.activations import ACTIVATIONS
from dagnet.functions.losses import head_delta

__all__ = ["dense_layers", "numpy_mlp_step"]


@dataclass(frozen=True)
class _Layer:
    """One dense layer: weight matrix, bias, activation, and where its entries come from."""

    weight: Array  # (units, units of the layer below)
    bias: Array  # (units,)
    activation: str
    units: IntArray  # Plan positions of the rows
    edges: IntArray  # Plan edge of each entry of weight.flat listed in ``place``
    place: IntArray


def dense_layers(net: Network) -> list[tuple[IntArray, str]]:
    """The layers of ``net`` if it is a dense layered network (an MLP), else a ValueError.

    A dense layered network has every unit of level L fed by exactly the units of level L − 1,
    one activation per level, and its output units making up the last level.

    Returns
    -------
    list of (Plan positions, activation name)
        One entry per layer above the inputs; the last layer's units in output order.

    Raises
    ------
    ValueError
        Naming the first unit or level that breaks the rule.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> [(net.plan.unit_ids[p[0]], f) for p, f in dense_layers(net)]
    [('j', 'sigmoid'), ('k', 'sigmoid'), ('o', 'identity')]
    """
    plan, layout = net.plan, layout_of(net.plan)
    ids, level, depth = plan.unit_ids, layout.level, layout.depth
    width = np.diff(layout.start)
    target = plan.edge_target
    skipping = np.flatnonzero(level[plan.in_source] != level[target] - 1)
    if len(skipping):
        p = skipping[0]
        raise ValueError(
            f"not a dense layered network: edge {ids[plan.in_source[p]]} -> {ids[target[p]]} "
            f"skips from level {level[plan.in_source[p]]} to level {level[target[p]]}"
        )
    fan_in = np.diff(plan.in_start)
    hidden = np.arange(plan.n_inputs, plan.n_units)
    partial = hidden[fan_in[hidden] != width[level[hidden] - 1]]
    if len(partial):
        j = partial[0]
        raise ValueError(
            f"not a dense layered network: unit {ids[j]} is fed by {fan_in[j]} of the "
            f"{width[level[j] - 1]} units of level {level[j] - 1}"
        )
    outputs = plan.output_positions
    if len(outputs) != width[depth] or np.any(level[outputs] != depth):
        raise ValueError(
            f"not a dense layered network: the output units "
            f"({', '.join(ids[p] for p in outputs)}) are not exactly the units of the last "
            f"level ({', '.join(ids[p] for p in layout.order[layout.start[depth] :])})"
        )
    layers = []
    for number in range(1, depth + 1):
        runs = layout.runs(plan, number)
        if len(runs) > 1:
            raise ValueError(
                f"not a dense layered network: level {number} mixes the activations "
                f"{', '.join(name for name, _, _ in runs)}"
            )
        units = (
            outputs
            if number == depth
            else layout.order[layout.start[number] : layout.start[number + 1]]
        )
        layers.append((np.asarray(units), runs[0][0]))
    return layers


def numpy_mlp_step(
    net: Network,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    learning_rate: float,
    dtype: DTypeLike = np.float64,
) -> Step:
    """One step of a dense layered network (an MLP) as numpy matrix products, layer by layer.

    s_L = W_L z_{L−1} + b_L and z_L = f_L(s_L) forward; δ_L = f'_L(s_L) ⊙ W_{L+1}ᵀ δ_{L+1}
    backward, from δ = f'(s) ⊙ ∂E/∂ŷ at the outputs; then W_L −= (η/N) δ_L z_{L−1}ᵀ and
    b_L −= (η/N) Σ_n δ_L. f and f' are the array forms of
    :data:`~dagnet.functions.activations.ACTIVATIONS`, ∂E/∂ŷ the error of the network's loss.
    Every state array is allocated once, when the step is built; what f, f' and ∂E/∂ŷ return is
    copied or multiplied into it.

    Parameters
    ----------
    net : Network
        A dense layered network (see :func:`dense_layers`); its parameters are copied.
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.
    dtype : float64 or float32

    Raises
    ------
    ValueError
        When ``net`` is not a dense layered network.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> step = numpy_mlp_step(net, np.array([[0.5, 1.0]]), np.array([[0.5, 0.8]]), 0.1)
    >>> step()
    >>> weight, bias = step.parameters()
    >>> weight.shape, bias.shape
    ((3,), (4,))
    """
    dtype = float_dtype(dtype)
    plan, heads = net.plan, net.heads
    below = np.arange(plan.n_inputs)
    layers = []
    for units, activation in dense_layers(net):
        # Row r of W_L is unit units[r]; column c is unit below[c]; each entry is one edge.
        row = np.empty(plan.n_units, dtype=np.int64)
        row[units] = np.arange(len(units))
        column = np.empty(plan.n_units, dtype=np.int64)
        column[below] = np.arange(len(below))
        edges = np.flatnonzero(np.isin(plan.edge_target, units))
        place = row[plan.edge_target[edges]] * len(below) + column[plan.in_source[edges]]
        weight = np.zeros((len(units), len(below)), dtype=dtype)
        weight.flat[place] = net.weight[edges]
        bias = np.ascontiguousarray(net.bias[units], dtype=dtype)
        layers.append(_Layer(weight, bias[:, None], activation, units, edges, place))
        below = units
    n = x.shape[1]
    targets = np.asarray(y, dtype=dtype)
    z_in = np.asarray(x, dtype=dtype)
    s = [np.empty((len(layer.units), n), dtype=dtype) for layer in layers]
    # An identity layer's z is its s (no copy), and its f' = 1 leaves δ as it is.
    identity = [layer.activation == "identity" for layer in layers]
    z = [z_in] + [s[k] if identity[k] else np.empty_like(s[k]) for k in range(len(layers))]
    delta = [np.empty_like(v) for v in s]
    weight_step = [np.empty_like(layer.weight) for layer in layers]
    functions = [ACTIVATIONS[layer.activation] for layer in layers]
    rate = learning_rate / n

    def scale(k: int) -> None:
        """δ of layer k times f'(s), given z = f(s) (layer k's z is z[k + 1])."""
        if not identity[k]:
            delta[k] *= functions[k].array_derivative(s[k], z[k + 1], np)

    def run() -> None:
        for k, layer in enumerate(layers):
            np.matmul(layer.weight, z[k], out=s[k])
            s[k] += layer.bias
            if not identity[k]:
                np.copyto(z[k + 1], functions[k].array(s[k], np))
        # The last layer is the outputs: the loss's part of their δ, f' in it already.
        last = len(layers) - 1
        slope = np.ones_like(s[last]) if identity[last] else None
        if slope is None:
            slope = functions[last].array_derivative(s[last], z[-1], np)
        np.copyto(delta[-1], head_delta(heads, s[last], z[-1], slope, targets, np))
        for k in range(len(layers) - 1, -1, -1):
            layer = layers[k]
            if k > 0:  # δ of the layer below, through the weights before they change
                np.matmul(layer.weight.T, delta[k], out=delta[k - 1])
                scale(k - 1)
            delta[k] *= rate
            np.matmul(delta[k], z[k].T, out=weight_step[k])
            # (In place through the ufuncs: a frozen _Layer refuses augmented assignment.)
            np.subtract(layer.weight, weight_step[k], out=layer.weight)
            np.subtract(layer.bias, delta[k].sum(axis=1, keepdims=True), out=layer.bias)

    def read() -> Parameters:
        weight = np.zeros(plan.n_edges, dtype=np.float64)
        bias = np.zeros(plan.n_units, dtype=np.float64)
        for layer in layers:
            weight[layer.edges] = layer.weight.flat[layer.place]
            bias[layer.units] = layer.bias[:, 0]
        return weight, bias

    return Step("numpy-mlp", run, read)
