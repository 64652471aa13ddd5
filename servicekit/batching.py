"""A generic asyncio dynamic batcher (used for emotion faces and image-generation requests).

Semantics, modelled on Triton's dynamic batcher and text-embeddings-inference's queue:

* One bounded FIFO queue shared by all callers. Admission is all-or-nothing per call and a full queue
  raises :class:`~servicekit.errors.Overloaded` at once (no waiting for room).
* Work-conserving by default (as text-embeddings-inference's queue, and Triton with a zero delay): when
  an execution slot is idle, whatever is waiting runs at once, so batching adds no latency at low load;
  while every slot is busy, arrivals gather into the next batch (up to ``max_batch_size``), so full
  batches form at high load. A lone request never waits for company.
* ``work_conserving=False`` is Triton's dynamic batcher with a delay: a batch is dispatched when the
  items compatible with the oldest one (same ``batch_key``) reach ``max_batch_size`` (or the largest
  preferred size), or when the oldest item has waited ``max_queue_delay_s``, even if a slot sits idle
  meanwhile. The delay is the upper bound of that wait.
* One owner task forms batches. It assembles the next batch while the previous one runs and tops it up
  with items that arrive before a runner is free, so a burst is cut into full batches, not uneven ones.
* With a per-client share (``max_queue_per_client``) each client holds at most its share of the queue, and
  a batch takes items round-robin across the waiting clients (each client's own items in arrival order).
* Items whose deadline passed or whose caller was cancelled are dropped before compute.
* A caller that must know about a full queue before it commits (e.g. before a stream's first event)
  reserves room with :meth:`DynamicBatcher.reserve` and submits into it later; :meth:`DynamicBatcher.position`
  tells a queued item how many items wait ahead of it.
* Results are matched to items by position: every caller gets exactly its own results, in order.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from servicekit.errors import DeadlineExceeded, InvalidInput, NotReady, Overloaded

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("emoflux.batching")


@dataclass(frozen=True)
class BatchPolicy:
    """How batches are formed. Sizes count items (or their ``item_size``).

    ``max_queue_delay_s`` only matters with ``work_conserving=False``: work-conserving batches never wait
    while a slot is idle, and while every slot is busy no delay could make them start sooner.
    """

    max_batch_size: int = 32
    max_queue_delay_s: float = 0.005
    max_queue_size: int = 1024
    preferred_batch_sizes: tuple[int, ...] = ()
    max_concurrent_batches: int = 1
    work_conserving: bool = True
    """True: an idle slot takes what is queued at once. False: wait up to ``max_queue_delay_s`` for a fuller batch."""
    max_queue_per_client: int = 0
    """Most queue room (queued + reserved) one client may hold; 0: no per-client limit. A client over its share
    is refused at once while others still find room, so one flooding client cannot fill the queue for all;
    and batches are then filled round-robin across the clients waiting, so a light client's item goes into
    the next batch instead of behind a flooding client's share."""

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {self.max_batch_size}")
        if self.max_queue_delay_s < 0:
            raise ValueError(f"max_queue_delay_s must be >= 0, got {self.max_queue_delay_s}")
        if self.max_queue_size < self.max_batch_size:
            raise ValueError(
                f"max_queue_size ({self.max_queue_size}) must be >= max_batch_size ({self.max_batch_size})"
            )
        if any(not 1 <= p <= self.max_batch_size for p in self.preferred_batch_sizes):
            raise ValueError(f"preferred_batch_sizes must lie in 1..{self.max_batch_size}")
        if self.max_concurrent_batches < 1:
            raise ValueError(f"max_concurrent_batches must be >= 1, got {self.max_concurrent_batches}")
        if not 0 <= self.max_queue_per_client <= self.max_queue_size:
            raise ValueError(
                f"max_queue_per_client must lie in 0..max_queue_size ({self.max_queue_size}), "
                f"got {self.max_queue_per_client}"
            )


class BatchObserver(Protocol):
    """Receives batcher events (implemented by :class:`servicekit.metrics.BatcherMetrics`)."""

    def on_queue_depth(self, batcher: str, depth: int) -> None: ...  # noqa: D102
    def on_batch(self, batcher: str, size: int, queue_waits: Sequence[float], compute_seconds: float) -> None: ...  # noqa: D102
    def on_drop(self, batcher: str, reason: str) -> None: ...  # noqa: D102
    def on_reject(self, batcher: str) -> None: ...  # noqa: D102


@dataclass(eq=False)
class _Pending(Generic[T, R]):
    item: T
    future: asyncio.Future[R]
    key: Hashable
    size: int
    enqueued: float
    deadline: float | None
    client: Hashable = None
    started: float = field(default=0.0)


