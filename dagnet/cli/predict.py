"""``dagnet predict``: run a trained network forward over data and print CSV."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from dagnet.cli.common import (
    OutputPath,
    check_writable,
    count,
    dtype_option,
    echo,
    load_trained,
    refuse_data_files,
    refuse_same_file,
    shown,
    threads_option,
    write,
)
from dagnet.engine.network import Network, predicted
from dagnet.engine.threads import Threads
from dagnet.graph.data import load_data

__all__ = ["predict"]


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="A .csv or .npz file of inputs; default: the file's own data.",
)
@click.option("-o", "--output", type=OutputPath(), help="Write the CSV here instead of stdout.")
@click.option(
    "--classes",
    is_flag=True,
    help="Write the predicted class of each example instead: one column per softmax group "
    "(its class name) and per cross-entropy output (0 or 1).",
)
@dtype_option
@threads_option
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
def predict(
    file: Path,
    data: Path | None,
    output: Path | None,
    classes: bool,
    dtype: str | None,
    threads: Threads,
    force: bool,
) -> None:
    """Run the network in FILE forward and print its outputs as CSV.

    The CSV has a header of output unit ids and one row per example of the data (columns named
    by input unit ids; any target columns are ignored). Outputs trained with cross_entropy are
    written as the probability σ(s) they stand for, and a softmax group's outputs as its
    probabilities p = softmax(ŷ); the others as ŷ.

    \b
    Examples:
      dagnet predict graphs/one_path.trained.json --data graphs/one_path.csv -o predictions.csv
      dagnet predict graphs/digits.trained.json --classes
    """
    graph = load_trained(file, would="the predictions would be random", then="predict with")
    if output is not None:
        refuse_same_file(output, file, "the graph")
        refuse_data_files(output, graph, file, data)
        check_writable(output, force=force)
    dataset = load_data(graph, data, base=file.parent, need_targets=False)
    net = Network(
        graph, dtype=dtype, threads=threads
    )  # the precision it was trained in, unless told
    y_hat = net.probabilities(dataset.inputs)
    _require_finite(file, y_hat, net.output_ids, str(net.dtype))
    if classes:
        lines = _class_lines(file, net, y_hat)
    else:
        lines = [",".join(net.output_ids)] + [",".join(map(repr, row)) for row in y_hat.tolist()]
    text = "\n".join(lines) + "\n"
    if output is None:
        echo(text, nl=False)
    else:
        write(output, text, replace=force)
        echo(f"wrote {output} ({count(len(y_hat), 'row')})", err=True)


def _class_lines(file: Path, net: Network, values: np.ndarray) -> list[str]:
    """The CSV of predicted classes: a column per softmax group, holding class names, and one
    per cross-entropy output, holding 0 or 1."""
    header: list[str] = []
    columns: list[list[str]] = []
    for head in net.heads:
        if not head.function.classifies:
            continue
        found = predicted(head, values)
        if head.function.grouped:
            names = head.classes or tuple(net.output_ids[r] for r in head.slots)
            header.append(head.name)
            columns.append([names[k] for k in found.tolist()])
        else:
            found = found.reshape(len(values), -1)
            for k, r in enumerate(head.slots):
                header.append(net.output_ids[r])
                columns.append([str(v) for v in found[:, k].tolist()])
    if not header:
        raise click.ClickException(
            f"{shown(file)}: no output has a classifying loss (cross_entropy or "
            "softmax_cross_entropy), so there are no classes to predict; drop --classes"
        )
    return [",".join(header)] + [
        ",".join(_csv_cell(c) for c in row) for row in zip(*columns, strict=True)
    ]


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n\r') else text


def _require_finite(file: Path, y_hat: np.ndarray, output_ids: tuple[str, ...], dtype: str) -> None:
    """Predictions that left floating-point range are an error, never printed as inf or nan."""
    bad = np.argwhere(~np.isfinite(y_hat))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        raise click.ClickException(
            f"{shown(file)}: output '{output_ids[column]}' is {y_hat[row, column]} at row "
            f"{row + 1} of the data ({count(len(bad), 'value')} in all left {dtype}'s range); "
            "the weights or the data are too large for the network to compute"
        )
