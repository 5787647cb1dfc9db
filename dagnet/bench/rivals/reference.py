"""The plain-Python rival: the reference engine of :mod:`dagnet.showing.reference`, one unit and
one example at a time, taking the training step as :func:`~dagnet.showing.reference.train_step`
derives it. It is the baseline that shows what compiling the derivation buys.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dagnet.bench.rivals.common import Parameters, Step
from dagnet.engine.network import Network
from dagnet.showing import reference

__all__ = ["reference_step"]


def reference_step(
    net: Network, x: NDArray[np.float64], y: NDArray[np.float64], learning_rate: float
) -> Step:
    """One step of :func:`dagnet.showing.reference.train_step`, one unit and one example at a time.

    Parameters
    ----------
    net : Network
        Its current weights and biases are copied, and its loss is the step's.
    x, y : ndarray, shapes (input units, N), (output units, N)
        The minibatch, unit-major.
    learning_rate : float
        η.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/one_path.json"))
    >>> step = reference_step(net, np.array([[0.5]]), np.array([[0.25]]), 0.1)
    >>> step()
    >>> weight, bias = step.parameters()
    >>> bool(np.all(weight != net.weight))  # the copy moved; the network did not
    True
    """
    ref = reference.ReferenceNetwork.from_graph(net.to_graph(), heads=net.heads)
    inputs, targets = np.asarray(x).T.tolist(), np.asarray(y).T.tolist()
    ids = net.plan.unit_ids
    edges = [
        (ids[i], ids[j]) for i, j in zip(net.plan.in_source, net.plan.edge_target, strict=True)
    ]

    def read() -> Parameters:
        weight = np.array([ref.weight[edge] for edge in edges], dtype=np.float64)
        bias = np.array([ref.bias.get(unit, 0.0) for unit in ids], dtype=np.float64)
        return weight, bias

    return Step(
        "reference", lambda: reference.train_step(ref, inputs, targets, learning_rate), read
    )
