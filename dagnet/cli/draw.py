"""``dagnet draw``: a picture of the network, as DOT text or an SVG/PNG file."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import (
    OutputPath,
    check_writable,
    load,
    refuse_data_files,
    refuse_same_file,
    say,
    write,
)
from dagnet.showing.draw import PICTURE_FORMATS, picture, to_dot

__all__ = ["draw"]

FORMATS = ("dot", *PICTURE_FORMATS)


def _suffix(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if value.suffix.lower().lstrip(".") not in FORMATS:
        allowed = ", ".join(f".{fmt}" for fmt in FORMATS)
        raise click.BadParameter(f"the file name must end in {allowed}; got {value.name!r}")
    return value


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=OutputPath(),
    required=True,
    callback=_suffix,
    help="Where to write the picture: .dot (Graphviz text), .svg or .png (needs matplotlib).",
)
@click.option("--force", is_flag=True, help="Replace an existing --output file.")
def draw(file: Path, output: Path, force: bool) -> None:
    """Draw the network in FILE as DOT text or an SVG/PNG picture.

    Laid out by level: inputs on the left, outputs on the right.
    Each unit is labelled with its id and activation; an edge is blue for a positive weight and
    red for a negative one, wider for a larger weight, and grey and dashed without a weight.
    A .dot file is Graphviz text (render it with dot -Tpdf); .svg and .png are drawn with
    matplotlib, the optional extra installed by pip install 'dagnet[plot]'.

    \b
    Example:
      dagnet draw graphs/multi_output.trained.json -o multi_output.svg
    """
    graph = load(file)
    refuse_same_file(output, file, "the graph")
    refuse_data_files(output, graph, file, None)
    check_writable(output, force=force)
    fmt = output.suffix.lower().lstrip(".")
    write(output, to_dot(graph) if fmt == "dot" else picture(graph, fmt), replace=force)
    say(False, f"wrote {output}")
