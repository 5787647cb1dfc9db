"""Hypothesis strategies for the tests: random valid graph files and batches of data for them.

A random graph is built from a random topological order, so it is acyclic by construction: every
edge runs forward in that order, every non-input unit gets at least one in-edge, and outputs may
stand anywhere after the inputs, so that an output often feeds hidden units or other outputs.
The units and edges are then shuffled, because their order in the file must not matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dagnet.functions.activations import ACTIVATION_NAMES
from dagnet.graph.model import Graph

SMOOTH_ACTIVATIONS = ("identity", "sigmoid", "tanh", "elu", "softplus", "gaussian", "sin")
"""Activations with a continuous derivative, for finite differences (elu's f'' jumps at 0)."""

KINKED_ACTIVATIONS = ("relu", "leaky_relu", "selu", "abs", "neat_lelu")
"""Activations whose derivative jumps at s = 0."""

OTHER_ACTIVATIONS = tuple(
    name for name in ACTIVATION_NAMES if name not in SMOOTH_ACTIVATIONS + KINKED_ACTIVATIONS
)
"""The rest: smooth but fast-growing (square, cube, exp), kinked away from 0 (clamped, hat,
the neat_* clamps, the stepwise), or flat (step): tested one by one, not in random graphs."""

parameters = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)
"""A weight or a bias: finite and moderate, so that no activation saturates completely."""

data_values = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
"""An input or a target value."""


@st.composite
def graph_documents(
    draw: st.DrawFn,
    activations: Sequence[str] = ACTIVATION_NAMES,
    max_hidden: int = 12,
) -> dict[str, Any]:
    """A valid graph document with every weight written and its units and edges shuffled.

    Parameters
    ----------
    activations : sequence of str
        The activations units may be given; a unit may also be left to its role's default
        (sigmoid or identity, both smooth).
    max_hidden : int
        At most this many hidden units (1-4 inputs and 1-3 outputs are always drawn).
    """
    n_inputs = draw(st.integers(1, 4), label="inputs")
    n_hidden = draw(st.integers(0, max_hidden), label="hidden units")
    n_outputs = draw(st.integers(1, 3), label="outputs")
    inputs = [f"x{n}" for n in range(n_inputs)]
    hidden = [f"h{n}" for n in range(n_hidden)]
    outputs = [f"y{n}" for n in range(n_outputs)]
    role = dict.fromkeys(inputs, "input") | dict.fromkeys(hidden, "hidden")
    role |= dict.fromkeys(outputs, "output")

    # Execution order: the inputs, then hidden units and outputs interleaved at random.
    rest = draw(st.permutations(hidden + outputs), label="topological order")
    fed_by_output = len(rest) > 1 and draw(st.booleans(), label="an output feeds a unit")
    if fed_by_output:
        # Often an output comes last; swap it to the middle so that something can follow it.
        feeder = draw(st.sampled_from(outputs), label="feeding output")
        position = rest.index(feeder)
        if position == len(rest) - 1:
            other = draw(st.integers(0, len(rest) - 2), label="swap with")
            rest[position], rest[other] = rest[other], rest[position]
    order = inputs + rest
    edges: set[tuple[str, str]] = set()
    for position in range(n_inputs, len(order)):
        earlier = order[:position]
        sources = draw(st.sets(st.sampled_from(earlier), min_size=1, max_size=4))
        edges |= {(source, order[position]) for source in sources}
    if fed_by_output:
        later = order[order.index(feeder) + 1 :]
        edges.add((feeder, draw(st.sampled_from(later), label="fed unit")))
    if draw(st.booleans(), label="force a skip edge"):
        edges.add((draw(st.sampled_from(inputs)), draw(st.sampled_from(outputs))))

    units: list[dict[str, Any]] = []
    for unit_id in order:
        unit: dict[str, Any] = {"id": unit_id, "role": role[unit_id]}
        if role[unit_id] != "input":
            activation = draw(st.none() | st.sampled_from(list(activations)))
            if activation is not None:
                unit["activation"] = activation
            bias = draw(st.none() | parameters)
            if bias is not None:
                unit["bias"] = bias
        units.append(unit)
    edge_list = [
        {"source": source, "target": target, "weight": draw(parameters)}
        for source, target in sorted(edges)
    ]
    return {
        "format_version": 1,
        "units": draw(st.permutations(units), label="file order of units"),
        "edges": draw(st.permutations(edge_list), label="file order of edges"),
    }


