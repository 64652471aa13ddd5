"""The dynamic batcher against the failure modes users report in Triton, MLServer and Ray batchers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from servicekit.batching import BatchPolicy, DynamicBatcher
from servicekit.errors import DeadlineExceeded, InvalidInput, Overloaded


class Recorder:
    """A run_batch that records every batch and can be held shut with a gate."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def __call__(self, items: list[int]) -> Sequence[int]:
        self.started.set()
        self.gate.wait(10)
        self.batches.append(list(items))
        time.sleep(self.delay)
        return [i * 10 for i in items]


async def test_lone_request_waits_at_most_the_delay() -> None:
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=8, max_queue_delay_s=0.05, work_conserving=False))
    started = time.monotonic()
    assert await batcher.submit(3) == 30
    elapsed = time.monotonic() - started
    assert 0.04 <= elapsed < 0.5
    await batcher.close()


async def test_first_request_does_not_run_alone() -> None:
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=8, max_queue_delay_s=0.1, work_conserving=False))
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3)]
    assert await asyncio.gather(first, *rest) == [10, 20, 30]
    assert recorder.batches == [[1, 2, 3]]
    await batcher.close()


async def test_full_batch_goes_without_waiting_for_the_delay() -> None:
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=4, max_queue_delay_s=5.0))
    started = time.monotonic()
    assert await batcher.submit_many([1, 2, 3, 4]) == [10, 20, 30, 40]
    assert time.monotonic() - started < 1.0
    await batcher.close()


async def test_burst_is_cut_into_full_batches() -> None:
    recorder = Recorder(delay=0.02)
    recorder.gate.clear()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=32, max_queue_delay_s=0.001, max_queue_size=512))
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.to_thread(recorder.started.wait, 5)  # runner busy with [0]
    burst = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 101)]
    await asyncio.sleep(0.05)
    recorder.gate.set()
    results = await asyncio.gather(first, *burst)
    assert results == [i * 10 for i in range(101)]
    sizes = [len(b) for b in recorder.batches]
    assert sizes == [1, 32, 32, 32, 4], sizes
    await batcher.close()


async def test_queue_limit_is_exact_and_refuses_at_once() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=2, max_queue_delay_s=0.0, max_queue_size=4))
    running = asyncio.ensure_future(batcher.submit_many([0, 1]))
    await asyncio.to_thread(recorder.started.wait, 5)
    queued = [asyncio.ensure_future(batcher.submit(i)) for i in range(2, 6)]
    await asyncio.sleep(0.01)
    assert batcher.queue_depth == 4
    started = time.monotonic()
    with pytest.raises(Overloaded, match="max_queue_size 4"):
        await batcher.submit(99)
    assert time.monotonic() - started < 0.05
    with pytest.raises(Overloaded):
        await batcher.submit_many([7, 8])  # all-or-nothing admission
    assert batcher.queue_depth == 4
    recorder.gate.set()
    assert await running == [0, 10]
    assert await asyncio.gather(*queued) == [20, 30, 40, 50]
    await batcher.close()


async def test_expired_and_cancelled_items_are_dropped_before_compute() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=8, max_queue_delay_s=0.0))
    blocker = asyncio.ensure_future(batcher.submit(0))
    await asyncio.to_thread(recorder.started.wait, 5)
    expiring = asyncio.ensure_future(batcher.submit(1, deadline=time.monotonic() + 0.05))
    cancelled = asyncio.ensure_future(batcher.submit(2))
    survivor = asyncio.ensure_future(batcher.submit(3))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    with pytest.raises(DeadlineExceeded):
        await expiring
    recorder.gate.set()
    assert await blocker == 0
    assert await survivor == 30
    computed = [i for batch in recorder.batches for i in batch]
    assert 1 not in computed and 2 not in computed
    await batcher.close()


async def test_results_never_mix_across_concurrent_callers() -> None:
    def run(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
        time.sleep(0.002)
        return [(client, value * value) for client, value in items]

    batcher: DynamicBatcher[tuple[int, int], tuple[int, int]] = DynamicBatcher(
        run, BatchPolicy(max_batch_size=16, max_queue_delay_s=0.002, max_queue_size=4096)
    )

    async def client(cid: int) -> None:
        values = [cid * 100 + k for k in range(cid % 5 + 1)]
        results = await batcher.submit_many([(cid, v) for v in values])
        assert results == [(cid, v * v) for v in values]

    await asyncio.gather(*(client(c) for c in range(64)))
    assert batcher.batches_run < 64 * 3  # batching happened
    await batcher.close()


async def test_preferred_batch_sizes_and_keys() -> None:
    recorder: list[list[str]] = []

    def run(items: list[str]) -> list[str]:
        recorder.append(items)
        return [s.upper() for s in items]

    batcher: DynamicBatcher[str, str] = DynamicBatcher(
        run,
        BatchPolicy(max_batch_size=8, max_queue_delay_s=0.05, preferred_batch_sizes=(2, 4)),
        batch_key=lambda s: s[0],
    )
    results = await asyncio.gather(*(batcher.submit(s) for s in ["a1", "b1", "a2", "a3", "b2", "a4", "a5"]))
    assert results == ["A1", "B1", "A2", "A3", "B2", "A4", "A5"]
    for batch in recorder:
        assert len({s[0] for s in batch}) == 1, "a batch mixes incompatible keys"
    assert ["a1", "a2", "a3", "a4"] in recorder  # reached the largest preferred size: sent at once
    await batcher.close()


async def test_failure_reaches_only_that_batch_and_batcher_recovers() -> None:
    def run(items: list[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("bad batch")
        return items

    batcher: DynamicBatcher[int, int] = DynamicBatcher(run, BatchPolicy(max_batch_size=4, max_queue_delay_s=0.0))
    with pytest.raises(RuntimeError, match="bad batch"):
        await batcher.submit(13)
    assert await batcher.submit(5) == 5
    with pytest.raises(InvalidInput, match="max_batch_size"):
        await DynamicBatcher(run, BatchPolicy(max_batch_size=2), item_size=lambda _i: 3).submit(1)
    await batcher.close()


async def test_close_drains_queued_work() -> None:
    recorder = Recorder(delay=0.01)
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=2, max_queue_delay_s=0.0))
    futures = [asyncio.ensure_future(batcher.submit(i)) for i in range(6)]
    await asyncio.sleep(0)
    await batcher.close()
    assert [f.result() for f in futures] == [i * 10 for i in range(6)]


# -- work-conserving formation (the default) and the Triton-style delay (opt-in) ----------------------------
HOUR = 3600.0


async def test_lone_request_on_an_idle_slot_runs_at_once() -> None:
    """With a delay of an hour, a lone item still runs: an idle slot never waits for company."""
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=8, max_queue_delay_s=HOUR))
    # The guard only turns a hang (waiting out the hour) into a failure; it bounds nothing that is measured.
    async with asyncio.timeout(60):
        assert await batcher.submit(3) == 30
        assert await batcher.submit_many([4, 5]) == [40, 50]
    assert recorder.batches == [[3], [4, 5]]
    await batcher.close()


