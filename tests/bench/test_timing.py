"""The interleaved timing of ``dagnet bench``, on a fake clock: nothing here asserts a speed,
since these machines are shared and noisy."""

from __future__ import annotations

import pytest

from dagnet.bench import timing


class FakeClock:
    """perf_counter that advances by each engine's step time; sleep only advances it."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_measure_interleaves_settles_cools_down_and_keeps_to_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(timing, "time", clock)
    calls: list[str] = []

    def engine(name: str, seconds: float, **options) -> timing.Engine:
        def step() -> None:
            calls.append(name)
            clock.now += seconds

        return timing.Engine(name, step, **options)

    settle = timing.SETTLE_SECONDS  # a fast step settles in one step
    fast = engine("fast", settle)
    slow = engine("slow", 4.0, warmup=0, settle=False)
    pool = engine("pool", 2 * settle, cooldown=0.25)
    timing.measure([fast, slow, pool], repeat=5, budget=10.0)
    assert calls[:5] == ["fast", "fast", "pool", "pool", "fast"]  # warm-ups, then round 1
    assert calls[5:10] == ["fast", "slow", "pool", "pool", "fast"]  # settle before each timing
    assert fast.seconds == pytest.approx([settle] * 5) and fast.median == pytest.approx(settle)
    assert pool.seconds == pytest.approx([2 * settle] * 5)  # the pauses are not in its times
    assert slow.seconds == pytest.approx([4.0] * 3)  # 12 s spent: left out of rounds 4 and 5
