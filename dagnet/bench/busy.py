"""``dagnet bench --busy``: one core kept busy by a competing process while the engines are
timed, to see how each engine copes with a loaded machine (a neighbour on a shared machine, a
data loader beside training).

:func:`busy_core` starts a separate Python process that spins, and stops it when its block
ends, however it ends (an error, Ctrl-C). The spinning process also watches its parent and
exits when the parent is gone, so that not even a killed benchmark leaves it behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SPIN", "busy_core"]

SPIN = """\
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:  # a loop of pure Python: one core, no memory traffic to speak of
    for _ in range(200_000):
        pass
"""
"""The competing process's program: it spins until its parent is gone (checked every few
milliseconds)."""

STOP_SECONDS = 5.0
"""How long the spinning process is given to end after SIGTERM, before SIGKILL."""


@contextmanager
def busy_core() -> Iterator[subprocess.Popen[bytes]]:
    """Keep one core busy with a spinning Python process for the duration of the block.

    Examples
    --------
    >>> with busy_core() as process:
    ...     process.poll() is None
    True
    >>> process.poll() is not None
    True
    """
    process = subprocess.Popen(
        [sys.executable, "-c", SPIN, str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
