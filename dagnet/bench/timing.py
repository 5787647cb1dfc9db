"""Interleaved timing: every engine takes one step in turn, round after round, so that a noisy
neighbour on a shared machine slows them all alike; each engine reports its median step.

Each timed step comes right after untimed steps of the same engine (for at least
:data:`SETTLE_SECONDS`), as it would in a training loop: otherwise each engine would be timed with
the caches full of the previous engine's data, or on a core still waking from the previous
engine's pause, which penalises whoever happens to come next. An engine whose thread pool keeps
spinning after it returns (OpenBLAS spins for about 0.1 s, and halves the speed of the next
engine's threads meanwhile) is given a pause after its steps.

An engine that is slow (the per-unit reference at a large batch can take a minute a step) stops
being timed once it has spent its time budget, after at least one timed step; how many steps each
median rests on is reported beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

__all__ = ["SETTLE_SECONDS", "Engine", "measure"]

Step = Callable[[], object]

SETTLE_SECONDS = 0.1
"""How long an engine runs untimed before each timed step (at least one step). A core that has
just idled (another engine's pause) runs the next tens of milliseconds of work slower: measured
on a deep graph, 1.05 ms a step after 10 ms of settling against 0.69 ms after 100 ms."""


@dataclass
class Engine:
    """One way of taking the training step, and the times it took."""

    name: str
    step: Step
    warmup: int = 2
    """Untimed steps first: numba loads its cache and torch sizes its buffers on the first."""
    settle: bool = True
    """Run untimed before each timed step (not for an engine whose step takes seconds and gains
    nothing from a warm cache)."""
    cooldown: float = 0.0
    """Seconds to wait after this engine's steps, for its worker threads to go to sleep."""
    steps_per_call: int = 1
    """How many steps one call of ``step`` takes (online learning takes many in one compiled
    call); its times are per step."""
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return median(self.seconds)


def measure(
    engines: list[Engine],
    *,
    repeat: int,
    budget: float = 20.0,
    progress: Callable[[str], None] | None = None,
) -> list[Engine]:
    """Time up to ``repeat`` steps of every engine, interleaved, after its warm-up steps.

    An engine is left out of later rounds once its timed steps add up to ``budget`` seconds.
    """
    for engine in engines:
        if progress is not None and engine.warmup:
            progress(f"warming up {engine.name}")
        for _ in range(engine.warmup):
            engine.step()
        time.sleep(engine.cooldown)
    for round_ in range(repeat):
        if progress is not None:
            progress(f"round {round_ + 1}/{repeat}")
        for engine in engines:
            if sum(engine.seconds) >= budget:
                continue
            if engine.settle:
                settled = time.perf_counter() + SETTLE_SECONDS
                engine.step()
                while time.perf_counter() < settled:
                    engine.step()
            started = time.perf_counter()
            engine.step()
            engine.seconds.append((time.perf_counter() - started) / engine.steps_per_call)
            time.sleep(engine.cooldown)
    return engines
