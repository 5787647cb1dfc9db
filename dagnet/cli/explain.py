"""``dagnet explain``: the derivation's equations for one network, and one step with numbers."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import count, echo, load, seed_option
from dagnet.engine.network import Network
from dagnet.graph.data import load_data
from dagnet.graph.messages import did_you_mean, listing
from dagnet.graph.model import Training
from dagnet.showing.explain import (
    ASCII,
    UNICODE,
    Step,
    equations,
    header,
    step,
    step_lines,
    unit_lines,
)
from dagnet.training.record import learning_rate_of

__all__ = ["explain"]


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv or .npz file to take the example from (example 1 unless --example).",
)
@click.option(
    "--example",
    type=click.IntRange(min=1),
    metavar="K",
    help="Show one training step with numbers for the K-th example (counting from 1).",
)
@seed_option
@click.option("--ascii", "plain", is_flag=True, help="Plain ASCII: d_o, w[k->o], sigma', eta.")
@click.option(
    "--unit",
    metavar="ID",
    help="Show only this unit's equations: its forward sum, its δ with each out-edge, updates.",
)
def explain(
    file: Path,
    data: Path | None,
    example: int | None,
    seed: int | None,
    plain: bool,
    unit: str | None,
) -> None:
    """Print the backpropagation equations of the network in FILE.

    One line per unit: the forward pass in topological order, then the error signals δ_j in
    reverse topological order, each with its unit's own activation derivative, then the
    minibatch updates of every weight and bias. With --example K (and optionally --data PATH)
    it also carries the K-th example through one training step and prints every s_j, z_j, δ_j,
    Δw and Δb with the numbers put in. They use the file's weights; weights missing from the
    file are drawn from the seed exactly as dagnet train would draw them.

    \b
    Example:
      dagnet explain graphs/multi_output.json --example 3
    """
    graph = load(file)
    notation = ASCII if plain else UNICODE
    training = graph.training or Training()
    net = Network(graph, seed=seed)  # the file's seed and loss unless told
    if unit is not None:
        if unit not in net.plan.unit_ids:
            raise click.ClickException(
                f"there is no unit '{unit}'{did_you_mean(unit, net.unit_ids)}; "
                f"the units are {listing(net.unit_ids)}"
            )
        result = None
        if example is not None or data is not None:
            result = _example(net, file, data, example or 1, learning_rate_of(training))
        click.echo(
            "\n".join([*header(net, notation), "", *unit_lines(net, unit, notation, result)])
        )
        return
    lines = [*header(net, notation), "", *equations(net, notation)]
    if example is not None or data is not None:
        rate = learning_rate_of(training)
        lines += ["", *_numbers(net, file, data, example or 1, rate, plain)]
    echo("\n".join(lines))


def _example(
    net: Network, file: Path, data: Path | None, example: int, learning_rate: float
) -> Step:
    dataset = load_data(net.graph, data, base=file.parent)
    assert dataset.targets is not None
    if example > dataset.n_examples:
        raise click.ClickException(
            f"example {example} is out of range: {dataset.source} has "
            f"{count(dataset.n_examples, 'example')}, numbered 1 to {dataset.n_examples}"
        )
    return step(net, dataset.inputs[example - 1], dataset.targets[example - 1], learning_rate)


def _numbers(
    net: Network, file: Path, data: Path | None, example: int, learning_rate: float, plain: bool
) -> list[str]:
    dataset = load_data(net.graph, data, base=file.parent)
    assert dataset.targets is not None
    if example > dataset.n_examples:
        raise click.ClickException(
            f"example {example} is out of range: {dataset.source} has "
            f"{count(dataset.n_examples, 'example')}, numbered 1 to {dataset.n_examples}"
        )
    notation = ASCII if plain else UNICODE
    eta = f"{notation.eta} = {learning_rate:g}"
    lines = [f"One training step on example {example} of {dataset.source} (N = 1, {eta}):"]
    missing = sum(edge.weight is None for edge in net.graph.edges)
    if missing:
        lines.append(
            f"  ({count(missing, 'weight')} missing from the file, drawn from seed {net.seed} "
            "as dagnet train draws them)"
        )
    result = step(net, dataset.inputs[example - 1], dataset.targets[example - 1], learning_rate)
    return lines + step_lines(net, result, notation)
