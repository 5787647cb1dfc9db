"""fit(): minibatch gradient descent over epochs, with seeded shuffling and progress reports.

One training iteration is the derivation's three steps: feed the minibatch forward recording
every s_j and z_j, walk the units in reverse computing every δ_j, then update every weight by
Δw_{i→j} = −(η/N) Σ_n δ_j z_i. The loop here is over epochs and minibatches only; everything per
unit or per example happens in the compiled kernels.
"""

from __future__ import annotations

import math
import numbers
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from numpy.typing import ArrayLike

from dagnet.engine.network import Network, check_seed
from dagnet.engine.workspace import Workspace
from dagnet.errors import ArgumentError, TrainingError, TrainingInterrupted
from dagnet.training.divergence import (
    DIVERGENCE_FACTOR,
    Snapshot,
    blow_up_message,
    divergence_message,
    overflow_before_update_message,
    sizes,
)
from dagnet.training.history import History
from dagnet.training.optimizers import Optimizer
from dagnet.training.optimizers import optimizer as make_optimizer

__all__ = ["SHUFFLE_STREAM", "Progress", "fit"]

SHUFFLE_STREAM = 1
"""Which ``default_rng([seed, stream])`` stream shuffles the examples (weights use 0)."""

Progress = Callable[[int, float], None]
"""Called after each epoch with the epoch number (from 1) and its mean loss."""


def fit(
    net: Network,
    inputs: ArrayLike,
    targets: ArrayLike,
    *,
    epochs: int,
    learning_rate: float | None = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
    optimizer: str | Optimizer = "sgd",
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
    learning_rate : float, optional
        η; the optimizer's own default when not given (0.1 for sgd, 0.01 for momentum, nesterov
        and rprop, 0.001 for adam).
    batch_size : int, default 32
        Examples per step; the last minibatch of an epoch may be smaller.
    shuffle : bool, default True
        Visit the examples in a new random order each epoch.
    seed : int, optional
        Seeds the shuffling (``numpy.random.default_rng([seed, 1])``); defaults to ``net.seed``,
        and when that is None too, the shuffling is not reproducible.
    optimizer : str or Optimizer, default "sgd"
        A name from :data:`dagnet.training.optimizers.OPTIMIZERS` (sgd, momentum, nesterov,
        adam, rprop), or an optimizer made with its own settings (``learning_rate`` is then the
        optimizer's, and must not be given here too).
    progress : callable, optional
        ``progress(epoch, loss)`` after each epoch.

    Returns
    -------
    History

    Raises
    ------
    TrainingError
        When the run diverges: a minibatch loss that is not a finite number, or, after the
        first epoch, above :data:`DIVERGENCE_FACTOR` times that epoch's mean (and above 1). The
        message names the epoch and the first unit whose values blew up; ``net`` is left with
        the last good parameters (those whose minibatch loss last passed), and
        ``error.epochs_done`` says how many whole epochs came before them.
    TrainingInterrupted
        On Ctrl-C (SIGINT), which stops the run after the step under way, never inside one; the
        network keeps the parameters of that complete step. A second Ctrl-C stops at once.

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
    _check_settings(epochs, batch_size)
    check_seed(seed)
    if not isinstance(net, Network):
        raise ArgumentError(f"fit needs a Network, not {type(net).__name__}")
    if isinstance(optimizer, Optimizer):
        if learning_rate is not None:
            raise ArgumentError("give the learning rate to the optimizer or to fit, not both")
        rule = optimizer
    else:
        rule = make_optimizer(optimizer, learning_rate)
    learning_rate = rule.learning_rate
    x, y = net.examples(inputs, targets)
    n_examples = x.shape[1]
    seed = net.seed if seed is None else seed
    rng = np.random.default_rng(None if seed is None else [seed, SHUFFLE_STREAM])
    history = History()
    workspaces: dict[int, Workspace] = {}  # by minibatch size: at most two
    good = Snapshot(net)  # the parameters of the last step whose loss passed, restored on failure
    limit = math.inf  # the divergence line, known once the first epoch has set the scale
    scale = None  # each unit's largest |z| before training, to tell when values blow up
    updated = False  # whether any step has changed the parameters: until then η is blameless
    with _stop_on_ctrl_c() as stop_requested:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n_examples) if shuffle else slice(None)
            output_total = np.zeros(len(net.output_ids))  # each output's loss, summed
            batches = _minibatches(x[:, order], y[:, order], batch_size)
            for steps, (x_batch, y_batch) in enumerate(batches, start=1):
                n = x_batch.shape[1]
                workspace = workspaces.get(n) or workspaces.setdefault(
                    n, net.workspace(n, split=True)
                )
                if scale is None:
                    scale = sizes(net.evaluate(x_batch)[1])
                loss, weight_gradient, bias_gradient = net.loss_and_gradients(
                    x_batch, y_batch, workspace
                )
                if not np.isfinite(loss):
                    z = net.evaluate(x_batch)[1]  # the state that overflowed, to name its unit
                    good.restore()
                    message = (
                        blow_up_message(net, z, scale, epoch, learning_rate)
                        if updated
                        else overflow_before_update_message(net, z)
                    )
                    raise TrainingError(message, epoch=epoch, epochs_done=len(history.epoch_loss))
                if loss > limit:
                    z = net.evaluate(x_batch)[1]
                    message = divergence_message(net, z, scale, history.epoch_loss[0], loss, epoch)
                    good.restore()
                    raise TrainingError(
                        f"{message}; try a smaller learning rate than {learning_rate:g}",
                        epoch=epoch,
                        epochs_done=len(history.epoch_loss),
                    )
                good.take()
                output_total += workspace.output_loss
                rule.step((net.weight, net.bias), (weight_gradient, bias_gradient))
                updated = True
                if stop_requested():
                    raise TrainingInterrupted(epoch, steps, list(history.epoch_loss))
            history.epoch_loss.append(float(output_total.sum()) / n_examples)
            history.output_loss.append((output_total / n_examples).tolist())
            limit = DIVERGENCE_FACTOR * max(history.epoch_loss[0], 1 / DIVERGENCE_FACTOR)
            if progress is not None:
                progress(epoch, history.epoch_loss[-1])
    z = net.evaluate(x)[1]
    terms = _output_losses(net, z, y)
    history.final_loss = float(np.sum(terms, axis=0).mean())  # as Network.mean_loss has it
    history.final_output_loss = terms.mean(axis=1).tolist()
    if not np.isfinite(history.final_loss):
        message = blow_up_message(net, z, scale, epochs, learning_rate)
        good.restore()
        raise TrainingError(message, epoch=epochs, epochs_done=epochs - 1)
    return history


