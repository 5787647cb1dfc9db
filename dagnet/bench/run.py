"""One run of ``dagnet bench``, short of timing it: the minibatch, the engines that take the
training step on it (dagnet's own step as ``fit`` takes it, and with ``compare`` its rivals),
the facts of the graph, and the results of :func:`~dagnet.bench.timing.measure` as rows (the
command's JSON) and as the text table. The rivals, and PyTorch, are imported only when compared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import numba
import numpy as np
from numpy.typing import NDArray

from dagnet.bench.timing import Engine
from dagnet.engine.kernels import Parameters
from dagnet.engine.network import Network
from dagnet.engine.online import OnlineSteps, Watch
from dagnet.engine.threads import AUTO, Threads
from dagnet.errors import TrainingError
from dagnet.functions.losses import LOSSES
from dagnet.graph.model import Graph, Training
from dagnet.training.divergence import DIVERGENCE_FACTOR
from dagnet.training.optimizers import optimizer as make_optimizer

__all__ = [
    "LEARNING_RATE",
    "POOL_COOLDOWN",
    "Result",
    "best_rival",
    "dagnet_engine",
    "dagnet_step",
    "describe",
    "duration",
    "engines",
    "graph_facts",
    "minibatch",
    "online_steps",
    "plain_engine",
    "results",
    "table",
]

Array = NDArray[np.float64]

LEARNING_RATE = 1e-3
"""Small enough that repeated steps on random data stay far from overflow on every shape."""

POOL_COOLDOWN = 0.25
"""Seconds for PyTorch's and OpenBLAS's worker threads to stop spinning after a step."""


class Result(TypedDict):
    """One engine's row of the results, as the command's JSON has it."""

    engine: str
    median_seconds: float
    edge_examples_per_second: float
    steps: int
    dagnet_speedup: float
    """The engine's median step over the first engine's (dagnet's): how many times faster
    dagnet is."""


def minibatch(net: Network, batch_size: int, seed: int) -> tuple[Array, Array]:
    """Standard normal inputs and targets, unit-major: (input units, N), (output units, N);
    targets 0 or 1 for cross-entropy outputs, and one-hot for a softmax group."""
    rng = np.random.default_rng([seed, 2])
    x = rng.standard_normal((net.plan.n_inputs, batch_size))
    y = rng.standard_normal((len(net.output_ids), batch_size))
    for head in net.heads:
        rows = list(head.slots)
        if head.function.grouped:
            y[rows] = np.eye(len(rows))[rng.integers(len(rows), size=batch_size)].T
        elif head.function.classifies:
            y[rows] = rng.integers(2, size=(len(rows), batch_size))
    return x, y


def with_loss(graph: Graph, loss: str) -> Graph:
    """``graph`` trained with ``loss`` on every output: cross-entropy makes its outputs sigmoid
    units (the benchmark's generated shapes have identity outputs, which the softmax takes)."""
    units = graph.units
    if LOSSES[loss].activation == "sigmoid":
        units = tuple(
            unit.model_copy(update={"activation": "sigmoid"}) if unit.role == "output" else unit
            for unit in units
        )
    training = (graph.training or Training()).model_copy(update={"loss": loss, "losses": None})
    return graph.model_copy(update={"units": units, "training": training})


def engines(
    net: Network, x: Array, y: Array, *, threads: Threads, compare: bool, optimizer: str = "sgd"
) -> list[Engine]:
    """dagnet's step on ``threads`` threads (or "auto") first; with ``compare``, also on one
    thread, then the reference engine, PyTorch's three formulations (when installed, on
    ``threads`` threads), scipy's sparse one (when installed) and, when ``net`` is a dense
    layered network, the numpy MLP. dagnet updates by ``optimizer``; the rivals take plain
    gradient steps, so they are compared with sgd only.

    Examples
    --------
    >>> import dagnet
    >>> net = dagnet.Network(dagnet.load_graph("graphs/xor.json"))
    >>> x, y = minibatch(net, 4, seed=0)
    >>> [engine.name for engine in engines(net, x, y, threads=2, compare=False)]
    ['dagnet, 2 threads']
    """
    if compare and optimizer != "sgd":
        raise ValueError("the rivals take sgd steps, so --compare needs --optimizer sgd")
    timed = [dagnet_engine(f"dagnet, {_threads(threads)}", net, x, y, threads, optimizer)]
    if not compare:
        return timed
    if threads != 1:
        timed.append(dagnet_engine("dagnet, 1 thread", net, x, y, 1, optimizer))
    from dagnet.bench import rivals  # the rivals' imports are not every command's cost

    # Pure Python compiles nothing and caches little, and one step can take a minute.
    reference = rivals.reference_step(net, x, y, LEARNING_RATE)
    timed.append(Engine("reference (per unit, Python)", reference, warmup=0, settle=False))
    if rivals.torch_available():
        import torch

        torch.set_num_threads(numba.get_num_threads() if threads == AUTO else int(threads))
        for name, make in [
            ("torch, index_add per level", rivals.torch_index_step),
            ("torch, masked matmul per level", rivals.torch_masked_step),
            ("torch, sparse CSR per level", rivals.torch_csr_step),
        ]:
            step = make(net, x, y, LEARNING_RATE, net.dtype)
            timed.append(Engine(name, step, cooldown=POOL_COOLDOWN))
    if rivals.scipy_available():
        step = rivals.scipy_csr_step(net, x, y, LEARNING_RATE, net.dtype)
        timed.append(Engine("scipy, sparse CSR per level", step, cooldown=POOL_COOLDOWN))
    try:
        mlp = rivals.numpy_mlp_step(net, x, y, LEARNING_RATE, net.dtype)
    except ValueError:  # not a dense layered MLP: no matmul formulation to compare with
        pass
    else:
        timed.append(Engine("numpy matmul (MLP)", mlp, cooldown=POOL_COOLDOWN))
    return timed


def plain_engine(
    followed: Network, graph: Graph, batch_size: int, seed: int, dtype: str, threads: Threads
) -> Engine:
    """dagnet's plain step, sgd on squared error, on ``graph`` with the inputs of
    :func:`minibatch` (the same for any loss) and, before each step, the parameters the step
    of ``followed`` has reached: the baseline that shows what an optimizer and a loss cost.
    (A step's time depends on the parameters: on the random DAG, the same sgd step took 1.24x
    as long once 400 Adam steps had moved the weights by up to 0.13. The copy costs the plain
    step some 0.1% of its time.)

    Examples
    --------
    >>> import dagnet
    >>> graph = dagnet.load_graph("graphs/xor.json")
    >>> plain_engine(dagnet.Network(graph), graph, 4, 0, "float64", 1).name
    'dagnet sgd, squared_error, 1 thread'
    """
    net = Network(with_loss(graph, "squared_error"), seed=seed, dtype=dtype)
    x, y = minibatch(net, batch_size, seed)
    step = dagnet_step(net, x, y, threads, "sgd")

    def followed_step() -> None:
        np.copyto(net.weight, followed.weight)
        np.copyto(net.bias, followed.bias)
        step()

    return Engine(f"dagnet sgd, squared_error, {_threads(threads)}", followed_step)


def dagnet_engine(
    name: str, net: Network, x: Array, y: Array, threads: Threads, optimizer: str
) -> Engine:
    """dagnet's step as fit() takes it: :func:`dagnet_step`, or, for one example and plain
    sgd, :func:`online_steps`."""
    if x.shape[1] == 1 and optimizer == "sgd":
        step, steps = online_steps(net, x, y)
        return Engine(name, step, steps_per_call=steps)
    return Engine(name, dagnet_step(net, x, y, threads, optimizer))


def online_steps(net: Network, x: Array, y: Array) -> tuple[Callable[[], None], int]:
    """The steps fit() takes on one example at a time with plain sgd: as many in one compiled
    call as fit takes (:class:`~dagnet.engine.online.OnlineSteps`), here on the one example
    over and over; the step and how many steps it takes."""
    online = OnlineSteps(net, LEARNING_RATE, 0.0)
    count = online.steps_per_call
    xs, ys = np.repeat(x, count, axis=1), np.repeat(y, count, axis=1)
    spare = Parameters(net.weight.copy(), net.bias.copy())
    totals = np.zeros(len(net.output_ids))

    def step() -> None:
        watch = Watch(np.array([np.inf, np.nan]), DIVERGENCE_FACTOR)
        if online.steps(xs, ys, spare, watch, totals) < count:
            raise TrainingError("the benchmark's online steps diverged", epoch=1, epochs_done=0)

    return step, count


def dagnet_step(
    net: Network, x: Array, y: Array, threads: Threads, optimizer: str = "sgd"
) -> Callable[[], None]:
    """The step fit() takes: loss_and_gradients and an update by ``optimizer``, on ``threads``
    threads (or "auto"), in a workspace kept from step to step as fit() keeps one. Every count
    runs the same column blocks, so each computes the same numbers."""
    rule = make_optimizer(optimizer, LEARNING_RATE)
    workspace = net.workspace(x.shape[1], split=True)

    def step() -> None:
        previous, net.threads = net.threads, threads
        try:
            _, weight_gradient, bias_gradient = net.loss_and_gradients(x, y, workspace)
        finally:
            net.threads = previous
        rule.step((net.weight, net.bias), (weight_gradient, bias_gradient))

    return step


def graph_facts(net: Network) -> dict[str, int]:
    """Units, edges, inputs, outputs and levels (the longest path's edges) of ``net``."""
    return {
        "units": net.plan.n_units,
        "edges": net.plan.n_edges,
        "inputs": net.plan.n_inputs,
        "outputs": len(net.output_ids),
        "levels": int(net.plan.levels().max(initial=0)),
    }


def describe(net: Network) -> str:
    """:func:`graph_facts` in words.

    Examples
    --------
    >>> import dagnet
    >>> describe(dagnet.Network(dagnet.load_graph("graphs/xor.json")))
    '5 units (2 in, 1 out), 9 edges, 3 levels'
    """
    facts = graph_facts(net)
    return (
        f"{_count(facts['units'], 'unit')} ({facts['inputs']} in, {facts['outputs']} out), "
        f"{_count(facts['edges'], 'edge')}, {_count(facts['levels'], 'level')}"
    )


def results(timed: list[Engine], edge_examples: int) -> list[Result]:
    """One row per measured engine; ``edge_examples`` is edges × batch size of one step."""
    fastest = timed[0].median
    return [
        {
            "engine": engine.name,
            "median_seconds": engine.median,
            "edge_examples_per_second": edge_examples / engine.median,
            "steps": len(engine.seconds),
            "dagnet_speedup": engine.median / fastest,
        }
        for engine in timed
    ]


def best_rival(rows: list[Result]) -> Result | None:
    """The fastest row that is not dagnet's own (None when only dagnet was timed).

    Examples
    --------
    >>> rows = [{"engine": "dagnet, 2 threads", "median_seconds": 1.0},
    ...         {"engine": "dagnet, 1 thread", "median_seconds": 1.5},
    ...         {"engine": "torch", "median_seconds": 9.0},
    ...         {"engine": "scipy", "median_seconds": 4.0}]
    >>> best_rival(rows)["engine"]
    'scipy'
    """
    rivals = [row for row in rows if not row["engine"].startswith("dagnet")]
    return min(rivals, key=lambda row: row["median_seconds"], default=None)


def table(rows: list[Result]) -> str:
    """The results as the command prints them: one aligned line per engine, under a header,
    and a last line naming the best rival, when there is one, and dagnet's speedup over it."""
    width = max(len(r["engine"]) for r in rows)
    lines = [
        f"{'engine':<{width}}  {'median step':>12}  {'M edge-ex/s':>12}  {'steps':>5}  dagnet ×"
    ]
    for r in rows:
        lines.append(
            f"{r['engine']:<{width}}  {duration(r['median_seconds']):>12}  "
            f"{r['edge_examples_per_second'] / 1e6:>12,.1f}  {r['steps']:>5}  "
            f"{r['dagnet_speedup']:,.{1 if r['dagnet_speedup'] < 100 else 0}f}"
        )
    best = best_rival(rows)
    if best is not None:
        lines.append(
            f"best rival: {best['engine']}, {duration(best['median_seconds'])}; dagnet "
            f"{best['dagnet_speedup']:,.{1 if best['dagnet_speedup'] < 100 else 0}f}× faster"
        )
    return "\n".join(lines)


def duration(seconds: float) -> str:
    """``seconds`` in s, ms or µs, with three or four significant digits.

    Examples
    --------
    >>> duration(2.5), duration(0.0125), duration(0.0000123)
    ('2.50 s', '12.50 ms', '12.3 µs')
    """
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _threads(threads: Threads) -> str:
    return "auto threads" if threads == AUTO else _count(int(threads), "thread")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