def graphs(
    activations: Sequence[str] = ACTIVATION_NAMES, max_hidden: int = 12
) -> st.SearchStrategy[Graph]:
    """Like :func:`graph_documents`, as validated :class:`~dagnet.graph.model.Graph` models."""
    return graph_documents(activations, max_hidden).map(Graph.model_validate)


def batches(
    graph: Graph, min_examples: int = 1, max_examples: int = 8
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Inputs X (N, input units) and targets Y (N, output units) for ``graph``, N from 1 to 8."""
    n_inputs = sum(unit.role == "input" for unit in graph.units)
    n_outputs = sum(unit.role == "output" for unit in graph.units)
    return st.integers(min_examples, max_examples).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, (n, n_inputs), elements=data_values),
            hnp.arrays(np.float64, (n, n_outputs), elements=data_values),
        )
    )


@st.composite
def graphs_with_data(
    draw: st.DrawFn, activations: Sequence[str] = ACTIVATION_NAMES, max_hidden: int = 12
) -> tuple[Graph, np.ndarray, np.ndarray]:
    """A random graph and a batch (X, Y) that fits it."""
    graph = draw(graphs(activations, max_hidden))
    x, y = draw(batches(graph))
    return graph, x, y


def reordered(graph: Graph) -> st.SearchStrategy[Graph]:
    """``graph`` with its units and edges in another file order."""
    return st.tuples(st.permutations(graph.units), st.permutations(graph.edges)).map(
        lambda order: graph.model_copy(update={"units": order[0], "edges": order[1]})
    )


@st.composite
def graphs_with_losses(
    draw: st.DrawFn, loss: str | None = None, max_hidden: int = 8
) -> tuple[Graph, np.ndarray, np.ndarray]:
    """A random graph whose outputs have the given loss (or, for None, a mix: some outputs
    cross-entropy, a softmax group of two or more, the rest squared error, each head with a
    random weight), its outputs' activations set to what their losses need, and a batch of
    targets that those losses take (probabilities; one-hot or soft rows for a group)."""
    document = draw(graph_documents(SMOOTH_ACTIVATIONS, max_hidden))
    outputs = [unit["id"] for unit in document["units"] if unit["role"] == "output"]
    need = {"cross_entropy": "sigmoid", "softmax_cross_entropy": "identity"}
    heads: list[dict[str, Any]] = []
    if loss is not None:
        if loss == "softmax_cross_entropy" and len(outputs) < 2:
            outputs.append("y_extra")  # a group needs two: a second output, fed by an input
            source = next(u["id"] for u in document["units"] if u["role"] == "input")
            document["units"].append({"id": "y_extra", "role": "output"})
            document["edges"].append({"source": source, "target": "y_extra", "weight": 0.3})
        heads.append({"outputs": outputs, "loss": loss, "name": "all"})
    else:
        order = draw(st.permutations(outputs), label="outputs by head")
        cut = draw(st.integers(0, len(order)), label="cross-entropy outputs")
        group = draw(st.integers(0, len(order) - cut), label="softmax group size")
        if group == 1:
            group = 0
        if cut:
            heads.append({"outputs": order[:cut], "loss": "cross_entropy", "name": "binary"})
        if group:
            heads.append({"outputs": order[cut : cut + group], "loss": "softmax_cross_entropy",
                          "name": "group"})  # fmt: skip
        if cut + group < len(order):
            heads.append({"outputs": order[cut + group :], "loss": "squared_error",
                          "name": "regression"})  # fmt: skip
        for head in heads:
            head["weight"] = draw(st.sampled_from([0.5, 1.0, 2.0]), label="weight")
    activation = {o: need.get(h["loss"]) for h in heads for o in h["outputs"]}
    for unit in document["units"]:
        if activation.get(unit["id"]):
            unit["activation"] = activation[unit["id"]]
    document["format_version"] = 2
    document["training"] = {"losses": heads}
    graph = Graph.model_validate(document)
    outputs = [unit.id for unit in graph.units if unit.role == "output"]
    x, y = draw(batches(graph))
    n = len(x)
    for head in heads:
        columns = [outputs.index(o) for o in head["outputs"]]
        if head["loss"] == "cross_entropy":
            y[:, columns] = draw(hnp.arrays(np.float64, (n, len(columns)),
                                            elements=st.floats(0, 1)))  # fmt: skip
        elif head["loss"] == "softmax_cross_entropy":
            weights = draw(hnp.arrays(np.float64, (n, len(columns)),
                                      elements=st.floats(0.01, 1)))  # fmt: skip
            y[:, columns] = weights / weights.sum(axis=1, keepdims=True)
    return graph, x, y