class Reservation:
    """Queue room held for a later :meth:`DynamicBatcher.submit_many` (see :meth:`DynamicBatcher.reserve`)."""

    def __init__(self, batcher: DynamicBatcher[Any, Any], size: int, client: Hashable = None) -> None:
        self._batcher = batcher
        self.size = size
        self.client = client
        self.held = True

    def release(self) -> None:
        """Give the room back (idempotent; submitting into the reservation releases it too)."""
        if self.held:
            self.held = False
            self._batcher._reserved -= self.size
            self._batcher._hold(self.client, -self.size)


RunBatch = Callable[[list[T]], Sequence[R]] | Callable[[list[T]], Awaitable[Sequence[R]]]
TimedRunBatch = Callable[[list[T], list[float]], Sequence[R]] | Callable[[list[T], list[float]], Awaitable[Sequence[R]]]
"""A batch function that also receives each item's queue wait in seconds (``timed=True``)."""


class DynamicBatcher(Generic[T, R]):
    """Groups items from concurrent callers into batches for ``run_batch``.

    ``run_batch`` receives a list of items and returns one result per item in the same order. A plain
    function runs on ``executor`` (blocking model code never runs on the event loop); a coroutine
    function is awaited. With ``timed=True`` it also receives each item's queue wait (enqueue to
    dispatch, in seconds), so the batcher stays the one clock of queue time.
    """

    def __init__(
        self,
        run_batch: RunBatch[T, R] | TimedRunBatch[T, R],
        policy: BatchPolicy,
        *,
        name: str = "default",
        executor: Executor | None = None,
        batch_key: Callable[[T], Hashable] | None = None,
        item_size: Callable[[T], int] | None = None,
        observer: BatchObserver | None = None,
        timed: bool = False,
        client_of: Callable[[], Hashable] | None = None,
    ) -> None:
        self.policy = policy
        self.name = name
        self._run_batch = run_batch
        self._is_async = inspect.iscoroutinefunction(run_batch)
        self._timed = timed
        self._executor = executor
        self._batch_key = batch_key
        self._item_size = item_size
        self._observer = observer
        self._queue: collections.deque[_Pending[T, R]] = collections.deque()
        self._queued_size = 0
        self._reserved = 0  # room held by reservations, counted against max_queue_size
        # Who is calling (read in the caller's context at admission) and the room each client holds.
        self._client_of = client_of
        self._held_by_client: collections.Counter[Hashable] = collections.Counter()
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(policy.max_concurrent_batches)
        self._running: set[asyncio.Task[None]] = set()
        self._owner: asyncio.Task[None] | None = None
        self._closed = False
        self.batches_run = 0

    # -- public API ------------------------------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        """Items (by size) waiting to be batched."""
        return self._queued_size

    def position(self, item: T) -> int | None:
        """How many live items wait ahead of ``item`` (the submitted object); None once it left the queue."""
        ahead = 0
        for pending in self._queue:
            if pending.item is item:
                return ahead
            if not pending.future.done():
                ahead += 1
        return None

    def queued(self) -> list[T]:
        """The live queued items in queue order (cancelled or expired ones not yet pruned are left out)."""
        return [p.item for p in self._queue if not p.future.done()]

    def reserve(self, size: int) -> Reservation:
        """Hold queue room for ``size`` (items or their ``item_size``) without queueing anything yet.

        Admission is decided now, exactly as :meth:`submit_many` would decide it; the room is counted
        against ``max_queue_size`` until the reservation is submitted into or released.

        Raises:
            NotReady: the batcher is closing.
            Overloaded: the queue has no room for ``size``.
        """
        client = self._client()
        self._check_room(size, client)
        self._reserved += size
        self._hold(client, size)
        return Reservation(self, size, client)

    def start(self) -> None:
        """Start the owner task (idempotent; needs a running event loop)."""
        if self._owner is None:
            self._owner = asyncio.create_task(self._own(), name=f"batcher-{self.name}")

    async def submit(self, item: T, *, deadline: float | None = None, reservation: Reservation | None = None) -> R:
        """Queue one item and wait for its result. ``deadline`` is a ``time.monotonic()`` instant."""
        (result,) = await self.submit_many([item], deadline=deadline, reservation=reservation)
        return result

    async def submit_many(
        self, items: Sequence[T], *, deadline: float | None = None, reservation: Reservation | None = None
    ) -> list[R]:
        """Queue several items atomically (all or none admitted) and wait for all their results in order.

        With ``reservation`` (from :meth:`reserve`, at least the items' size) the room is already held,
        so a full queue cannot refuse them; the reservation is used up either way.
        """
        if reservation is not None:
            if reservation._batcher is not self or not reservation.held:
                raise ValueError("the reservation is not an unused reservation of this batcher")
            reservation.release()
        if not items:
            return []
        pendings = self._admit(items, deadline)
        futures = [p.future for p in pendings]
        try:
            if deadline is None:
                return list(await asyncio.gather(*futures))
            async with asyncio.timeout_at(self._loop_deadline(deadline)):
                return list(await asyncio.gather(*futures))
        except TimeoutError:
            raise DeadlineExceeded(
                f"deadline passed after {time.monotonic() - pendings[0].enqueued:.3f} s in the batcher"
            ) from None
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()  # the owner skips cancelled items before compute

    async def close(self, *, drain: bool = True) -> None:
        """Stop admitting; finish queued and running batches when ``drain``, otherwise cancel them."""
        self._closed = True
        if not drain:
            while self._queue:
                self._take_head().future.cancel()
        while drain and (self._queue or self._running):
            self._wakeup.set()
            await asyncio.sleep(0.001)
        if self._owner is not None:
            self._owner.cancel()
            await asyncio.gather(self._owner, return_exceptions=True)
            self._owner = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    # -- admission -----------------------------------------------------------------------------------
    def _client(self) -> Hashable:
        # Without a share nothing is counted per client: no look-up and no bookkeeping on the hot path.
        if self._client_of is None or not self.policy.max_queue_per_client:
            return None
        return self._client_of()

    def _hold(self, client: Hashable, size: int) -> None:
        if client is None:
            return
        self._held_by_client[client] += size
        if self._held_by_client[client] <= 0:
            del self._held_by_client[client]

    def held_by(self, client: Hashable) -> int:
        """Queue room (queued + reserved) that ``client`` holds now."""
        return self._held_by_client.get(client, 0)

    def _check_room(self, total: int, client: Hashable = None) -> None:
        """The one admission check: open, room for ``total`` beside what is queued and reserved, share kept."""
        if self._closed:
            raise NotReady(f"batcher {self.name!r} is shutting down")
        share = self.policy.max_queue_per_client
        if share and client is not None and self.held_by(client) + total > share:
            if self._observer:
                self._observer.on_reject(self.name)
            raise Overloaded(
                f"queue share: this client holds {self.held_by(client)} + {total} requested > "
                f"max_queue_per_client {share} (others keep their share; retry when yours drains)"
            )
        taken = self._queued_size + self._reserved
        if taken + total > self.policy.max_queue_size:
            if self._observer:
                self._observer.on_reject(self.name)
            held = f" + {self._reserved} reserved" if self._reserved else ""
            raise Overloaded(
                f"queue full: {self._queued_size} queued{held} + {total} requested > "
                f"max_queue_size {self.policy.max_queue_size}"
            )

    def _admit(self, items: Sequence[T], deadline: float | None) -> list[_Pending[T, R]]:
        if self._closed:
            raise NotReady(f"batcher {self.name!r} is shutting down")
        self.start()
        sizes = [self._item_size(i) if self._item_size else 1 for i in items]
        for index, size in enumerate(sizes):
            if size > self.policy.max_batch_size:
                raise InvalidInput(f"item {index} has size {size}, over max_batch_size {self.policy.max_batch_size}")
        total = sum(sizes)
        client = self._client()
        self._check_room(total, client)
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        pendings = [
            _Pending[T, R](
                item=item,
                future=loop.create_future(),
                key=self._batch_key(item) if self._batch_key else None,
                size=size,
                enqueued=now,
                deadline=deadline,
                client=client,
            )
            for item, size in zip(items, sizes, strict=True)
        ]
        self._queue.extend(pendings)
        self._queued_size += total
        self._hold(client, total)
        self._report_depth()
        self._wakeup.set()
        return pendings

    @staticmethod
    def _loop_deadline(deadline: float) -> float:
        loop = asyncio.get_running_loop()
        return loop.time() + (deadline - time.monotonic())

    # -- batch formation (owner task) -------------------------------------------------------------------
    def _take_head(self) -> _Pending[T, R]:
        pending = self._queue.popleft()
        self._queued_size -= pending.size
        self._hold(pending.client, -pending.size)
        return pending

    def _prune(self) -> None:
        """Drop cancelled or expired items anywhere in the queue."""
        now = time.monotonic()
        kept: collections.deque[_Pending[T, R]] = collections.deque()
        changed = False
        for pending in self._queue:
            reason = None
            # The caller's own timeout usually cancels the future first: still report it as a deadline drop.
            if pending.deadline is not None and pending.deadline <= now:
                reason = "deadline"
                if not pending.future.done():
                    pending.future.set_exception(DeadlineExceeded("deadline passed while queued"))
            elif pending.future.done():
                reason = "cancelled"
            if reason is None:
                kept.append(pending)
                continue
            changed = True
            self._queued_size -= pending.size
            self._hold(pending.client, -pending.size)
            if self._observer:
                self._observer.on_drop(self.name, reason)
        if changed:
            self._queue = kept
            self._report_depth()

    def _ready_size(self) -> int:
        """Size available for the oldest item's key, capped at max_batch_size."""
        head_key = self._queue[0].key
        total = 0
        for pending in self._queue:
            if pending.key == head_key:
                total += pending.size
                if total >= self.policy.max_batch_size:
                    break
        return min(total, self.policy.max_batch_size)

    def _target_size(self, available: int, expired: bool) -> int | None:
        """How many to dispatch now, or None to keep waiting."""
        policy = self.policy
        if available >= policy.max_batch_size:
            return policy.max_batch_size
        preferred = sorted(p for p in policy.preferred_batch_sizes if p <= available)
        if preferred and preferred[-1] == max(policy.preferred_batch_sizes):
            return preferred[-1]
        if expired:
            return preferred[-1] if preferred else available
        return None

    async def _wait_for_batch(self) -> int:
        """Wait until a batch may be dispatched; return its target size."""
        while True:
            self._prune()
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.policy.work_conserving:
                # Dispatch now; the owner then waits for a free slot, and everything that arrives meanwhile
                # tops the batch up, so batches grow exactly while the slots are busy.
                return self._target_size(self._ready_size(), expired=True) or 1
            remaining = self._queue[0].enqueued + self.policy.max_queue_delay_s - time.monotonic()
            target = self._target_size(self._ready_size(), expired=remaining <= 0)
            if target is not None:
                return target
            self._wakeup.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    def _take_batch(self, target: int) -> list[_Pending[T, R]]:
        """Remove up to ``target`` size of items sharing the oldest item's key.

        In arrival order; with a per-client share, round-robin across clients (see :meth:`_fair_order`).
        """
        self._prune()
        if not self._queue:
            return []
        head_key = self._queue[0].key
        candidates = [p for p in self._queue if p.key == head_key]
        if self.policy.max_queue_per_client and self._client_of is not None:
            candidates = self._fair_order(candidates)
        chosen: set[int] = set()
        batch: list[_Pending[T, R]] = []
        size = 0
        for pending in candidates:
            if size + pending.size <= target:
                batch.append(pending)
                chosen.add(id(pending))
                size += pending.size
                self._hold(pending.client, -pending.size)
                if size == target:
                    break
        self._queue = collections.deque(p for p in self._queue if id(p) not in chosen)
        self._queued_size -= size
        self._report_depth()
        return batch

    @staticmethod
    def _fair_order(pendings: list[_Pending[T, R]]) -> list[_Pending[T, R]]:
        """Interleave clients: each one's first item (oldest client first), then each one's second, and so on."""
        by_client: dict[Hashable, list[_Pending[T, R]]] = {}
        for pending in pendings:
            by_client.setdefault(pending.client, []).append(pending)
        if len(by_client) == 1:
            return pendings
        rounds = max(len(items) for items in by_client.values())
        return [items[i] for i in range(rounds) for items in by_client.values() if i < len(items)]

    async def _own(self) -> None:
        while True:
            await self._wait_for_batch()
            await self._slots.acquire()
            # A runner is free: top the batch up with whatever arrived meanwhile.
            self._prune()
            target = self._target_size(self._ready_size(), expired=True) if self._queue else None
            batch = self._take_batch(target) if target else []
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._execute(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _execute(self, batch: list[_Pending[T, R]]) -> None:
        started = time.monotonic()
        for pending in batch:
            pending.started = started
        waits = [started - p.enqueued for p in batch]
        try:
            items = [p.item for p in batch]
            args: tuple[list[T]] | tuple[list[T], list[float]] = (items, waits) if self._timed else (items,)
            run = cast(Callable[..., Any], self._run_batch)
            if self._is_async:
                results = await run(*args)
            else:
                loop = asyncio.get_running_loop()
                results = await loop.run_in_executor(self._executor, run, *args)
            if len(results) != len(batch):
                raise RuntimeError(f"run_batch returned {len(results)} results for {len(batch)} items")
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(result)
        except Exception as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
        finally:
            self.batches_run += 1
            self._slots.release()
            self._wakeup.set()
            if self._observer:
                self._observer.on_batch(self.name, sum(p.size for p in batch), waits, time.monotonic() - started)

    def _report_depth(self) -> None:
        if self._observer:
            self._observer.on_queue_depth(self.name, self._queued_size)
