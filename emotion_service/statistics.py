"""Cumulative model statistics in the shape of KServe / Triton ``ModelStatistics``.

Both APIs feed the same accumulators: per item (face or tensor row) its queue wait and its batch's
input/infer/output durations, per request success or failure with its duration, per executed batch
size the durations. Batches are recorded on inference threads, hence the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class _Duration:
    count: int = 0
    ns: int = 0

    def add(self, seconds: float, count: int = 1) -> None:
        self.count += count
        self.ns += int(seconds * 1e9)


@dataclass
class StatsSnapshot:
    """Cumulative statistics of the model (every API), in the shape of KServe ModelStatistics."""

    last_inference_ms: int
    inference_count: int
    execution_count: int
    success: tuple[int, int]
    fail: tuple[int, int]
    queue: tuple[int, int]
    compute_input: tuple[int, int]
    compute_infer: tuple[int, int]
    compute_output: tuple[int, int]
    batches: dict[int, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]]
    """batch size -> (compute_input, compute_infer, compute_output), each (count, ns)."""


@dataclass
class InferenceStats:
    """Thread-safe accumulators behind :class:`StatsSnapshot`."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_inference_ms: int = 0
    _inference_count: int = 0
    _execution_count: int = 0
    _success: _Duration = field(default_factory=_Duration)
    _fail: _Duration = field(default_factory=_Duration)
    _queue: _Duration = field(default_factory=_Duration)
    _input: _Duration = field(default_factory=_Duration)
    _infer: _Duration = field(default_factory=_Duration)
    _output: _Duration = field(default_factory=_Duration)
    _batches: dict[int, tuple[_Duration, _Duration, _Duration]] = field(default_factory=dict)

    def record_batch(self, waits: Sequence[float], input_s: float, infer_s: float, output_s: float) -> None:
        """One executed batch of ``len(waits)`` items."""
        size = len(waits)
        with self._lock:
            self._execution_count += 1
            self._inference_count += size
            self._last_inference_ms = int(time.time() * 1000)
            for wait in waits:
                self._queue.add(wait)
            self._input.add(input_s * size, size)
            self._infer.add(infer_s * size, size)
            self._output.add(output_s * size, size)
            per_size = self._batches.setdefault(size, (_Duration(), _Duration(), _Duration()))
            per_size[0].add(input_s)
            per_size[1].add(infer_s)
            per_size[2].add(output_s)

    def record_request(self, ok: bool, seconds: float) -> None:
        """One finished request."""
        with self._lock:
            (self._success if ok else self._fail).add(seconds)

    def snapshot(self) -> StatsSnapshot:
        """A consistent copy of every counter."""

        def pair(d: _Duration) -> tuple[int, int]:
            return (d.count, d.ns)

        with self._lock:
            return StatsSnapshot(
                last_inference_ms=self._last_inference_ms,
                inference_count=self._inference_count,
                execution_count=self._execution_count,
                success=pair(self._success),
                fail=pair(self._fail),
                queue=pair(self._queue),
                compute_input=pair(self._input),
                compute_infer=pair(self._infer),
                compute_output=pair(self._output),
                batches={s: (pair(a), pair(b), pair(c)) for s, (a, b, c) in sorted(self._batches.items())},
            )
