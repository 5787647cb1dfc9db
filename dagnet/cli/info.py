"""``dagnet info``: the shape of a network in numbers, and its validation warnings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from dagnet.cli.common import count, echo
from dagnet.errors import GraphFileError
from dagnet.graph.messages import SHOWN, listing
from dagnet.graph.reading import read_graph
from dagnet.showing.info import Info, describe

__all__ = ["info"]


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the facts as one JSON document.")
def info(file: Path, as_json: bool) -> None:
    """Describe the shape of the network in FILE in numbers.

    Units by role and activation, edges, depth, the widest level, the largest fan-in and
    fan-out, the parameter count, and the validation warnings.

    A unit's level is the length of the longest path to it from a unit without in-edges, so
    the inputs are at level 0 and the depth is the number of levels.

    \b
    Example:
      dagnet info graphs/xor.json --json
    """
    report = read_graph(file)
    if not report.valid:
        raise GraphFileError(str(file), report.problems)
    assert report.graph is not None
    facts = describe(report.graph)
    warnings = [problem.format(str(file)) for problem in report.problems]
    if as_json:
        document = dataclasses.asdict(facts) | {"parameters": facts.parameters}
        echo(json.dumps({"file": str(file)} | document | {"warnings": warnings}, indent=2))
    else:
        echo("\n".join(_lines(file, facts, warnings)))


def _lines(file: Path, facts: Info, warnings: list[str]) -> list[str]:
    widest = facts.widest_units
    roles = ", ".join(f"{n} {role}" for role, n in facts.roles.items())
    activations = ", ".join(f"{n} {name}" for name, n in facts.activations.items())
    rows = [
        ("units", f"{facts.units}: {roles}"),
        ("activations", activations or "none"),
        ("edges", f"{facts.edges} ({facts.weighted_edges} with a weight)"),
        ("depth", f"{count(facts.levels, 'level')} (the longest path has "
                  f"{count(facts.levels - 1, 'edge')})"),
        ("widest level", f"level {facts.widest_level}: " + (
            listing(widest) if len(widest) > SHOWN + 2
            else f"{count(len(widest), 'unit')} ({listing(widest)})")),
        ("largest fan-in", f"{facts.largest_fan_in} ({listing(facts.fan_in_units)})"),
        ("largest fan-out", f"{facts.largest_fan_out} ({listing(facts.fan_out_units)})"),
        ("parameters", f"{facts.parameters} ({count(facts.weights, 'weight')}, "
                       f"{facts.biases} bias{'' if facts.biases == 1 else 'es'})"),
        ("warnings", str(len(warnings)) if warnings else "none"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    title = f"{facts.name} ({file})" if facts.name else str(file)
    return (
        [title]
        + [f"  {label.ljust(width)}  {text}" for label, text in rows]
        + [f"  {warning}" for warning in warnings]
    )
