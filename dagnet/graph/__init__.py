"""The graph file format: JSON text with positions, the Pydantic model, upgrades of older
versions, problem wording, the rules that relate units and edges, reading and atomic writing,
and the data files a graph trains on.
"""

__all__: list[str] = []  # the modules are the package's contents
