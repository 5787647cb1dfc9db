"""``dagnet import``: a neat-python JSON export or a FANN ``.net`` file becomes a graph file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dagnet.cli.common import check_writable, count, echo, refuse_same_file, write
from dagnet.graph.model import Graph
from dagnet.graph.writing import graph_to_text
from dagnet.interop.fann import Precision, graph_from_fann, is_fann_text
from dagnet.interop.neat import ImportRefused, graph_from_neat, is_neat_document

__all__ = ["import_network"]

MAX_SOURCE_BYTES = 1 << 30


def read_source(source: Path, kind: str | None, precision: Precision | None = None) -> Graph:
    """The graph of ``source``, its format ``kind`` ("neat" or "fann") or detected from the
    content: a FANN file starts with ``FANN_``, a neat-python export is a JSON object with
    ``network_type``, ``nodes`` and ``connections``. ``precision`` is how a FANN file's numbers
    are read (see :func:`dagnet.interop.fann.graph_from_fann`); it means nothing to neat."""
    try:
        with open(source, "rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        reason = "it is a folder" if source.is_dir() else (exc.strerror or str(exc)).lower()
        raise ImportRefused(f"{source}: cannot read the file: {reason}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise ImportRefused(f"{source}: the file is larger than 1 GiB, the most dagnet reads")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{source}: the file is not UTF-8 text, so neither a neat-python "
                            "export nor a FANN .net file") from None  # fmt: skip
    if kind == "fann" or (kind is None and is_fann_text(text)):
        return graph_from_fann(text, where=str(source), precision=precision or "double")
    if precision is not None:
        raise click.UsageError(f"--precision is for FANN files, and {source} is not one "
                               "(it does not start with FANN_)")  # fmt: skip
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if kind == "neat":
            raise ImportRefused(f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
        raise ImportRefused(f"{source}: neither a FANN .net file (it does not start with FANN_) "
                            "nor a neat-python JSON export (it is not JSON); name the format "
                            "with --from neat or --from fann") from None  # fmt: skip
    if kind is None and not is_neat_document(document):
        raise ImportRefused(f"{source}: JSON, but not a neat-python network export (no "
                            "network_type, nodes and connections)")  # fmt: skip
    return graph_from_neat(document, where=str(source))


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The graph file to write.")  # fmt: skip
@click.option("--from", "kind", type=click.Choice(["neat", "fann"]),
              help="The source's format; default: detected from its content.")  # fmt: skip
@click.option("--precision", type=click.Choice(["double", "float"]),
              help="FANN only: read the numbers as libfann's double build does (as written; "
                   "the default) or as its float build does (each rounded to float32), to "
                   "match the library that will run the network.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def import_network(
    source: Path, output: Path, kind: str | None, precision: Precision | None, force: bool
) -> None:
    """Import the network in SOURCE and write it as a dagnet graph file to OUTPUT.

    SOURCE is a neat-python feed-forward network exported with neat.export.export_network_json,
    or a FANN .net file (FANN_FLO_2.1). Every weight and bias is set; the inputs and outputs
    keep the source's order. What dagnet cannot compute exactly as the source does is refused,
    naming the node and the reason.

    \b
    Examples:
      dagnet import winner.json -o winner.dagnet.json
      dagnet import xor_float.net -o xor.json --precision float
    """
    refuse_same_file(output, source, "the source")
    check_writable(output, force=force)
    graph = read_source(source, kind, precision)
    write(output, graph_to_text(graph), replace=force)
    units = count(sum(u.role != "input" for u in graph.units), "unit")
    echo(f"wrote {output} ({units} besides the inputs, {count(len(graph.edges), 'edge')})",
         err=True)  # fmt: skip
