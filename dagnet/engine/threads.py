"""How many threads run a workspace's column blocks: a number given, or "auto", learnt from the
steps themselves.

A second thread pays only when its core is free. When another busy process shares the machine,
the operating system deschedules one of the two threads for milliseconds at a time, and the
other waits for it at the end of every pass: measured on two cores with a busy neighbour, a
step of a deep narrow network took 28 ms on two threads against 1.2 ms on one. No setting of
numba's threading layer avoids that wait (passive waiting only stops the waiting thread from
burning the core it shares), so "auto" measures instead: the steps of each workspace run on
one thread first, then a few on all of them, and keep the faster; the other count is tried
again now and then, because the load changes. A probe that loses costs at most the steps it
took, and the next one waits until the steps since have taken :data:`PROBE_SHARE`⁻¹ times
that cost, so probing never costs more than a few percent of a run.

The choice changes the time of a step, never its numbers: the blocks are the same on any
number of threads (see :mod:`dagnet.engine.workspace`).
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Callable
from statistics import median
from typing import Literal, TypeVar

import numba

from dagnet.errors import ArgumentError

__all__ = [
    "AUTO",
    "PROBE_SHARE",
    "ThreadChoice",
    "Threads",
    "check_threads",
    "most_threads",
    "on_threads",
]

AUTO: Literal["auto"] = "auto"

Threads = int | Literal["auto"]
"""A number of threads (at least 1), or "auto": the faster of one and all, measured."""

PROBE_SHARE = 0.03
"""The most of a run's time that probing the other thread count may take."""

SETTLE_STEPS = 3
"""Steps on one count before its times are compared (the first after a change is slow)."""

PROBE_STEPS = 2
"""Steps a probe takes at most: the first pays for waking the other threads."""

FIRST_WAIT = 0.02
"""Seconds of steps before the first probe after a choice is made (then more each time)."""

LONGEST_WAIT = 5.0
"""The longest a choice goes unchecked, in seconds of steps."""

MARGIN = 0.95
"""A probe wins when its best step takes less than this share of the choice's typical step."""

JUMP = 2.0
"""A choice of several threads whose steps suddenly take this many times longer (a neighbour
has taken a core) is checked at once."""

HOPELESS = 4.0
"""A probe's step this many times slower than the choice's ends the probe at once (not the
first probe's, which also pays for starting the threads and loading their code)."""

T = TypeVar("T")


def most_threads() -> int:
    """The threads numba may use now (``numba.set_num_threads``; at most ``NUMBA_NUM_THREADS``)."""
    return int(numba.get_num_threads())


def check_threads(threads: object, name: str = "threads") -> Threads:
    """``threads`` as a whole number from 1 to ``NUMBA_NUM_THREADS``, or "auto"; anything else
    is an ArgumentError that says what is allowed.

    >>> check_threads("auto"), check_threads(1)
    ('auto', 1)
    """
    if threads == AUTO:
        return AUTO
    cores = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if (
        isinstance(threads, bool)
        or not isinstance(threads, numbers.Integral)
        or not 1 <= int(threads) <= cores
    ):
        raise ArgumentError(
            f"{name} must be a whole number from 1 to {cores} (the cores numba may use) or "
            f"'auto', not {threads!r}"
        )
    return int(threads)


def on_threads(threads: int, run: Callable[[], T]) -> T:
    """``run()`` with numba's parallel loops on ``threads`` threads, then numba as it was."""
    previous = numba.get_num_threads()
    if previous == threads:
        return run()
    numba.set_num_threads(threads)
    try:
        return run()
    finally:
        numba.set_num_threads(previous)


class ThreadChoice:
    """Which of one thread and ``most`` runs one kind of pass over one workspace faster.

    :meth:`threads` says how many to run the next pass on; :meth:`record` takes how long it
    took. Start on one thread (never slower than having threads), probe the other count after
    :data:`SETTLE_STEPS`, keep whichever was faster, and probe again later (see the module).

    Examples
    --------
    >>> choice = ThreadChoice()
    >>> for seconds in (1.0, 1.0, 1.0):
    ...     choice.record(choice.threads(2), seconds)
    >>> choice.threads(2)  # the probe
    2
    >>> choice.record(2, 0.6); choice.record(choice.threads(2), 0.55)
    >>> choice.best, choice.threads(2)
    (2, 2)
    """

    def __init__(self) -> None:
        self.best = 1
        self.times: deque[float] = deque(maxlen=8)
        """The latest steps' seconds on the chosen count."""
        self.probe: int | None = None
        self.probe_times: list[float] = []
        self.wait = 0.0
        """Seconds of steps on the chosen count before the next probe."""
        self.spent = 0.0
        self.probes = 0

    def threads(self, most: int) -> int:
        """How many threads to run the next pass on, out of at most ``most``."""
        if most <= 1:
            return 1
        if self.probe is not None:
            return self.probe
        if len(self.times) >= SETTLE_STEPS and self.spent >= self.wait:
            self.probe = 1 if self.best > 1 else most
            self.probe_times = []
            return self.probe
        return min(self.best, most)

    def record(self, threads: int, seconds: float) -> None:
        """How long the pass just run on ``threads`` threads took."""
        if self.probe is None or threads != self.probe:
            if self.best > 1 and len(self.times) >= SETTLE_STEPS:
                slow = JUMP * median(self.times)
                if seconds > slow and self.times[-1] > slow:
                    self.spent = self.wait  # a neighbour took a core: see if one thread is faster
            self.times.append(seconds)
            self.spent += seconds
            return
        self.probe_times.append(seconds)
        typical = median(self.times)
        if min(self.probe_times) < MARGIN * typical:
            self.best, self.probe = threads, None
            self.times.clear()
            self.times.extend(self.probe_times)
            self.wait, self.spent = FIRST_WAIT, 0.0
            self.probes += 1
            return
        steps = PROBE_STEPS + (self.probes == 0)  # the first also starts the threads
        hopeless = self.probes > 0 and seconds > HOPELESS * typical
        if len(self.probe_times) >= steps or hopeless:
            extra = sum(self.probe_times) - typical * len(self.probe_times)
            self.wait = min(LONGEST_WAIT, max(2 * self.wait, FIRST_WAIT, extra / PROBE_SHARE))
            self.probe, self.spent = None, 0.0
            self.probes += 1
