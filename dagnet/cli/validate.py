"""``dagnet validate``: every problem in each graph file, and in the data it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dagnet.cli.common import MAX_PRINTED, count, echo, json_text, shown
from dagnet.errors import DataError, Problem
from dagnet.graph.data import load_data, read_data_file
from dagnet.graph.jsontext import Positions, pointer
from dagnet.graph.reading import read_graph

__all__ = ["validate"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per file on stdout (JSON Lines) instead of lines of text.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="Also check that this .csv or .npz file fits each graph (instead of the graph's data).",
)
def validate(files: tuple[Path, ...], as_json: bool, data: Path | None) -> None:
    """Check graph FILES and report every problem in each.

    Each problem is printed on stdout as FILE:LINE:COL: /json/pointer: message [CODE], in the
    order of the text. The data a graph names is checked too, or the file given with --data
    (its problems name that file and its line). Warnings (units no input reaches, units that
    reach no output) do not make a file invalid. The exit code is 0 when every file is valid,
    1 otherwise.

    With --json, stdout has one line per file, each a JSON object (JSON Lines):
    {"file": ..., "valid": true|false, "problems": [{"code", "severity", "pointer", "line",
    "column", "message"}, ...]}; "pointer", "line" and "column" are null where they do not
    apply (a file that cannot be read has no line). At most 1,000 problems are printed per
    file; then "problems_not_listed" (or a last line of text) says how many more there are.

    \b
    Examples:
      dagnet validate graphs/*.json
      dagnet validate mynet.json --data measurements.csv
      dagnet validate --json mynet.json | jq -r '.problems[].code'
    """
    invalid = 0
    for file in files:
        problems, summary = _validate_one(file, data)
        if as_json:
            echo(json_text(_document(file, problems)))
        for problem in [] if as_json else problems[:MAX_PRINTED]:
            echo(problem.format(str(file)))
        if not as_json and len(problems) > MAX_PRINTED:
            hidden = len(problems) - MAX_PRINTED
            echo(f"{shown(file)}: … and {count(hidden, 'more problem')} not printed")
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        invalid += errors > 0
        verdict = f"{count(errors, 'error')}" if errors else f"valid ({summary})"
        if warnings:
            verdict += f", {count(warnings, 'warning')}"
        echo(f"{file}: {verdict}", err=True)
    if invalid:
        raise SystemExit(1)


def _document(file: Path, problems: list[Problem]) -> dict[str, Any]:
    """The --json report on one file: the first MAX_PRINTED problems, and, when there are
    more, how many were left out in "problems_not_listed"."""
    fields = ("code", "severity", "pointer", "line", "column", "message")
    document: dict[str, Any] = {
        "file": str(file),
        "valid": not any(p.is_error for p in problems),
        "problems": [{name: getattr(p, name) for name in fields} for p in problems[:MAX_PRINTED]],
    }
    if len(problems) > MAX_PRINTED:
        document["problems_not_listed"] = len(problems) - MAX_PRINTED
    return document


def _validate_one(file: Path, data: Path | None) -> tuple[list[Problem], str]:
    report = read_graph(file)
    graph = report.graph
    if graph is None or not report.valid:
        return report.problems, ""
    problems = list(report.problems)
    if data is not None:
        try:
            read_data_file(graph, data)
        except DataError as exc:
            problems.append(Problem(exc.code, str(exc)))
    elif graph.data is not None:
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
