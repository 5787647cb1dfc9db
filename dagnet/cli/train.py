"""``dagnet train``: fit a graph file's network to its data and save the trained file."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from dagnet.cli.common import (
    EXIT_INTERRUPTED,
    OutputPath,
    check_writable,
    count,
    dtype_option,
    echo,
    finite,
    load,
    refuse_data_files,
    refuse_same_file,
    say,
    write,
)
from dagnet.engine.initialisation import INITIALISATIONS
from dagnet.engine.network import Network
from dagnet.errors import TrainingError, TrainingInterrupted
from dagnet.graph.data import Dataset, load_data
from dagnet.graph.model import Graph, Trained, Training
from dagnet.graph.writing import graph_to_text, rebase_paths
from dagnet.showing.draw import PICTURE_FORMATS, loss_curve, require_matplotlib
from dagnet.training.fit import Progress, fit
from dagnet.training.history import HISTORY_FORMATS, History, history_text
from dagnet.training.optimizers import OPTIMIZERS
from dagnet.training.record import last_good, run_settings, trained, trained_graph

__all__ = ["train"]


def _format(path: Path) -> str:
    return path.suffix.lower().lstrip(".")


def _suffix_check(formats: tuple[str, ...]) -> Callable[..., Path | None]:
    """A click callback refusing a file name whose suffix is not one of ``formats``."""

    def check(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None and _format(value) not in formats:
            allowed = " or ".join(f".{fmt}" for fmt in formats)
            raise click.BadParameter(f"the file name must end in {allowed}; got {value.name!r}")
        return value

    return check


@click.command()
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
    callback=finite,
    help="Step size η; default: the file's, else the optimizer's own (0.1 for sgd, 0.01 for "
    "momentum, nesterov and rprop, 0.001 for adam).",
)
@click.option(
    "--optimizer",
    type=click.Choice(list(OPTIMIZERS)),
    help="The update rule: sgd (the default), momentum or nesterov (μ = 0.9), adam, rprop; "
    "each as PyTorch defines it.",
)
@click.option(
    "--init",
    type=click.Choice(list(INITIALISATIONS)),
    help="How missing weights are drawn: glorot_uniform (the default), he_uniform, "
    "lecun_normal, or widrow_nguyen (FANN's, scaled by the inputs' range; biases too).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), metavar="N", help="Seeds initialisation and shuffling."
)
@click.option(
    "--shuffle/--no-shuffle", default=None, help="Visit examples in a new random order each epoch."
)
@click.option("-o", "--output", type=OutputPath(), help="Where to write the trained graph.")
@dtype_option
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
@click.option("--in-place", is_flag=True, help="Write the trained graph over FILE itself.")
@click.option(
    "--history",
    "history_file",
    type=OutputPath(),
    callback=_suffix_check(HISTORY_FORMATS),
    help="Record the loss of every epoch, overall and per output unit (.csv or .jsonl).",
)
@click.option(
    "--plot",
    type=OutputPath(),
    callback=_suffix_check(PICTURE_FORMATS),
    help="Draw the loss curve (.png or .svg; needs matplotlib: pip install 'dagnet[plot]').",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress, only errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary of the run on stdout.")
@click.option(
    "--save-on-failure",
    is_flag=True,
    help="If the run diverges or is interrupted, still write the last good parameters to the "
    "output.",
)
def train(
    file: Path,
    data: Path | None,
    epochs: int | None,
    batch_size: int | None,
    learning_rate: float | None,
    optimizer: str | None,
    init: str | None,
    seed: int | None,
    shuffle: bool | None,
    output: Path | None,
    dtype: str | None,
    force: bool,
    in_place: bool,
    history_file: Path | None,
    plot: Path | None,
    quiet: bool,
    as_json: bool,
    save_on_failure: bool,
) -> None:
    """Train the network in FILE by minibatch gradient descent and save it.

    Settings come from the file's "training" section; options override them. Missing weights
    are initialised from the seed; with no seed anywhere, one is drawn, printed and recorded.
    The trained network (every weight and bias filled in, the seed and final loss recorded) is
    written to FILE's folder as STEM.trained.json, replacing the one from the previous run,
    unless --output names another file (which must not exist, or --force) or --in-place asks
    to overwrite FILE.

    A run diverges when a minibatch's loss stops being a finite number or, after the first
    epoch, grows beyond a million times that epoch's mean (and beyond 1); it then stops, naming
    the epoch and the first unit whose values blew up. Ctrl-C stops the run between two steps
    (exit code 130; a second Ctrl-C stops at once). Either way nothing is written, unless
    --save-on-failure asks for the last good parameters: they go to the same output, with
    "trained" recording the whole epochs they completed.

    \b
    --history and --plot report the run: the loss of every epoch, overall and per output unit,
    as a table (.csv, or .jsonl with one JSON object per epoch) and as a picture.

    \b
    Examples:
      dagnet train graphs/xor.json --epochs 5000 --learning-rate 0.5
      dagnet train graphs/multi_output.json --history loss.csv --plot loss.png
      dagnet train graphs/one_path.json --learning-rate 50 --save-on-failure
    """
    graph = load(file)
    destination = _destination(file, output, force=force, in_place=in_place)
    # What may be replaced at the end: what the user named for it (--force, --in-place), or the
    # previous run's output at the default place. Anything else that appears meanwhile is kept.
    replace = force or in_place or (output is None and destination.exists())
    refuse_data_files(destination, graph, file, data)
    _check_reports(history_file, plot, file, graph, data, destination, force=force)
    settings, drawn = run_settings(
        graph,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        optimizer=optimizer,
        init=init,
        seed=seed,
        shuffle=shuffle,
        dtype=dtype,
    )
    dataset = load_data(graph, data, base=file.parent)
    if drawn:
        say(quiet, f"seed {settings.seed} (drawn; recorded in the output)")
    span = (float(dataset.inputs.min()), float(dataset.inputs.max()))
    net = Network(
        graph,
        seed=settings.seed,
        loss=settings.loss,
        dtype=settings.dtype,
        init=settings.init,
        input_range=span,
    )
    keep = _Keeper(net, dataset, settings, file, destination, replace) if save_on_failure else None
    try:
        history = _fit(net, dataset, settings, quiet=quiet)
    except TrainingError as exc:
        raise click.ClickException(f"{exc}; {_after_failure(keep, exc.epochs_done)}") from None
    except TrainingInterrupted as exc:
        done = _after_failure(keep, exc.epochs_done)
        where = f"in epoch {exc.epoch} after {count(exc.steps, 'step')}"
        echo(f"interrupted {where}; {done}", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    result = trained(history.final_loss, settings.epochs, dataset.n_examples)
    existed = destination.exists()
    _save(net, settings, result, file, destination, replace=replace)
    say(quiet, f"final loss {history.final_loss:.6g} after {count(settings.epochs, 'epoch')}")
    say(quiet, f"wrote {destination}{' (replaced the previous one)' if existed else ''}")
    per_output = dict(zip(net.output_ids, history.final_output_loss, strict=True))
    if len(per_output) > 1:
        say(
            quiet,
            "final loss per output: " + ", ".join(f"{u} {v:.6g}" for u, v in per_output.items()),
        )
    if history_file is not None:
        text = history_text(history, net.output_ids, _format(history_file))
        write(history_file, text, replace=force)
        say(quiet, f"wrote {history_file} ({count(settings.epochs, 'epoch')})")
    if plot is not None:
        by_output = history.by_output(net.output_ids)
        write(plot, loss_curve(history.epoch_loss, by_output, _format(plot)), replace=force)
        say(quiet, f"wrote {plot}")
    if as_json:
        summary: dict[str, Any] = {"file": str(file), "output": str(destination)}
        summary["data"] = dataset.source
        summary |= settings.model_dump(exclude={"loss", "optimizer"}) | result.model_dump()
        summary |= {"final_output_loss": per_output, "epoch_loss": history.epoch_loss}
        echo(json.dumps(summary))


def _check_reports(
    history: Path | None,
    plot: Path | None,
    file: Path,
    graph: Graph,
    data: Path | None,
    destination: Path,
    *,
    force: bool,
) -> None:
    """Before any training: the report files can be written and land on nothing of the user's."""
    # (--history and --plot cannot name one file: their suffixes differ.)
    for path in (report for report in (history, plot) if report is not None):
        refuse_same_file(path, file, "the input graph")
        refuse_same_file(path, destination, "where the trained graph goes")
        refuse_data_files(path, graph, file, data)
        check_writable(path, force=force)
    if plot is not None:
        require_matplotlib(f"--plot {plot}")


