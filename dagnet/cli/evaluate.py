"""``dagnet evaluate``: how well a trained network does on data, overall, per output and head."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dagnet.cli.common import count, dtype_option, echo, load_trained
from dagnet.engine.network import Network
from dagnet.graph.data import load_data
from dagnet.training.metrics import evaluate as evaluate_network

__all__ = ["evaluate"]


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv, .npz or .npy file of inputs and targets; default: the file's own data.",
)
@dtype_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def evaluate(file: Path, data: Path | None, dtype: str | None, as_json: bool) -> None:
    """Measure the network in FILE on data: its mean loss, overall, per output unit and per
    loss head, the accuracy of every head that classifies, and the number of examples.

    Accuracy counts an example right when a softmax group's largest probability is its
    target's class, and when a cross-entropy output's probability is on the same side of 0.5
    as its target.

    \b
    Examples:
      dagnet evaluate graphs/digits.trained.json --data graphs/digits_test.npz
      dagnet evaluate graphs/xor.trained.json --json
    """
    graph = load_trained(
        file, would="the figures would be those of random weights", then="evaluate"
    )
    dataset = load_data(graph, data, base=file.parent)
    assert dataset.targets is not None
    net = Network(graph, dtype=dtype)
    found = evaluate_network(net, dataset.inputs, dataset.targets)
    if as_json:
        echo(json.dumps({"file": str(file), "data": dataset.source, **found.as_dict()}))
        return
    echo(f"{dataset.source}: {count(found.examples, 'example')}")
    echo(f"loss {found.loss:.6g}")
    if len(found.output_loss) > 1:
        echo("loss per output: " + ", ".join(f"{u} {v:.6g}" for u, v in found.output_loss.items()))
    if len(found.head_loss) > 1:
        echo("loss per head: " + ", ".join(f"{h} {v:.6g}" for h, v in found.head_loss.items()))
    for name, value in found.accuracy.items():
        echo(f"accuracy ({name}) {value:.2%}")
