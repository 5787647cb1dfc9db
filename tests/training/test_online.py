"""Online learning (``fit(batch_size=1)`` with plain SGD) runs its steps many to a compiled call
(dagnet.engine.online): it must give what the loop of one-example steps gives, step for step,
however a unit's in-edges are swept, and fail, stop and restore as that loop does.

The loop is reached through ``Momentum(momentum=0)``: the same update, but an optimizer the
compiled steps do not take.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dagnet
from dagnet.engine import online
from dagnet.engine.plan import compile_plan
from dagnet.errors import TrainingError
from dagnet.training.optimizers import SGD, Momentum
from tests.engine.test_plan import assert_groups
from tests.strategies import SMOOTH_ACTIVATIONS, graphs, graphs_with_losses


def _both(graph, x, y, *, epochs=2, rate=0.05, decay=0.0, dtype="float64"):
    """The network after the compiled steps, and after the loop, from the same start."""
    fused, looped = (dagnet.Network(graph, seed=3, dtype=dtype) for _ in range(2))
    runs: list[dagnet.History | str] = []
    for net, rule in ((fused, SGD(rate, weight_decay=decay)),
                      (looped, Momentum(rate, momentum=0.0, weight_decay=decay))):  # fmt: skip
        try:
            runs.append(dagnet.fit(net, x, y, epochs=epochs, batch_size=1, optimizer=rule, seed=5))
        except TrainingError as error:  # (a random run may diverge: then both must, alike)
            runs.append(str(error))
    return fused, looped, runs


@settings(max_examples=60, deadline=None)
@given(
    graphs_with_losses(),
    st.sampled_from([1, online.MIN_RUN, 10**9]),
    st.sampled_from([0.0, 0.01]),
)
def test_the_compiled_steps_are_the_loop_of_steps(case, min_run, decay) -> None:
    graph, x, y = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(online, "MIN_RUN", min_run)  # every unit by runs, the default, none
        fused, looped, (ours, theirs) = _both(graph, x, y, decay=decay)
    np.testing.assert_allclose(fused.weight, looped.weight, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused.bias, looped.bias, rtol=1e-10, atol=1e-12)
    if isinstance(ours, str) or isinstance(theirs, str):
        assert ours == theirs
        return
    np.testing.assert_allclose(ours.epoch_loss, theirs.epoch_loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.output_loss, theirs.output_loss, rtol=1e-10, atol=1e-12)
    assert ours.final_loss == pytest.approx(theirs.final_loss, rel=1e-10, abs=1e-12)


def _layered(widths: tuple[int, ...], shortcut: bool, activation: str = "tanh") -> dagnet.Graph:
    """Dense layers (every unit of a layer fed by every unit of the one before, or with
    ``shortcut`` by every earlier unit, as FANN's shortcut networks): long runs of consecutive
    sources."""
    layers, units, edges = [], [], []
    rng = np.random.default_rng(0)
    for depth, width in enumerate(widths):
        role = "input" if depth == 0 else "output" if depth == len(widths) - 1 else "hidden"
        layer = [f"u{depth}_{k}" for k in range(width)]
        for unit in layer:
            units.append({"id": unit, "role": role} | ({} if role == "input" else
                                                        {"activation": activation}))  # fmt: skip
        sources = [u for earlier in layers for u in earlier] if shortcut else layers[-1:]
        for target in layer if depth else []:
            for source in sources if shortcut else sources[0]:
                edges.append({"source": source, "target": target,
                              "weight": float(rng.uniform(-0.3, 0.3))})  # fmt: skip
        layers.append(layer)
    return dagnet.Graph.model_validate({"format_version": 1, "units": units, "edges": edges})


@pytest.mark.parametrize("shortcut", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_runs_of_consecutive_sources_are_swept_as_the_loop_steps(shortcut, dtype) -> None:
    graph = _layered((9, 12, 7, 3), shortcut)
    sweep = online.sweep_of(compile_plan(graph))
    assert np.all(np.diff(sweep.run_start)[9:] > 0)  # every unit but the inputs, by runs
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (40, 9)), rng.uniform(-0.5, 0.5, (40, 3))
    fused, looped, (ours, theirs) = _both(graph, x, y, epochs=3, dtype=dtype)
    tolerance = 1e-10 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(fused.weight, looped.weight, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(ours.epoch_loss, theirs.epoch_loss, rtol=tolerance)


@settings(max_examples=100, deadline=None)
@given(graphs(SMOOTH_ACTIVATIONS), st.sampled_from([1, 2, 4]))
def test_the_runs_cover_each_units_in_edges_once(graph, min_run) -> None:
    plan = compile_plan(graph)
    sweep = online.sweep_of(plan, min_run)
    for j in range(plan.n_units):
        edges = range(plan.in_start[j], plan.in_start[j + 1])
        runs = range(sweep.run_start[j], sweep.run_start[j + 1])
        if not len(runs):
            assert min_run > 1 or not len(edges)
            np.testing.assert_array_equal(sweep.source[edges.start : edges.stop],
                                          plan.in_source[edges.start : edges.stop])  # fmt: skip
            continue
        covered = [p for r in runs for p in range(sweep.run_edge[r], sweep.run_end[r])]
        assert covered == list(edges)
        for r in runs:
            p, end = sweep.run_edge[r], sweep.run_end[r]
            expected = sweep.run_source[r] + np.arange(end - p)
            np.testing.assert_array_equal(plan.in_source[p:end], expected)
    # The groups, of one kind: swept by runs, or not.
    by_runs = np.diff(sweep.run_start) > 0
    assert_groups(plan, sweep.group_start, by_runs)
    np.testing.assert_array_equal(sweep.group_by_runs, by_runs[sweep.group_start[:-1]])
    np.testing.assert_array_equal(sweep.group_activation, plan.activation[sweep.group_start[:-1]])


def test_sources_are_16_bit_up_to_2_16_units_and_32_bit_past_that() -> None:
    # (The steps are the same compiled code for both widths: the hypothesis tests above run
    # them on 16-bit sources; compiling them for 32-bit ones too would cost CI some 40 s.)
    small = online.sweep_of(compile_plan(_layered((3, 4, 1), shortcut=False)))
    assert small.source.dtype == np.uint16
    rng = np.random.default_rng(2)
    n_hidden = 2**16 + 20
    units = [{"id": f"x{k}", "role": "input"} for k in range(3)]
    units += [{"id": f"h{k}", "activation": "tanh"} for k in range(n_hidden)]
    units.append({"id": "y", "role": "output", "activation": "identity"})
    names = [unit["id"] for unit in units]
    edges = [{"source": names[int(rng.integers(0, 3 + k))], "target": f"h{k}",
              "weight": float(rng.uniform(-0.5, 0.5))} for k in range(n_hidden)]  # fmt: skip
    edges += [{"source": f"h{n_hidden - 1 - k}", "target": "y", "weight": 0.1} for k in range(9)]
    plan = compile_plan(dagnet.Graph.model_validate({"format_version": 1, "units": units,
                                                     "edges": edges}))  # fmt: skip
    sweep = online.sweep_of(plan)
    assert sweep.source.dtype == np.uint32 and sweep.source.max() >= 2**16
    indexed = np.diff(sweep.run_start) == 0
    edges_indexed = np.repeat(indexed, np.diff(plan.in_start))
    np.testing.assert_array_equal(sweep.source[edges_indexed], plan.in_source[edges_indexed])


def test_frozen_parameters_stay_and_the_rest_train_as_the_loop() -> None:
    graph = _layered((4, 6, 2), shortcut=True)
    document = graph.model_dump(mode="json", exclude_none=True)
    document["edges"][3]["trainable"] = False
    document["units"][5]["trainable"] = False
    graph = dagnet.Graph.model_validate(document)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1, 1, (30, 4)), rng.uniform(-0.5, 0.5, (30, 2))
    before = dagnet.Network(graph, seed=3)
    fused, looped, _ = _both(graph, x, y, decay=0.01)
    frozen_edges, frozen_units = fused.frozen
    assert len(frozen_edges) == 1 and len(frozen_units) == 1
    np.testing.assert_array_equal(fused.weight[frozen_edges], before.weight[frozen_edges])
    np.testing.assert_array_equal(fused.bias[frozen_units], before.bias[frozen_units])
    np.testing.assert_allclose(fused.weight, looped.weight, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused.bias, looped.bias, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("steps_per_call", [1, 2, 3, 1000])
def test_a_failing_step_leaves_the_parameters_the_loop_leaves(steps_per_call, monkeypatch) -> None:
    """Wherever the failing step falls in a call (first, middle, after a whole call), the
    network is left with the last parameters whose loss passed, and the message is the loop's."""
    graph = _layered((3, 5, 1), shortcut=False, activation="identity")
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (64, 3))
    y = 3 * x.sum(axis=1, keepdims=True)
    failures = []
    for rule in (SGD(0.3), Momentum(0.3, momentum=0.0)):
        net = dagnet.Network(graph, seed=0)
        monkeypatch.setattr(online, "CALL_WORK", steps_per_call * (
            net.plan.n_edges + net.plan.n_units))  # fmt: skip
        with pytest.raises(TrainingError) as caught:
            dagnet.fit(net, x, y, epochs=3, batch_size=1, optimizer=rule, shuffle=False)
        failures.append((net, str(caught.value), caught.value.epoch))
    (fused, message, epoch), (looped, their_message, their_epoch) = failures
    assert (message, epoch) == (their_message, their_epoch)
    np.testing.assert_allclose(fused.weight, looped.weight, rtol=1e-9)
    np.testing.assert_allclose(fused.bias, looped.bias, rtol=1e-9)


