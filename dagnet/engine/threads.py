"""How many threads run a workspace's column blocks: a number given, or "auto", learnt from the
steps themselves.

A second thread pays only when its core is free. When another busy process shares the machine,
the operating system deschedules one of the two threads for milliseconds at a time, and the
other waits for it at the end of every pass: measured on two cores with a busy neighbour, a
step of a deep narrow network took 28 ms on two threads against 1.2 ms on one. No setting of
numba's threading layer avoids that wait (passive waiting only stops the waiting thread from
burning the core it shares), so "auto" measures instead: a network's steps of each batch size
run on one thread first, then a few on all of them, and keep the faster; the other count is tried
again now and then, because the load changes. A probe that loses costs at most the steps it
took, and the next one waits until the steps since have taken :data:`PROBE_SHARE`⁻¹ times
that cost, so probing never costs more than a few percent of a run.

The choice changes the time of a step and the rounding of its sums, nothing else: one thread
takes the minibatch as one block, several add up the sums of their blocks, and the two differ
by reassociation (about 1e-16 relative in a gradient; parameters after a short fit agree to
1e-12 in the tests). Runs that must agree bit for bit give a count, not "auto".
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Callable
from statistics import mean, median
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
"""Steps on the chosen count before it is compared with the other."""

WINDOW = 8
"""How many of a count's latest steps its typical time is the median of."""

PROBE_STEPS = 8
"""Steps a probe takes when it keeps up; its first, which pays for waking the other threads
(the first time, for starting them and loading their code), is not judged."""

LOSS_LIMIT = 3.0
"""A probe ends as soon as its judged steps have cost this many typical steps more than the
chosen count would have."""

HOPELESS = 4.0
"""A probe whose first step is this many times slower than typical ends at once (except the
first probe, whose first step starts the threads)."""

FIRST_WAIT = 0.02
"""Seconds of steps before the next probe after a choice changes (then twice as long after each
probe that loses, or as long as its cost allows)."""

LONGEST_WAIT = 5.0
"""The longest a choice goes unchecked, in seconds of steps."""

MARGIN = 0.95
"""A probe wins when its judged steps take less than this share of the choice's typical step,
on average: the mean, spikes and all, against the median (so a probe must win clearly)."""

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
    :data:`SETTLE_STEPS`, switch only if it was clearly faster, and probe again once enough
    time has passed (see the module), or at once when the steps of several threads have
    become slower than one thread's were.

    Examples
    --------
    >>> choice = ThreadChoice()
    >>> for _ in range(4):
    ...     choice.record(choice.threads(2), 1.0)
    >>> choice.threads(2)  # the probe
    2
    >>> for _ in range(9):
    ...     choice.record(choice.threads(2), 0.6)
    >>> choice.best, choice.threads(2)
    (2, 2)
    """

    def __init__(self, best: int = 1) -> None:
        self.best = best
        """The count chosen: one to start with, or what a choice made elsewhere found."""
        self.recent: dict[int, deque[float]] = {}
        """Each count's latest steps (seconds), the first after a change of count left out."""
        self.probe: int | None = None
        self.probe_times: list[float] = []
        self.wait = 0.0
        """Seconds of steps on the chosen count before the next probe."""
        self.spent = 0.0
        self.probes = 0
        self.last = 0

    def threads(self, most: int) -> int:
        """How many threads to run the next pass on, out of at most ``most``."""
        if most <= 1:
            return 1
        if self.probe is None and self._due():
            self.probe = 1 if self.best > 1 else most
            self.probe_times = []
        return min(self.probe or self.best, most)

    def _due(self) -> bool:
        chosen = self.recent.get(self.best, ())
        if len(chosen) < SETTLE_STEPS:
            return False
        one = self.recent.get(1)
        if self.best > 1 and one and median(chosen) > median(one) / MARGIN:
            return True  # a neighbour has taken a core
        return self.spent >= self.wait

    def record(self, threads: int, seconds: float) -> None:
        """How long the pass just run on ``threads`` threads took."""
        if threads == self.last:
            self.recent.setdefault(threads, deque(maxlen=WINDOW)).append(seconds)
        self.last = threads
        if threads != self.probe:
            self.spent += seconds
            return
        self.probe_times.append(seconds)
        typical = median(self.recent[self.best])
        judged = self.probe_times[1:]
        if judged:
            lost = sum(judged) - typical * len(judged) > LOSS_LIMIT * typical
        else:
            lost = self.probes > 0 and seconds > HOPELESS * typical
        if not lost and len(judged) < PROBE_STEPS:
            return
        self.probes += 1
        self.probe = None
        if not lost and mean(judged) < MARGIN * typical:
            self.best, self.wait, self.spent = threads, FIRST_WAIT, 0.0
            return
        extra = sum(self.probe_times) - typical * len(self.probe_times)
        self.wait = min(LONGEST_WAIT, max(2 * self.wait, FIRST_WAIT, extra / PROBE_SHARE))
        self.spent = 0.0
