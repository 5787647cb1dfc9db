"""What a run starts from and what it leaves: its settings, and the trained graph it writes.

A run's settings are the file's ``training`` section with the caller's overrides on top, every
one written out, the seed included (drawn when there is none anywhere, so that the run can be
repeated). The trained graph is the network with every weight and bias filled in, those settings
in ``training`` and the result in ``trained``; after a failed run, the last good parameters make
one too, recording only whole epochs and a finite loss.
"""

from __future__ import annotations

import math
from typing import Any

from dagnet import __version__
from dagnet.engine.initialisation import draw_seed
from dagnet.engine.network import Network
from dagnet.graph.data import Dataset
from dagnet.graph.model import Graph, OptimizerSettings, Trained, Training
from dagnet.training.history import History
from dagnet.training.optimizers import OPTIMIZERS

__all__ = ["last_good", "learning_rate_of", "run_settings", "trained", "trained_graph"]


def run_settings(graph: Graph, **overrides: Any) -> tuple[Training, bool]:
    """The file's training settings with ``overrides`` (those not None) over them, and whether
    the seed was drawn here.

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.load_graph("graphs/xor.json")
    >>> settings, drawn = run_settings(graph, epochs=10, seed=None)
    >>> settings.epochs, settings.seed == graph.training.seed, drawn
    (10, True, False)
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    if "loss" in given:  # one loss for every output: the file's per-output choice is set aside
        given["losses"] = None
    optimizer_settings = {
        key: given.pop(key) for key in ("momentum", "weight_decay") if key in given
    }
    # Validated afresh so that every setting, defaults included, counts as set and is written.
    settings = Training.model_validate((graph.training or Training()).model_dump() | given)
    if optimizer_settings:  # written as the optimizer's object form, with what it had before
        optimizer = OptimizerSettings(
            name=settings.optimizer_name, **(settings.optimizer_settings | optimizer_settings)
        )
        settings = settings.model_copy(update={"optimizer": optimizer})
    if settings.learning_rate is None:  # written out, so that the file says what was used
        settings = settings.model_copy(update={"learning_rate": learning_rate_of(settings)})
    if settings.seed is not None:
        return settings, False
    return settings.model_copy(update={"seed": draw_seed()}), True


def learning_rate_of(settings: Training) -> float:
    """η of these settings: their own, or their optimizer's default."""
    if settings.learning_rate is not None:
        return settings.learning_rate
    return OPTIMIZERS[settings.optimizer_name].default_learning_rate


def trained(
    final_loss: float, epochs: int, examples: int, history: History | None = None
) -> Trained:
    """The ``trained`` section of a run that completed ``epochs`` over ``examples``; with its
    ``history``, the validation figures and the best epoch too."""
    extra: dict[str, Any] = {}
    if history is not None and history.final_validation_loss is not None:
        extra["validation_loss"] = history.final_validation_loss
        extra["best_epoch"] = history.best_epoch
    return Trained(
        final_loss=final_loss,
        epochs=epochs,
        examples=examples,
        dagnet_version=__version__,
        **extra,
    )


def trained_graph(net: Network, settings: Training, result: Trained | None) -> Graph:
    """The graph file model of ``net`` as trained, with the run's settings and result."""
    return net.to_graph().model_copy(update={"training": settings, "trained": result})


def last_good(net: Network, dataset: Dataset, epochs_done: int) -> tuple[Trained | None, float]:
    """The ``trained`` section for the parameters a failed run left in ``net`` (None unless they
    completed a whole epoch with a finite loss), and their loss over the data."""
    assert dataset.targets is not None
    loss = net.loss(dataset.inputs, dataset.targets)
    if epochs_done >= 1 and math.isfinite(loss):
        return trained(loss, epochs_done, dataset.n_examples), loss
    return None, loss
