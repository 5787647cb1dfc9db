"""Population: the union of many networks computes, and trains, each member as it would alone."""

from __future__ import annotations

import numpy as np
import pytest

import dagnet
from dagnet.functions.losses import Head
from dagnet.training.population import merged_heads

ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity", "softplus")


def random_graph(seed: int, inputs: int = 3, outputs: int = 2) -> dagnet.Graph:
    """A small random DAG: each hidden unit hears some of the units before it, each output
    some hidden units and inputs; a frozen edge and a frozen bias now and then."""
    rng = np.random.default_rng(seed)
    b = dagnet.GraphBuilder(name=f"g{seed}")
    earlier = []
    for i in range(inputs):
        b.add_input(f"x{i}")
        earlier.append(f"x{i}")
    for h in range(int(rng.integers(1, 9))):
        b.add_unit(f"h{h}", activation=str(rng.choice(ACTIVATIONS)), bias=rng.normal())
        for source in earlier:
            if rng.random() < 0.6:
                b.add_edge(source, f"h{h}", rng.normal())
        earlier.append(f"h{h}")
    for o in range(outputs):
        b.add_output(f"y{o}", activation="tanh" if o else "identity")
        for source in earlier:
            if rng.random() < 0.5 or source == earlier[-1]:
                b.add_edge(source, f"y{o}")  # no weight: drawn from the seed
    document = b.document()
    if seed % 3 == 0 and document["edges"]:
        document["edges"][0]["trainable"] = False
        document["units"][inputs]["trainable"] = False
    return dagnet.Graph.model_validate(document)


@pytest.fixture(scope="module")
def graphs() -> list[dagnet.Graph]:
    return [random_graph(seed) for seed in range(12)]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (70, 3))
    return x, np.stack([x[:, 0] * x[:, 1], np.sin(x[:, 2])], axis=1)


def test_forward_is_every_members_own_forward(graphs, data) -> None:
    x, _ = data
    population = dagnet.Population(graphs, seed=3)
    found = population.forward(x)
    assert found.shape == (70, 12, 2)
    for k, graph in enumerate(graphs):
        np.testing.assert_allclose(
            found[:, k], dagnet.Network(graph, seed=3).forward(x), rtol=0, atol=1e-14
        )
    assert len(population) == 12
    assert "12 members" in repr(population)


@pytest.mark.parametrize("n", [1, 64, 65, 131])
def test_forward_in_passes_of_one_width_is_each_examples_own(graphs, n: int) -> None:
    # 131 examples: three passes of 44, the last padded with a column of zeros.
    x = np.random.default_rng(n).uniform(-1, 1, (n, 3))
    population = dagnet.Population(graphs, seed=3)
    found = population.forward(x)
    assert found.shape == (n, 12, 2)
    for row in range(0, n, 13):
        np.testing.assert_allclose(found[row], population.forward(x[row : row + 1])[0], atol=1e-15)


def test_losses_are_every_members_own_loss(graphs, data) -> None:
    x, y = data
    population = dagnet.Population(graphs, seed=3)
    alone = [dagnet.Network(graph, seed=3).loss(x, y) for graph in graphs]
    np.testing.assert_allclose(population.losses(x, y), alone, rtol=1e-14)
    own = np.stack([y * (k + 1) for k in range(12)], axis=1)  # (N, members, outputs)
    alone = [dagnet.Network(g, seed=3).loss(x, y * (k + 1)) for k, g in enumerate(graphs)]
    np.testing.assert_allclose(population.losses(x, own), alone, rtol=1e-14)


