"""What every servicer needs at the RPC edge: the call's deadline and in-band stream errors.

A unary call's failure becomes its status in :mod:`servicekit.interceptors`. A streaming call that
answers item by item reports one item's failure inside the stream instead; :func:`in_band_error`
gives it the same code and message the interceptor would have used, and logs it by the same rule.
"""

from __future__ import annotations

import logging
import math
import time

import grpc

from servicekit.errors import status_for


def deadline_from(time_remaining: float | None) -> float | None:
    """A ``time.monotonic()`` instant from gRPC's ``context.time_remaining()`` (None: no deadline).

    gRPC reports "no deadline" as None or as a huge or infinite number of seconds; anything not finite
    is no deadline, and a negative remainder is a deadline that has already passed.
    """
    if time_remaining is None or not math.isfinite(time_remaining):
        return None
    return time.monotonic() + max(0.0, time_remaining)


def call_deadline(context: grpc.aio.ServicerContext) -> float | None:
    """The ``time.monotonic()`` deadline of the call ``context`` belongs to (None: no deadline)."""
    remaining: float | None = context.time_remaining()
    return deadline_from(remaining)


def in_band_error(exc: BaseException, log: logging.Logger, item: str) -> tuple[grpc.StatusCode, str]:
    """Status code and message for a failure reported inside a stream (``item`` names it in the log).

    Like the interceptor, only an unexpected failure (INTERNAL) is logged with its traceback: an
    invalid or overloaded item is the client's business, not the operator's.
    """
    code, message = status_for(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.error("%s failed", item, exc_info=exc)
    return code, message
