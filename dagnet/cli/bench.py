"""``dagnet bench``: edge-examples per second of one training step, beside its rivals.

The command parses its options, calls :mod:`dagnet.bench.run` (or :mod:`dagnet.bench.loading`
for ``--load``) and :func:`dagnet.bench.timing.measure`, and prints.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import click
import numba

from dagnet.bench import run
from dagnet.bench.busy import busy_core
from dagnet.bench.loading import time_loading
from dagnet.bench.shapes import BYTES_PER_EDGE, MAX_EDGES, SHAPES, largest
from dagnet.bench.timing import measure
from dagnet.cli.common import ThreadCount, count, load, say
from dagnet.engine.network import Network
from dagnet.engine.threads import Threads
from dagnet.functions.losses import LOSSES
from dagnet.graph.model import Graph
from dagnet.training.optimizers import OPTIMIZERS

CORES: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # (set at import)


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
    type=click.IntRange(1, MAX_EDGES),
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
    type=ThreadCount(),
    default=CORES,
    show_default=True,
    metavar="N|auto",
    help="Threads for dagnet (and PyTorch); auto times one thread against all on the first "
    "steps and keeps the faster, as training does by default.",
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
    help="Also time the per-unit reference engine, PyTorch and scipy.sparse (if installed), "
    "plain numpy (for an MLP) and dagnet on one thread, interleaved in the same run.",
)
@click.option(
    "--busy",
    is_flag=True,
    help="Keep one core busy with a spinning Python process while timing (started before the "
    "warm-up steps, stopped after the last timed step).",
)
@click.option(
    "--load",
    "loading",
    is_flag=True,
    help="Time loading instead: write the graph to a file, then read, validate, check and "
    "compile it, and print microseconds per edge.",
)
@click.option(
    "--optimizer",
    type=click.Choice(list(OPTIMIZERS)),
    default="sgd",
    show_default=True,
    help="The update dagnet's step takes (the rivals take sgd steps: --compare needs sgd).",
)
@click.option(
    "--loss",
    type=click.Choice(list(LOSSES)),
    default="squared_error",
    show_default=True,
    help="The loss of every output (cross_entropy makes them sigmoid units; "
    "softmax_cross_entropy makes them one softmax group).",
)
@click.option(
    "--plain",
    is_flag=True,
    help="Also time dagnet's plain step (sgd on squared error) on the same graph, inputs and "
    "parameters, interleaved, so that the last column shows what --optimizer and --loss cost.",
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
    threads: Threads,
    repeat: int,
    budget: float,
    compare: bool,
    busy: bool,
    loading: bool,
    optimizer: str,
    loss: str,
    plain: bool,
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
    untimed steps), the last column shows how many times faster dagnet is, and the last line
    names the best rival. PyTorch and scipy are timed only when installed: pip install
    'dagnet[compare]'. With --busy, one core is kept busy by a spinning process meanwhile.

    \b
    Examples:
      dagnet bench --compare                               random DAG, 120k edges, batch 256
      dagnet bench --shape deep --edges 12000 --batch-size 32 --compare
      dagnet bench graphs/multi_output.json --batch-size 1
      dagnet bench --compare --busy                        the same, one core kept busy
      dagnet bench --load --edges 1000000                  loading time per edge
      dagnet bench --optimizer adam --loss softmax_cross_entropy --plain
    """
    if file is not None:
        for name in ("shape", "edges"):
            if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE:
                raise click.UsageError(f"--{name} describes a generated graph; FILE gives one")
        graph, described = load(file), str(file)
    else:
        _check_memory(edges)
        graph = Graph.model_validate(SHAPES[shape](edges, seed))
        described = f"{shape} DAG"
    if loading:
        _print_loading(graph, described, repeat=min(repeat, 5), as_json=as_json)
        return
    if compare and optimizer != "sgd":
        raise click.UsageError("the rivals take sgd steps, so --compare needs --optimizer sgd")
    if compare and LOSSES[loss].grouped:
        raise click.UsageError(
            "the rivals treat each output alone, so --compare needs --loss squared_error or "
            "cross_entropy"
        )
    net = Network(run.with_loss(graph, loss), seed=seed, dtype=dtype)
    x, y = run.minibatch(net, batch_size, seed)
    engines = run.engines(net, x, y, threads=threads, compare=compare, optimizer=optimizer)
    if plain:
        engines.insert(1, run.plain_engine(net, graph, batch_size, seed, dtype, threads))
    quiet = as_json
    loaded = "; one core kept busy by a competing process" if busy else ""
    say(
        quiet,
        f"{described}: {run.describe(net)}; batch {batch_size}, {dtype}, {optimizer}, {loss}"
        + loaded,
    )
    progress = _progress(quiet)
    with busy_core() if busy else nullcontext():
        measure(engines, repeat=repeat, budget=budget, progress=progress)
    if progress is not None:
        progress("")
    results = run.results(engines, net.plan.n_edges * batch_size)
    if as_json:
        summary = {"graph": described, **run.graph_facts(net), "batch_size": batch_size}
        summary |= {"dtype": dtype, "threads": threads, "optimizer": optimizer, "loss": loss}
        summary |= {"busy": busy}
        best = run.best_rival(results)
        summary |= {"engines": results, "best_rival": None if best is None else best["engine"]}
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(run.table(results))
        if busy:
            click.echo("(timed with one core kept busy by a competing process)")


def _check_memory(edges: int) -> None:
    """A usage error when a graph of ``edges`` would not fit in the memory available now."""
    available = available_memory()
    if available is not None and edges > largest(available):
        raise click.UsageError(
            f"--edges {edges}: a generated graph of that size needs about "
            f"{edges * BYTES_PER_EDGE / 1e9:.1f} GB and {available / 1e9:.1f} GB of memory is "
            f"available; give --edges in the range 1..{largest(available)}"
        )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable; else the free
    pages), or None where neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _progress(quiet: bool) -> Callable[[str], None] | None:
    """Rewrites one status line on a terminal; logs and pipes get only the results."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"\r\033[K{message}", err=True, nl=False)


def _print_loading(graph: Graph, described: str, *, repeat: int, as_json: bool) -> None:
    """Time read_graph + Network on the graph's file text, the first time and then again."""
    timing = time_loading(graph, repeat)
    edges, first, median = timing.edges, timing.first_seconds, timing.median_seconds
    if as_json:
        document = {"graph": described, "edges": edges, "bytes": timing.bytes}
        document |= {"first_seconds": first, "median_seconds": median, "runs": timing.runs}
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(
        f"{described}: {count(edges, 'edge')}, {timing.bytes / 1e6:.1f} MB of JSON; read, "
        f"validated, checked and compiled in {median:.2f} s = {median / edges * 1e6:.2f} µs per "
        f"edge (median of {timing.runs}; the first run, which also loads numba's compiled code if "
        f"this process had not yet, took {first:.2f} s = {first / edges * 1e6:.2f} µs per edge)"
    )
