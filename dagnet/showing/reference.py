"""The derivation as plain Python: one unit, one example at a time.

This engine is meant to be read next to the derivation, and it is the oracle the compiled engine
is tested against (and the baseline it is benchmarked against). It shares nothing with the
compiled path except the tables of activations and losses (it calls the activations' scalar
functions as plain Python, and applies the losses' array formulas to one example's outputs):
its own topological order (networkx), its own dictionaries of weights keyed by ``(i, j)``, its
own loops. ``dagnet explain`` prints its numbers.

    s_j = b_j + Σ_{i∈ins(j)} w_{i→j} z_i,     z_j = f_j(s_j)
    δ_j = f'_j(s_j) Σ_{k∈outs(j)} δ_k w_{j→k}  (+ the loss's own part, at an output unit)
    ∂E/∂w_{i→j} = δ_j z_i,   ∂E/∂b_j = δ_j;   a minibatch averages them over its N examples
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from dagnet.errors import ArgumentError
from dagnet.functions.activations import ACTIVATIONS
from dagnet.functions.losses import Head, head_delta, head_terms
from dagnet.graph.heads import heads as heads_of
from dagnet.graph.model import Graph

__all__ = ["ReferenceGradients", "ReferenceNetwork", "backward", "forward", "gradients", "loss",
           "train_step"]  # fmt: skip

Scalar = Callable[[float], float]


def _plain(function: Callable[..., float]) -> Callable[..., float]:
    # The Python function behind a numba-compiled one, so this engine stays plain Python.
    return getattr(function, "py_func", function)


def _functions(name: str) -> tuple[Scalar, Scalar]:
    """f(s) and f'(s) of an activation, as plain Python functions of s."""
    f, derivative = _plain(ACTIVATIONS[name].f), _plain(ACTIVATIONS[name].derivative)
    return f, lambda s: derivative(s, f(s))


@dataclass
class ReferenceNetwork:
    """A network as dictionaries: every weight ``weight[i, j]`` and bias ``bias[j]`` by unit id."""

    order: list[str]
    inputs: list[str]
    outputs: list[str]
    ins: dict[str, list[str]]
    outs: dict[str, list[str]]
    f: dict[str, Scalar]
    f_prime: dict[str, Scalar]
    weight: dict[tuple[str, str], float]
    bias: dict[str, float] = field(default_factory=dict)
    heads: tuple[Head, ...] = ()
    """The objective's losses over the outputs (see :mod:`dagnet.functions.losses`)."""

    @classmethod
    def from_graph(
        cls, graph: Graph, loss: str | None = None, heads: tuple[Head, ...] | None = None
    ) -> ReferenceNetwork:
        """Build from a graph whose every weight is written out (see ``Network.to_graph``);
        ``loss`` for every output, or ``heads`` (a Network's), instead of the graph's own."""
        if any(edge.weight is None for edge in graph.edges):
            raise ArgumentError("the reference engine needs every weight written in the graph")
        digraph = nx.DiGraph()
        digraph.add_nodes_from(unit.id for unit in graph.units)
        digraph.add_edges_from((edge.source, edge.target) for edge in graph.edges)
        activation = {unit.id: unit.effective_activation or "identity" for unit in graph.units}
        return cls(
            order=list(nx.topological_sort(digraph)),
            inputs=[unit.id for unit in graph.units if unit.role == "input"],
            outputs=[unit.id for unit in graph.units if unit.role == "output"],
            ins={u: list(digraph.predecessors(u)) for u in digraph},
            outs={u: list(digraph.successors(u)) for u in digraph},
            f={u: _functions(name)[0] for u, name in activation.items()},
            f_prime={u: _functions(name)[1] for u, name in activation.items()},
            weight={(e.source, e.target): float(e.weight) for e in graph.edges},  # type: ignore[arg-type]
            bias={unit.id: unit.bias or 0.0 for unit in graph.units if unit.role != "input"},
            heads=heads if heads is not None else heads_of(graph, loss),
        )


