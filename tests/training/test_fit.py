"""fit(): the examples learn, runs are reproducible, and a diverging run stops with a reason."""

from __future__ import annotations

import numpy as np
import pytest

import dagnet
from dagnet.graph.reading import load_graph
from tests.conftest import GRAPHS

# The loss each example reaches with the settings and seed recorded in its file (README table).
REACHED = {
    "one_path": 1e-3, "multiple_inputs": 1e-10, "multi_output": 1e-4, "xor": 1e-10,
    "two_heads": 1e-2,
}  # fmt: skip


def train_example(name: str) -> tuple[dagnet.Network, dagnet.History]:
    graph = load_graph(GRAPHS / f"{name}.json")
    settings = graph.training
    assert settings is not None
    data = dagnet.load_data(graph, base=GRAPHS)
    net = dagnet.Network(graph)
    history = dagnet.fit(
        net, data.inputs, data.targets,
        epochs=settings.epochs, learning_rate=settings.learning_rate,
        batch_size=settings.batch_size, shuffle=settings.shuffle, seed=settings.seed,
        optimizer=settings.optimizer_name,
    )  # fmt: skip
    return net, history


@pytest.mark.parametrize("name", sorted(REACHED))
def test_each_example_learns_from_its_recorded_seed(name: str) -> None:
    _, history = train_example(name)
    assert history.final_loss < REACHED[name]
    assert history.epoch_loss[-1] < history.epoch_loss[0] / 10


def test_both_heads_of_the_two_heads_example_learn() -> None:
    net, _ = train_example("two_heads")
    data = dagnet.load_data(net.to_graph(), base=GRAPHS)
    evaluation = dagnet.evaluate(net, data.inputs, data.targets)
    assert evaluation.head_loss["product"] < 1e-4  # regression of x1·x2
    assert evaluation.accuracy == {"circle": 1.0}  # the classification head, and only it


def test_xor_is_learnt() -> None:
    net, history = train_example("xor")
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    np.testing.assert_allclose(net.forward(inputs).ravel(), [0, 1, 1, 0], atol=1e-3)
    assert history.final_loss < 0.01


def test_the_same_seed_gives_the_same_run() -> None:
    first, history = train_example("multi_output")
    second, again = train_example("multi_output")
    assert history.epoch_loss == again.epoch_loss
    assert first.weights.tolist() == second.weights.tolist()


def test_shuffling_changes_the_order_but_not_the_examples_seen(rng) -> None:
    graph = load_graph(GRAPHS / "one_path.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    runs = {}
    for shuffle in (False, True):
        net = dagnet.Network(graph)
        runs[shuffle] = dagnet.fit(
            net, data.inputs, data.targets, epochs=1, learning_rate=0.1,
            batch_size=len(data.inputs), shuffle=shuffle, seed=0,
        )  # fmt: skip
    # With one minibatch per epoch the order cannot matter, up to rounding.
    assert runs[True].final_loss == pytest.approx(runs[False].final_loss, rel=1e-12)


def test_the_last_minibatch_may_be_smaller_and_counts_by_its_size() -> None:
    graph = load_graph(GRAPHS / "one_path.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    net = dagnet.Network(graph)
    before = net.loss(data.inputs, data.targets)
    history = dagnet.fit(
        net, data.inputs, data.targets, epochs=1, learning_rate=1e-12, batch_size=40, shuffle=False
    )
    # 41 examples = a step of 40 and a step of 1; with a negligible rate the mean is the loss.
    assert history.epoch_loss[0] == pytest.approx(before, rel=1e-9)


def test_a_diverging_run_stops_naming_the_epoch_and_the_unit() -> None:
    graph = load_graph(GRAPHS / "multi_output.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    with pytest.raises(dagnet.TrainingError, match=r"epoch \d+.*unit '\w+'.*smaller learning rate"):
        dagnet.fit(dagnet.Network(graph), data.inputs, data.targets, epochs=50, learning_rate=1e4)


def test_progress_is_reported_after_every_epoch() -> None:
    graph = load_graph(GRAPHS / "xor.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    seen: list[tuple[int, float]] = []
    history = dagnet.fit(
        dagnet.Network(graph), data.inputs, data.targets, epochs=5, learning_rate=0.1,
        progress=lambda epoch, loss, validation_loss: seen.append((epoch, loss)),
    )  # fmt: skip
    assert seen == list(enumerate(history.epoch_loss, start=1))


@pytest.mark.parametrize(
    "settings", [{"epochs": 0}, {"batch_size": 0}, {"learning_rate": 0.0}, {"learning_rate": -1.0}]
)
def test_settings_out_of_range_are_refused(settings: dict) -> None:
    graph = load_graph(GRAPHS / "xor.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    run = {"epochs": 1, "learning_rate": 0.1, "batch_size": 4} | settings
    with pytest.raises(ValueError):
        dagnet.fit(dagnet.Network(graph), data.inputs, data.targets, **run)


def test_data_too_large_to_compute_with_is_named_as_data() -> None:
    graph = load_graph(GRAPHS / "xor.json")
    inputs = np.array([[0.0, 1e300], [1.0, 0.0]])
    with pytest.raises(dagnet.TrainingError, match=r"input unit 'x2' .* scale the data down"):
        dagnet.fit(dagnet.Network(graph), inputs, [[1.0], [1.0]], epochs=1, learning_rate=0.1)


def two_outputs() -> dagnet.Graph:
    """x -> h -> (y1, y2), y1 also fed straight from x: two outputs whose losses differ."""
    return dagnet.Graph.model_validate(
        {
            "format_version": 1,
            "units": [
                {"id": "x", "role": "input"},
                {"id": "h", "activation": "tanh"},
                {"id": "y1", "role": "output"},
                {"id": "y2", "role": "output", "activation": "sigmoid"},
            ],
            "edges": [
                {"source": "x", "target": "h"},
                {"source": "h", "target": "y1"},
                {"source": "h", "target": "y2"},
                {"source": "x", "target": "y1"},
            ],
        }
    )


def test_history_splits_the_loss_by_output_unit() -> None:
    net = dagnet.Network(two_outputs(), seed=0)
    x = np.linspace(-1, 1, 10)[:, None]
    y = np.hstack([np.sin(x), 0.5 + 0.4 * x])
    history = dagnet.fit(net, x, y, epochs=5, learning_rate=0.2, batch_size=3, seed=0)
    assert np.array(history.output_loss).shape == (5, 2)
    assert np.sum(history.output_loss, axis=1) == pytest.approx(history.epoch_loss, rel=1e-12)
    # The last share is one clean pass, each output's own ½ (ŷ − y)² averaged over examples.
    y_hat = net.forward(x)
    own = (0.5 * (y_hat - y) ** 2).mean(axis=0)
    assert history.final_output_loss == pytest.approx(own.tolist(), rel=1e-12)
    assert sum(history.final_output_loss) == pytest.approx(history.final_loss, rel=1e-12)
