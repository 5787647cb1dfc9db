"""``dagnet validate``: every problem in each graph file, and in the data it names."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import count
from dagnet.data import load_data
from dagnet.errors import DataError, Problem
from dagnet.files import read_graph
from dagnet.jsontext import Positions, pointer


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check graph FILES and report every problem in each.

    Each problem is printed on stdout as FILE:LINE:COL: /json/pointer: message [CODE], in the
    order of the text. Warnings (units no input reaches, units that reach no output) do not make
    a file invalid. The exit code is 0 when every file is valid, 1 otherwise.
    """
    invalid = 0
    for file in files:
        problems, summary = _validate_one(file)
        for problem in problems:
            click.echo(problem.format(str(file)))
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        invalid += errors > 0
        verdict = f"{count(errors, 'error')}" if errors else f"valid ({summary})"
        if warnings:
            verdict += f", {count(warnings, 'warning')}"
        click.echo(f"{file}: {verdict}", err=True)
    if invalid:
        raise SystemExit(1)


def _validate_one(file: Path) -> tuple[list[Problem], str]:
    report = read_graph(file)
    graph = report.graph
    if graph is None or not report.valid:
        return report.problems, ""
    problems = list(report.problems)
    if graph.data is not None:
        try:
            load_data(graph, base=file.parent)
        except DataError as exc:
            if graph.data.path is not None:
                where = pointer("data", "path")
            else:
                where = pointer("data", "columns", *([exc.column] if exc.column else []))
            line, column = Positions(file.read_text("utf-8-sig")).line_column(where)
            problems.append(Problem(exc.code, str(exc), where, line=line, column=column))
    summary = f"{count(len(graph.units), 'unit')}, {count(len(graph.edges), 'edge')}"
    return problems, summary
