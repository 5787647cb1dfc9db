"""``dagnet bench``: edge-examples per second of one training step, beside its rivals."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numba
import numpy as np

from dagnet.bench.shapes import SHAPES
from dagnet.bench.timing import Engine, measure
from dagnet.cli.common import count, load, say
from dagnet.engine.network import Network
from dagnet.graph.model import Graph
from dagnet.graph.reading import load_graph
from dagnet.graph.writing import graph_to_text
from dagnet.training.optimizers import SGD

LEARNING_RATE = 1e-3
"""Small enough that repeated steps on random data stay far from overflow on every shape."""

CORES = numba.config.NUMBA_NUM_THREADS

POOL_COOLDOWN = 0.25
"""Seconds for PyTorch's and OpenBLAS's worker threads to stop spinning after a step."""


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--shape",
    type=click.Choice(list(SHAPES)),
    default="random",
    show_default=True,
    help="The shape of the generated graph, when no FILE is given (described above).",
)
@click.option(
    "--edges",
    type=click.IntRange(1, 10_000_000),
    default=120_000,
    show_default=True,
    metavar="N",
    help="About how many edges the generated graph has.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    metavar="N",
    help="Examples per step.",
)
@click.option(
    "--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True
)
@click.option(
    "--threads",
    type=click.IntRange(1, CORES),
    default=CORES,
    show_default=True,
    metavar="N",
    help="Threads for dagnet (and PyTorch).",
)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    metavar="N",
    help="Timed steps per engine; the median is reported.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop timing an engine after this long (the reference can take a minute a step).",
)
@click.option(
    "--compare",
    is_flag=True,
    help="Also time the per-unit reference engine, PyTorch (if installed), plain numpy (for "
    "an MLP) and dagnet on one thread, interleaved in the same run.",
)
@click.option(
    "--load",
    "loading",
    is_flag=True,
    help="Time loading instead: write the graph to a file, then read, validate, check and "
    "compile it, and print microseconds per edge.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, metavar="N")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON document.")
@click.pass_context
def bench(
    ctx: click.Context,
    file: Path | None,
    shape: str,
    edges: int,
    batch_size: int,
    dtype: str,
    threads: int,
    repeat: int,
    budget: float,
    compare: bool,
    loading: bool,
    seed: int,
    as_json: bool,
) -> None:
    """Time one training step (forward, backward, update) and print edge-examples per second.

    The step is the one `dagnet train` takes, on random inputs and targets, for the graph in
    FILE or a generated one: random (a random DAG of 57 levels), layered (dense layers with
    skip edges), deep (1000 levels of 4 units for 12k edges) or mlp (dense layers of 256). The
    figure is edges × batch size / the median step time, after warm-up steps.

    With --compare, the other engines take the same step on the same graph and data, every
    engine one timed step in turn (so machine noise hits them alike, each after 0.1 s of its own
    untimed steps), and the last column shows how many times faster dagnet is. PyTorch is timed
    only when installed: pip install 'dagnet[compare]'.

    \b
    Examples:
      dagnet bench --compare                               random DAG, 120k edges, batch 256
      dagnet bench --shape deep --edges 12000 --batch-size 32 --compare
      dagnet bench graphs/multi_output.json --batch-size 1
      dagnet bench --load --edges 1000000                  loading time per edge
    """
    if file is not None:
        for name in ("shape", "edges"):
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
                raise click.UsageError(f"--{name} describes a generated graph; FILE gives one")
        graph, described = load(file), str(file)
    else:
        graph = Graph.model_validate(SHAPES[shape](edges, seed))
        described = f"{shape} DAG"
    if loading:
        _bench_loading(graph, described, repeat=min(repeat, 5), as_json=as_json)
        return
    net = Network(graph, seed=seed, dtype=dtype)
    rng = np.random.default_rng([seed, 2])
    x = rng.standard_normal((net.plan.n_inputs, batch_size))
    y = rng.standard_normal((len(net.output_ids), batch_size))
    engines = _engines(net, x, y, threads=threads, compare=compare)
    quiet = as_json
    say(quiet, f"{described}: {_describe(net)}; batch {batch_size}, {dtype}")
    progress = _progress(quiet)
    measure(engines, repeat=repeat, budget=budget, progress=progress)
    if progress is not None:
        progress("")
    results = _results(engines, net.plan.n_edges * batch_size)
    if as_json:
        summary = {"graph": described, **_graph_facts(net), "batch_size": batch_size}
        summary |= {"dtype": dtype, "threads": threads, "engines": results}
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(_table(results))


def _engines(
    net: Network, x: np.ndarray, y: np.ndarray, *, threads: int, compare: bool
) -> list[Engine]:
    engines = [Engine(f"dagnet, {count(threads, 'thread')}", _dagnet_step(net, x, y, threads))]
    if not compare:
        return engines
    if threads > 1:
        engines.append(Engine("dagnet, 1 thread", _dagnet_step(net, x, y, 1)))
    from dagnet.bench import rivals  # the rivals' imports are not every command's cost

    # Pure Python compiles nothing and caches little, and one step can take a minute.
    reference = rivals.reference_step(net, x, y, LEARNING_RATE)
    engines.append(Engine("reference (per unit, Python)", reference, warmup=0, settle=False))
    if rivals.torch_available():
        import torch

        torch.set_num_threads(threads)
        for name, make in [
            ("torch, index_add per level", rivals.torch_index_step),
            ("torch, masked matmul per level", rivals.torch_masked_step),
        ]:
            step = make(net, x, y, LEARNING_RATE, net.dtype)
            engines.append(Engine(name, step, cooldown=POOL_COOLDOWN))
    try:
        mlp = rivals.numpy_mlp_step(net, x, y, LEARNING_RATE, net.dtype)
    except ValueError:  # not a dense layered MLP: no matmul formulation to compare with
        pass
    else:
        engines.append(Engine("numpy matmul (MLP)", mlp, cooldown=POOL_COOLDOWN))
    return engines


def _dagnet_step(net: Network, x: np.ndarray, y: np.ndarray, threads: int) -> Callable[[], None]:
    """The step fit() takes: loss_and_gradients and an SGD update, on ``threads`` threads, in a
    workspace kept from step to step as fit() keeps one."""
    sgd = SGD(LEARNING_RATE)
    workspace = net.workspace(x.shape[1], threads, split=True)

    def step() -> None:
        numba.set_num_threads(threads)
        _, weight_gradient, bias_gradient = net.loss_and_gradients(x, y, workspace)
        sgd.step((net.weight, net.bias), (weight_gradient, bias_gradient))

    return step


def _graph_facts(net: Network) -> dict[str, int]:
    return {
        "units": net.plan.n_units,
        "edges": net.plan.n_edges,
        "inputs": net.plan.n_inputs,
        "outputs": len(net.output_ids),
        "levels": int(net.plan.levels().max(initial=0)),
    }


def _describe(net: Network) -> str:
    facts = _graph_facts(net)
    return (
        f"{count(facts['units'], 'unit')} ({facts['inputs']} in, {facts['outputs']} out), "
        f"{count(facts['edges'], 'edge')}, {count(facts['levels'], 'level')}"
    )


def _results(engines: list[Engine], edge_examples: int) -> list[dict[str, Any]]:
    fastest = engines[0].median
    return [
        {
            "engine": engine.name,
            "median_seconds": engine.median,
            "edge_examples_per_second": edge_examples / engine.median,
            "steps": len(engine.seconds),
            "dagnet_speedup": engine.median / fastest,
        }
        for engine in engines
    ]


def _table(results: list[dict[str, Any]]) -> str:
    width = max(len(r["engine"]) for r in results)
    lines = [
        f"{'engine':<{width}}  {'median step':>12}  {'M edge-ex/s':>12}  {'steps':>5}  dagnet ×"
    ]
    for r in results:
        lines.append(
            f"{r['engine']:<{width}}  {_duration(r['median_seconds']):>12}  "
            f"{r['edge_examples_per_second'] / 1e6:>12,.1f}  {r['steps']:>5}  "
            f"{r['dagnet_speedup']:,.{1 if r['dagnet_speedup'] < 100 else 0}f}"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _progress(quiet: bool) -> Callable[[str], None] | None:
    """Rewrites one status line on a terminal; logs and pipes get only the results."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"\r\033[K{message}", err=True, nl=False)


def _bench_loading(graph: Graph, described: str, *, repeat: int, as_json: bool) -> None:
    """Time read_graph + Network on the graph's file text, the first time and then again."""
    edges = len(graph.edges)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.json"
        path.write_text(graph_to_text(graph), encoding="utf-8")
        size = path.stat().st_size
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            Network(load_graph(path))
            seconds.append(time.perf_counter() - started)
    first, median = seconds[0], statistics.median(seconds[1:] or seconds)
    if as_json:
        document = {"graph": described, "edges": edges, "bytes": size}
        document |= {"first_seconds": first, "median_seconds": median, "runs": repeat}
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(
        f"{described}: {count(edges, 'edge')}, {size / 1e6:.1f} MB of JSON; read, validated, "
        f"checked and compiled in {median:.2f} s = {median / edges * 1e6:.2f} µs per edge "
        f"(median of {repeat}; the first run, which also loads numba's compiled code if this "
        f"process had not yet, took {first:.2f} s = {first / edges * 1e6:.2f} µs per edge)"
    )
