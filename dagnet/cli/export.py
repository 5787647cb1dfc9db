"""``dagnet export``: write a trained network as an ONNX model, for serving."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import (
    check_writable,
    load_trained,
    refuse_data_files,
    refuse_same_file,
    say,
    write,
)
from dagnet.engine.network import Network

__all__ = ["export"]


def _suffix(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if value.suffix.lower() != ".onnx":
        raise click.BadParameter(f"the file name must end in .onnx; got {value.name!r}")
    return value


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    callback=_suffix,
    help="Where to write the model (.onnx).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float64", "float32"]),
    help="The model's precision; default: the file's training.dtype, else float64.",
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
def export(file: Path, output: Path, dtype: str | None, force: bool) -> None:
    """Write the trained network in FILE as an ONNX model.

    The model (opset 17) has one input, "inputs", of shape (N, input units in file order) and
    one output, "outputs", of shape (N, output units in file order); onnxruntime runs it with
    the outputs dagnet predict prints. It needs the optional extra installed by
    pip install 'dagnet[onnx]'.

    \b
    Example:
      dagnet train graphs/xor.json && dagnet export graphs/xor.trained.json -o xor.onnx
    """
    from dagnet.interop.onnx_export import require_onnx, to_onnx_bytes

    require_onnx("dagnet export")
    graph = load_trained(file, would="the model would compute nothing learnt", then="export")
    refuse_same_file(output, file, "the graph")
    refuse_data_files(output, graph, file, None)
    check_writable(output, force=force)
    precision = dtype or (graph.training.dtype if graph.training else "float64")
    net = Network(graph, dtype=precision)
    write(output, to_onnx_bytes(net), replace=force)
    say(False, f"wrote {output} ({precision}, {net.plan.n_units} units, {net.plan.n_edges} edges)")
