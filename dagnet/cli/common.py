"""What every command shares: loading a graph for a run, writing atomically, counting nouns."""

from __future__ import annotations

import math
from pathlib import Path

import click

from dagnet.errors import GraphFileError
from dagnet.graph.atomic import atomic_write
from dagnet.graph.model import Graph
from dagnet.graph.reading import read_graph

__all__ = [
    "EXIT_INTERRUPTED",
    "check_writable",
    "count",
    "dtype_option",
    "finite",
    "load",
    "refuse_data_files",
    "refuse_same_file",
    "say",
    "write",
]

EXIT_INTERRUPTED = 130

dtype_option = click.option(
    "--dtype",
    type=click.Choice(["float64", "float32"]),
    help="Compute in this precision; default: the file's training.dtype, else float64.",
)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A click callback refusing inf and nan, which FloatRange lets through."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number")
    return value


def load(file: Path) -> Graph:
    """The graph in ``file``, its warnings printed on stderr; every error raised at once."""
    report = read_graph(file)
    for problem in report.problems:
        if not problem.is_error:
            click.echo(problem.format(str(file)), err=True)
    if not report.valid:
        raise GraphFileError(str(file), report.problems)
    assert report.graph is not None
    return report.graph


def write(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) atomically; on failure say so, and that any existing
    file is as it was."""
    existed = path.exists()
    try:
        atomic_write(path, content.encode("utf-8") if isinstance(content, str) else content)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        kept = "the existing file is unchanged" if existed else "nothing was written"
        raise click.ClickException(f"cannot write {path}: {reason}; {kept}") from None


def say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


def check_writable(output: Path, *, force: bool) -> None:
    """Fail before any work is done when ``output`` cannot or may not be written."""
    if output.is_dir():
        raise click.ClickException(f"{output} is a folder; --output needs a file name")
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; add --force to replace it")
    if not output.parent.is_dir():
        raise click.ClickException(
            f"cannot write {output}: the folder {output.parent} does not exist"
        )


def refuse_data_files(destination: Path, graph: Graph, file: Path, data: Path | None) -> None:
    """The data a run reads is the user's: no output may land on it."""
    if data is not None:
        refuse_same_file(destination, data, "the data file")
    if graph.data is not None and graph.data.path is not None:
        refuse_same_file(destination, file.parent / graph.data.path, "the graph's data file")


def refuse_same_file(destination: Path, other: Path, what: str) -> None:
    if destination.resolve() == other.resolve():
        raise click.ClickException(f"refusing to write over {other}: it is {what}")
