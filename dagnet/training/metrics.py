"""How well a network does on a set of examples: its loss overall, per output and per head, and
the accuracy of every head that classifies.

Accuracy is the share of examples classed right: for a softmax group, the output with the
largest probability is the target's largest (argmax of p against argmax of y); for a
cross-entropy output, p ≥ 0.5 against y ≥ 0.5, counted over every such output of the head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagnet.engine.network import Network
from dagnet.functions.losses import Head

__all__ = ["Evaluation", "accuracy", "evaluate", "evaluation_of"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Evaluation:
    """The mean loss E over ``examples``, its share per output unit and per head (by name),
    and the accuracy of each classifying head (by name; empty when none classifies)."""

    loss: float
    examples: int
    output_loss: dict[str, float]
    head_loss: dict[str, float]
    accuracy: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-ready values."""
        return {
            "loss": self.loss,
            "examples": self.examples,
            "output_loss": self.output_loss,
            "head_loss": self.head_loss,
            "accuracy": self.accuracy,
        }


def evaluate(net: Network, inputs: ArrayLike, targets: ArrayLike) -> Evaluation:
    """Loss and accuracy of ``net`` on examples (inputs (N, inputs), targets (N, outputs)).

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> dagnet.evaluate(net, [[0, 1], [1, 1]], [[1], [0]]).examples
    2
    """
    x, y = net.examples(inputs, targets)
    s, z = net.evaluate(x)
    return evaluation_of(net, s, z, y)


def evaluation_of(
    net: Network, s: NDArray[np.floating], z: NDArray[np.floating], y: NDArray[np.floating]
) -> Evaluation:
    """:func:`evaluate` for a pass's unit-major state s, z and targets y."""
    terms = net.output_terms(s, z, y)
    by_output = terms.mean(axis=1)
    values = net.output_values(s, z)
    targets: Array = y.astype(np.float64)
    return Evaluation(
        loss=float(np.sum(terms, axis=0).mean()),
        examples=int(targets.shape[1]),
        output_loss=dict(zip(net.output_ids, by_output.tolist(), strict=True)),
        head_loss={head.name: float(by_output[list(head.slots)].sum()) for head in net.heads},
        accuracy={
            head.name: accuracy(head, values, targets)
            for head in net.heads
            if head.function.classifies
        },
    )


def accuracy(head: Head, values: Array, y: Array) -> float:
    """The share of ``head``'s examples classed right, from output values and targets, both
    unit-major (outputs, N)."""
    rows = list(head.slots)
    p, target = values[rows], y[rows]
    if head.function.grouped:
        return float(np.mean(np.argmax(p, axis=0) == np.argmax(target, axis=0)))
    threshold = head.function.threshold
    assert threshold is not None
    return float(np.mean((p >= threshold) == (target >= threshold)))
