"""``dagnet draw``: a picture of the network, as DOT text or an SVG/PNG file."""

from __future__ import annotations

from pathlib import Path

import click

from dagnet.cli.common import (
    OutputPath,
    check_writable,
    finite,
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
@click.option(
    "--min-weight",
    type=click.FloatRange(min=0),
    metavar="X",
    callback=finite,
    help="Draw only the edges with |w| ≥ X (and the units they join).",
)
@click.option(
    "--around",
    metavar="UNIT",
    help="Draw only the units within --radius edges of UNIT, and the edges among them.",
)
@click.option(
    "--radius",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="How many edges away from --around a unit may be.",
)
def draw(
    file: Path,
    output: Path,
    force: bool,
    min_weight: float | None,
    around: str | None,
    radius: int,
) -> None:
    """Draw the network in FILE as DOT text or an SVG/PNG picture.

    Laid out by level: inputs on the left, outputs on the right.
    Each unit is labelled with its id and activation; an edge is blue for a positive weight and
    red for a negative one, wider for a larger weight, and grey and dashed without a weight.
    A .dot file is Graphviz text (render it with dot -Tpdf); .svg and .png are drawn with
    matplotlib, the optional extra installed by pip install 'dagnet[plot]'.

    A network of more than 40 units (or one drawn with --min-weight or --around) is laid
    out for size: a tall level wraps into several columns and long runs of levels fold into
    bands, so the picture stays within 3:1; edges are straight, and faint when there are
    thousands; labels shrink, and when they would be too small to read only some units are
    labelled, as a note on the picture says. Pictures of up to about 1,000 units stay readable.

    \b
    Example:
      dagnet draw graphs/multi_output.trained.json -o multi_output.svg
      dagnet draw big.json -o big.png --min-weight 0.5
    """
    graph = load(file)
    refuse_same_file(output, file, "the graph")
    refuse_data_files(output, graph, file, None)
    check_writable(output, force=force)
    fmt = output.suffix.lower().lstrip(".")
    if fmt == "dot" and (min_weight is not None or around is not None):
        raise click.ClickException("--min-weight and --around are for .svg and .png pictures")
    content = (
        to_dot(graph)
        if fmt == "dot"
        else picture(graph, fmt, min_weight=min_weight, around=around, radius=radius)
    )
    write(output, content, replace=force)
    say(False, f"wrote {output}")