async def test_idle_second_slot_takes_a_new_item_while_the_first_is_busy() -> None:
    """Two slots: an item that arrives while slot 1 is held runs on slot 2 before slot 1 is released."""
    events: list[str] = []
    release_first = threading.Event()

    def run(items: list[int]) -> list[int]:
        events.append(f"start {items}")
        if items == [1]:
            release_first.wait(30)
        events.append(f"end {items}")
        return items

    batcher: DynamicBatcher[int, int] = DynamicBatcher(
        run, BatchPolicy(max_batch_size=8, max_queue_delay_s=HOUR, max_concurrent_batches=2)
    )
    first = asyncio.ensure_future(batcher.submit(1))
    while not events:
        await asyncio.sleep(0.001)
    async with asyncio.timeout(60):
        assert await batcher.submit(2) == 2  # ran although slot 1 is still held
    assert events == ["start [1]", "start [2]", "end [2]"]
    release_first.set()
    assert await first == 1
    await batcher.close()


@pytest.mark.parametrize("slots", [1, 2])
async def test_burst_while_every_slot_is_busy_forms_full_batches(slots: int) -> None:
    """Items that arrive while the slots are busy gather into max-size batches (no delay involved)."""
    recorder = Recorder()
    recorder.gate.clear()
    policy = BatchPolicy(max_batch_size=16, max_queue_delay_s=HOUR, max_queue_size=256, max_concurrent_batches=slots)
    batcher = DynamicBatcher(recorder, policy)
    busy = []
    async with asyncio.timeout(60):
        for s in range(1, slots + 1):
            busy.append(asyncio.ensure_future(batcher.submit(-s)))
            while batcher.queue_depth or len(batcher._running) < s:
                await asyncio.sleep(0.001)  # slot s now holds a single-item batch, blocked on the gate
    burst = [asyncio.ensure_future(batcher.submit(i)) for i in range(50)]
    await asyncio.sleep(0)
    assert batcher.queue_depth == 50  # nothing dispatched while the slots are busy
    recorder.gate.set()
    async with asyncio.timeout(60):
        assert await asyncio.gather(*burst) == [i * 10 for i in range(50)]
        await asyncio.gather(*busy)
    sizes = sorted(len(b) for b in recorder.batches)
    assert sizes == sorted([1] * slots + [16, 16, 16, 2]), sizes
    await batcher.close()


async def test_delay_mode_holds_a_short_batch_on_an_idle_slot() -> None:
    """work_conserving=False (Triton's behaviour): below max size nothing runs until the delay or a full batch."""
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=4, max_queue_delay_s=HOUR, work_conserving=False))
    first = asyncio.ensure_future(batcher.submit_many([1, 2, 3]))
    for _ in range(50):
        await asyncio.sleep(0)  # the owner task gets every chance to run
    assert recorder.batches == [] and batcher.queue_depth == 3
    async with asyncio.timeout(60):
        assert await batcher.submit(4) == 40  # the fourth item fills the batch: it goes at once
    assert await first == [10, 20, 30]
    assert recorder.batches == [[1, 2, 3, 4]]
    await batcher.close()


async def test_delay_mode_delay_is_the_upper_bound_of_the_wait() -> None:
    """With a short delay the lone item runs, and not before its delay passed (a lower bound: contention-proof)."""
    dispatched: list[float] = []

    def run(items: list[int]) -> list[int]:
        dispatched.append(time.monotonic())
        return items

    delay = 0.05
    batcher: DynamicBatcher[int, int] = DynamicBatcher(
        run, BatchPolicy(max_batch_size=4, max_queue_delay_s=delay, work_conserving=False)
    )
    submitted = time.monotonic()
    async with asyncio.timeout(60):
        assert await batcher.submit(7) == 7
    assert dispatched[0] - submitted >= delay
    await batcher.close()
