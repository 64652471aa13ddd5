"""Per-thread niceness: added to the calling thread only, inherited by the threads it starts."""

from __future__ import annotations

import os
import threading

import pytest

from servicekit.priority import lower_thread_priority

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="per-thread niceness is Linux's")


def niceness(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_a_thread_started_by_a_niced_thread_inherits_its_niceness() -> None:
    seen: list[int] = []

    def child() -> None:
        seen.append(niceness(threading.get_native_id()))

    def parent() -> None:
        lower_thread_priority(2)
        seen.append(niceness(threading.get_native_id()))
        grandchild = threading.Thread(target=child)
        grandchild.start()
        grandchild.join()

    thread = threading.Thread(target=parent)
    thread.start()
    thread.join()
    base = niceness(threading.get_native_id())
    assert seen == [min(19, base + 2)] * 2


def test_lower_thread_priority_adds_to_the_current_value_and_zero_does_nothing() -> None:
    result: list[int] = []

    def worker() -> None:
        tid = threading.get_native_id()
        start = niceness(tid)
        lower_thread_priority(0)
        result.append(niceness(tid) - start)
        lower_thread_priority(3)
        result.append(niceness(tid) - start)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    base = niceness(threading.get_native_id())
    assert result == [0, min(3, 19 - base)]
