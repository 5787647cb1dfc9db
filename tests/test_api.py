"""The public names of the library are the ones we mean to export, each documented."""

from __future__ import annotations

import inspect

import pytest

import dagnet
from tests.conftest import ROOT

EXPECTED = {
    "ArgumentError", "DagnetError", "DataError", "Dataset", "Edge", "Evaluation", "Gradients",
    "Graph", "GraphBuilder", "GraphFileError", "History", "Network", "Population",
    "PopulationHistory", "Problem", "Report", "Trace",
    "TrainingError", "TrainingInterrupted", "Unit", "__version__",
    "evaluate", "fit", "from_networkx", "json_schema", "load_data", "load_graph", "read_graph",
    "save_graph", "to_networkx", "ExtraMissing",
}  # fmt: skip
LAZY = {"DagnetClassifier", "DagnetModule", "DagnetRegressor", "from_torch", "to_torch"}
"""Imported on first use, since each needs an optional extra."""


def test_all_lists_exactly_the_public_names() -> None:
    assert set(dagnet.__all__) == EXPECTED | LAZY
    assert sorted(dagnet.__all__) == dagnet.__all__
    public = {name for name in vars(dagnet) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(dagnet, name))}
    assert public - modules - LAZY == EXPECTED - {"__version__"}


def test_every_public_function_and_class_has_a_docstring() -> None:
    for name in dagnet.__all__:
        try:
            obj = getattr(dagnet, name)
        except dagnet.ExtraMissing:  # a bridge whose optional extra is not installed
            assert name in LAZY
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"dagnet.{name} has no docstring"


def test_the_exception_tree() -> None:
    for error in (dagnet.GraphFileError, dagnet.DataError, dagnet.TrainingError):
        assert issubclass(error, dagnet.DagnetError)
    assert issubclass(dagnet.DagnetError, Exception)
    # Ctrl-C stays a KeyboardInterrupt, so that `except Exception` never swallows it.
    assert issubclass(dagnet.TrainingInterrupted, KeyboardInterrupt)


def test_the_readme_lists_every_problem_code() -> None:
    from dagnet.errors import CODES
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"| {code} |" not in readme] == []


def test_the_library_refuses_bad_arguments_with_its_own_error() -> None:
    # The README's example of DAG050 is this message.
    import numpy as np

    graph = dagnet.load_graph("graphs/xor.json")
    net = dagnet.Network(graph)
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(
        dagnet.ArgumentError, match="unknown optimizer 'adagrad'; known optimizers are sgd"
    ) as caught:
        dagnet.fit(net, x, y, epochs=1, learning_rate=0.1, optimizer="adagrad")
    assert caught.value.code == "DAG050"
    assert isinstance(caught.value, ValueError)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"`{caught.value}`" in readme
    for call in (
        lambda: dagnet.fit(net, x, y, epochs=0, learning_rate=0.1),
        lambda: dagnet.fit(net, x, y, epochs=1, learning_rate=-1.0),
        lambda: dagnet.Network(graph, loss="hinge"),
        lambda: dagnet.Network(graph, dtype=np.int32),
        lambda: dagnet.Network(graph, dtype="no such type"),
        lambda: setattr(net, "weight", np.zeros(1)),
        lambda: setattr(net, "weights", [1.0] * 8 + [np.nan]),
        lambda: setattr(net, "bias", np.zeros(net.plan.n_units, complex)),
    ):
        with pytest.raises(dagnet.ArgumentError):
            call()


def test_parameters_cannot_be_changed_by_accident() -> None:
    import numpy as np

    net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    with pytest.raises(ValueError, match="read-only"):
        net.weights[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        net.biases[2] = 5.0
    net.weights = np.arange(9.0)
    assert net.weights.tolist() == list(range(9))
    assert net.to_graph().edges[3].weight == 3.0
    graph = dagnet.load_graph("graphs/xor.json")
    with pytest.raises(AttributeError):
        graph.units.append(graph.units[0])  # a frozen graph's units are a tuple
