"""The public names of the library are the ones we mean to export, each documented."""

from __future__ import annotations

import inspect

import dagnet

EXPECTED = {
    "DagnetError", "DataError", "Dataset", "Edge", "Gradients", "Graph", "GraphFileError",
    "History", "Network", "Problem", "Report", "Trace", "TrainingError", "TrainingInterrupted",
    "Unit", "__version__",
    "fit", "from_networkx", "json_schema", "load_data", "load_graph", "read_graph", "save_graph",
    "to_networkx",
}  # fmt: skip


def test_all_lists_exactly_the_public_names() -> None:
    assert set(dagnet.__all__) == EXPECTED
    assert sorted(dagnet.__all__) == dagnet.__all__
    public = {name for name in vars(dagnet) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(dagnet, name))}
    assert public - modules == EXPECTED - {"__version__"}


def test_every_public_function_and_class_has_a_docstring() -> None:
    for name in dagnet.__all__:
        obj = getattr(dagnet, name)
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
