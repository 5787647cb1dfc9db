"""Population.from_neat: genomes straight into one plan, exact against neat-python, and trained
parameters written back as write_back writes them."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import dagnet
from dagnet.interop.neat import ImportRefused, graph_from_genome, write_back

neat = pytest.importorskip("neat")

from tests.interop.neat_helpers import grown_genome, make_config  # noqa: E402


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Random responses (mean 1, spread 0.5): nodes with sum units, and nodes without.
    return make_config(tmp_path_factory.mktemp("neat"), response_stdev=0.5)


@pytest.fixture(scope="module")
def genomes(config: Any) -> list[Any]:
    return [grown_genome(config, seed, mutations=seed % 40) for seed in range(30)]


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(3).uniform(-3.0, 3.0, (120, 3))


def test_every_member_computes_what_neat_python_computes_to_1e_12(config, genomes, x) -> None:
    population = dagnet.Population.from_neat(genomes, config)
    found = population.forward(x)
    assert found.shape == (120, 30, 2)
    for k, genome in enumerate(genomes):
        net = neat.nn.FeedForwardNetwork.create(genome, config)
        theirs = np.array([net.activate(list(row)) for row in x])
        worst = np.max(np.abs(found[:, k] - theirs) / np.maximum(1.0, np.abs(theirs)))
        assert worst < 1e-12, k


def test_members_are_the_importers_graphs(config, genomes) -> None:
    population = dagnet.Population.from_neat([(g.key, g) for g in genomes], config)
    for graph, genome in zip(population.graphs(), genomes, strict=True):
        imported = graph_from_genome(genome, config)
        assert {(u.id, u.role, u.effective_activation, u.bias) for u in graph.units} == {
            (u.id, u.role, u.effective_activation, u.bias) for u in imported.units
        }
        assert {(e.source, e.target, e.weight) for e in graph.edges} == {
            (e.source, e.target, e.weight) for e in imported.edges
        }
        assert [u.id for u in graph.units if u.role != "hidden"] == [
            u.id for u in imported.units if u.role != "hidden"
        ]


def test_the_unions_unit_ids_name_the_member_and_the_node(config, genomes) -> None:
    population = dagnet.Population.from_neat(genomes, config)
    ids, plan = population.plan.unit_ids, population.plan
    assert len(ids) == plan.n_units and population.input_ids == ("i_1", "i_2", "i_3")
    assert tuple(ids[: plan.n_inputs]) == population.input_ids
    for k, graph in enumerate(population.graphs()):
        own = {u.id for u in graph.units if u.role != "input"}
        # the member's graph names node 5 "h5" and its sum unit "h5_sum"; the union "k:5(_sum)"
        union = {ids[j] for j in range(population.units[k], population.units[k + 1])}
        assert union == {f"{k}:{name.lstrip('ho')}" for name in own}
    everything = list(ids)
    assert everything[-1] == ids[-1] == ids[len(ids) - 1] and ids[::500] == tuple(everything[::500])
    assert ids.index(everything[7]) == 7 and everything[7] in ids
    with pytest.raises(IndexError):
        ids[len(ids)]


def test_write_back_is_write_back_of_each_members_network(config, genomes, x) -> None:
    y = np.stack([np.tanh(x[:, 0] - x[:, 1]), x[:, 2] / 3], axis=1)
    ours, theirs = copy.deepcopy(genomes), copy.deepcopy(genomes)
    population = dagnet.Population.from_neat(ours, config)
    population.fit(x, y, epochs=3, learning_rate=0.01, optimizer="adam", seed=0)
    written = population.write_back(ours)
    for net, genome in zip(population.networks(), theirs, strict=True):
        write_back(net, genome)
    assert written > 0
    for mine, other in zip(ours, theirs, strict=True):
        for key, gene in other.nodes.items():
            assert (mine.nodes[key].bias, mine.nodes[key].response) == (gene.bias, gene.response)
        for key, gene in other.connections.items():
            assert mine.connections[key].weight == gene.weight
    # The genomes now compute what the trained population computes (to the one rounding of
    # bias + response · b′ where a sum unit's bias has moved).
    again = dagnet.Population.from_neat(ours, config).forward(x)
    np.testing.assert_allclose(again, population.forward(x), rtol=1e-12, atol=1e-12)


def test_training_from_genomes_is_training_each_imported_network(config, genomes, x) -> None:
    y = np.stack([np.tanh(x[:, 0] - x[:, 1]), x[:, 2] / 3], axis=1)
    population = dagnet.Population.from_neat(genomes[:8], config)
    history = population.fit(x, y, epochs=3, learning_rate=0.01, seed=4)
    for k, genome in enumerate(genomes[:8]):
        net = dagnet.Network(graph_from_genome(genome, config))
        alone = dagnet.fit(net, x, y, epochs=3, learning_rate=0.01, seed=4)
        # The same arithmetic, except that a unit's in-edges may be summed in another order.
        assert history.final_loss[k] == pytest.approx(alone.final_loss, rel=1e-9, abs=1e-12)


def test_a_product_node_is_refused_naming_the_member(config, genomes) -> None:
    other = copy.deepcopy(genomes[5])
    other.nodes[0].aggregation = "product"
    with pytest.raises(ImportRefused, match=r"member 1 \(genome 5\): node 0 \(o0\): aggrega"):
        dagnet.Population.from_neat([genomes[4], other], config)


def test_write_back_needs_the_same_genomes(config, genomes) -> None:
    population = dagnet.Population.from_neat(genomes[:3], config)
    with pytest.raises(ImportRefused, match="3 members but 2 genomes"):
        population.write_back(genomes[:2])
    with pytest.raises(ImportRefused, match="member 0 was made from genome 0, not genome 1"):
        population.write_back(genomes[1:4])


def test_a_connection_to_a_missing_node_is_refused_naming_the_member(config, genomes) -> None:
    other = copy.deepcopy(genomes[7])
    gene = copy.deepcopy(next(iter(other.connections.values())))
    gene.enabled, gene.key = True, (gene.key[0], 999)  # (neat-python reads the gene's key)
    other.connections[gene.key] = gene
    with pytest.raises(ImportRefused, match=r"member 1 \(genome 7\): connection -?\d+ -> 999 "):
        dagnet.Population.from_neat([genomes[0], other], config)


def test_a_cycle_is_refused_naming_the_member(config, genomes) -> None:
    other = copy.deepcopy(genomes[3])
    connection = copy.deepcopy(next(iter(other.connections.values())))
    connection.enabled = True
    for key in ((0, 1), (1, 0)):
        other.connections[key] = copy.deepcopy(connection)
        other.connections[key].key = key
    with pytest.raises(ImportRefused, match=r"member 0 \(genome 3\): node [01] lies on a cycle"):
        dagnet.Population.from_neat([other], config)


def test_an_unknown_activation_is_refused_naming_the_node(config, genomes) -> None:
    other = copy.deepcopy(genomes[2])
    other.nodes[1].activation = "swish"
    with pytest.raises(ImportRefused, match=r"genome 2\): node 1 \(o1\): unknown activation 'sw"):
        dagnet.Population.from_neat([other], config)


def test_an_unused_node_is_left_out_as_neat_python_leaves_it(config, genomes, x) -> None:
    other = copy.deepcopy(genomes[1])
    gene = copy.deepcopy(other.nodes[0])
    gene.key, gene.aggregation = 4242, "product"  # no path to an output: never computed
    other.nodes[4242] = gene
    population = dagnet.Population.from_neat([other], config)
    net = neat.nn.FeedForwardNetwork.create(other, config)
    theirs = np.array([net.activate(list(row)) for row in x])
    np.testing.assert_allclose(population.forward(x)[:, 0], theirs, rtol=1e-12, atol=1e-12)


def test_keys_too_far_apart_for_a_table_are_found_by_bisection() -> None:
    from dagnet.interop.neat_population import TABLE_LIMIT, _required

    def required(far: int) -> list[Any]:
        ints = lambda *values: np.array(values, np.int64)  # noqa: E731
        # Two members, inputs -1, -2 and output 0: -1 → far → 0; -2 → 0 and 3 → far → 0.
        found = _required(
            ints(-1, -2), ints(0), ints(0, 2, 5), ints(0, far, 3, 0, far),
            ints(0, 2, 5), ints(-1, far, far, 0, -2, 0, 3, far, far, 0).reshape(-1, 2),
        )  # fmt: skip
        return [np.asarray(part).tolist() for part in found]

    near, far = required(7), required(TABLE_LIMIT * 10)  # a table, then a bisection
    assert near == far
    assert near[0] == 0 and near[-1] == [2, 5]  # no problem; the outputs' vertices
    assert near[2:4] == [[0, 3, 1, 4, 6], [3, 2, 5, 6, 5]]  # sources and targets, as vertices
