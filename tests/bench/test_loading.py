"""``dagnet bench --load`` as a library call: the load of a written graph file, timed."""

from __future__ import annotations

import dagnet
from dagnet.bench.loading import time_loading
from dagnet.bench.shapes import SHAPES
from dagnet.graph.writing import graph_to_text


def test_time_loading_reports_the_file_and_its_runs() -> None:
    graph = dagnet.Graph.model_validate(SHAPES["deep"](1200, 0))
    timing = time_loading(graph, repeat=3)
    assert timing.edges == 1200 and timing.runs == 3
    assert timing.bytes == len(graph_to_text(graph).encode("utf-8"))
    assert timing.first_seconds > 0 and timing.median_seconds > 0
