"""``dagnet bench --busy``: the competing process runs while timing and is gone afterwards,
however the block ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagnet.bench import busy


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assert_gone(process) -> None:
    assert process.poll() is not None  # ended and reaped: no zombie either
    assert not Path(f"/proc/{process.pid}").exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_the_competing_process_spins_and_is_gone_afterwards() -> None:
    with busy.busy_core() as process:
        time.sleep(0.5)
        assert process.poll() is None
        assert cpu_seconds(process.pid) > 0.1  # it really spins
    assert_gone(process)


def test_the_competing_process_is_stopped_on_an_error_and_on_ctrl_c() -> None:
    for error in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(error)), busy.busy_core() as process:
            raise error
        assert_gone(process)


def test_the_competing_process_ends_when_its_parent_is_gone() -> None:
    # A parent that dies at once (as a killed benchmark would) leaves no spinner behind.
    code = (
        "import os, subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', sys.argv[1], str(os.getpid())])\n"
        "print(p.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, busy.SPIN], capture_output=True, text=True, check=True
    )
    pid = int(result.stdout)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text():
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        raise AssertionError("the spinning process outlived its parent")
