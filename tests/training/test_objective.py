"""Training real problems: every loss's gradients on random DAGs, heads with their own losses
and weights, frozen parameters, validation and early stopping, first-epoch divergence, and the
data forms of classification (label columns, matrices)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from numpy.testing import assert_allclose, assert_array_equal

import dagnet
from dagnet.errors import DataError, TrainingError
from dagnet.functions.losses import LOSSES
from dagnet.graph.data import load_data
from dagnet.graph.model import Graph
from dagnet.graph.writing import graph_to_text
from dagnet.showing import reference
from dagnet.training.optimizers import OPTIMIZERS
from tests.engine.test_gradients import FD_TOLERANCE, central_differences
from tests.strategies import graphs_with_losses

examples = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def _reference(graph: Graph, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    net = reference.ReferenceNetwork.from_graph(graph)
    grads = reference.gradients(net, x.tolist(), y.tolist())
    weights = np.array([grads.weight[e.source, e.target] for e in graph.edges])
    biases = np.array([grads.bias.get(u.id, 0.0) for u in graph.units])
    return grads.loss, weights, biases


@pytest.mark.parametrize("loss", [*LOSSES, None])
def test_gradients_of_every_loss_match_differences_and_the_reference(loss: str | None) -> None:
    @examples
    @given(graphs_with_losses(loss))
    def check(case: tuple[Graph, np.ndarray, np.ndarray]) -> None:
        graph, x, y = case
        net = dagnet.Network(graph)
        grads = net.gradients(x, y)
        weights, biases = central_differences(net, x, y)
        assert_allclose(grads.weights, weights, **FD_TOLERANCE)
        assert_allclose(grads.biases, biases, **FD_TOLERANCE)
        expected = _reference(net.to_graph(), x, y)
        assert_allclose(grads.loss, expected[0], rtol=1e-10, atol=1e-10)
        assert_allclose(grads.weights, expected[1], rtol=1e-9, atol=1e-10)
        assert_allclose(grads.biases, expected[2], rtol=1e-9, atol=1e-10)

    check()


def _classifier(extra: dict | None = None) -> Graph:
    """x1, x2 → h (tanh) → a softmax group c0, c1, c2 and a sigmoid output p, skip edges."""
    units = [
        {"id": "x1", "role": "input"}, {"id": "x2", "role": "input"},
        {"id": "h", "activation": "tanh", "bias": 0.1},
        {"id": "c0", "role": "output"}, {"id": "c1", "role": "output"},
        {"id": "c2", "role": "output"},
        {"id": "p", "role": "output", "activation": "sigmoid"},
    ]  # fmt: skip
    edges = [
        {"source": s, "target": t, "weight": w}
        for s, t, w in [("x1", "h", 0.5), ("x2", "h", -0.4), ("h", "c0", 0.3), ("h", "c1", -0.2),
                        ("x1", "c2", 0.1), ("h", "p", 0.7), ("x2", "p", 0.2), ("c0", "p", 0.3)]
    ]  # fmt: skip
    training = {
        "losses": [
            {"name": "kind", "outputs": ["c0", "c1", "c2"], "loss": "softmax_cross_entropy",
             "classes": ["red", "green", "blue"]},
            {"outputs": ["p"], "loss": "cross_entropy", "weight": 0.5},
        ]
    } | (extra or {})  # fmt: skip
    return Graph.model_validate(
        {"format_version": 2, "units": units, "edges": edges, "training": training}
    )


def _classes(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Examples whose class is the quadrant's and whose p is x1 > 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    label = np.where(x[:, 0] > 0, 0, np.where(x[:, 1] > 0, 1, 2))
    y = np.column_stack([np.eye(3)[label], (x[:, 0] > 0).astype(float)])
    return x, y


def test_a_head_per_output_weighs_its_loss_and_reports_per_head() -> None:
    net = dagnet.Network(_classifier())
    x, y = _classes(20)
    assert [h.name for h in net.heads] == ["kind", "p"]
    found = dagnet.evaluate(net, x, y)
    _, z = net.evaluate(np.ascontiguousarray(x.T))
    logits = z[net.plan.output_positions[:3]]
    p = np.exp(logits) / np.exp(logits).sum(axis=0)
    e_kind = -np.sum(y[:, :3].T * np.log(p), axis=0)
    q = z[net.plan.output_positions[3]]
    e_p = -(y[:, 3] * np.log(q) + (1 - y[:, 3]) * np.log(1 - q))
    assert_allclose(found.head_loss["kind"], e_kind.mean(), rtol=1e-12)
    assert_allclose(found.head_loss["p"], 0.5 * e_p.mean(), rtol=1e-12)
    assert_allclose(found.loss, e_kind.mean() + 0.5 * e_p.mean(), rtol=1e-12)
    assert set(found.accuracy) == {"kind", "p"}
    assert_allclose(net.probabilities(x)[:, :3].sum(axis=1), 1.0)
    assert set(net.predict_classes(x)["kind"]) <= {0, 1, 2}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_frozen_parameters_keep_their_values_with_every_optimizer(name: str) -> None:
    document = _classifier().model_dump(by_alias=True, exclude_none=True)
    document["edges"][0]["trainable"] = False
    document["units"][2]["trainable"] = False
    document["edges"][5]["trainable"] = False
    graph = Graph.model_validate(document)
    assert 'trainable": false' in graph_to_text(graph)
    net = dagnet.Network(graph)
    before_w, before_b = net.weights, net.biases
    x, y = _classes(64)
    settings = {"weight_decay": 0.1} if name != "rprop" else {}
    rule = dagnet.training.optimizers.optimizer(name, **settings)
    dagnet.fit(net, x, y, epochs=5, optimizer=rule, seed=1)
    after_w, after_b = net.weights, net.biases
    frozen = [0, 5]
    assert_array_equal(after_w[frozen], before_w[frozen])
    assert after_b[2] == before_b[2]
    moving = [k for k in range(len(after_w)) if k not in frozen]
    assert np.all(after_w[moving] != before_w[moving])


def test_early_stopping_restores_the_best_epoch() -> None:
    net = dagnet.Network(_classifier())
    x, y = _classes(200, seed=3)
    history = dagnet.fit(
        net, x, y, epochs=300, optimizer="adam", learning_rate=0.05, validation_split=0.5,
        early_stopping=5, seed=4,
    )  # fmt: skip
    best = int(np.argmin(history.validation_loss)) + 1
    assert history.best_epoch == best
    assert history.final_validation_loss == min(history.validation_loss)
    assert len(history.validation_loss) == best + 5 or not history.stopped_early
    # The network holds the best epoch's parameters: its validation loss is that epoch's.
    order = np.random.default_rng([4, 2]).permutation(200)
    held = np.sort(order[:100])
    assert_allclose(net.loss(x[held], y[held]), history.final_validation_loss, rtol=1e-12)


def test_validation_needs_data_and_a_sane_split() -> None:
    net = dagnet.Network(_classifier())
    x, y = _classes(10)
    with pytest.raises(dagnet.ArgumentError, match="early stopping watches"):
        dagnet.fit(net, x, y, epochs=1, early_stopping=2)
    with pytest.raises(dagnet.ArgumentError, match="leaves none to train on"):
        dagnet.fit(net, x, y, epochs=1, validation_split=0.99)


def test_a_run_that_blows_up_in_its_first_epoch_stops_there() -> None:
    graph = dagnet.load_graph("graphs/one_path.json")
    net = dagnet.Network(graph, seed=0)
    x = np.linspace(-1, 1, 256)[:, None]
    with pytest.raises(TrainingError) as caught:
        dagnet.fit(net, x, 3 * x, epochs=1, learning_rate=1e3, batch_size=1, seed=0)
    assert caught.value.epoch == 1
    assert "first minibatch" in str(caught.value) or "not a finite" in str(caught.value)


def test_targets_must_fit_their_loss() -> None:
    net = dagnet.Network(_classifier())
    x, y = _classes(4)
    y[2, 3] = 1.5
    with pytest.raises(DataError, match=r"row 3, unit 'p': target 1\.5 is not a probability"):
        net.gradients(x, y)
    x, y = _classes(4)
    y[1, :3] = [0.5, 0.2, 0.2]
    with pytest.raises(DataError, match="row 2: the targets of softmax group 'kind'"):
        net.gradients(x, y)


def test_a_loss_that_does_not_fit_its_outputs_is_refused() -> None:
    graph = dagnet.load_graph("graphs/xor.json")
    with pytest.raises(dagnet.ArgumentError, match="needs sigmoid outputs"):
        dagnet.Network(graph, loss="cross_entropy")


# Data: label columns and matrices load as per-unit columns do


def _saved(tmp_path: Path, graph: Graph) -> Path:
    path = tmp_path / "net.json"
    path.write_text(graph_to_text(graph), encoding="utf-8")
    return path


def test_label_columns_and_matrices_load_as_per_unit_columns(tmp_path: Path) -> None:
    graph = _classifier()
    x, y = _classes(6)
    label = np.argmax(y[:, :3], axis=1)
    names = np.array(["red", "green", "blue"])[label]
    per_unit = {"x1": x[:, 0], "x2": x[:, 1], "c0": y[:, 0], "c1": y[:, 1], "c2": y[:, 2],
                "p": y[:, 3]}  # fmt: skip
    np.savez(tmp_path / "columns.npz", **per_unit)
    np.savez(tmp_path / "labels.npz", x1=x[:, 0], x2=x[:, 1], kind=label, p=y[:, 3])
    np.savez(tmp_path / "matrices.npz", inputs=x, targets=y)
    np.savez(tmp_path / "xy.npz", X=x, y=y)
    rows = ["x1,x2,kind,p"] + [
        f"{a!r},{b!r},{n},{q!r}"
        for (a, b), n, q in zip(x.tolist(), names, y[:, 3].tolist(), strict=True)
    ]
    (tmp_path / "names.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    np.save(tmp_path / "train_X.npy", x)
    np.save(tmp_path / "train_y.npy", y)
    expected = load_data(graph, tmp_path / "columns.npz")
    for name in ("labels.npz", "matrices.npz", "xy.npz", "names.csv", "train_X.npy"):
        found = load_data(graph, tmp_path / name)
        assert_array_equal(found.inputs, expected.inputs)
        assert_array_equal(found.targets, expected.targets)


def test_a_one_dimensional_y_is_the_label_column_of_one_softmax_group(tmp_path: Path) -> None:
    graph = dagnet.load_graph("graphs/digits.json")
    data = load_data(graph, "graphs/digits_test.npz")
    assert data.inputs.shape == (360, 64) and data.targets.shape == (360, 10)
    assert_array_equal(data.targets.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("name", "arrays", "message"),
    [
        ("wide.npz", {"X": np.zeros((3, 5)), "y": np.zeros((3, 4))},
         r"'X' has shape \(3, 5\); dagnet expects \(N, 2\): one row per example and one column "
         r"per input unit, in the graph file's order \(x1, x2\)"),
        ("bad-label.npz", {"x1": [0.1], "x2": [0.2], "kind": [3], "p": [1.0]},
         r"label column 'kind', row 1: 3 is not a class; the classes are 0 to 2"),
    ],
)  # fmt: skip
def test_data_that_does_not_fit_says_what_dagnet_expects(
    tmp_path: Path, name: str, arrays: dict, message: str
) -> None:
    np.savez(tmp_path / name, **arrays)
    with pytest.raises(DataError, match=message):
        load_data(_classifier(), tmp_path / name)


def test_a_csv_without_a_header_is_told_what_dagnet_expects(tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_text("0.1,0.2,1,0\n0.3,0.4,0,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="the first row is numbers, not a header"):
        load_data(_classifier(), tmp_path / "plain.csv")
    (tmp_path / "names.csv").write_text("x1,x2,kind,p\n0.1,0.2,purple,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="'purple' is not a class; the classes are red, green"):
        load_data(_classifier(), tmp_path / "names.csv")


def test_a_version_1_file_reads_as_version_2_and_is_written_as_2(tmp_path: Path) -> None:
    text = Path("graphs/xor.json").read_text("utf-8")
    assert '"format_version": 1' in text
    graph = dagnet.load_graph("graphs/xor.json")
    written = graph_to_text(graph)
    assert '"format_version": 2' in written
    path = tmp_path / "xor2.json"
    path.write_text(written, encoding="utf-8")
    assert dagnet.load_graph(path) == graph.model_copy(update={"format_version": 2})


def test_the_digits_example_reaches_its_accuracy_from_its_recorded_seed() -> None:
    graph = dagnet.load_graph("graphs/digits.json")
    training = graph.training
    assert training is not None
    data = load_data(graph, base="graphs")
    net = dagnet.Network(graph)
    dagnet.fit(
        net, data.inputs, data.targets, epochs=training.epochs,
        learning_rate=training.learning_rate, batch_size=training.batch_size,
        optimizer=training.optimizer_name, seed=training.seed,
    )  # fmt: skip
    test = load_data(graph, "graphs/digits_test.npz")
    assert dagnet.evaluate(net, test.inputs, test.targets).accuracy["digit"] >= 0.975
