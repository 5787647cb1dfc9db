"""The population benchmark: neat-python's genomes, grown to size, and agreement between the two
ways of evaluating them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("neat")

from dagnet.bench.population import agreement, grow_genomes, main, neat_outputs
from dagnet.training.population import Population


def test_genomes_grow_from_5_to_40_units() -> None:
    genomes, config = grow_genomes(8, seed=1)
    sizes = [len(config.genome_config.input_keys) + len(g.nodes) for g in genomes]
    assert sizes[0] == 5 and sizes[-1] >= 40


def test_the_population_agrees_with_neat_python(capsys: pytest.CaptureFixture[str]) -> None:
    genomes, config = grow_genomes(6, seed=2, largest=15)
    x = np.random.default_rng(0).uniform(-1, 1, (9, 3))
    theirs = neat_outputs(genomes, config, x.tolist())
    assert agreement(Population.from_neat(genomes, config).forward(x), theirs) < 1e-12
    main(["--genomes", "6", "--examples", "9", "--runs", "1", "--repeat", "1", "--epochs", "1"])
    out = capsys.readouterr().out
    assert "faster than neat-python" in out and "above 1e-12" not in out
    assert "Population.fit" in out
