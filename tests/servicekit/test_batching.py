"""The dynamic batcher against the failure modes users report in Triton, MLServer and Ray batchers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from servicekit.batching import BatchPolicy, DynamicBatcher
from servicekit.errors import DeadlineExceeded, InvalidInput, NotReady, Overloaded


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


async def test_lone_request_waits_for_the_delay_then_runs_alone() -> None:
    recorder = Recorder()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=8, max_queue_delay_s=0.05, work_conserving=False))
    started = time.monotonic()
    # The 30 s guard only stops a hang (a batcher waiting for a full batch); it is not a speed claim.
    assert await asyncio.wait_for(batcher.submit(3), timeout=30) == 30
    assert time.monotonic() - started >= 0.04, "dispatched before the delay gave others a chance to join"
    assert recorder.batches == [[3]]
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
    # A delay of an hour: the batch can only come back within the 60 s guard if it went out full, at once.
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=4, max_queue_delay_s=3600.0))
    assert await asyncio.wait_for(batcher.submit_many([1, 2, 3, 4]), timeout=60) == [10, 20, 30, 40]
    assert recorder.batches == [[1, 2, 3, 4]]
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
    # "At once": the refusal is raised on the coroutine's first step, before it ever suspends.
    refused = batcher.submit(99)
    with pytest.raises(Overloaded, match="max_queue_size 4"):
        refused.send(None)
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
    sizes: list[int] = []

    def run(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
        sizes.append(len(items))
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
    # Every client is admitted before the owner task first runs (no await precedes admission), so the 190
    # queued items must leave in full batches of 16: eleven full ones and the remaining 14.
    assert sum(sizes) == sum(c % 5 + 1 for c in range(64)) == 190
    assert sizes == [16] * 11 + [14], sizes
    assert batcher.batches_run == len(sizes)
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


class Box:
    """A submitted object with identity (small ints are shared objects)."""

    def __init__(self, value: int) -> None:
        self.value = value


async def test_position_counts_live_items_ahead_until_the_item_leaves_the_queue() -> None:
    gate = threading.Event()

    def run(items: list[Box]) -> list[int]:
        gate.wait(10)
        return [b.value for b in items]

    batcher: DynamicBatcher[Box, int] = DynamicBatcher(run, BatchPolicy(max_batch_size=1, max_queue_delay_s=0.0))
    boxes = [Box(i) for i in range(4)]
    tasks = [asyncio.ensure_future(batcher.submit(b)) for b in boxes]
    while batcher.queue_depth != 3:
        await asyncio.sleep(0.005)
    # boxes[0] is running; the rest wait in arrival order.
    assert batcher.position(boxes[0]) is None
    assert [batcher.position(b) for b in boxes[1:]] == [0, 1, 2]
    assert batcher.queued() == boxes[1:]
    tasks[2].cancel()  # a caller that left no longer counts, even before the owner prunes it
    await asyncio.sleep(0)
    assert batcher.position(boxes[3]) == 1
    assert batcher.queued() == [boxes[1], boxes[3]]
    assert batcher.position(Box(9)) is None
    gate.set()
    assert await asyncio.gather(tasks[0], tasks[1], tasks[3]) == [0, 1, 3]
    await batcher.close()


async def test_reserved_room_refuses_others_and_is_never_refused_itself() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=2, max_queue_delay_s=0.0, max_queue_size=4))
    running = asyncio.ensure_future(batcher.submit_many([1, 2]))
    await asyncio.to_thread(recorder.started.wait, 10)
    queued = asyncio.ensure_future(batcher.submit_many([3, 4]))
    await asyncio.sleep(0.01)
    reservation = batcher.reserve(2)
    assert batcher.queue_depth == 2  # reserved room is not queued work
    with pytest.raises(Overloaded, match="2 queued \\+ 2 reserved \\+ 1 requested > max_queue_size 4"):
        await batcher.submit(9)
    with pytest.raises(Overloaded):
        batcher.reserve(1)
    held = asyncio.ensure_future(batcher.submit_many([5, 6], reservation=reservation))
    await asyncio.sleep(0.01)
    assert not reservation.held and batcher.queue_depth == 4
    with pytest.raises(ValueError, match="not an unused reservation"):
        await batcher.submit(7, reservation=reservation)
    recorder.gate.set()
    assert await asyncio.gather(running, queued, held) == [[10, 20], [30, 40], [50, 60]]
    await batcher.close()


async def test_released_reservation_gives_its_room_back() -> None:
    batcher = DynamicBatcher(Recorder(), BatchPolicy(max_batch_size=2, max_queue_delay_s=0.0, max_queue_size=2))
    reservation = batcher.reserve(2)
    with pytest.raises(Overloaded):
        batcher.reserve(1)
    reservation.release()
    reservation.release()  # idempotent: the room is returned once
    assert await batcher.submit_many([1, 2]) == [10, 20]
    await batcher.close()
    with pytest.raises(NotReady):
        batcher.reserve(1)


async def test_timed_batch_function_gets_the_waits_the_observer_sees() -> None:
    seen: list[tuple[list[int], list[float]]] = []
    observed: list[Sequence[float]] = []

    class Observer:
        def on_queue_depth(self, batcher: str, depth: int) -> None: ...
        def on_batch(self, batcher: str, size: int, queue_waits: Sequence[float], compute_seconds: float) -> None:
            observed.append(list(queue_waits))

        def on_drop(self, batcher: str, reason: str) -> None: ...
        def on_reject(self, batcher: str) -> None: ...

    def run(items: list[int], waits: list[float]) -> list[int]:
        seen.append((list(items), list(waits)))
        return [i * 10 for i in items]

    batcher: DynamicBatcher[int, int] = DynamicBatcher(
        run,
        BatchPolicy(max_batch_size=4, max_queue_delay_s=0.05, work_conserving=False),
        observer=Observer(),
        timed=True,
    )
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.02)
    assert await asyncio.gather(first, batcher.submit(2)) == [10, 20]
    ((items, waits),) = seen
    assert items == [1, 2]
    assert observed == [waits]  # one clock: the batch function and the metrics get the same numbers
    assert waits[0] >= 0.04 and waits[0] > waits[1] >= 0.0  # the first waited for the delay, the second less


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


# -- fair share: one client cannot hold more than its share of the queue ----------------------------------------
async def test_a_client_over_its_share_is_refused_while_others_are_admitted() -> None:
    import contextvars

    caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
    recorder = Recorder()
    recorder.gate.clear()
    policy = BatchPolicy(max_batch_size=1, max_queue_size=8, max_queue_per_client=2)
    batcher = DynamicBatcher(recorder, policy, client_of=caller.get)

    def submit_as(who: str, item: int) -> asyncio.Future[int]:
        caller.set(who)
        return asyncio.ensure_future(batcher.submit(item))

    running = submit_as("flood", 1)
    await asyncio.to_thread(recorder.started.wait, 10)  # item 1 runs (held): it no longer counts as queued
    flood = [submit_as("flood", i) for i in (2, 3)]
    await asyncio.sleep(0)
    assert batcher.held_by("flood") == 2
    caller.set("flood")
    with pytest.raises(Overloaded, match="max_queue_per_client 2"):
        await batcher.submit(4)
    caller.set("flood")
    with pytest.raises(Overloaded, match="max_queue_per_client 2"):
        batcher.reserve(1)  # a reservation is held against the same share
    light = submit_as("light", 5)
    await asyncio.sleep(0)
    caller.set("light")
    held = batcher.reserve(1)
    assert batcher.held_by("light") == 2 and batcher.queue_depth == 3
    held.release()
    assert batcher.held_by("light") == 1
    recorder.gate.set()
    assert await asyncio.gather(running, *flood, light) == [10, 20, 30, 50]
    assert batcher.held_by("flood") == 0 and batcher.held_by("light") == 0
    caller.set("flood")
    assert await batcher.submit(6) == 60  # its share drained: admitted again
    await batcher.close()


def test_share_must_fit_the_queue() -> None:
    with pytest.raises(ValueError, match=r"max_queue_per_client must lie in 0\.\.max_queue_size"):
        BatchPolicy(max_batch_size=1, max_queue_size=4, max_queue_per_client=5)


async def test_with_a_share_batches_take_clients_in_turn() -> None:
    import contextvars

    caller: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")
    recorder = Recorder()
    recorder.gate.clear()
    policy = BatchPolicy(max_batch_size=4, max_queue_size=32, max_queue_per_client=16)
    batcher = DynamicBatcher(recorder, policy, client_of=caller.get)

    def submit_as(who: str, items: list[int]) -> asyncio.Future[list[int]]:
        caller.set(who)
        return asyncio.ensure_future(batcher.submit_many(items))

    first = submit_as("flood", [0])
    await asyncio.to_thread(recorder.started.wait, 10)  # the only slot is held: the rest queue up
    flood = submit_as("flood", list(range(1, 11)))
    other = submit_as("other", [100, 101])
    light = submit_as("light", [200])
    await asyncio.sleep(0)
    recorder.gate.set()
    await asyncio.gather(first, flood, other, light)
    # Round-robin by client, each client's own items in order; without a share, [1, 2, 3, 4] would come next.
    assert recorder.batches[:3] == [[0], [1, 100, 200, 2], [3, 101, 4, 5]]
    assert sorted(i for batch in recorder.batches for i in batch) == [*range(11), 100, 101, 200]
    await batcher.close()


async def test_without_a_share_batches_keep_arrival_order() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    batcher = DynamicBatcher(recorder, BatchPolicy(max_batch_size=4, max_queue_size=32))
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.to_thread(recorder.started.wait, 10)
    rest = [asyncio.ensure_future(batcher.submit_many(list(range(1, 11)))), asyncio.ensure_future(batcher.submit(100))]
    await asyncio.sleep(0)
    recorder.gate.set()
    await asyncio.gather(first, *rest)
    assert recorder.batches[:3] == [[0], [1, 2, 3, 4], [5, 6, 7, 8]]
    await batcher.close()
