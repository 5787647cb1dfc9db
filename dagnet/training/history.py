"""The record of a run, epoch by epoch, and its text forms (a CSV table, JSON Lines)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["HISTORY_FORMATS", "History", "history_text"]

HISTORY_FORMATS = ("csv", "jsonl")
"""The forms :func:`history_text` writes, by file suffix."""


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

    def by_output(self, output_ids: tuple[str, ...]) -> dict[str, list[float]]:
        """Each output unit's loss, epoch by epoch."""
        columns = zip(*self.output_loss, strict=True)
        return {unit: list(values) for unit, values in zip(output_ids, columns, strict=True)}


def history_text(history: History, output_ids: tuple[str, ...], fmt: str) -> str:
    """One row per epoch: its number, mean loss, and the share of each output unit.

    ``fmt`` is ``"csv"`` (columns ``epoch,loss,loss_<unit>...``) or ``"jsonl"`` (one
    ``{"epoch", "loss", "output_loss": {unit: loss}}`` object per line).

    Examples
    --------
    >>> print(history_text(History([0.5, 0.25], 0.2, [[0.5], [0.25]], [0.2]), ("y",), "csv"))
    epoch,loss,loss_y
    1,0.5,0.5
    2,0.25,0.25
    <BLANKLINE>
    """
    rows = zip(history.epoch_loss, history.output_loss, strict=True)
    if fmt == "jsonl":
        return "".join(
            json.dumps(
                {
                    "epoch": epoch,
                    "loss": loss,
                    "output_loss": dict(zip(output_ids, parts, strict=True)),
                }
            )
            + "\n"
            for epoch, (loss, parts) in enumerate(rows, start=1)
        )
    header = ",".join(["epoch", "loss", *(f"loss_{unit}" for unit in output_ids)])
    lines = [header] + [
        ",".join([str(epoch), repr(loss), *map(repr, parts)])
        for epoch, (loss, parts) in enumerate(rows, start=1)
    ]
    return "\n".join(lines) + "\n"
