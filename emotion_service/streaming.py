"""Answering a bidirectional stream's items concurrently, each as soon as it is ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from servicekit.errors import Overloaded

Req = TypeVar("Req")
Resp = TypeVar("Resp")


async def answer_concurrently(
    requests: AsyncIterator[Req], handle: Callable[[Req], Awaitable[Resp]], *, max_outstanding: int
) -> AsyncIterator[Resp]:
    """Yield ``handle(item)`` for every item of ``requests``, in completion order.

    Items are handled concurrently while the client keeps sending. ``handle`` must turn per-item
    failures into a response itself; an exception it raises ends the stream. More than
    ``max_outstanding`` unanswered items end the stream with :class:`~servicekit.errors.Overloaded`.
    The generator finishes once the client has half-closed and every item has been answered.
    """
    answers: asyncio.Queue[Resp] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    failures: list[BaseException] = []
    # Items read but not yet answered. It changes in the same step as the queue, so "nothing
    # outstanding and nothing queued" is never observed between an answer being queued and counted.
    outstanding = 0
    wake = asyncio.Event()

    async def answer(item: Req) -> None:
        nonlocal outstanding
        try:
            response = await handle(item)
        except Exception as exc:
            failures.append(exc)
        else:
            answers.put_nowait(response)
        outstanding -= 1
        wake.set()

    async def read() -> None:
        nonlocal outstanding
        async for item in requests:
            if outstanding >= max_outstanding:
                raise Overloaded(f"more than {max_outstanding} items outstanding on this stream")
            outstanding += 1
            task = asyncio.create_task(answer(item))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    reader = asyncio.create_task(read())
    reader.add_done_callback(lambda _: wake.set())
    try:
        while True:
            if failures:
                raise failures[0]
            if not answers.empty():
                yield answers.get_nowait()
                continue
            if reader.done():
                reader.result()  # re-raises a stream-level error
                if outstanding == 0:
                    return
            wake.clear()
            await wake.wait()
    finally:
        reader.cancel()
        for task in list(tasks):
            task.cancel()