def test_the_replayed_parameters_are_those_of_the_steps_before_bit_for_bit(monkeypatch) -> None:
    """After a failure in the middle of a call, the parameters come from replaying that call's
    earlier steps: they must be exactly what a run over just those examples leaves."""
    graph = _layered((3, 5, 1), shortcut=False, activation="identity")
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (64, 3))
    y = 3 * x.sum(axis=1, keepdims=True)
    net = dagnet.Network(graph, seed=0)
    losses = []
    with pytest.raises(TrainingError) as caught:
        dagnet.fit(net, x, y, epochs=1, batch_size=1, learning_rate=0.3, shuffle=False,
                   progress=lambda *a: losses.append(a))  # fmt: skip
    assert caught.value.epoch == 1
    # Which step failed: the first whose loss on its own parameters is past the line.
    for passed in range(1, 64):
        probe = dagnet.Network(graph, seed=0)
        dagnet.fit(probe, x[:passed], y[:passed], epochs=1, batch_size=1, learning_rate=0.3,
                   shuffle=False)  # fmt: skip
        if np.array_equal(probe.weight, net.weight) and np.array_equal(probe.bias, net.bias):
            break
    else:
        pytest.fail("no run over the first examples leaves the restored parameters")
    assert passed >= 2, passed  # (a failure after some steps: the case the replay is for)
