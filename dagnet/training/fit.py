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

from dagnet.engine.kernels import Parameters
from dagnet.engine.network import Network, check_seed
from dagnet.engine.online import OnlineSteps, Watch
from dagnet.engine.threads import Threads, check_threads
from dagnet.engine.workspace import Workspace
from dagnet.errors import ArgumentError, TrainingError, TrainingInterrupted
from dagnet.training.divergence import (
    DIVERGENCE_FACTOR,
    SCALE_EXAMPLES,
    Snapshot,
    blow_up_message,
    divergence_line,
    divergence_message,
    overflow_before_update_message,
    sizes,
)
from dagnet.training.history import History
from dagnet.training.metrics import evaluation_of
from dagnet.training.optimizers import SGD, Optimizer
from dagnet.training.optimizers import optimizer as make_optimizer

__all__ = ["SHUFFLE_STREAM", "Progress", "fit"]

SHUFFLE_STREAM = 1
"""Which ``default_rng([seed, stream])`` stream shuffles the examples (weights use 0)."""

Progress = Callable[[int, float, float | None], None]
"""Called after each epoch with the epoch number (from 1), its mean loss, and the validation
loss (None without validation data)."""


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
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    validation_split: float | None = None,
    early_stopping: int | None = None,
    progress: Progress | None = None,
    threads: Threads | None = None,
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
        Seeds the shuffling (``numpy.random.default_rng([seed, 1])``) and the validation split
        (``[seed, 2]``); defaults to ``net.seed``, and when that is None too, neither is
        reproducible.
    optimizer : str or Optimizer, default "sgd"
        A name from :data:`dagnet.training.optimizers.OPTIMIZERS` (sgd, momentum, nesterov,
        adam, rprop), or an optimizer made with its own settings (``learning_rate`` is then the
        optimizer's, and must not be given here too).
    validation_data : (inputs, targets), optional
        Examples to measure the loss (and accuracy) on after every epoch, never trained on.
    validation_split : float, optional
        Instead, the share (0 < F < 1) of the examples to hold out for that, chosen by the seed.
    early_stopping : int, optional
        Stop once the validation loss has not improved for this many epochs, and leave ``net``
        with the parameters of the epoch whose validation loss was lowest (``best_epoch``).
    progress : callable, optional
        ``progress(epoch, loss, validation_loss)`` after each epoch (None without validation).
    threads : int or "auto", optional
        How many threads run the steps (default: ``net.threads``, itself "auto" by default):
        "auto" runs each minibatch size's first steps on one thread, then a few on all, keeps
        the faster and checks again now and then, since the machine's load changes. One
        thread and several round the gradients' sums differently (the parameters agree to
        about 1e-12 relative after a short run, more loosely after a long chaotic one); give
        a count when two runs must agree bit for bit.

    Returns
    -------
    History

    Raises
    ------
    TrainingError
        When the run diverges: a minibatch loss that is not a finite number, or above
        :data:`DIVERGENCE_FACTOR` times the first epoch's mean (in the first epoch, the first
        minibatch's loss) or times 1 if that is smaller. The message names the epoch and the
        unit whose values blew up first (or grew the most); ``net`` is left with the last good
        parameters (those whose minibatch loss last passed), and ``error.epochs_done`` says how
        many whole epochs came before them.
    TrainingInterrupted
        On Ctrl-C (SIGINT), which stops the run after the step under way, never inside one; the
        network keeps the parameters of that complete step. A second Ctrl-C stops at once.

    Examples
    --------
    >>> import numpy as np, dagnet
    >>> graph = dagnet.Graph.model_validate({"format_version": 2,
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
    if threads is not None:
        threads = check_threads(threads)
    x, y = net.examples(inputs, targets)
    seed = net.seed if seed is None else seed
    x, y, validation = _validation(net, x, y, validation_data, validation_split, seed)
    if early_stopping is not None:
        _check_patience(early_stopping, validation)
    rng = np.random.default_rng(None if seed is None else [seed, SHUFFLE_STREAM])
    with _threads(net, threads):
        return _fit(
            net, rule, x, y, validation, batch_size, epochs, shuffle, rng, progress, early_stopping
        )


def _fit(
    net: Network,
    rule: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray] | None,
    batch_size: int,
    epochs: int,
    shuffle: bool,
    rng: np.random.Generator,
    progress: Progress | None,
    early_stopping: int | None,
) -> History:
    """fit()'s loop, over checked arguments."""
    run = _Run(net, rule, batch_size)
    history = run.history
    best = _Best(net, early_stopping)
    with _stop_on_ctrl_c() as stop_requested:
        for epoch in range(1, epochs + 1):
            if shuffle:  # (take, not x[:, order]: 0.2 against 1.0 µs, of an epoch of 20 on xor)
                order = rng.permutation(x.shape[1])
                run.epoch(epoch, x.take(order, axis=1), y.take(order, axis=1), stop_requested)
            else:
                run.epoch(epoch, x, y, stop_requested)
            validation_loss = None
            if validation is not None:
                found = evaluation_of(net, *net.evaluate(validation[0]), validation[1])
                validation_loss = found.loss
                history.validation_loss.append(found.loss)
                history.validation_accuracy.append(found.accuracy)
                if best.stops(epoch, found.loss):
                    history.stopped_early = epoch < epochs
                    if progress is not None:
                        progress(epoch, history.epoch_loss[-1], validation_loss)
                    break
            if progress is not None:
                progress(epoch, history.epoch_loss[-1], validation_loss)
    if early_stopping is not None:
        history.best_epoch = best.restore() or None
    s, z = net.evaluate(x)
    final = evaluation_of(net, s, z, y)
    history.final_loss = final.loss
    history.final_output_loss = list(final.output_loss.values())
    history.final_accuracy = final.accuracy
    if validation is not None:
        history.final_validation_loss = (
            history.validation_loss[history.best_epoch - 1]
            if history.best_epoch is not None
            else history.validation_loss[-1]
        )
    if not np.isfinite(history.final_loss):
        message = blow_up_message(net, z, run.scale, history.epochs, rule.learning_rate)
        run.good.restore()
        raise TrainingError(message, epoch=history.epochs, epochs_done=history.epochs - 1)
    return history


@contextmanager
def _threads(net: Network, threads: Threads | None) -> Iterator[None]:
    """``net`` on ``threads`` threads for a while (None: as it is)."""
    if threads is None:
        yield
        return
    previous, net.threads = net.threads, threads
    try:
        yield
    finally:
        net.threads = previous


class _Run:
    """The steps of one run: its workspaces, its watch for divergence, its record."""

    def __init__(self, net: Network, rule: Optimizer, batch_size: int) -> None:
        self.net, self.rule, self.batch_size = net, rule, batch_size
        self.history = History()
        self.workspaces: dict[int, Workspace] = {}  # by minibatch size: at most two
        self.good = Snapshot(net)  # the last step's parameters whose loss passed
        self.limit = math.inf  # the divergence line, set by the first step, then epoch 1
        self.first = math.nan  # what set it
        self.scale: np.ndarray | None = None  # each unit's largest |z| before training
        self.updated = False  # whether any step has changed the parameters
        self.online: OnlineSteps | None = None  # for steps of one example, when they are plain
        frozen_weight, frozen_bias = net.frozen
        self.frozen = [
            (parameter, index, parameter[index].copy())
            for parameter, index in ((net.weight, frozen_weight), (net.bias, frozen_bias))
            if len(index)
        ]

    def epoch(
        self, epoch: int, x: np.ndarray, y: np.ndarray, stop_requested: Callable[[], bool]
    ) -> None:
        """One pass over the (already ordered) unit-major examples, a step per minibatch."""
        net, history, size = self.net, self.history, self.batch_size
        output_total = np.zeros(len(net.output_ids))  # each output's loss, summed
        if size == 1 and _plain(self.rule):
            self._online(epoch, x, y, output_total, stop_requested)
            self._close_epoch(x.shape[1], output_total)
            return
        whole = x.shape[1] <= size  # one step: the minibatch is the examples, not a view
        for steps, start in enumerate(range(0, x.shape[1], size), start=1):
            x_batch = x if whole else x[:, start : start + size]
            y_batch = y if whole else y[:, start : start + size]
            n = x_batch.shape[1]
            workspace = self.workspaces.get(n)
            if workspace is None:
                workspace = self.workspaces[n] = net.workspace(n, split=True)
            self._measure_scale(x_batch)
            loss, weight_gradient, bias_gradient = net.loss_and_gradients(
                x_batch, y_batch, workspace
            )
            self._check(loss, x_batch, epoch)
            self.good.take()
            output_total += workspace.output_loss
            self.rule.step((net.weight, net.bias), (weight_gradient, bias_gradient))
            for parameter, index, value in self.frozen:
                parameter[index] = value  # whatever the rule did (decay, momentum), they stay
            self.updated = True
            if stop_requested():
                raise TrainingInterrupted(epoch, steps, list(history.epoch_loss))
        self._close_epoch(x.shape[1], output_total)

    def _online(
        self,
        epoch: int,
        x: np.ndarray,
        y: np.ndarray,
        output_total: np.ndarray,
        stop_requested: Callable[[], bool],
    ) -> None:
        """The epoch's steps of one example each, as the loop above takes them, but many steps
        per compiled call (see :mod:`dagnet.engine.online`): between calls, only Ctrl-C is
        checked; a step that fails the watch is handed to :meth:`_check` to be reported."""
        net, history = self.net, self.history
        if self.online is None:
            assert isinstance(self.rule, SGD)
            self.online = OnlineSteps(net, self.rule.learning_rate, self.rule.weight_decay)
        online = self.online
        self._measure_scale(x)
        spare = Parameters(self.good.weight, self.good.bias)  # the last good ones, as it says
        per_call = online.steps_per_call
        for start in range(0, x.shape[1], per_call):
            xs, ys = x[:, start : start + per_call], y[:, start : start + per_call]
            watch = Watch(np.array([self.limit, self.first]), DIVERGENCE_FACTOR)
            passed = online.steps(xs, ys, spare, watch, output_total)
            self.limit, self.first = (float(v) for v in watch.line)
            self.rule.steps += passed
            self.updated = self.updated or passed > 0
            if passed < xs.shape[1]:  # that step's loss failed the watch: _check raises
                self._check(float(online.losses[passed]), xs[:, passed : passed + 1], epoch)
            if stop_requested():
                raise TrainingInterrupted(epoch, start + passed, list(history.epoch_loss))

    def _measure_scale(self, x: np.ndarray) -> None:
        """Before the first step: each unit's size, over the first of the examples it takes
        (:data:`SCALE_EXAMPLES`), for the divergence messages."""
        if self.scale is None:
            self.scale = sizes(self.net.evaluate(x[:, :SCALE_EXAMPLES])[1])

    def _close_epoch(self, n_examples: int, output_total: np.ndarray) -> None:
        history = self.history
        history.epoch_loss.append(float(output_total.sum()) / n_examples)
        history.output_loss.append([total / n_examples for total in output_total.tolist()])
        self.first = history.epoch_loss[0]
        self.limit = divergence_line(self.first)

    def _check(self, loss: float, x_batch: np.ndarray, epoch: int) -> None:
        """Stop at a step whose loss has left arithmetic, or has grown past the line."""
        net, history, rate = self.net, self.history, self.rule.learning_rate
        if not math.isfinite(loss):
            z = net.evaluate(x_batch)[1]  # the state that overflowed, to name its unit
            self.good.restore()
            message = (
                blow_up_message(net, z, self.scale, epoch, rate)
                if self.updated
                else overflow_before_update_message(net, z)
            )
            raise TrainingError(message, epoch=epoch, epochs_done=len(history.epoch_loss))
        if loss > self.limit:
            z = net.evaluate(x_batch)[1]
            since = "the mean of epoch 1" if history.epoch_loss else "the first minibatch's"
            message = divergence_message(net, z, self.scale, self.first, loss, epoch, since)
            self.good.restore()
            raise TrainingError(
                f"{message}; try a smaller learning rate than {rate:g}",
                epoch=epoch,
                epochs_done=len(history.epoch_loss),
            )
        if math.isinf(self.limit):  # the first step sets the line until epoch 1 has
            self.first = loss
            self.limit = divergence_line(loss)


def _plain(rule: Optimizer) -> bool:
    """Whether ``rule`` is plain gradient descent (with L2 decay, if any): what the compiled
    one-example steps apply."""
    return type(rule) is SGD and rule.momentum == 0.0


class _Best:
    """Early stopping: the parameters of the epoch with the lowest validation loss so far."""

    def __init__(self, net: Network, patience: int | None) -> None:
        self.patience = patience
        self.snapshot = Snapshot(net) if patience is not None else None
        self.loss = math.inf
        self.epoch = 0

    def stops(self, epoch: int, loss: float) -> bool:
        """Whether the run should stop after ``epoch``, whose validation loss was ``loss``."""
        if self.snapshot is None or self.patience is None:
            return False
        if loss < self.loss:
            self.loss, self.epoch = loss, epoch
            self.snapshot.take()
        return epoch - self.epoch >= self.patience

    def restore(self) -> int:
        """Put the best epoch's parameters back, and say which epoch that was (0: none had a
        finite validation loss, and the last parameters stay)."""
        assert self.snapshot is not None
        if self.epoch:
            self.snapshot.restore()
        return self.epoch


VALIDATION_STREAM = 2
"""Which ``default_rng([seed, stream])`` stream draws the validation split."""


def _validation(
    net: Network,
    x: np.ndarray,
    y: np.ndarray,
    data: tuple[ArrayLike, ArrayLike] | None,
    split: float | None,
    seed: int | None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The training examples and the validation ones (unit-major), from ``data`` or held out
    of the training examples by ``split``."""
    if data is not None and split is not None:
        raise ArgumentError("give validation_data or validation_split, not both")
    if data is not None:
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise ArgumentError("validation_data must be a pair (inputs, targets)")
        return x, y, net.examples(*data)
    if split is None:
        return x, y, None
    if isinstance(split, bool) or not isinstance(split, numbers.Real) or not 0 < split < 1:
        raise ArgumentError(f"validation_split must be a number between 0 and 1, not {split!r}")
    n = x.shape[1]
    held = math.ceil(split * n)
    if held >= n:
        raise ArgumentError(
            f"validation_split {split:g} of {n} examples leaves none to train on; hold out less"
        )
    rng = np.random.default_rng(None if seed is None else [seed, VALIDATION_STREAM])
    order = rng.permutation(n)
    kept, out = np.sort(order[held:]), np.sort(order[:held])
    return x[:, kept], y[:, kept], (x[:, out], y[:, out])


def _check_patience(patience: int, validation: tuple[np.ndarray, np.ndarray] | None) -> None:
    if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
        raise ArgumentError(f"early_stopping must be a whole number ≥ 1, not {patience!r}")
    if validation is None:
        raise ArgumentError(
            "early stopping watches the validation loss: give validation_data or "
            "validation_split too"
        )


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