def _output_losses(net: Network, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The loss of each output unit for each example, (outputs, N)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return net.loss_function.terms(z[net.plan.output_positions], y)  # type: ignore[no-any-return]


def _check_settings(epochs: int, batch_size: int) -> None:
    """The counts ``fit`` was given, or an ArgumentError saying which one is wrong (the
    optimizer checks its own settings)."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ArgumentError(f"{name} must be a whole number, not {value!r}")
    if epochs < 1 or batch_size < 1:
        raise ArgumentError(
            f"epochs and batch_size must be at least 1; got epochs={epochs}, "
            f"batch_size={batch_size}"
        )


@contextmanager
def _stop_on_ctrl_c() -> Iterator[Callable[[], bool]]:
    """While training, Ctrl-C only asks to stop; the loop stops after the step under way.

    Stopping inside a step would leave some weights updated and others not. A second Ctrl-C
    raises at once. Outside the main thread, or when someone else handles SIGINT, nothing is
    changed: signals are theirs.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield lambda: False
        return
    requested = False

    def ask_to_stop(signum: int, frame: object) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True

    signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _minibatches(
    x: np.ndarray, y: np.ndarray, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive column blocks of unit-major inputs and targets; the last may be smaller."""
    for start in range(0, x.shape[1], batch_size):
        yield x[:, start : start + batch_size], y[:, start : start + batch_size]