def forward(net: ReferenceNetwork, x: Sequence[float]) -> tuple[dict[str, float], dict[str, float]]:
    """s_j and z_j of every unit for one example ``x`` (one value per input unit)."""
    s: dict[str, float] = {}
    z: dict[str, float] = dict(zip(net.inputs, map(float, x), strict=True))
    for j in net.order:
        if j in z:
            s[j] = z[j]
            continue
        s[j] = net.bias[j] + sum(net.weight[i, j] * z[i] for i in net.ins[j])
        z[j] = net.f[j](s[j])
    return s, z


def backward(
    net: ReferenceNetwork, s: dict[str, float], z: dict[str, float], y: Sequence[float]
) -> dict[str, float]:
    """δ_j of every non-input unit for one example with targets ``y``, by reverse order."""
    direct = dict(zip(net.outputs, _output_delta(net, s, z, y), strict=True))
    delta: dict[str, float] = {}
    for j in reversed(net.order):
        if j in net.inputs:
            continue
        error = sum(delta[k] * net.weight[j, k] for k in net.outs[j])
        delta[j] = net.f_prime[j](s[j]) * error + direct.get(j, 0.0)
    return delta


def _outputs(
    net: ReferenceNetwork, s: dict[str, float], z: dict[str, float], y: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """s, ŷ and y of the outputs, as (outputs, 1) arrays for the loss table's formulas."""
    return (
        np.array([[s[o]] for o in net.outputs]),
        np.array([[z[o]] for o in net.outputs]),
        np.array([[float(t)] for t in y]),
    )


def _output_delta(
    net: ReferenceNetwork, s: dict[str, float], z: dict[str, float], y: Sequence[float]
) -> list[float]:
    """The loss's own part of each output's δ, ∂E/∂s_o of its terms."""
    s_out, y_hat, target = _outputs(net, s, z, y)
    slope = np.array([[net.f_prime[o](s[o])] for o in net.outputs])
    return [float(v) for v in head_delta(net.heads, s_out, y_hat, slope, target, np)[:, 0]]


@dataclass
class ReferenceGradients:
    loss: float
    weight: dict[tuple[str, str], float]
    bias: dict[str, float]


def gradients(
    net: ReferenceNetwork, inputs: Sequence[Sequence[float]], targets: Sequence[Sequence[float]]
) -> ReferenceGradients:
    """Mean loss and mean ∂E/∂w, ∂E/∂b over a minibatch, one example at a time."""
    n = len(inputs)
    result = ReferenceGradients(0.0, dict.fromkeys(net.weight, 0.0), dict.fromkeys(net.bias, 0.0))
    for x, y in zip(inputs, targets, strict=True):
        s, z = forward(net, x)
        delta = backward(net, s, z, y)
        result.loss += loss(net, s, z, y) / n
        for i, j in net.weight:
            result.weight[i, j] += delta[j] * z[i] / n
        for j in net.bias:
            result.bias[j] += delta[j] / n
    return result


def loss(
    net: ReferenceNetwork, s: dict[str, float], z: dict[str, float], y: Sequence[float]
) -> float:
    """E_n of one example: the loss terms of every output unit, summed."""
    return float(np.sum(head_terms(net.heads, *_outputs(net, s, z, y), np)))


def train_step(
    net: ReferenceNetwork,
    inputs: Sequence[Sequence[float]],
    targets: Sequence[Sequence[float]],
    learning_rate: float,
) -> float:
    """One minibatch of gradient descent, Δw = −(η/N) Σ_n δ_j z_i; returns the mean loss."""
    grads = gradients(net, inputs, targets)
    for edge, g in grads.weight.items():
        net.weight[edge] -= learning_rate * g
    for unit, g in grads.bias.items():
        net.bias[unit] -= learning_rate * g
    return grads.loss
