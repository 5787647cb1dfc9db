"""``dagnet gradcheck``: the engine's gradients against central finite differences."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import count, echo, finite, load, say
from dagnet.engine.network import Network
from dagnet.graph.data import load_data
from dagnet.graph.model import Training
from dagnet.showing.gradcheck import EPSILON, TOLERANCE, UnitCheck, gradcheck

__all__ = ["check_gradients"]


@click.command("gradcheck")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv or .npz file to check on, instead of the file's own data.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0, min_open=True),
    default=TOLERANCE,
    show_default=True,
    metavar="X",
    callback=finite,
    help="The largest relative error accepted.",
)
@click.option(
    "--epsilon",
    type=click.FloatRange(min=0, min_open=True),
    default=EPSILON,
    show_default=True,
    metavar="H",
    callback=finite,
    help="The step h of the central differences.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    metavar="N",
    help="Seed for missing weights, as in dagnet train; default: the file's.",
)
def check_gradients(
    file: Path, data: Path | None, tolerance: float, epsilon: float, seed: int | None
) -> None:
    """Check the engine's gradients against finite differences.

    Every weight and bias of the network in FILE is checked.

    The mean loss over the data is evaluated at θ + h and θ − h for every parameter θ, and
    (E(θ + h) − E(θ − h)) / 2h is compared with the engine's ∂E/∂θ. The table on stdout shows,
    for each unit (its in-edges' weights and its bias), the parameter with the largest relative
    error |g − ĝ| / max(|g|, |ĝ|, 1e-7). Exit code 1 when any is above the tolerance.
    Weights missing from the file are drawn from the seed as dagnet train draws them.

    \b
    Example:
      dagnet gradcheck graphs/xor.json --tolerance 1e-6
    """
    graph = load(file)
    training = graph.training or Training()
    net = Network(graph, seed=seed if seed is not None else training.seed, loss=training.loss)
    dataset = load_data(graph, data, base=file.parent)
    assert dataset.targets is not None
    checks = gradcheck(net, dataset.inputs, dataset.targets, epsilon)
    echo(_table(checks))
    failed = [check for check in checks if not check.relative_error <= tolerance]
    worst = max(checks, key=lambda check: check.relative_error, default=None)
    if worst is None:
        say(False, f"{file}: no parameters to check")
        return
    where = f"{worst.relative_error:.2g} (unit {worst.unit}, {_name(worst.parameter)})"
    if failed:
        raise click.ClickException(
            f"gradient check failed: {len(failed)} of {count(len(checks), 'unit')} above the "
            f"tolerance {tolerance:g} on {dataset.source}; the worst relative error is {where}"
        )
    say(False, f"gradient check passed on {dataset.source}: worst relative error {where}")


def _name(parameter: tuple[str, str] | str) -> str:
    if isinstance(parameter, tuple):
        return f"w[{parameter[0]}->{parameter[1]}]"
    return f"b_{parameter}"


def _table(checks: list[UnitCheck]) -> str:
    header = ("unit", "parameters", "worst", "backprop", "finite difference", "relative error")
    rows = [header] + [
        (
            check.unit,
            str(check.parameters),
            _name(check.parameter),
            f"{check.engine:.10g}",
            f"{check.finite_difference:.10g}",
            f"{check.relative_error:.2g}",
        )
        for check in checks
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
