"""DagnetRegressor and DagnetClassifier: scikit-learn estimators in pipelines, searches and
cross-validation, and through scikit-learn's own checks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import dagnet
from dagnet.interop.sklearn_estimators import DagnetClassifier, DagnetRegressor, layered_graph
from tests.conftest import GRAPHS

SKIPPED_CHECKS = {
    # Each of these is skipped by scikit-learn itself when an optional package is missing, not
    # excluded by us: pandas for data frames, SCIPY_ARRAY_API for array-API inputs.
    "check_regressor_data_not_an_array",
    "check_classifier_data_not_an_array",
    "check_array_api_input",
}


@pytest.fixture
def bump() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-2, 2, 41)[:, None]
    return x, np.exp(-(x[:, 0] ** 2))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("model", [DagnetRegressor(epochs=20), DagnetClassifier(epochs=40)])
def test_scikit_learns_checks_pass(model: DagnetRegressor | DagnetClassifier) -> None:
    results = check_estimator(model, on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert failed == []
    assert skipped <= SKIPPED_CHECKS
    assert len(results) > 40


def test_a_graph_file_is_the_network(bump: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = bump
    model = DagnetRegressor(str(GRAPHS / "multi_output.json"), epochs=2000, learning_rate=0.5,
                            batch_size=16)  # fmt: skip
    model.fit(x, y)
    assert model.network_.unit_ids == ("x", "i", "j", "k", "o")
    assert model.predict(x).shape == (41,)
    assert model.score(x, y) > 0.95
    # The same as dagnet's own training from the same seed.
    net = dagnet.Network(dagnet.load_graph(GRAPHS / "multi_output.json"), seed=0)
    dagnet.fit(net, x, y[:, None], epochs=2000, learning_rate=0.5, batch_size=16, seed=0)
    np.testing.assert_allclose(model.network_.weights, net.weights, rtol=1e-12)


def test_a_graph_that_does_not_fit_the_data_is_one_sentence() -> None:
    model = DagnetRegressor(layered_graph(3, 1))
    with pytest.raises(ValueError, match="the graph has 3 inputs and 1 outputs, but X has 2"):
        model.fit(np.zeros((4, 2)), np.zeros(4))


def test_pipeline_search_and_cross_validation(bump: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = bump
    pipeline = make_pipeline(StandardScaler(), DagnetRegressor(epochs=100, hidden=(6,)))
    folds = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipeline, x, y, cv=folds)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = GridSearchCV(pipeline, {"dagnetregressor__learning_rate": [0.01, 0.1]}, cv=folds).fit(
        x, y
    )
    assert search.best_params_["dagnetregressor__learning_rate"] == 0.1
    assert search.best_estimator_.predict(x).shape == (41,)


def test_params_and_clone() -> None:
    graph = layered_graph(1, 1)
    model = DagnetRegressor(graph, epochs=5)
    assert model.get_params()["graph"] is graph
    assert model.set_params(learning_rate=0.2).learning_rate == 0.2
    copy = clone(model)
    assert copy.get_params()["epochs"] == 5 and copy.graph == graph


def test_several_outputs() -> None:
    x = np.random.default_rng(0).uniform(-1, 1, size=(50, 3))
    y = np.stack([x[:, 0] + x[:, 1], x[:, 2]], axis=1)
    model = DagnetRegressor(epochs=200, learning_rate=0.1).fit(x, y)
    assert model.predict(x).shape == (50, 2)
    assert model.score(x, y) > 0.9


def test_without_sklearn_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    monkeypatch.delitem(sys.modules, "dagnet.interop.sklearn_estimators")
    with pytest.raises(dagnet.ExtraMissing, match=r"pip install 'dagnet\[sklearn\]'"):
        dagnet.DagnetRegressor  # noqa: B018


# DagnetClassifier


def animals(classes: tuple[str, ...] | None = None, outputs: int = 3) -> dagnet.Graph:
    """Two inputs, four tanh units, and a softmax group of identity outputs (named a0.. or
    after ``classes``)."""
    ids = list(classes) if classes else [f"a{k}" for k in range(outputs)]
    graph = layered_graph(2, len(ids), (4,), loss="softmax_cross_entropy")
    document = graph.model_dump(mode="json", exclude_none=True)
    rename = {f"y{k}": unit for k, unit in enumerate(ids)}
    for unit in document["units"]:
        unit["id"] = rename.get(unit["id"], unit["id"])
    for edge in document["edges"]:
        edge["target"] = rename.get(edge["target"], edge["target"])
    head = {"name": "animal", "outputs": ids, "loss": "softmax_cross_entropy"}
    document["training"] = {"losses": [head | ({"classes": ids} if classes else {})]}
    return dagnet.Graph.model_validate(document)


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    x, codes = make_blobs(n_samples=90, centers=3, cluster_std=0.8, random_state=0)
    return (x - x.mean(axis=0)) / x.std(axis=0), np.array(["dog", "cat", "bird"])[codes]


def test_labels_are_sorted_into_classes_and_given_to_the_groups_outputs(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = blobs
    model = DagnetClassifier(animals(), epochs=100, learning_rate=0.1).fit(x, y)
    assert model.classes_.tolist() == ["bird", "cat", "dog"]
    assert set(model.predict(x).tolist()) == {"bird", "cat", "dog"}
    assert model.score(x, y) > 0.95
    p = model.predict_proba(x)
    assert p.shape == (90, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    # bird, cat, dog are the outputs a0, a1, a2: the network's own probabilities.
    np.testing.assert_array_equal(p, model.network_.probabilities(x))
    # And its training is dagnet's, on one-hot targets, from the same seed.
    net = dagnet.Network(animals(), seed=0)
    one_hot = (y[:, None] == np.array(["bird", "cat", "dog"])).astype(float)
    dagnet.fit(net, x, one_hot, epochs=100, learning_rate=0.1, seed=0)
    np.testing.assert_allclose(model.network_.weights, net.weights, rtol=1e-12)


def test_a_groups_class_names_choose_their_outputs(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = blobs
    model = DagnetClassifier(animals(("dog", "cat", "bird")), epochs=100, learning_rate=0.1)
    model.fit(x, y)
    assert model.classes_.tolist() == ["bird", "cat", "dog"]
    assert model.network_.output_ids == ("dog", "cat", "bird")
    p = model.network_.probabilities(x)
    np.testing.assert_array_equal(model.predict_proba(x), p[:, [2, 1, 0]])
    assert model.score(x, y) > 0.95


def test_one_sigmoid_output_tells_two_classes_apart() -> None:
    x = np.linspace(-1, 1, 60)[:, None]
    y = np.where(x[:, 0] > 0.1, 7, 3)
    model = DagnetClassifier(layered_graph(1, 1, (3,), loss="cross_entropy"), epochs=300,
                             learning_rate=0.5).fit(x, y)  # fmt: skip
    assert model.classes_.tolist() == [3, 7]
    p = model.network_.probabilities(x)[:, 0]  # σ(s): the probability of the second class
    np.testing.assert_array_equal(model.predict_proba(x), np.stack([1 - p, p], axis=1))
    assert model.predict(x).dtype == y.dtype
    assert model.score(x, y) > 0.95


def test_without_a_graph_the_classes_make_the_outputs(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = blobs
    three = DagnetClassifier(epochs=20).fit(x, y)
    assert three.network_.loss_names == ("softmax_cross_entropy",)
    assert len(three.network_.output_ids) == 3
    two = DagnetClassifier(epochs=20).fit(x, y == "cat")
    assert two.network_.loss_names == ("cross_entropy",) and two.classes_.tolist() == [False, True]


@pytest.mark.parametrize(
    "graph, labels, message",
    [
        (animals(outputs=4), ["a", "b", "c"],
         r"y has 3 classes, but the graph's softmax group 'animal' has 4 outputs \(a0, a1, a2, "
         r"a3\); give the group one output per class"),
        (layered_graph(2, 1, loss="cross_entropy"), ["a", "b", "c"],
         r"y has 3 classes, but the graph's one cross_entropy output 'y0' tells 2 apart"),
        (layered_graph(2, 2), ["a", "b"],
         r"DagnetClassifier needs the graph's outputs to be one softmax_cross_entropy group of "
         r"K identity outputs \(K classes\) or one cross_entropy output with a sigmoid "
         r"activation \(2 classes\).*; this graph has squared_error over y0, y1"),
        (layered_graph(2, 2, loss="cross_entropy"), ["a", "b"],
         r"this graph has 2 cross_entropy outputs"),
        (None, ["a", "a", "a"], r"y has one class \('a'\); a classifier needs two or more"),
        (layered_graph(3, 1, loss="cross_entropy"), ["a", "b"],
         r"the graph has 3 inputs, but X has 2 columns"),
    ],
)  # fmt: skip
def test_a_graph_that_does_not_fit_the_classes_is_one_sentence(
    graph: dagnet.Graph | None, labels: list[str], message: str
) -> None:
    x = np.random.default_rng(0).normal(size=(2 * len(labels), 2))
    with pytest.raises(dagnet.ArgumentError, match=message):
        DagnetClassifier(graph, epochs=1).fit(x, labels * 2)


def test_the_classifier_in_a_pipeline_search_and_cross_validation(
    blobs: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = blobs
    pipeline = make_pipeline(StandardScaler(), DagnetClassifier(epochs=30, hidden=(6,)))
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipeline, x, y, cv=folds)
    assert scores.shape == (3,) and np.all(scores > 0.8)
    grid = {"dagnetclassifier__learning_rate": [1e-4, 0.1]}
    search = GridSearchCV(pipeline, grid, cv=folds).fit(x, y)
    assert search.best_params_["dagnetclassifier__learning_rate"] == 0.1
    assert set(search.best_estimator_.predict(x).tolist()) == {"bird", "cat", "dog"}
    assert search.best_estimator_.predict_proba(x).shape == (90, 3)


def test_the_classifiers_params_and_clone() -> None:
    graph = animals()
    model = DagnetClassifier(graph, epochs=5)
    assert model.get_params()["graph"] is graph
    assert model.set_params(batch_size=8).batch_size == 8
    copy = clone(model)
    assert copy.get_params()["batch_size"] == 8 and copy.graph == graph
    assert dagnet.DagnetClassifier is DagnetClassifier
