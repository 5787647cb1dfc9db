"""``dagnet bench --load``: how long a graph file takes to become a network. The graph is
written to a temporary file, then read, validated, checked and compiled (``load_graph`` and
``Network``) several times; the first time is reported apart, since it also loads numba's
compiled code if the process had not yet.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dagnet.engine.network import Network
from dagnet.graph.model import Graph
from dagnet.graph.reading import load_graph
from dagnet.graph.writing import graph_to_text

__all__ = ["LoadTiming", "time_loading"]


@dataclass(frozen=True)
class LoadTiming:
    """The times one graph file took to load."""

    edges: int
    bytes: int
    """The size of the file."""
    first_seconds: float
    median_seconds: float
    """The median of the runs after the first (of the only run, when there is one)."""
    runs: int


def time_loading(graph: Graph, repeat: int) -> LoadTiming:
    """Time load_graph + Network on the graph's file text ``repeat`` times (at least once).

    Examples
    --------
    >>> import dagnet
    >>> timing = time_loading(dagnet.load_graph("graphs/xor.json"), repeat=2)
    >>> timing.edges, timing.runs, timing.median_seconds > 0
    (9, 2, True)
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.json"
        path.write_text(graph_to_text(graph), encoding="utf-8")
        size = path.stat().st_size
        seconds = []
        for _ in range(max(repeat, 1)):
            started = time.perf_counter()
            Network(load_graph(path))
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds[1:] or seconds)
    return LoadTiming(len(graph.edges), size, seconds[0], median, len(seconds))
