"""The environment dagnet checks before numba is imported: numba's cached kernels are dropped
when a source changed, since numba itself reuses a kernel whose callee changed elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagnet.environment import forget_stale_kernels

CALLEE = "from numba import njit\n\n@njit(cache=True)\ndef g(x):\n    return x + {}\n"
CALLER = (
    "from numba import njit\nfrom pkg.m2 import g\n\n"
    "@njit(cache=True)\ndef f(x):\n    return g(x) * 2.0\n"
)


def value_of_f(root: Path, *, forget: bool) -> str:
    """f(1.0) computed in a fresh process, after forget_stale_kernels on the package if asked."""
    forgetting = "from dagnet.environment import forget_stale_kernels as forget; " * forget
    call = f"forget(Path({str(root / 'pkg')!r})); " if forget else ""
    script = f"from pathlib import Path; {forgetting}{call}from pkg.m1 import f; print(f(1.0))"
    path = os.pathsep.join([str(root), str(Path(__file__).parents[1])])
    completed = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": path},
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return completed.stdout.strip()


def test_a_kernel_whose_callee_changed_is_compiled_again(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "m1.py").write_text(CALLER)
    (package / "m2.py").write_text(CALLEE.format("1.0"))
    assert value_of_f(tmp_path, forget=True) == "4.0"
    (package / "m2.py").write_text(CALLEE.format("2.0"))
    stat = (package / "m2.py").stat()
    os.utime(package / "m2.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    # numba alone keeps f's kernel, compiled with the old g: the reason for forgetting.
    assert value_of_f(tmp_path, forget=False) == "4.0"
    assert value_of_f(tmp_path, forget=True) == "6.0"


def test_unchanged_sources_keep_their_kernels(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    cached = tmp_path / "__pycache__" / "a.f-1.py311.nbi"
    cached.parent.mkdir()
    cached.write_bytes(b"index")
    forget_stale_kernels(tmp_path)  # no record yet: forgotten
    assert not cached.exists()
    cached.write_bytes(b"index")
    forget_stale_kernels(tmp_path)
    assert cached.exists()
