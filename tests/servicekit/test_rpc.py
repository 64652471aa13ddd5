"""The RPC-edge helpers every servicer shares: deadlines, in-band stream errors, settings narrowing."""

from __future__ import annotations

import logging
import math
import time

import grpc
import pytest

from servicekit.errors import InvalidInput, Overloaded
from servicekit.rpc import deadline_from, in_band_error
from servicekit.settings import ServerSettings, settings_as


def test_deadline_from_turns_remaining_seconds_into_a_monotonic_instant() -> None:
    before = time.monotonic()
    deadline = deadline_from(2.0)
    assert deadline is not None
    assert before + 2.0 <= deadline <= time.monotonic() + 2.0


@pytest.mark.parametrize("remaining", [None, math.inf, math.nan])
def test_deadline_from_reads_none_and_non_finite_as_no_deadline(remaining: float | None) -> None:
    assert deadline_from(remaining) is None


def test_deadline_from_a_negative_remainder_has_already_passed() -> None:
    deadline = deadline_from(-3.0)
    assert deadline is not None and deadline <= time.monotonic()


def test_in_band_error_maps_like_the_interceptor_and_logs_only_internal(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.rpc")
    with caplog.at_level(logging.INFO, logger="test.rpc"):
        assert in_band_error(InvalidInput("top_k must be >= 0"), log, "item 'a'") == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "top_k must be >= 0",
        )
        assert in_band_error(Overloaded("queue full"), log, "item 'b'")[0] is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert in_band_error(TimeoutError(), log, "item 'c'")[0] is grpc.StatusCode.DEADLINE_EXCEEDED
        assert not caplog.records
        code, message = in_band_error(ZeroDivisionError("x"), log, "item 'd'")
    assert code is grpc.StatusCode.INTERNAL
    assert message == "internal error (ZeroDivisionError)"  # the exception's text stays in the log
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and "item 'd' failed" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


class _OtherSettings(ServerSettings):
    pass


def test_settings_as_narrows_or_refuses_another_services_settings() -> None:
    mine = _OtherSettings()
    assert settings_as(mine, _OtherSettings) is mine
    with pytest.raises(TypeError, match="expected _OtherSettings, got ServerSettings"):
        settings_as(ServerSettings(), _OtherSettings)
