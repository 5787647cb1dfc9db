"""The neat-python importer: exactness against neat-python, refusals by name, training, and
writing trained weights back into the genome (Lamarckian evolution)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dagnet
from dagnet.interop.neat import (
    NEAT_ACTIVATIONS,
    SUM,
    ImportRefused,
    NeatUnavailable,
    graph_from_genome,
    graph_from_neat,
    node_id,
    node_key,
    read_neat,
    write_back,
)
from dagnet.showing.gradcheck import TOLERANCE, gradcheck
from dagnet.training.optimizers import OPTIMIZERS

neat = pytest.importorskip("neat")
from neat.export import export_network_json  # noqa: E402

from tests.interop.neat_helpers import grown_genome, make_config  # noqa: E402

SEEDS = range(24)


def export(genome: Any, config: Any) -> dict[str, Any]:
    net = neat.nn.FeedForwardNetwork.create(genome, config)
    return json.loads(export_network_json(net))


def worst_difference(genome: Any, config: Any, graph: dagnet.Graph, n: int = 300) -> float:
    """max |dagnet − neat-python| / max(1, |neat-python|) over random inputs in [−3, 3]."""
    net = neat.nn.FeedForwardNetwork.create(genome, config)
    x = np.random.default_rng(len(graph.units)).uniform(-3.0, 3.0, (n, 3))
    ours = dagnet.Network(graph).forward(x)
    theirs = np.array([net.activate(list(row)) for row in x])
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Random responses (mean 1, spread 0.5) test the folding of response into the weights.
    return make_config(tmp_path_factory.mktemp("neat"), response_stdev=0.5)


def test_every_builtin_activation_predicts_as_neat_python_to_1e_12(config: Any) -> None:
    seen: set[str] = set()
    worst = 0.0
    for seed in SEEDS:
        genome = grown_genome(config, seed)
        document = export(genome, config)
        graph = graph_from_neat(document)
        seen |= {n["activation"]["name"] for n in document["nodes"] if n["type"] != "input"}
        worst = max(worst, worst_difference(genome, config, graph))
    assert seen == set(NEAT_ACTIVATIONS)
    assert worst < 1e-12


# One in-edge per node leaves no order of summation to differ in: bias + response · (w z) is
# then neat-python's own arithmetic, bit for bit, for every activation that dagnet computes with
# neat-python's formula. Not for elu and selu (expm1 where neat-python takes exp(z) − 1) and
# square, cube and gauss (s·s where neat-python takes z ** 2, libm's pow, which is one rounding
# off s·s for about one z in 2000): those are a rounding apart. Multiplying response into the
# weight instead would compute (response · w) · z, not response · (w · z). Nor for sigmoid, tanh
# and exp, which dagnet computes with its own exp, a few ulp from libm's (EXP_BASED).
EXP_BASED = ("exp", "sigmoid", "tanh")
BIT_FOR_BIT = sorted(set(NEAT_ACTIVATIONS) - {"elu", "selu", "square", "cube", "gauss"})


def test_a_node_with_one_in_edge_computes_neat_pythons_arithmetic_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    functions = neat.activations.ActivationFunctionSet()
    aggregate = neat.aggregations.AggregationFunctionSet().get("sum")
    node_evals, nodes, connections = [], [], []
    for key, name in enumerate(BIT_FOR_BIT):
        bias, response, weight = rng.uniform(-1, 1), rng.uniform(0.3, 2.0), rng.uniform(-2, 2)
        source = -1 - key % 3
        node_evals.append((key, functions.get(name), aggregate, bias, response,
                           [(source, weight)]))  # fmt: skip
        nodes.append({"id": key, "type": "output", "bias": bias, "response": response,
                      "activation": {"name": name, "custom": False},
                      "aggregation": {"name": "sum", "custom": False}})  # fmt: skip
        connections.append({"from": source, "to": key, "weight": weight, "enabled": True})
    outputs = list(range(len(BIT_FOR_BIT)))
    net = neat.nn.FeedForwardNetwork([-1, -2, -3], outputs, node_evals)
    document = {"format_version": "1.0", "network_type": "feedforward",
                "topology": {"input_keys": [-1, -2, -3], "output_keys": outputs},
                "nodes": [{"id": k, "type": "input"} for k in (-1, -2, -3)] + nodes,
                "connections": connections}  # fmt: skip
    graph = graph_from_neat(document)
    assert sum(u.id.endswith(SUM) for u in graph.units) == len(BIT_FOR_BIT)
    x = rng.uniform(-2.0, 2.0, (400, 3))
    theirs = np.array([net.activate(list(row)) for row in x])
    ours = dagnet.Network(graph).forward(x)
    differ = [BIT_FOR_BIT[o] for o in np.flatnonzero(np.any(ours != theirs, axis=0))]
    assert sorted(set(differ) - set(EXP_BASED)) == []
    # dagnet's exp within 2 ulp of libm's: the outputs a few ulp apart, no more.
    assert_allclose(ours, theirs, rtol=4 * np.finfo(float).eps, atol=0.0)


def test_inputs_and_outputs_keep_neat_pythons_order_and_ids(config: Any) -> None:
    genome = grown_genome(config, 1)
    graph = graph_from_neat(export(genome, config))
    inputs = [u.id for u in graph.units if u.role == "input"]
    outputs = [u.id for u in graph.units if u.role == "output"]
    assert inputs == ["i_1", "i_2", "i_3"]
    assert outputs == ["o0", "o1"]
    assert any(u.id.endswith("_sum") for u in graph.units)  # responses are random here
    for unit in graph.units:
        plain = unit.id.removesuffix("_sum")  # a sum unit is named after its node
        role = {"i": "input", "h": "hidden", "o": "output"}[plain[0]]
        assert node_id(node_key(unit.id), role) == plain


def test_reading_the_export_file_needs_no_neat_python(
    config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    genome = grown_genome(config, 2)
    path = tmp_path / "winner.json"
    path.write_text(json.dumps(export(genome, config)))
    direct = graph_from_genome(genome, config)
    monkeypatch.setitem(sys.modules, "neat", None)  # import neat now fails
    assert read_neat(path) == direct
    with pytest.raises(NeatUnavailable, match=r"pip install 'dagnet\[neat\]'"):
        graph_from_genome(genome, config)


def _document(config: Any) -> dict[str, Any]:
    return export(grown_genome(config, 0), config)


@pytest.mark.parametrize("aggregation", ["product", "max", "mean"])
def test_other_aggregations_are_refused_by_node(config: Any, aggregation: str) -> None:
    document = _document(config)
    node = next(n for n in document["nodes"] if n["type"] == "output")
    node["aggregation"]["name"] = aggregation
    with pytest.raises(ImportRefused, match=rf"node {node['id']} \(o{node['id']}\): "
                       rf"aggregation '{aggregation}'"):  # fmt: skip
        graph_from_neat(document)


def test_custom_activations_are_refused_by_node(config: Any) -> None:
    document = _document(config)
    node = next(n for n in document["nodes"] if n["type"] == "output")
    node["activation"] = {"name": "my_sigmoid", "custom": True}
    with pytest.raises(ImportRefused, match=r"custom activation 'my_sigmoid'"):
        graph_from_neat(document)


@pytest.mark.parametrize("kind", ["recurrent", "ctrnn", "iznn"])
def test_recurrent_ctrnn_and_iznn_networks_are_refused_by_name(config: Any, kind: str) -> None:
    document = _document(config)
    document["network_type"] = kind
    with pytest.raises(ImportRefused, match=f"a {kind} network cannot be imported"):
        graph_from_neat(document)


def test_a_real_recurrent_export_is_refused(config: Any) -> None:
    net = neat.nn.RecurrentNetwork.create(grown_genome(config, 0), config)
    with pytest.raises(ImportRefused, match="recurrent"):
        graph_from_neat(json.loads(export_network_json(net)))


def test_imported_networks_train(config: Any) -> None:
    graph = graph_from_neat(_document(config))
    net = dagnet.Network(graph)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (64, 3))
    y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1)
    history = dagnet.fit(net, x, y, epochs=30, learning_rate=0.05, seed=0)
    assert history.final_loss < history.epoch_loss[0]


@pytest.fixture
def unit_config(tmp_path: Path) -> Any:
    return make_config(tmp_path)  # response 1: write-back is a copy


def test_write_back_makes_the_genome_compute_the_trained_network_exactly(
    unit_config: Any,
) -> None:
    genome = grown_genome(unit_config, 5)
    net = dagnet.Network(graph_from_genome(genome, unit_config))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1.0, 1.0, (64, 3))
    dagnet.fit(net, x, np.tanh(x[:, :2]), epochs=20, learning_rate=0.05, seed=0)
    before = {key: gene.weight for key, gene in genome.connections.items()}
    assert write_back(net, genome) > 0
    again, trained = graph_from_genome(genome, unit_config), net.to_graph()
    assert [(u.id, u.bias) for u in again.units] == [(u.id, u.bias) for u in trained.units]
    assert again.edges.weights == trained.edges.weights  # a copy: response is 1
    assert any(genome.connections[key].weight != w for key, w in before.items())
    phenotype = neat.nn.FeedForwardNetwork.create(genome, unit_config)
    theirs = np.array([phenotype.activate(list(row)) for row in x])
    assert np.max(np.abs(net.forward(x) - theirs)) < 1e-12


def test_write_back_copies_weights_and_responses_when_responses_are_not_1(config: Any) -> None:
    genome = grown_genome(config, 6)
    net = dagnet.Network(graph_from_genome(genome, config))
    rng = np.random.default_rng(2)
    x = rng.uniform(-1.0, 1.0, (64, 3))
    dagnet.fit(net, x, np.tanh(x[:, :2]), epochs=20, learning_rate=0.02, seed=0)
    trained = net.to_graph()
    write_back(net, genome)
    for edge in trained.edges:
        if edge.source.endswith(SUM):  # the edge carrying the node's response
            assert genome.nodes[node_key(edge.target)].response == edge.weight
        else:
            assert genome.connections[(node_key(edge.source), node_key(edge.target))].weight \
                == edge.weight  # fmt: skip
    # The sum units' trained biases went into their nodes' biases: the one rounding.
    phenotype = neat.nn.FeedForwardNetwork.create(genome, config)
    theirs = np.array([phenotype.activate(list(row)) for row in x])
    assert np.max(np.abs(net.forward(x) - theirs) / np.maximum(1.0, np.abs(theirs))) < 1e-12


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_imported_networks_train_with_every_optimizer(tmp_path: Path, optimizer: str) -> None:
    # Random responses: the sum units and the edges carrying response train too. (A config of
    # its own: grown genomes depend on the innovations the config has already handed out.)
    config = make_config(tmp_path, response_stdev=0.5)
    graph = graph_from_neat(export(grown_genome(config, 3), config))
    assert any(u.id.endswith(SUM) for u in graph.units)
    net = dagnet.Network(graph)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1.0, 1.0, (48, 3))
    y = np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1)
    before = net.loss(x, y)
    checks = gradcheck(net, x, y)
    assert max(c.relative_error for c in checks) <= TOLERANCE
    rate = {"sgd": 0.02, "momentum": 0.01, "nesterov": 0.01, "adam": 0.005, "rprop": 0.005}
    dagnet.fit(net, x, y, epochs=15, learning_rate=rate[optimizer], optimizer=optimizer, seed=0)
    assert net.loss(x, y) < before
    checks = gradcheck(net, x, y)  # the trained network's gradients are exact too
    assert max(c.relative_error for c in checks) <= TOLERANCE


def test_lamarckian_evolution_fine_tunes_each_genome_with_dagnet(unit_config: Any) -> None:
    # The README's example: each genome is fine-tuned by backpropagation, its trained weights
    # go back into it, and evolution goes on from them.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.0, 1.0, (32, 3))
    y = np.stack([x[:, 0] - x[:, 1], x[:, 2] ** 2], axis=1)
    trained = []

    def evaluate(genomes: list[tuple[int, Any]], config: Any) -> None:
        for _, genome in genomes:
            net = dagnet.Network(graph_from_genome(genome, config))
            history = dagnet.fit(net, x, y, epochs=5, learning_rate=0.05, seed=0)
            write_back(net, genome)
            genome.fitness = -history.final_loss
            trained.append(genome.fitness)

    population = neat.Population(unit_config)
    winner = population.run(evaluate, 3)
    assert len(trained) >= 3 * 10
    assert winner.fitness is not None and np.isfinite(winner.fitness)


def test_write_back_refuses_a_genome_whose_response_changed_and_leaves_it_as_it_was(
    unit_config: Any,
) -> None:
    genome = grown_genome(unit_config, 1)
    net = dagnet.Network(graph_from_genome(genome, unit_config))  # response 1: no sum units
    net.weights = net.weights + 1.0  # "trained"
    genome.nodes[0].response = 2.0
    before = {key: gene.weight for key, gene in genome.connections.items()}
    with pytest.raises(ImportRefused, match=r"unit o0: node 0 has response 2\.0, but the "
                       r"network has no unit o0_sum"):  # fmt: skip
        write_back(net, genome)
    assert {key: gene.weight for key, gene in genome.connections.items()} == before
