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
    threads_option,
    write,
)
from dagnet.engine.initialisation import INITIALISATIONS
from dagnet.engine.network import Network
from dagnet.engine.threads import Threads
from dagnet.errors import TrainingError, TrainingInterrupted
from dagnet.functions.losses import LOSSES
from dagnet.graph.data import Dataset, load_data
from dagnet.graph.model import Graph, Trained, Training
from dagnet.graph.writing import graph_to_text, rebase_paths
from dagnet.showing.draw import PICTURE_FORMATS, loss_curve, require_matplotlib
from dagnet.training.fit import Progress, fit
from dagnet.training.history import HISTORY_FORMATS, History, history_text
from dagnet.training.optimizers import OPTIMIZERS
from dagnet.training.optimizers import optimizer as make_optimizer
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
    "--momentum",
    type=click.FloatRange(min=0, max=1, max_open=True),
    metavar="F",
    callback=finite,
    help="μ for --optimizer momentum or nesterov (default 0.9).",
)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    metavar="F",
    callback=finite,
    help="λ: L2 (λw added to the gradient) for sgd, momentum and nesterov; decoupled "
    "(w ← w − ηλw, as torch.optim.AdamW) for adam; rprop has none.",
)
@click.option(
    "--loss",
    type=click.Choice(list(LOSSES)),
    help="One loss for every output, instead of the file's: squared_error, cross_entropy "
    "(sigmoid outputs) or softmax_cross_entropy (identity outputs, one softmax group).",
)
@click.option(
    "--validation-split",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    metavar="F",
    callback=finite,
    help="Hold out this share of the examples (drawn by the seed) to validate on each epoch.",
)
@click.option(
    "--validation-data",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="A .csv, .npz or .npy file of examples to validate on each epoch (not trained on).",
)
@click.option(
    "--early-stopping",
    type=click.IntRange(min=1),
    metavar="PATIENCE",
    help="Stop when the validation loss has not improved for PATIENCE epochs, and keep the "
    "best epoch's parameters (recorded as trained.best_epoch).",
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
@threads_option
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
    momentum: float | None,
    weight_decay: float | None,
    loss: str | None,
    validation_split: float | None,
    validation_data: Path | None,
    early_stopping: int | None,
    init: str | None,
    seed: int | None,
    shuffle: bool | None,
    output: Path | None,
    dtype: str | None,
    threads: Threads,
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

    A run diverges when a minibatch's loss stops being a finite number or grows beyond a
    million times the first epoch's mean (in the first epoch, the first minibatch's loss) and
    beyond 1; it then stops, naming the epoch and the first unit whose values blew up. Ctrl-C
    stops the run between two steps (exit code 130; a second Ctrl-C stops at once). Either way
    nothing is written, unless --save-on-failure asks for the last good parameters: they go to
    the same output, with "trained" recording the whole epochs they completed.

    \b
    --validation-split F or --validation-data PATH measure the loss (and the accuracy of
    classifying outputs) on held-out examples after every epoch; --early-stopping PATIENCE
    ends the run when it stops improving and keeps the best epoch.

    \b
    --history and --plot report the run: the loss of every epoch, overall and per output unit
    (and on the validation data), as a table (.csv, or .jsonl with one JSON object per epoch)
    and as a picture.

    \b
    Examples:
      dagnet train graphs/xor.json --epochs 5000 --learning-rate 0.5
      dagnet train graphs/multi_output.json --history loss.csv --plot loss.png
      dagnet train graphs/one_path.json --learning-rate 50 --save-on-failure
      dagnet train graphs/digits.json --validation-split 0.1 --early-stopping 10
      dagnet train graphs/digits.json --threads 1     on a machine busy with other work
    """
    graph = load(file)
    destination = _destination(file, output, force=force, in_place=in_place)
    # What may be replaced at the end: what the user named for it (--force, --in-place), or the
    # previous run's output at the default place. Anything else that appears meanwhile is kept.
    replace = force or in_place or (output is None and destination.exists())
    refuse_data_files(destination, graph, file, data)
    if validation_data is not None:
        refuse_same_file(destination, validation_data, "the validation data")
    _check_reports(history_file, plot, file, graph, data, destination, force=force)
    if validation_data is not None and validation_split is not None:
        raise click.UsageError(
            "--validation-data and --validation-split both say what to validate on; give one"
        )
    settings, drawn = run_settings(
        graph,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        optimizer=optimizer,
        momentum=momentum,
        weight_decay=weight_decay,
        loss=loss,
        validation_split=None if validation_data is not None else validation_split,
        early_stopping=early_stopping,
        init=init,
        seed=seed,
        shuffle=shuffle,
        dtype=dtype,
    )
    if (
        settings.early_stopping is not None
        and validation_data is None
        and (settings.validation_split is None)
    ):
        raise click.UsageError(
            "--early-stopping watches the validation loss: give --validation-split F or "
            "--validation-data PATH too"
        )
    graph = graph.model_copy(update={"training": settings})  # the run's losses and settings
    dataset = load_data(graph, data, base=file.parent)
    validation = load_data(graph, validation_data, base=file.parent) if validation_data else None
    if drawn:
        say(quiet, f"seed {settings.seed} (drawn; recorded in the output)")
    span = (float(dataset.inputs.min()), float(dataset.inputs.max()))
    net = Network(
        graph,
        seed=settings.seed,
        dtype=settings.dtype,
        init=settings.init,
        input_range=span,
        threads=threads,
    )
    keep = _Keeper(net, dataset, settings, file, destination, replace) if save_on_failure else None
    try:
        history = _fit(net, dataset, validation, settings, quiet=quiet)
    except TrainingError as exc:
        raise click.ClickException(f"{exc}; {_after_failure(keep, exc.epochs_done)}") from None
    except TrainingInterrupted as exc:
        done = _after_failure(keep, exc.epochs_done)
        where = f"in epoch {exc.epoch} after {count(exc.steps, 'step')}"
        echo(f"interrupted {where}; {done}", err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    training_examples = dataset.n_examples - _held_out(settings, dataset)
    result = trained(history.final_loss, history.epochs, training_examples, history)
    existed = destination.exists()
    _save(net, settings, result, file, destination, replace=replace)
    for line in _summary_lines(net, history, settings):
        say(quiet, line)
    say(quiet, f"wrote {destination}{' (replaced the previous one)' if existed else ''}")
    per_output = dict(zip(net.output_ids, history.final_output_loss, strict=True))
    if history_file is not None:
        text = history_text(history, net.output_ids, _format(history_file))
        write(history_file, text, replace=force)
        say(quiet, f"wrote {history_file} ({count(history.epochs, 'epoch')})")
    if plot is not None:
        by_output = history.by_output(net.output_ids)
        picture = loss_curve(history.epoch_loss, by_output, _format(plot), history.validation_loss)
        write(plot, picture, replace=force)
        say(quiet, f"wrote {plot}")
    if as_json:
        summary: dict[str, Any] = {"file": str(file), "output": str(destination)}
        summary["data"] = dataset.source
        summary |= settings.model_dump(exclude={"loss", "losses", "optimizer"})
        summary |= {"optimizer": settings.optimizer_name, **settings.optimizer_settings}
        summary |= {"losses": {head.name: head.loss for head in net.heads}}
        summary |= result.model_dump(exclude_none=True)
        summary |= {
            "final_output_loss": per_output,
            "final_head_loss": _head_loss(net, history.final_output_loss),
            "final_accuracy": history.final_accuracy,
            "epoch_loss": history.epoch_loss,
        }
        if history.validation_loss:
            summary |= {
                "validation_loss": history.validation_loss,
                "validation_accuracy": history.validation_accuracy,
                "stopped_early": history.stopped_early,
            }
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


def _held_out(settings: Training, dataset: Dataset) -> int:
    """How many of the examples --validation-split keeps from training (as fit draws them)."""
    split = settings.validation_split
    return 0 if split is None else math.ceil(split * dataset.n_examples)


def _head_loss(net: Network, output_loss: list[float]) -> dict[str, float]:
    return {head.name: sum(output_loss[r] for r in head.slots) for head in net.heads}


def _summary_lines(net: Network, history: History, settings: Training) -> list[str]:
    """What train says at the end: the final loss (per output and head when there are
    several), the accuracy of classifying heads, and the validation figures."""
    epochs = count(history.epochs, "epoch")
    stopped = " (stopped early)" if history.stopped_early else ""
    lines = [f"final loss {history.final_loss:.6g} after {epochs}{stopped}"]
    per_output = dict(zip(net.output_ids, history.final_output_loss, strict=True))
    if len(per_output) > 1:
        lines.append(
            "final loss per output: " + ", ".join(f"{u} {v:.6g}" for u, v in per_output.items())
        )
    if len(net.heads) > 1:
        per_head = _head_loss(net, history.final_output_loss)
        lines.append(
            "final loss per head: " + ", ".join(f"{h} {v:.6g}" for h, v in per_head.items())
        )
    for name, value in history.final_accuracy.items():
        lines.append(f"training accuracy ({name}) {value:.2%}")
    if history.final_validation_loss is not None:
        which = f"best epoch {history.best_epoch}, kept" if history.best_epoch else "last epoch"
        lines.append(f"validation loss {history.final_validation_loss:.6g} ({which})")
        index = (history.best_epoch or history.epochs) - 1
        for name, value in history.validation_accuracy[index].items():
            lines.append(f"validation accuracy ({name}) {value:.2%}")
    return lines


def _fit(
    net: Network,
    dataset: Dataset,
    validation: Dataset | None,
    settings: Training,
    *,
    quiet: bool,
) -> History:
    targets = dataset.targets
    assert targets is not None  # load_data asked for them
    rule = make_optimizer(
        settings.optimizer_name, settings.learning_rate, **settings.optimizer_settings
    )
    held = None if validation is None else (validation.inputs, validation.targets)

    def run(progress: Progress | None) -> History:
        return fit(
            net,
            dataset.inputs,
            targets,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            shuffle=settings.shuffle,
            seed=settings.seed,
            optimizer=rule,
            validation_data=held,  # type: ignore[arg-type]
            validation_split=settings.validation_split if validation is None else None,
            early_stopping=settings.early_stopping,
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
            return run(lambda epoch, loss, held: bar.update(1, _losses_text(loss, held, 4)))
    return run(_every_tenth(settings.epochs))


def _losses_text(loss: float, validation_loss: float | None, digits: int) -> str:
    text = f"loss {loss:.{digits}g}"
    return text if validation_loss is None else f"{text}  validation {validation_loss:.{digits}g}"


def _every_tenth(epochs: int) -> Progress:
    """A progress report of one plain line about every 10% of the epochs, for logs and pipes."""
    every = max(1, math.ceil(epochs / 10))

    def report(epoch: int, loss: float, validation_loss: float | None) -> None:
        if epoch % every == 0 or epoch == epochs:
            width = len(str(epochs))
            echo(
                f"epoch {epoch:>{width}}/{epochs}  {_losses_text(loss, validation_loss, 6)}",
                err=True,
            )

    return report
