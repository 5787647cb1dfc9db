"""The optimizers: their first steps against the update written out by hand here, and against
PyTorch's own optimizers when PyTorch is installed; each trains a network through fit()."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import dagnet
from dagnet.training.optimizers import OPTIMIZERS, Adam, Rprop, optimizer
from tests.conftest import GRAPHS

STEPS = 4


def gradient_sequence(size: int) -> list[np.ndarray]:
    """Gradients that change sign now and then, as a real run's do (Rprop's steps then shrink)."""
    rng = np.random.default_rng(7)
    return [rng.standard_normal(size) for _ in range(STEPS)]


def by_hand(name: str, p: np.ndarray, gradients: list[np.ndarray], **settings) -> np.ndarray:
    """The update rules as PyTorch documents them, one step at a time in numpy."""
    p = p.copy()
    rate = settings.get("lr")
    decay = settings.get("weight_decay", 0.0)
    if name in ("sgd", "momentum", "nesterov"):
        mu = {"sgd": 0.0}.get(name, settings.get("momentum", 0.9))
        buffer = None
        for g in gradients:
            d = g + decay * p
            if mu:
                buffer = d.copy() if buffer is None else mu * buffer + d
                d = d + mu * buffer if name == "nesterov" else buffer
            p = p - rate * d
        return p
    if name == "adam":
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        m, v = np.zeros_like(p), np.zeros_like(p)
        for t, g in enumerate(gradients, start=1):
            p = p * (1 - rate * decay)  # decoupled, as AdamW
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            p = p - rate * m_hat / (np.sqrt(v_hat) + eps)
        return p
    assert name == "rprop"
    step, previous = np.full_like(p, rate), np.zeros_like(p)
    for g in gradients:
        agreement = np.sign(g * previous)
        step = np.clip(step * np.choose(agreement.astype(int) + 1, [0.5, 1.0, 1.2]), 1e-6, 50)
        g = np.where(agreement < 0, 0.0, g)
        p = p - np.sign(g) * step
        previous = g
    return p


CASES = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.01}),
    ("momentum", {"lr": 0.05}),
    ("momentum", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("nesterov", {"lr": 0.05}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("rprop", {"lr": 0.02}),
]


def ours(name: str, settings: dict) -> dagnet.training.optimizers.Optimizer:
    given = {key: value for key, value in settings.items() if key != "lr"}
    return optimizer(name, settings["lr"], **given)


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_the_first_steps_are_the_rule_written_out(name: str, settings: dict) -> None:
    start = np.linspace(-1.0, 1.0, 11)
    gradients = gradient_sequence(len(start))
    weight, bias = start.copy(), start[:3].copy()
    rule = ours(name, settings)
    for g in gradients:
        rule.step((weight, bias), (g, g[:3]))
    expected = by_hand(name, start, gradients, **settings)
    assert_allclose(weight, expected, rtol=1e-13, atol=1e-15)
    assert_allclose(bias, expected[:3], rtol=1e-13, atol=1e-15)  # biases by the same rule


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_the_steps_are_pytorchs(name: str, settings: dict) -> None:
    torch = pytest.importorskip("torch")
    start = np.linspace(-1.0, 1.0, 11)
    gradients = gradient_sequence(len(start))
    parameter = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    given = dict(settings)
    if name == "adam":
        theirs = torch.optim.AdamW([parameter], **given) if "weight_decay" in given else None
        theirs = theirs or torch.optim.Adam([parameter], **given)
    elif name == "rprop":
        theirs = torch.optim.Rprop([parameter], **given)
    else:
        momentum = 0.0 if name == "sgd" else given.pop("momentum", 0.9)
        theirs = torch.optim.SGD(
            [parameter], momentum=momentum, nesterov=name == "nesterov", **given
        )
    weight = start.copy()
    rule = ours(name, settings)
    for g in gradients:
        parameter.grad = torch.tensor(g, dtype=torch.float64)
        theirs.step()
        rule.step((weight,), (g,))
    assert_allclose(weight, parameter.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_trains_a_network(name: str) -> None:
    graph = dagnet.load_graph(GRAPHS / "xor.json")
    net = dagnet.Network(graph, seed=0)
    data = dagnet.load_data(graph, base=GRAPHS)
    before = net.loss(data.inputs, data.targets)
    history = dagnet.fit(net, data.inputs, data.targets, epochs=200, batch_size=4, optimizer=name)
    assert history.final_loss < 0.5 * before


def test_defaults_are_the_customary_learning_rates() -> None:
    rates = {name: optimizer(name).learning_rate for name in OPTIMIZERS}
    assert rates == {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 0.001, "rprop": 0.01}
    assert optimizer("momentum").momentum == optimizer("nesterov").momentum == 0.9


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: optimizer("adagrad"), "unknown optimizer 'adagrad'; known optimizers are sgd"),
        (lambda: optimizer("sgd", -1.0), "learning_rate must be a finite number above 0"),
        (lambda: optimizer("momentum", momentum=1.5), "momentum must be at least 0 and below 1"),
        (lambda: optimizer("rprop", weight_decay=0.1), "the rprop optimizer has no setting"),
        (lambda: Adam(betas=(0.9, 1.0)), "betas must be at least 0 and below 1"),
        (lambda: Rprop(etas=(1.5, 1.2)), "etas must be"),
    ],
)
def test_bad_settings_are_argument_errors(call, message: str) -> None:
    with pytest.raises(dagnet.ArgumentError, match=message):
        call()


def test_fit_takes_an_optimizer_made_with_its_settings() -> None:
    graph = dagnet.load_graph(GRAPHS / "xor.json")
    data = dagnet.load_data(graph, base=GRAPHS)
    net = dagnet.Network(graph, seed=0)
    rule = optimizer("nesterov", 0.05, momentum=0.8)
    dagnet.fit(net, data.inputs, data.targets, epochs=3, optimizer=rule, seed=0)
    assert rule.steps == 3  # four examples, one minibatch of 32
    with pytest.raises(dagnet.ArgumentError, match="not both"):
        dagnet.fit(net, data.inputs, data.targets, epochs=1, learning_rate=0.1, optimizer=rule)
