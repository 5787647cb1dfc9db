"""``python -m dagnet.bench.population``: a NEAT population evaluated by neat-python and by dagnet.

neat-python grows genomes of 5 to 40 units (inputs included) by its own mutations, from the
configuration below (that of ``graphs/neat.cfg``), and the same inputs go through them two ways,
interleaved run by run in one process: (a) neat-python, ``FeedForwardNetwork.create`` for each
genome and ``activate`` for each example, and (b) dagnet, :meth:`Population.from_neat
<dagnet.training.population.Population.from_neat>` and one :meth:`forward
<dagnet.training.population.Population.forward>`, each side timed as one call, as a NEAT run
makes each generation's networks and evaluates them (and dagnet's build and first forward also
alone). The outputs must agree to 10⁻¹² (|Δ| / max(1, |y|)). Then training: the same epochs of
SGD for every genome, in a loop of ``dagnet.fit`` over separate Networks and in one
:meth:`Population.fit <dagnet.training.population.Population.fit>`. The kernels are compiled
(and neat-python's code warmed) before anything is timed. Needs neat-python (the extra
``neat``).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np

from dagnet.engine.network import Network
from dagnet.interop.neat import require_neat
from dagnet.training.fit import fit
from dagnet.training.population import Population

__all__ = ["CONFIG", "agreement", "grow_genomes", "main", "neat_outputs"]

CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = 1e9
pop_size              = {pop_size}
reset_on_extinction   = False
no_fitness_termination = True

[DefaultGenome]
activation_default      = sigmoid
activation_mutate_rate  = 0.1
activation_options      = sigmoid tanh relu identity
aggregation_default     = sum
aggregation_mutate_rate = 0.0
aggregation_options     = sum
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = 0.5
conn_delete_prob        = 0.2
enabled_default         = True
enabled_mutate_rate     = 0.01
feed_forward            = True
initial_connection      = full_direct
node_add_prob           = 0.3
node_delete_prob        = 0.1
num_hidden              = 0
num_inputs              = 3
num_outputs             = 2
response_init_mean      = 1.0
response_init_stdev     = 0.0
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.0
response_mutate_rate    = 0.0
response_replace_rate   = 0.0
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
"""
"""graphs/neat.cfg's configuration: 3 inputs, 2 outputs, sigmoid, tanh, relu and identity."""


def grow_genomes(n: int, seed: int, smallest: int = 5, largest: int = 40) -> tuple[list[Any], Any]:
    """``n`` genomes and their config: genome k is mutated by neat-python until it has
    ``smallest + k (largest − smallest) / (n − 1)`` units, inputs included."""
    neat = require_neat("the population benchmark")
    from neat.innovation import InnovationTracker

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "neat.cfg"
        path.write_text(CONFIG.format(pop_size=n), encoding="utf-8")
        config = neat.Config(
            neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
            neat.DefaultStagnation, str(path),
        )  # fmt: skip
    random.seed(seed)
    config.genome_config.innovation_tracker = InnovationTracker()
    inputs = len(config.genome_config.input_keys)
    genomes = []
    for k in range(n):
        genome = neat.DefaultGenome(k)
        genome.configure_new(config.genome_config)
        wanted = smallest + round(k * (largest - smallest) / max(n - 1, 1))
        for _ in range(5000):
            if inputs + len(genome.nodes) >= wanted:
                break
            genome.mutate(config.genome_config)
        genomes.append(genome)
    return genomes, config


def neat_outputs(genomes: list[Any], config: Any, rows: list[list[float]]) -> np.ndarray:
    """neat-python's way: a FeedForwardNetwork per genome, ``activate`` per example; the
    outputs as (examples, genomes, outputs)."""
    neat = require_neat("the population benchmark")
    found = []
    for genome in genomes:
        net = neat.nn.FeedForwardNetwork.create(genome, config)
        found.append([net.activate(row) for row in rows])
    return np.array(found).transpose(1, 0, 2)


def agreement(ours: np.ndarray, theirs: np.ndarray) -> float:
    """max |ours − theirs| / max(1, |theirs|)."""
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


