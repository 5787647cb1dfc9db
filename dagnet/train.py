"""fit(): minibatch gradient descent over epochs, with seeded shuffling and progress reports.

One training iteration is the derivation's three steps: feed the minibatch forward recording
every s_j and z_j, walk the units in reverse computing every δ_j, then update every weight by
Δw_{i→j} = −(η/N) Σ_n δ_j z_i. The loop here is over epochs and minibatches only; everything per
unit or per example happens in the compiled kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from dagnet.errors import TrainingError
from dagnet.losses import LOSS_TERMS
from dagnet.network import Network, unit_major
from dagnet.optimizers import OPTIMIZERS

SHUFFLE_STREAM = 1
"""Which ``default_rng([seed, stream])`` stream shuffles the examples (weights use 0)."""

Progress = Callable[[int, float], None]
"""Called after each epoch with the epoch number (from 1) and its mean loss."""


@dataclass
class History:
    """What a run did: the mean loss of each epoch, and the loss after the last one.

    ``epoch_loss[e]`` averages the minibatch losses of epoch e+1 as they were met, weights
    changing along the way; ``final_loss`` is one clean pass over all the data at the end.
    ``output_loss[e]`` and ``final_output_loss`` split those into the share of each output
    unit (file order), so that they sum to ``epoch_loss[e]`` and ``final_loss``.
    """

    epoch_loss: list[float] = field(default_factory=list)
    final_loss: float = float("nan")
    output_loss: list[list[float]] = field(default_factory=list)
    final_output_loss: list[float] = field(default_factory=list)


def fit(
    net: Network,
    inputs: ArrayLike,
    targets: ArrayLike,
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
    optimizer: str = "sgd",
    progress: Progress | None = None,
) -> History:
    """Train ``net`` in place by minibatch gradient descent.

    Parameters
    ----------
    net : Network
    inputs : array_like, shape (N, input units)
    targets : array_like, shape (N, output units)
    epochs : int
        Passes over the data.
    learning_rate : float
        η.
    batch_size : int, default 32
        Examples per step; the last minibatch of an epoch may be smaller.
    shuffle : bool, default True
        Visit the examples in a new random order each epoch.
    seed : int, optional
        Seeds the shuffling (``numpy.random.default_rng([seed, 1])``); defaults to ``net.seed``,
        and when that is None too, the shuffling is not reproducible.
    optimizer : str, default "sgd"
    progress : callable, optional
        ``progress(epoch, loss)`` after each epoch.

    Returns
    -------
    History

    Raises
    ------
    TrainingError
        When the loss stops being a finite number.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 1,
    ...     "units": [{"id": "x", "role": "input"}, {"id": "y", "role": "output"}],
    ...     "edges": [{"source": "x", "target": "y", "weight": 0.0}]})
    >>> net = dagnet.Network(graph)
    >>> x = np.linspace(-1, 1, 20)[:, None]
    >>> history = dagnet.fit(net, x, 3 * x + 1, epochs=200, learning_rate=0.5, seed=0)
    >>> np.round([net.weights[0], net.biases[1]], 6)
    array([3., 1.])
    """
    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ValueError("epochs and batch_size must be at least 1, learning_rate above 0")
    x = unit_major(inputs, net.input_ids, "inputs")
    y = unit_major(targets, net.output_ids, "targets")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{x.shape[1]} input rows but {y.shape[1]} target rows")
    n_examples = x.shape[1]
    seed = net.seed if seed is None else seed
    rng = np.random.default_rng(None if seed is None else [seed, SHUFFLE_STREAM])
    optimizer_step = OPTIMIZERS[optimizer](learning_rate).step
    history = History()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n_examples) if shuffle else slice(None)
        total = 0.0
        output_total = np.zeros(len(net.output_ids))
        for x_batch, y_batch in _minibatches(x[:, order], y[:, order], batch_size):
            s, z = net.evaluate(x_batch)
            loss, weight_gradient, bias_gradient = net.backpropagate(s, z, y_batch)
            if not np.isfinite(loss):
                raise TrainingError(_blow_up_message(net, z, epoch, learning_rate))
            output_total += _output_losses(net, z, y_batch).sum(axis=1)
            optimizer_step((net.weight, net.bias), (weight_gradient, bias_gradient))
            total += loss * x_batch.shape[1]
        history.epoch_loss.append(total / n_examples)
        history.output_loss.append((output_total / n_examples).tolist())
        if progress is not None:
            progress(epoch, history.epoch_loss[-1])
    z = net.evaluate(x)[1]
    history.final_loss = net.mean_loss(z, y)
    history.final_output_loss = _output_losses(net, z, y).mean(axis=1).tolist()
    if not np.isfinite(history.final_loss):
        raise TrainingError(_blow_up_message(net, z, epochs, learning_rate))
    return history


def _output_losses(net: Network, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The loss of each output unit for each example, (outputs, N)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return LOSS_TERMS[net.loss_name](z[net.plan.output_positions], y)


def _minibatches(
    x: np.ndarray, y: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive column blocks of unit-major inputs and targets; the last may be smaller."""
    for start in range(0, x.shape[1], batch_size):
        yield x[:, start : start + batch_size], y[:, start : start + batch_size]


BLOWN_UP = 1e150
"""A value this large overflows when the loss squares it: the run has left arithmetic behind."""


def _blow_up_message(net: Network, z: np.ndarray, epoch: int, learning_rate: float) -> str:
    with np.errstate(invalid="ignore"):
        broken = np.flatnonzero(~np.all(np.abs(z) < BLOWN_UP, axis=1))
    if len(broken) and broken[0] < net.plan.n_inputs:
        return (
            f"input unit '{net.plan.unit_ids[broken[0]]}' has values too large to compute with "
            f"(up to {np.abs(z[broken[0]]).max():.3g}); scale the data down"
        )
    what = (
        f"unit '{net.plan.unit_ids[broken[0]]}' was the first whose values left the range of "
        "floating-point numbers"
        if len(broken)
        else "the loss is no longer a finite number"
    )
    return (
        f"training diverged in epoch {epoch}: {what}; try a smaller learning rate than "
        f"{learning_rate:g}"
    )
