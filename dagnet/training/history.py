"""The record of a run, epoch by epoch, and its text forms (a CSV table, JSON Lines)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HISTORY_FORMATS", "History", "history_rows", "history_text"]

HISTORY_FORMATS = ("csv", "jsonl")
"""The forms :func:`history_text` writes, by file suffix."""


@dataclass
class History:
    """What a run did: the mean loss of each epoch, and the loss after the last one.

    ``epoch_loss[e]`` averages the minibatch losses of epoch e+1 as they were met, weights
    changing along the way; ``final_loss`` is one clean pass over all the training data at the
    end. ``output_loss[e]`` and ``final_output_loss`` split those into the share of each output
    unit (file order), so that they sum to ``epoch_loss[e]`` and ``final_loss``.

    With validation data, ``validation_loss[e]`` and ``validation_accuracy[e]`` (by head name,
    for the heads that classify) are measured after epoch e+1; ``best_epoch`` is the epoch whose
    parameters the network was left with when early stopping kept the best, and
    ``stopped_early`` whether it ended the run before its last epoch. ``final_accuracy`` is the
    training data's, at the end.
    """

    epoch_loss: list[float] = field(default_factory=list)
    final_loss: float = float("nan")
    output_loss: list[list[float]] = field(default_factory=list)
    final_output_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    validation_accuracy: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    final_accuracy: dict[str, float] = field(default_factory=dict)
    final_validation_loss: float | None = None

    @property
    def epochs(self) -> int:
        """The epochs run."""
        return len(self.epoch_loss)

    def by_output(self, output_ids: tuple[str, ...]) -> dict[str, list[float]]:
        """Each output unit's loss, epoch by epoch."""
        columns = zip(*self.output_loss, strict=True)
        return {unit: list(values) for unit, values in zip(output_ids, columns, strict=True)}


def history_rows(history: History, output_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """One record per epoch: ``epoch``, ``loss``, ``output_loss`` by unit, and, with validation
    data, ``validation_loss`` and ``validation_accuracy`` by head."""
    rows = []
    for e, (loss, parts) in enumerate(zip(history.epoch_loss, history.output_loss, strict=True)):
        row: dict[str, Any] = {
            "epoch": e + 1,
            "loss": loss,
            "output_loss": dict(zip(output_ids, parts, strict=True)),
        }
        if e < len(history.validation_loss):
            row["validation_loss"] = history.validation_loss[e]
            if history.validation_accuracy[e]:
                row["validation_accuracy"] = history.validation_accuracy[e]
        rows.append(row)
    return rows


def history_text(history: History, output_ids: tuple[str, ...], fmt: str) -> str:
    """One row per epoch: its number, mean loss, the share of each output unit, and the
    validation figures when there are any.

    ``fmt`` is ``"csv"`` (columns ``epoch,loss,loss_<unit>...[,validation_loss,
    accuracy_<head>...]``) or ``"jsonl"`` (one :func:`history_rows` object per line).

    Examples
    --------
    >>> print(history_text(History([0.5, 0.25], 0.2, [[0.5], [0.25]], [0.2]), ("y",), "csv"))
    epoch,loss,loss_y
    1,0.5,0.5
    2,0.25,0.25
    <BLANKLINE>
    """
    rows = history_rows(history, output_ids)
    if fmt == "jsonl":
        return "".join(json.dumps(row) + "\n" for row in rows)
    heads = list(history.validation_accuracy[0]) if history.validation_accuracy else []
    header = ["epoch", "loss", *(f"loss_{unit}" for unit in output_ids)]
    if history.validation_loss:
        header += ["validation_loss", *(f"validation_accuracy_{head}" for head in heads)]
    lines = [",".join(header)]
    for row in rows:
        cells = [str(row["epoch"]), repr(row["loss"]), *map(repr, row["output_loss"].values())]
        if history.validation_loss:
            cells.append(repr(row.get("validation_loss", math.nan)))
            cells += [repr(row.get("validation_accuracy", {}).get(h, math.nan)) for h in heads]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