def _timed(work: Any) -> tuple[tuple[float, float], Any]:
    """``work()``'s wall-clock time and the processor time this process spent on it (all its
    threads), and its result. On a shared machine the wall clock of a short task also counts
    the other processes it waited for; the processor time does not."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def _best(work: Any, repeat: int) -> tuple[tuple[float, float], Any]:
    """The fastest of ``repeat`` runs of ``work()`` by the wall clock (see :func:`_timed`)."""
    return min((_timed(work) for _ in range(repeat)), key=lambda timed: timed[0][0])


def _first_forward(genomes: list[Any], config: Any, x: np.ndarray) -> tuple[float, float]:
    """The time of a new population's first forward pass (see :func:`_timed`)."""
    population = Population.from_neat(genomes, config)
    return _timed(lambda: population.forward(x))[0]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="python -m dagnet.bench.population", description=(
        "Time a NEAT population's evaluation by neat-python and by a dagnet Population."
    ))  # fmt: skip
    parser.add_argument("--genomes", type=int, default=150)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="of SGD (0: no training)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", type=int, default=3, help="each side's time is its best of this many"
    )
    options = parser.parse_args(argv)

    genomes, config = grow_genomes(options.genomes, options.seed)
    sizes = [len(config.genome_config.input_keys) + len(g.nodes) for g in genomes]
    connections = [sum(c.enabled for c in g.connections.values()) for g in genomes]
    rng = np.random.default_rng(options.seed)
    x = rng.uniform(-1.0, 1.0, (options.examples, 3))
    y = np.stack([x[:, 0] * x[:, 1], np.tanh(x[:, 2] - x[:, 0])], axis=1)
    rows = [list(row) for row in x.tolist()]
    print(
        f"{len(genomes)} genomes of {min(sizes)}–{max(sizes)} units (mean {np.mean(sizes):.1f}), "
        f"{np.mean(connections):.1f} enabled connections on average; {len(rows)} examples; "
        f"numba threads {numba.get_num_threads()}; load average "
        f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    # Warm-up, untimed: numba's kernels compiled or loaded, neat-python's code run once.
    Population.from_neat(genomes[:5], config).forward(x)
    neat_outputs(genomes[:5], config, rows)

    print(
        f"each time is the best of {options.repeat} in its run; dagnet's is of build and forward "
        "in one call, as neat-python's of create and activate, then of each alone"
    )
    print(f"{'run':>3}  {'neat-python':>12}  {'dagnet':>9}  {'ratio':>6}  {'(cpu)':>6}  "
          f"{'build':>9}  {'forward':>9}  agreement")  # fmt: skip
    walls, cpus = [], []
    for run in range(1, options.runs + 1):
        neat_time, theirs = _best(lambda: neat_outputs(genomes, config, rows), options.repeat)
        # A new population each time, built from the genes, as a NEAT run makes each generation.
        ours_time, ours = _best(
            lambda: Population.from_neat(genomes, config).forward(x), options.repeat
        )
        build_time, _ = _best(lambda: Population.from_neat(genomes, config), options.repeat)
        forward_time = min(_first_forward(genomes, config, x) for _ in range(options.repeat))
        walls.append(neat_time[0] / ours_time[0])
        cpus.append(neat_time[1] / ours_time[1])
        worst = agreement(ours, theirs)
        flag = "" if worst < 1e-12 else "  (above 1e-12!)"
        print(
            f"{run:>3}  {neat_time[0] * 1e3:>9.1f} ms  {ours_time[0] * 1e3:>6.2f} ms  "
            f"{walls[-1]:>5.0f}×  {cpus[-1]:>5.0f}×  {build_time[0] * 1e3:>6.2f} ms  "
            f"{forward_time[0] * 1e3:>6.2f} ms  {worst:.1e}{flag}"
        )
    print(
        f"evaluation: dagnet {min(walls):.0f}–{max(walls):.0f}× faster than neat-python by the "
        f"wall clock, {min(cpus):.0f}–{max(cpus):.0f}× by processor time"
    )
    if options.epochs:
        _training(genomes, config, x, y, options)


def _training(genomes: list[Any], config: Any, x: np.ndarray, y: np.ndarray, options: Any) -> None:
    """The same SGD for every genome: a loop of fit over separate Networks against one
    Population.fit, interleaved run by run."""
    settings = {"epochs": options.epochs, "learning_rate": 0.01,
                "batch_size": options.batch_size, "seed": options.seed}  # fmt: skip
    start_population = Population.from_neat(genomes, config)
    nets = start_population.networks()
    print(
        f"training: {options.epochs} epochs of SGD (η 0.01, batch {options.batch_size}) per "
        f"genome, {len(nets)} separate Networks (made beforehand) against one Population"
    )
    fit(Network(nets[0].to_graph()), x, y, **settings)  # warm-up
    Population.from_neat(genomes[:5], config).fit(x, y, **settings)
    walls, cpus = [], []
    for run in range(1, options.runs + 1):
        separate = [Network(net.to_graph()) for net in nets]
        population = Population.from_neat(genomes, config)

        def loop(separate: list[Network] = separate) -> None:
            for net in separate:
                fit(net, x, y, **settings)

        loop_time, _ = _timed(loop)
        together_time, _ = _timed(lambda: population.fit(x, y, **settings))  # noqa: B023
        walls.append(loop_time[0] / together_time[0])
        cpus.append(loop_time[1] / together_time[1])
        trained = population.forward(x)
        worst = max(agreement(net.forward(x), trained[:, k]) for k, net in enumerate(separate))
        print(
            f"{run:>3}  loop of fit {loop_time[0] * 1e3:>8.1f} ms  Population.fit "
            f"{together_time[0] * 1e3:>7.1f} ms  {walls[-1]:>5.0f}×  ({cpus[-1]:.0f}× by "
            f"processor time)  outputs after training agree to {worst:.1e}"
        )
    print(
        f"training: Population.fit {min(walls):.0f}–{max(walls):.0f}× faster than the loop by "
        f"the wall clock, {min(cpus):.0f}–{max(cpus):.0f}× by processor time"
    )


if __name__ == "__main__":
    main()
