"""``dagnet gradcheck``: the engine's gradients against finite differences that know their error."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from dagnet.cli.common import count, echo, finite, load, say, seed_option
from dagnet.engine.network import Network
from dagnet.graph.data import load_data
from dagnet.showing.gradcheck import (
    STEP,
    TOLERANCE,
    DirectionCheck,
    UnitCheck,
    directional_check,
    gradcheck,
)

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
    help="The largest relative error accepted, beyond the finite difference's own error.",
)
@click.option(
    "--step",
    "--epsilon",
    "step",
    type=click.FloatRange(min=0, min_open=True, max=0.1),
    default=STEP,
    show_default=True,
    metavar="H",
    callback=finite,
    help="The step h, as a change of the unit's net input relative to 1 + its RMS.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    metavar="K",
    help="Check only K parameters drawn at random (reproducibly).",
)
@click.option(
    "--directions",
    type=click.IntRange(min=1),
    metavar="K",
    help="Check K random directions instead, each moving every parameter at once.",
)
@seed_option
def check_gradients(
    file: Path,
    data: Path | None,
    tolerance: float,
    step: float,
    sample: int | None,
    directions: int | None,
    seed: int | None,
) -> None:
    """Check the engine's gradients against finite differences.

    Every weight and bias of the network in FILE is checked (or --sample K of them, or
    --directions K random directions through all of them at once).

    For each parameter θ the mean loss over the data is differenced at θ ± h, θ ± 2h and
    θ ± 4h, in float64, and the central differences are combined by Richardson
    extrapolation into ĝ. The finite difference's own error is estimated (truncation from
    the disagreement of two extrapolations, rounding from the size of the loss at float64),
    and the relative error is the part of |g − ĝ| it does not explain, over max(|g|, |ĝ|):
    a correct engine scores 0, a gradient wrong by 1% scores 0.01, and one wrong by 1e-4
    scores 1e-4 wherever the estimated error is below that share of |g|. The table on stdout
    shows, for each unit (its in-edges' weights and its bias), the worst parameter, its
    finite difference's estimated error (±) and its relative error. Exit code 1 when any is
    above the tolerance. Parameters whose every step (shrunk tenfold up to four times)
    crosses the kink of a relu or leaky_relu unit, or the jump in elu's curvature, for some
    example cannot be checked this way; they are counted, not failed. Weights missing from
    the file are drawn from the seed as dagnet train draws them.

    \b
    Example:
      dagnet gradcheck graphs/xor.json --tolerance 1e-6
      dagnet gradcheck big.json --directions 8
    """
    if sample is not None and directions is not None:
        raise click.UsageError("--sample and --directions are two different checks; pick one")
    graph = load(file)
    net = Network(graph, seed=seed)  # the file's seed and loss unless told
    dataset = load_data(graph, data, base=file.parent)
    assert dataset.targets is not None
    if directions is not None:
        _directions(
            directional_check(net, dataset.inputs, dataset.targets, directions, step),
            tolerance,
            dataset.source,
        )
        return
    checks = gradcheck(net, dataset.inputs, dataset.targets, step, sample=sample)
    echo(_table(checks))
    failed = [check for check in checks if not check.relative_error <= tolerance]
    worst = max(checks, key=lambda check: check.relative_error, default=None)
    if worst is None:
        say(False, f"{file}: no parameters to check")
        return
    kinks = sum(check.kinks for check in checks)
    if kinks:
        say(
            False,
            f"{count(kinks, 'parameter')} not checked: a kink of relu, leaky_relu or elu lay "
            "within every step tried, for some example",
        )
    where = f"{worst.relative_error:.2g} (unit {worst.unit}, {_name(worst.parameter)})"
    checked = sum(check.parameters - check.kinks for check in checks)
    if failed:
        raise click.ClickException(
            f"gradient check failed: {len(failed)} of {count(len(checks), 'unit')} above the "
            f"tolerance {tolerance:g} on {dataset.source}; the worst relative error is {where}"
        )
    say(
        False,
        f"gradient check passed on {dataset.source} ({count(checked, 'parameter')} checked): "
        f"worst relative error {where}",
    )


def _directions(checks: list[DirectionCheck], tolerance: float, source: str) -> None:
    rows = [("direction", "backprop g·v", "finite difference", "±", "relative error")]
    rows += [
        (
            str(k + 1),
            f"{check.engine:.10g}",
            f"{check.finite_difference:.10g}",
            f"{check.uncertainty:.1g}",
            "kink" if check.kinked else f"{check.relative_error:.2g}",
        )
        for k, check in enumerate(checks)
    ]
    click.echo(_columns(rows))
    failed = [check for check in checks if not check.relative_error <= tolerance]
    worst = max(check.relative_error for check in checks)
    if failed:
        raise click.ClickException(
            f"gradient check failed: {len(failed)} of {count(len(checks), 'direction')} above "
            f"the tolerance {tolerance:g} on {source}; the worst relative error is {worst:.2g}"
        )
    say(False, f"gradient check passed on {source}: worst relative error {worst:.2g}")


def _name(parameter: tuple[str, str] | str) -> str:
    if isinstance(parameter, tuple):
        return f"w[{parameter[0]}->{parameter[1]}]"
    return f"b_{parameter}"


def _table(checks: list[UnitCheck]) -> str:
    header = (
        "unit",
        "parameters",
        "worst",
        "backprop",
        "finite difference",
        "±",
        "relative error",
    )
    rows = [header] + [
        (
            check.unit,
            str(check.parameters),
            _name(check.parameter),
            f"{check.engine:.10g}",
            f"{check.finite_difference:.10g}",
            f"{check.uncertainty:.1g}",
            f"{check.relative_error:.2g}",
        )
        for check in checks
    ]
    return _columns(rows)


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
