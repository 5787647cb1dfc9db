"""neat-python configurations and genomes for the importer's tests (need neat-python)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from dagnet.interop.neat import NEAT_ACTIVATIONS

CONFIG = """
[NEAT]
fitness_criterion     = max
fitness_threshold     = 1e9
pop_size              = {pop_size}
reset_on_extinction   = False
no_fitness_termination = True

[DefaultGenome]
activation_default      = {activation}
activation_mutate_rate  = {activation_rate}
activation_options      = {options}
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
num_inputs              = {inputs}
num_outputs             = {outputs}
response_init_mean      = {response}
response_init_stdev     = {response_stdev}
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


def make_config(
    folder: Path,
    *,
    inputs: int = 3,
    outputs: int = 2,
    pop_size: int = 10,
    activation: str = "sigmoid",
    activation_rate: float = 0.0,
    options: str = "sigmoid",
    response: float = 1.0,
    response_stdev: float = 0.0,
) -> Any:
    import neat

    path = folder / "neat.cfg"
    path.write_text(CONFIG.format(
        pop_size=pop_size, activation=activation, activation_rate=activation_rate,
        options=options, inputs=inputs, outputs=outputs, response=response,
        response_stdev=response_stdev,
    ))  # fmt: skip
    return neat.Config(
        neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
        neat.DefaultStagnation, str(path),
    )  # fmt: skip


def grown_genome(config: Any, seed: int, *, mutations: int = 40) -> Any:
    """A genome grown by many mutations, with every built-in activation among its nodes (each
    non-input node cycles through neat-python's built-ins) and random biases and weights."""
    import neat
    from neat.innovation import InnovationTracker

    random.seed(seed)
    if config.genome_config.innovation_tracker is None:
        config.genome_config.innovation_tracker = InnovationTracker()
    genome = neat.DefaultGenome(seed)
    genome.configure_new(config.genome_config)
    for _ in range(mutations):
        genome.mutate(config.genome_config)
    names = list(NEAT_ACTIVATIONS)
    for position, key in enumerate(sorted(genome.nodes)):
        genome.nodes[key].activation = names[(position + seed) % len(names)]
        genome.nodes[key].bias = random.uniform(-1.0, 1.0)
    for gene in genome.connections.values():
        gene.weight = random.uniform(-1.5, 1.5)
    return genome