def _save(
    net: Network,
    settings: Training,
    result: Trained | None,
    file: Path,
    destination: Path,
    *,
    replace: bool,
) -> None:
    graph = trained_graph(net, settings, result)
    write(destination, graph_to_text(rebase_paths(graph, file, destination)), replace=replace)


@dataclass
class _Keeper:
    """What --save-on-failure needs to write the last good parameters of a failed run."""

    net: Network
    dataset: Dataset
    settings: Training
    file: Path
    destination: Path
    replace: bool

    def save(self, epochs_done: int) -> str:
        result, loss = last_good(self.net, self.dataset, epochs_done)
        _save(self.net, self.settings, result, self.file, self.destination, replace=self.replace)
        return (
            f"wrote the last good parameters ({count(epochs_done, 'whole epoch')} done, "
            f"loss {loss:.6g}) to {self.destination}"
        )


def _after_failure(keep: _Keeper | None, epochs_done: int) -> str:
    """Write the last good parameters if asked to, and say what became of the output."""
    if keep is None:
        return "nothing was written (--save-on-failure keeps the last good parameters)"
    return keep.save(epochs_done)


def _destination(file: Path, output: Path | None, *, force: bool, in_place: bool) -> Path:
    if in_place:
        if output is not None:
            raise click.UsageError("--in-place and --output name two different outputs; give one")
        # A symbolic link is kept: the file it points to is the one updated (and relative data
        # paths are rebased to that file's folder).
        return Path(os.path.realpath(file)) if file.is_symlink() else file
    if output is None:
        default = file.with_name(f"{file.stem}.trained.json")
        check_writable(default, force=True)  # the previous run's may go; a folder or FIFO not
        return default
    refuse_same_file(output, file, "the input graph; use --in-place to overwrite it")
    check_writable(output, force=force)
    return output


def _fit(net: Network, dataset: Dataset, settings: Training, *, quiet: bool) -> History:
    targets = dataset.targets
    assert targets is not None  # load_data asked for them

    def run(progress: Progress | None) -> History:
        return fit(
            net,
            dataset.inputs,
            targets,
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
            echo(f"epoch {epoch:>{width}}/{epochs}  loss {loss:.6g}", err=True)

    return report
