"""dagnet: neural networks of arbitrary acyclic shape, trained by backpropagation.

Units and weighted edges, not layers: a JSON graph file describes any directed acyclic network,
dagnet validates it, compiles it into an execution plan, and runs the forward pass and the
backpropagation of error signals over each unit's actual out-edges in compiled loops.

>>> import dagnet
>>> graph = dagnet.load_graph("graphs/multi_output.json")
>>> net = dagnet.Network(graph)
>>> data = dagnet.load_data(graph, base="graphs")
>>> history = dagnet.fit(net, data.inputs, data.targets, epochs=10, learning_rate=0.5)
>>> net.to_graph().edges[0].weight == net.weights.tolist()[0]
True
"""

__version__ = "0.1.0"  # first: modules imported below read it

# First, before numba is imported: a bad NUMBA_NUM_THREADS is set aside (numba fails on 0).
from dagnet import environment as _environment  # noqa: F401, I001

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from dagnet.engine.network import Gradients, Network, Trace
from dagnet.training.population import Population, PopulationHistory
from dagnet.errors import (
    ArgumentError,
    DagnetError,
    DataError,
    ExtraMissing,
    GraphFileError,
    Problem,
    TrainingError,
    TrainingInterrupted,
)
from dagnet.graph.data import Dataset, load_data
from dagnet.graph.edit import GraphBuilder
from dagnet.graph.model import Edge, Graph, Unit
from dagnet.graph.reading import Report, load_graph, read_graph
from dagnet.graph.schema import json_schema
from dagnet.graph.writing import save_graph
from dagnet.interop.networkx import from_networkx, to_networkx
from dagnet.training.fit import fit
from dagnet.training.history import History
from dagnet.training.metrics import Evaluation, evaluate

if _TYPE_CHECKING:  # imported on first use (module __getattr__ below): each needs an extra
    from dagnet.interop.sklearn_estimators import DagnetClassifier, DagnetRegressor
    from dagnet.interop.torch_module import DagnetModule, from_torch, to_torch

_LAZY = {
    "DagnetModule": "dagnet.interop.torch_module",
    "to_torch": "dagnet.interop.torch_module",
    "from_torch": "dagnet.interop.torch_module",
    "DagnetClassifier": "dagnet.interop.sklearn_estimators",
    "DagnetRegressor": "dagnet.interop.sklearn_estimators",
}


def __getattr__(name: str) -> _Any:
    """The bridges that need an optional extra, imported when first used; a missing extra is
    an :class:`ExtraMissing` naming it."""
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dagnet' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "DagnetClassifier",
    "DagnetError",
    "DagnetModule",
    "DagnetRegressor",
    "DataError",
    "Dataset",
    "Edge",
    "Evaluation",
    "ExtraMissing",
    "Gradients",
    "Graph",
    "GraphBuilder",
    "GraphFileError",
    "History",
    "Network",
    "Population",
    "PopulationHistory",
    "Problem",
    "Report",
    "Trace",
    "TrainingError",
    "TrainingInterrupted",
    "Unit",
    "__version__",
    "evaluate",
    "fit",
    "from_networkx",
    "from_torch",
    "json_schema",
    "load_data",
    "load_graph",
    "read_graph",
    "save_graph",
    "to_networkx",
    "to_torch",
]
