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
from dagnet import environment as _environment  # noqa: F401
from dagnet.engine.network import Gradients, Network, Trace
from dagnet.errors import (
    ArgumentError,
    DagnetError,
    DataError,
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

__all__ = [
    "ArgumentError",
    "DagnetError",
    "DataError",
    "Dataset",
    "Edge",
    "Gradients",
    "Graph",
    "GraphBuilder",
    "GraphFileError",
    "History",
    "Network",
    "Problem",
    "Report",
    "Trace",
    "TrainingError",
    "TrainingInterrupted",
    "Unit",
    "__version__",
    "fit",
    "from_networkx",
    "json_schema",
    "load_data",
    "load_graph",
    "read_graph",
    "save_graph",
    "to_networkx",
]
