"""DagnetRegressor: a scikit-learn estimator in pipelines, searches and cross-validation, and
through scikit-learn's own checks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import dagnet
from dagnet.interop.sklearn_estimators import DagnetRegressor, layered_graph
from tests.conftest import GRAPHS

SKIPPED_CHECKS = {
    # Each of these is skipped by scikit-learn itself when an optional package is missing, not
    # excluded by us: pandas for data frames, SCIPY_ARRAY_API for array-API inputs.
    "check_regressor_data_not_an_array",
    "check_array_api_input",
}


@pytest.fixture
def bump() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-2, 2, 41)[:, None]
    return x, np.exp(-(x[:, 0] ** 2))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_scikit_learns_checks_pass() -> None:
    results = check_estimator(DagnetRegressor(epochs=20), on_fail=None)
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
