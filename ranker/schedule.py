"""Re-evaluation on a schedule: run a step every ``interval`` seconds plus a random jitter.

The clock, the sleep and the random source are injected, so tests drive the schedule without
waiting; a failing step is logged and the schedule goes on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("emoflux.ranker.schedule")


class Scheduler:
    """Calls ``step`` after each delay of ``interval + uniform(0, jitter)`` seconds, until stopped."""

    def __init__(
        self,
        step: Callable[[], Awaitable[None]],
        interval: float,
        jitter: float = 0.0,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0, got {interval!r}")
        if jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter!r}")
        self.step = step
        self.interval = interval
        self.jitter = jitter
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.runs: list[float] = []
        self.failures = 0

    def next_delay(self) -> float:
        """The wait before the next step."""
        return self.interval + (self._rng.uniform(0.0, self.jitter) if self.jitter else 0.0)

    async def run(self, rounds: int | None = None) -> None:
        """Run steps forever (or ``rounds`` times); each start time is kept in :attr:`runs`."""
        done = 0
        while rounds is None or done < rounds:
            await self._sleep(self.next_delay())
            self.runs.append(self._clock())
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.exception("scheduled re-evaluation failed; the next one runs on schedule")
            done += 1