@pytest.mark.parametrize(
    ("optimizer", "learning_rate"), [("sgd", 0.2), ("adam", 0.01), ("momentum", 0.05)]
)
def test_training_the_population_is_training_each_member_alone(
    graphs, data, optimizer, learning_rate
) -> None:
    # The members share no parameter and the objective is the sum of their losses, so each
    # member's gradient is its own; the optimizer updates each parameter from its own gradient
    # and state, and the same seed shuffles the same minibatches.
    x, y = data
    population = dagnet.Population(graphs, seed=5)
    history = population.fit(
        x, y, epochs=6, batch_size=16, learning_rate=learning_rate, optimizer=optimizer, seed=1
    )
    trained = population.networks()
    for k, graph in enumerate(graphs):
        net = dagnet.Network(graph, seed=5)
        alone = dagnet.fit(
            net, x, y, epochs=6, batch_size=16, learning_rate=learning_rate,
            optimizer=optimizer, seed=1,
        )  # fmt: skip
        np.testing.assert_allclose(trained[k].weights, net.weights, rtol=0, atol=1e-12)
        np.testing.assert_allclose(trained[k].biases, net.biases, rtol=0, atol=1e-12)
        np.testing.assert_allclose(history.epoch_loss[:, k], alone.epoch_loss, rtol=1e-12)
        assert history.final_loss[k] == pytest.approx(alone.final_loss, rel=1e-12)
    assert history.epochs == 6 and not history.diverged.any()
    frozen = [g for g in graphs if not g.edges[0].trainable]
    assert frozen  # and they kept their frozen weight, as fit keeps it:
    for k, graph in enumerate(graphs):
        if not graph.edges[0].trainable:
            assert trained[k].weights[0] == dagnet.Network(graph, seed=5).weights[0]


def test_networks_given_keep_their_parameters_and_graphs_come_back_trained(graphs, data) -> None:
    x, y = data
    nets = [dagnet.Network(graph, seed=k) for k, graph in enumerate(graphs[:4])]
    before = [net.weights.copy() for net in nets]
    population = dagnet.Population(nets)
    population.fit(x, y, epochs=2, seed=0)
    for net, weights in zip(nets, before, strict=True):
        assert np.array_equal(net.weights, weights)  # the population trained copies
    for k, graph in enumerate(population.graphs()):
        assert [u.id for u in graph.units] == [u.id for u in graphs[k].units]
        again = dagnet.Network(graph).forward(x)
        np.testing.assert_allclose(again, population.forward(x)[:, k], rtol=0, atol=1e-14)


def test_a_diverging_member_stops_and_the_others_train_on(graphs, data) -> None:
    x, y = data
    b = dagnet.GraphBuilder().add_input("a").add_input("b").add_input("c")
    b.add_unit("h", activation="square", bias=0.0).add_output("p").add_output("q")
    for source in "abc":
        b.add_edge(source, "h", 30.0)
    b.add_edge("h", "p", 1e3).add_edge("h", "q", 1e3)
    wild = b.build()
    population = dagnet.Population([graphs[1], wild, graphs[2]], seed=0)
    history = population.fit(x, y * 1e150, epochs=3, learning_rate=10.0, seed=0)
    assert history.diverged.tolist()[1] >= 1
    tame = dagnet.Population([graphs[1], graphs[2]], seed=0)
    tame_history = tame.fit(x, y * 1e150, epochs=3, learning_rate=10.0, seed=0)
    assert np.array_equal(history.diverged[[0, 2]], tame_history.diverged)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([], "at least one member"),
        (random_graph(0), "a sequence"),
        ([1], "member 0 is a int"),
    ],
)
def test_bad_members_are_refused(members, message) -> None:
    with pytest.raises(dagnet.ArgumentError, match=message):
        dagnet.Population(members)


def test_members_with_other_inputs_or_outputs_are_named(graphs) -> None:
    other = random_graph(1, inputs=2)
    with pytest.raises(dagnet.ArgumentError, match="member 2 has 2 inputs and 2 outputs"):
        dagnet.Population([graphs[0], graphs[1], other])


def test_targets_of_the_wrong_shape_are_refused(graphs, data) -> None:
    x, y = data
    population = dagnet.Population(graphs[:3], seed=0)
    with pytest.raises(dagnet.DataError, match=r"shape \(N, 3, 2\)"):
        population.losses(x, np.zeros((70, 4, 2)))
    with pytest.raises(dagnet.DataError, match="70 rows but targets have 69"):
        population.losses(x, y[:69])
    with pytest.raises(dagnet.ArgumentError, match="epochs"):
        population.fit(x, y, epochs=0)
    with pytest.raises(dagnet.ArgumentError, match=r"Population\.from_neat"):
        population.write_back([])


def test_heads_merge_by_loss_and_softmax_groups_stay_apart() -> None:
    squared = Head("loss", "squared_error", (0, 1))
    groups = (Head("digit", "softmax_cross_entropy", (0, 1)),)
    assert merged_heads([(squared,), (squared,)], 2) == (
        Head("squared_error", "squared_error", (0, 1, 2, 3)),
    )
    found = merged_heads([groups, groups], 2)
    assert [head.slots for head in found] == [(0, 1), (2, 3)]
