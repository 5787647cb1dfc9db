"""The ``dagnet`` command line: thin commands that call the library and print.

Data, ``--json`` documents and the findings of ``validate`` go to stdout; progress and messages,
including the problems that stop ``train`` or ``predict``, go to stderr. Exit codes: 0 success,
1 bad input or a failed run (a one-paragraph message, never a traceback), 2 a usage error,
130 interrupted.
"""

from __future__ import annotations

import json
import math
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from dagnet import __version__
from dagnet.data import Dataset, load_data
from dagnet.errors import DagnetError, DataError, GraphFileError, Problem
from dagnet.files import atomic_write, graph_to_text, read_graph, rebase_paths
from dagnet.jsontext import Positions, pointer
from dagnet.network import Network
from dagnet.schema import Graph, Trained, Training, json_schema_text
from dagnet.train import History, Progress, fit

EXIT_INTERRUPTED = 130


class _Commands(click.Group):
    """Turns the errors that are the user's to fix into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GraphFileError as exc:
            if len(exc.errors) == 1:
                raise click.ClickException(exc.errors[0].format(exc.file)) from None
            for problem in exc.errors:
                click.echo(problem.format(exc.file), err=True)
            what = exc.file or "the graph"
            raise click.ClickException(
                f"{what} is not a valid dagnet graph ({_count(len(exc.errors), 'error')} above)"
            ) from None
        except DagnetError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted; nothing was written", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dagnet")
def main() -> None:
    """Train neural networks of any acyclic shape, described unit by unit in a JSON file.

    \b
    Start here:
      dagnet validate graphs/*.json          check graph files, every problem at once
      dagnet train graphs/multi_output.json  train; writes graphs/multi_output.trained.json
      dagnet predict graphs/multi_output.trained.json --data graphs/multi_output.csv

    Exit codes: 0 success, 1 bad input or a failed run, 2 a usage error.
    """


@main.command()
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
        verdict = f"{_count(errors, 'error')}" if errors else f"valid ({summary})"
        if warnings:
            verdict += f", {_count(warnings, 'warning')}"
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
    summary = f"{_count(len(graph.units), 'unit')}, {_count(len(graph.edges), 'edge')}"
    return problems, summary


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number")
    return value


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv or .npz file to train on, instead of the file's own data.",
)
@click.option("--epochs", type=click.IntRange(min=1), metavar="N", help="Passes over the data.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), metavar="N", help="Examples per gradient step."
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    metavar="F",
    callback=_finite,
    help="Step size η.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), metavar="N", help="Seeds initialisation and shuffling."
)
@click.option(
    "--shuffle/--no-shuffle", default=None, help="Visit examples in a new random order each epoch."
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Where to write the trained graph."
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--in-place", is_flag=True, help="Write the trained graph over FILE itself.")
@click.option("-q", "--quiet", is_flag=True, help="No progress, only errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary of the run on stdout.")
def train(
    file: Path,
    data: Path | None,
    epochs: int | None,
    batch_size: int | None,
    learning_rate: float | None,
    seed: int | None,
    shuffle: bool | None,
    output: Path | None,
    force: bool,
    in_place: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Train the network in FILE by minibatch gradient descent and save it.

    Settings come from the file's "training" section; options override them. Missing weights
    are initialised from the seed; with no seed anywhere, one is drawn, printed and recorded.
    The trained network (every weight and bias filled in, the seed and final loss recorded) is
    written to FILE's folder as STEM.trained.json, replacing the one from the previous run,
    unless --output names another file (which must not exist, or --force) or --in-place asks
    to overwrite FILE.

    \b
    Example:
      dagnet train graphs/xor.json --epochs 5000 --learning-rate 0.5
    """
    graph = _load(file)
    destination = _destination(file, output, force=force, in_place=in_place)
    _refuse_data_files(destination, graph, file, data)
    settings = _settings(
        graph,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        shuffle=shuffle,
    )
    dataset = load_data(graph, data, base=file.parent)
    if settings.seed is None:
        settings = settings.model_copy(update={"seed": secrets.randbelow(2**31)})
        _say(quiet, f"seed {settings.seed} (drawn; recorded in the output)")
    net = Network(graph, seed=settings.seed, loss=settings.loss)
    history = _fit(net, dataset, settings, quiet=quiet)
    result = Trained(
        final_loss=history.final_loss,
        epochs=settings.epochs,
        examples=dataset.n_examples,
        dagnet_version=__version__,
    )
    trained = net.to_graph().model_copy(update={"training": settings, "trained": result})
    existed = destination.exists()
    _write(destination, graph_to_text(rebase_paths(trained, file, destination)))
    _say(quiet, f"final loss {history.final_loss:.6g} after {_count(settings.epochs, 'epoch')}")
    _say(quiet, f"wrote {destination}{' (replaced the previous one)' if existed else ''}")
    if as_json:
        summary = {"file": str(file), "output": str(destination), "data": dataset.source}
        summary |= settings.model_dump(exclude={"loss", "optimizer"}) | result.model_dump()
        click.echo(json.dumps(summary | {"epoch_loss": history.epoch_loss}))


def _settings(graph: Graph, **overrides: Any) -> Training:
    """The file's training settings with the options given on the command line over them."""
    given = {key: value for key, value in overrides.items() if value is not None}
    # Validated afresh so that every setting, defaults included, counts as set and is written.
    return Training.model_validate((graph.training or Training()).model_dump() | given)


def _destination(file: Path, output: Path | None, *, force: bool, in_place: bool) -> Path:
    if in_place:
        if output is not None:
            raise click.UsageError("--in-place and --output name two different outputs; give one")
        return file
    if output is None:
        return file.with_name(f"{file.stem}.trained.json")
    _refuse_same_file(output, file, "the input graph; use --in-place to overwrite it")
    _check_writable(output, force=force)
    return output


def _check_writable(output: Path, *, force: bool) -> None:
    """Fail before any work is done when ``output`` cannot or may not be written."""
    if output.is_dir():
        raise click.ClickException(f"{output} is a folder; --output needs a file name")
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; add --force to replace it")
    if not output.parent.is_dir():
        raise click.ClickException(
            f"cannot write {output}: the folder {output.parent} does not exist"
        )


def _refuse_data_files(destination: Path, graph: Graph, file: Path, data: Path | None) -> None:
    """The data a run reads is the user's: no output may land on it."""
    if data is not None:
        _refuse_same_file(destination, data, "the data file")
    if graph.data is not None and graph.data.path is not None:
        _refuse_same_file(destination, file.parent / graph.data.path, "the graph's data file")


def _refuse_same_file(destination: Path, other: Path, what: str) -> None:
    if destination.resolve() == other.resolve():
        raise click.ClickException(f"refusing to write over {other}: it is {what}")


def _fit(net: Network, dataset: Dataset, settings: Training, *, quiet: bool) -> History:
    assert dataset.targets is not None

    def run(progress: Progress | None) -> History:
        return fit(
            net,
            dataset.inputs,
            dataset.targets,
            epochs=settings.epochs,
            learning_rate=settings.learning_rate,
            batch_size=settings.batch_size,
            shuffle=settings.shuffle,
            seed=settings.seed,
            optimizer=settings.optimizer,
            progress=progress,
        )

    if quiet:
        return run(None)
    if sys.stderr.isatty():
        with click.progressbar(
            length=settings.epochs,
            label="training",
            file=sys.stderr,
            item_show_func=lambda item: item,
        ) as bar:
            return run(lambda epoch, loss: bar.update(1, f"loss {loss:.4g}"))
    return run(_every_tenth(settings.epochs))


def _every_tenth(epochs: int) -> Progress:
    """A progress report of one plain line about every 10% of the epochs, for logs and pipes."""
    every = max(1, math.ceil(epochs / 10))

    def report(epoch: int, loss: float) -> None:
        if epoch % every == 0 or epoch == epochs:
            width = len(str(epochs))
            click.echo(f"epoch {epoch:>{width}}/{epochs}  loss {loss:.6g}", err=True)

    return report


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv or .npz file of inputs; default: the file's own data.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the CSV here instead of stdout."
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
def predict(file: Path, data: Path | None, output: Path | None, force: bool) -> None:
    """Run the network in FILE forward and print its outputs as CSV.

    The CSV has a header of output unit ids and one row per example of the data (columns named
    by input unit ids; any target columns are ignored).

    \b
    Example:
      dagnet predict graphs/one_path.trained.json --data graphs/one_path.csv -o predictions.csv
    """
    graph = _load(file)
    untrained = sum(edge.weight is None for edge in graph.edges)
    if untrained:
        raise click.ClickException(
            f"{file}: {_count(untrained, 'edge')} ha{'s' if untrained == 1 else 've'} no weight, "
            f"so the predictions would be random; train first (dagnet train {file}) and predict "
            "with the trained file"
        )
    if output is not None:
        _refuse_same_file(output, file, "the graph")
        _refuse_data_files(output, graph, file, data)
        _check_writable(output, force=force)
    dataset = load_data(graph, data, base=file.parent, need_targets=False)
    net = Network(graph)
    y_hat = net.forward(dataset.inputs)
    lines = [",".join(net.output_ids)] + [",".join(map(repr, row)) for row in y_hat.tolist()]
    text = "\n".join(lines) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        _write(output, text)
        click.echo(f"wrote {output} ({_count(len(y_hat), 'row')})", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the graph file format (schemas/graph.schema.json)."""
    click.echo(json_schema_text(), nl=False)


def _load(file: Path) -> Graph:
    report = read_graph(file)
    for problem in report.problems:
        if not problem.is_error:
            click.echo(problem.format(str(file)), err=True)
    if not report.valid:
        raise GraphFileError(str(file), report.problems)
    assert report.graph is not None
    return report.graph


def _write(path: Path, text: str) -> None:
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot write {path}: {reason}; nothing was changed") from None


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)
