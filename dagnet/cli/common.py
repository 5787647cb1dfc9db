"""What every command shares: loading a graph for a run, writing atomically, counting nouns."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import click
import numba

from dagnet.engine.threads import AUTO
from dagnet.errors import GraphFileError, printable, visible
from dagnet.graph.atomic import NotRegularFileError, atomic_write, regular_target
from dagnet.graph.model import Graph
from dagnet.graph.reading import read_graph

__all__ = [
    "EXIT_INTERRUPTED",
    "MAX_PRINTED",
    "OutputPath",
    "ThreadCount",
    "check_writable",
    "count",
    "dtype_option",
    "echo",
    "finite",
    "json_text",
    "load",
    "refuse_data_files",
    "refuse_same_file",
    "say",
    "seed_option",
    "shown",
    "threads_option",
    "write",
]

EXIT_INTERRUPTED = 130

MAX_PRINTED = 1000
"""At most this many problems of one file are printed, then how many more there are."""

seed_option = click.option(
    "--seed",
    type=click.IntRange(min=0),
    metavar="N",
    help="Seed for missing weights, as in dagnet train; default: the file's.",
)


class ThreadCount(click.ParamType):  # type: ignore[type-arg]
    """A number of threads from 1 to the cores numba may use, or "auto"."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == AUTO:
            return value
        text = str(value).strip().lower()
        if text == AUTO:
            return AUTO
        cores = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        if text.isdecimal() and 1 <= int(text) <= cores:
            return int(text)
        self.fail(f"{value!r} is neither a number of threads from 1 to {cores} nor 'auto'")


threads_option = click.option(
    "--threads",
    type=ThreadCount(),
    metavar="N|auto",
    default=AUTO,
    show_default=True,
    help="How many threads run the passes: a number up to the cores numba may use "
    "(NUMBA_NUM_THREADS), or auto, which times the first steps of each batch size on one "
    "thread and on all, keeps the faster and checks again now and then (a second thread "
    "only pays while its core is free: on a machine shared with a busy process it makes a "
    "step slower). One thread and several differ only in how sums are rounded; give a count "
    "when two runs must agree bit for bit.",
)

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
            echo(problem.format(str(file)), err=True)
    if not report.valid:
        raise GraphFileError(str(file), report.problems)
    assert report.graph is not None
    return report.graph


def load_trained(file: Path, *, would: str, then: str) -> Graph:
    """:func:`load`, refusing a graph with an edge without a weight: what the command ``would``
    give then, and that it should ``then`` take the trained file."""
    graph = load(file)
    untrained = graph.edges.weights.count(None)
    if untrained:
        raise click.ClickException(
            f"{file}: {count(untrained, 'edge')} ha{'s' if untrained == 1 else 've'} no weight, "
            f"so {would}; train first (dagnet train {file}) and {then} the trained file"
        )
    return graph


def write(path: Path, content: str | bytes, *, replace: bool) -> None:
    """Write ``content`` (text as UTF-8) atomically; on failure say so, and that any existing
    file is as it was.

    Without ``replace`` a file found at ``path`` when the write ends (one made while the run
    went on) is left as it is and the write fails; a device, FIFO or socket is never replaced.
    """
    existed = os.path.lexists(path)
    try:
        atomic_write(
            path,
            content.encode("utf-8") if isinstance(content, str) else content,
            overwrite=replace,
        )
    except FileExistsError:
        raise click.ClickException(
            f"cannot write {shown(path)}: a file appeared there while dagnet was working; it was "
            "left as it is (add --force to replace it)"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        kept = "the existing file is unchanged" if existed else "nothing was written"
        raise click.ClickException(f"cannot write {shown(path)}: {reason}; {kept}") from None


def say(quiet: bool, message: str) -> None:
    if not quiet:
        echo(visible(message), err=True)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` with control characters escaped (line breaks kept): whatever a file held,
    its names cannot set the window title or clear the screen."""
    click.echo(printable(text), err=err, nl=nl)


def json_text(document: Any, *, indent: int | None = None) -> str:
    """JSON text with every character a terminal could act on escaped (``\\u009b``, which
    ``json.dumps`` leaves raw when not escaping all non-ASCII text)."""
    text = json.dumps(document, ensure_ascii=False, indent=indent)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in " \n" else _json_escape(c) for c in text)


def _json_escape(c: str) -> str:
    return json.dumps(c)[1:-1]  # ensure_ascii: \\uXXXX, a surrogate pair beyond the BMP


def check_writable(output: Path, *, force: bool) -> None:
    """Fail before any work is done when ``output`` cannot or may not be written."""
    name = shown(output)
    if output.is_dir():
        raise click.ClickException(f"{name} is a folder; --output needs a file name")
    try:
        regular_target(output)
    except NotRegularFileError as exc:
        raise click.ClickException(
            f"cannot write {name}: {exc.strerror}; --output needs a regular file"
        ) from None
    if os.path.lexists(output) and not force:
        raise click.ClickException(f"{name} exists; add --force to replace it")
    if not output.parent.is_dir():
        raise click.ClickException(
            f"cannot write {name}: the folder {shown(output.parent)} does not exist"
        )


class OutputPath(click.Path):
    """A path to write to: a name ending in a slash is a folder, refused as a usage error
    (``Path`` would drop the slash and write a file of that name)."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else value
        if isinstance(text, str) and text.endswith(("/", os.sep)):
            self.fail(
                f"{visible(text)!r} ends in a slash, so it names a folder; give a file name",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


def shown(path: str | os.PathLike[str]) -> str:
    """A file name as it may be printed: control characters escaped, look-alikes marked."""
    return visible(os.fspath(path))


def refuse_data_files(destination: Path, graph: Graph, file: Path, data: Path | None) -> None:
    """The data a run reads is the user's: no output may land on it."""
    if data is not None:
        refuse_same_file(destination, data, "the data file")
    if graph.data is not None and graph.data.path is not None:
        refuse_same_file(destination, file.parent / graph.data.path, "the graph's data file")


def refuse_same_file(destination: Path, other: Path, what: str) -> None:
    if destination.resolve() == other.resolve():
        raise click.ClickException(f"refusing to write over {shown(other)}: it is {what}")
