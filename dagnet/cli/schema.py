"""``dagnet schema``: the JSON Schema other tools check graph files against."""

from __future__ import annotations

import click

from dagnet.graph.schema import json_schema_text

__all__ = ["schema"]


@click.command()
def schema() -> None:
    """Print the JSON Schema of the graph file format (schemas/graph.schema.json)."""
    click.echo(json_schema_text(), nl=False)
