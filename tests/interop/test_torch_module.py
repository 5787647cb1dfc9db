"""The PyTorch bridge: the module's forward and autograd gradients are dagnet's, and its
parameters come back as a Network."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

torch = pytest.importorskip("torch")

import dagnet  # noqa: E402
from dagnet.functions.activations import ACTIVATION_NAMES  # noqa: E402
from tests.interop.graphs import every_activation  # noqa: E402
from tests.strategies import (  # noqa: E402
    KINKED_ACTIVATIONS,
    SMOOTH_ACTIVATIONS,
    graphs_with_data,
)

examples = settings(max_examples=80, deadline=None, derandomize=True, database=None)


def grads(module: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    module.zero_grad()
    loss = module.loss(torch.from_numpy(x), torch.from_numpy(y))
    loss.backward()
    return float(loss.detach()), module.weight.grad.numpy(), module.bias.grad.numpy()


# Random graphs of the well-conditioned activations: 1/s or e^s stacked at random overflow to
# inf and NaN, whose places the two engines need not share; every activation is checked at and
# beside its kinks below.
@examples
@given(graphs_with_data(SMOOTH_ACTIVATIONS + KINKED_ACTIVATIONS))
def test_forward_and_gradients_are_dagnets_on_random_graphs(case: Any) -> None:
    graph, x, y = case
    net = dagnet.Network(graph)
    module = dagnet.to_torch(net)
    with torch.no_grad():
        out = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, net.forward(x), rtol=1e-9, atol=1e-9)
    loss, weight, bias = grads(module, x, y)
    expected = net.gradients(x, y)
    np.testing.assert_allclose(loss, expected.loss, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(weight, expected.weights, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(bias, expected.biases, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("s", [0.0, -0.5, 0.5])
def test_every_activation_at_and_beside_the_kinks(s: float) -> None:
    # Each hidden unit's net input is s for the one example: its bias, with zero inputs.
    graph = every_activation()
    units = [u if u.role != "hidden" else u.model_copy(update={"bias": s}) for u in graph.units]
    net = dagnet.Network(graph.model_copy(update={"units": units}))
    x, y = np.zeros((1, 2)), np.array([[0.3, -0.2]])
    _, weight, bias = grads(dagnet.to_torch(net), x, y)
    expected = net.gradients(x, y)
    np.testing.assert_allclose(weight, expected.weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bias, expected.biases, rtol=1e-12, atol=1e-12)
    assert {u.activation for u in graph.units if u.role == "hidden"} == set(ACTIVATION_NAMES)


def test_parameters_are_in_file_order_and_come_back() -> None:
    net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    module = dagnet.to_torch(net)
    assert module.weight.tolist() == net.weights.tolist()
    assert module.bias.tolist() == net.biases.tolist()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.3)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    for _ in range(3):
        optimizer.zero_grad()
        module.loss(x, y).backward()
        optimizer.step()
    back = dagnet.from_torch(module)
    assert back.weights.tolist() == module.weight.tolist()
    assert back.biases.tolist()[2:] == module.bias.tolist()[2:]
    assert back.biases.tolist()[:2] == [0.0, 0.0]  # inputs have no bias
    np.testing.assert_allclose(back.forward(x.numpy()), module(x).detach().numpy(), rtol=1e-12)
    # dagnet's own three full-batch steps land on the same parameters.
    dagnet.fit(net, x.numpy(), y.numpy(), epochs=3, learning_rate=0.3, batch_size=4,
               shuffle=False)  # fmt: skip
    np.testing.assert_allclose(back.weights, net.weights, rtol=1e-12, atol=1e-14)
    graph = back.to_graph()
    assert [e.weight for e in graph.edges] == back.weights.tolist()


def test_float32_follows_the_network_or_the_argument() -> None:
    net32 = dagnet.Network(dagnet.load_graph("graphs/xor.json"), dtype="float32")
    assert dagnet.to_torch(net32).weight.dtype == torch.float32
    module = dagnet.to_torch(dagnet.Network(dagnet.load_graph("graphs/xor.json")), "float32")
    assert module.weight.dtype == torch.float32
    assert module.to_network().dtype == np.float32


def test_the_module_moves_with_its_buffers() -> None:
    module = dagnet.to_torch(dagnet.Network(dagnet.load_graph("graphs/multi_output.json")))
    device = "cuda" if torch.cuda.is_available() else "meta"
    moved = module.to(device)
    assert {b.device.type for b in moved.buffers()} == {device}
    assert moved(torch.zeros(3, 1, device=device)).shape == (3, 1)


def test_a_wrong_shape_is_one_sentence() -> None:
    module = dagnet.to_torch(dagnet.Network(dagnet.load_graph("graphs/xor.json")))
    with pytest.raises(dagnet.ArgumentError, match=r"shape \(N, 2\).*x1, x2; got shape \(3, 3\)"):
        module(torch.zeros(3, 3))


def test_from_torch_refuses_other_modules() -> None:
    with pytest.raises(dagnet.ArgumentError, match=r"made by dagnet\.to_torch"):
        dagnet.from_torch(torch.nn.Linear(2, 1))


def test_without_torch_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "dagnet.interop.torch_module", raising=False)
    with pytest.raises(dagnet.ExtraMissing, match=r"pip install 'dagnet\[torch\]'"):
        dagnet.to_torch  # noqa: B018


@pytest.mark.parametrize("shape, edges", [("deep", 600), ("random", 3000)])
def test_gathered_and_whole_state_levels_both_give_dagnets_gradients(
    shape: str, edges: int
) -> None:
    from dagnet.bench.shapes import SHAPES

    net = dagnet.Network(dagnet.Graph.model_validate(SHAPES[shape](edges, 0)), seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, len(net.input_ids)))
    y = rng.normal(size=(5, len(net.output_ids)))
    module = dagnet.to_torch(net)
    assert any(module.gathers) if shape == "deep" else not all(module.gathers)
    _, weight, bias = grads(module, x, y)
    expected = net.gradients(x, y)
    np.testing.assert_allclose(weight, expected.weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bias, expected.biases, rtol=1e-9, atol=1e-12)
