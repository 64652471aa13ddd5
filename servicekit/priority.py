"""Compute threads yield to the request path: a higher niceness for the threads that run models.

Under CPU saturation the model's threads (an inference runtime's pool, decoders) and the event loop that
admits, refuses and answers calls compete for the same cores. The Linux scheduler gives a thread a share of
the CPU by its niceness, so raising it for the compute threads lets the event loop run first when it has
work: refusals and health checks answer promptly while a model saturates the machine, and the model still
gets every cycle the loop does not use. Linux sets niceness per thread (``setpriority`` on a thread id);
elsewhere this does nothing. Raising niceness needs no privilege; lowering it back does. A thread starts
with its creator's niceness, so the pools a library starts from a niced thread (ONNX Runtime's intra-op
threads with the session, torch's at its first operator) are niced too.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("emoflux.priority")


def lower_thread_priority(nice: int) -> None:
    """Add ``nice`` to the calling thread's niceness (a thread pool's initializer); 0 does nothing."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))
    except OSError as exc:  # the thread ended meanwhile, or a platform without per-thread niceness
        log.debug("could not lower the priority of thread %d: %s", tid, exc)
