"""SIGTERM under load loses no accepted request.

Requests arrive open-loop at the emotion service (a subprocess); SIGTERM lands in the middle. Each
request carries its own ``x-request-id``, and the server's access log names every request its handler
accepted, with the final code. Accepted requests must all end OK; every other request must have been
refused with UNAVAILABLE and never appear in the server's log.
"""

from __future__ import annotations

import asyncio
import io
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass

import grpc
import numpy as np
import pytest
from PIL import Image

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from tests.e2e.procs import Launcher

REQUESTS = 240
RATE = 160.0  # per second: the run spans ~1.5 s, the signal lands at SIGTERM_AT
SIGTERM_AT = 0.6
IMAGES = 3  # per request: decoding three PNGs keeps the two preprocessing threads busy
# Right before the signal a burst arrives at once, so the server surely holds accepted work when SIGTERM
# lands, however fast it answers the open-loop requests (the test needs both sides of the signal).
BURST = 16
BURST_LEAD_S = 0.01
ACCESS = re.compile(r"rpc method=/emoflux\.emotion\.v1\.EmotionService/Classify code=(\w+) .*request_id=(drain-\d+)")


@dataclass
class Outcome:
    """What the client saw for one request."""

    request_id: str
    code: str
    sent: float
    done: float


def workload() -> bytes:
    """A 384x384 PNG (about 2 ms to decode and resize on one core here)."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (384, 384, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


async def fire(address: str, on_signal: asyncio.Event) -> list[Outcome]:
    """Send REQUESTS at Poisson times; SIGTERM is sent by the caller at SIGTERM_AT (``on_signal`` set)."""
    request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=workload())] * IMAGES)
    rng = np.random.default_rng(1)
    outcomes: list[Outcome] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = emotion_pb2_grpc.EmotionServiceStub(channel)
        await stub.Classify(request, timeout=30)  # connected and warm before the clock starts

        async def one(i: int) -> None:
            rid = f"drain-{i}"
            sent = time.monotonic()
            try:
                await stub.Classify(request, timeout=30, metadata=(("x-request-id", rid),))
                code = "OK"
            except grpc.aio.AioRpcError as error:
                code = error.code().name
            outcomes.append(Outcome(rid, code, sent, time.monotonic()))

        start = time.monotonic()
        tasks = []
        for i, at in enumerate(np.cumsum(rng.exponential(1 / RATE, REQUESTS))):
            await asyncio.sleep(max(0.0, start + float(at) - time.monotonic()))
            if not on_signal.is_set() and time.monotonic() - start >= SIGTERM_AT:
                tasks.extend(asyncio.create_task(one(REQUESTS + b)) for b in range(BURST))
                await asyncio.sleep(BURST_LEAD_S)
                on_signal.set()
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return outcomes


@pytest.mark.timeout(120)
async def test_sigterm_during_load_loses_no_accepted_request(launcher: Launcher) -> None:
    emotion = launcher.emotion("emotion-drain", ["--grace-seconds", "20", "--prep-workers", "2"])
    await launcher.serving(emotion)
    signalled = asyncio.Event()
    signal_time: list[float] = []

    async def terminate() -> None:
        await signalled.wait()
        signal_time.append(time.monotonic())
        emotion.send(signal.SIGTERM)

    killer = asyncio.create_task(terminate())
    outcomes = await fire(emotion.address, signalled)
    await killer
    assert await asyncio.to_thread(emotion.wait_exit, 30) == 0, emotion.log_tail(20)

    handled = {rid: code for code, rid in ACCESS.findall(emotion.log_text())}
    ok = [o for o in outcomes if o.code == "OK"]
    refused = [o for o in outcomes if o.code != "OK"]
    # Refused by the service's own code while draining (logged UNAVAILABLE) or by gRPC before any handler ran.
    by_service = [o for o in refused if handled.get(o.request_id) == "UNAVAILABLE"]
    by_grpc = [o for o in refused if o.request_id not in handled]
    # Accepted before the signal, finished after it: the drain really had work to finish.
    drained = [o for o in ok if o.sent < signal_time[0] < o.done]
    codes = Counter(o.code for o in refused)
    print(
        f"\nSIGTERM drain: {len(outcomes)} requests; {len(ok)} accepted and OK ({len(drained)} finished during "
        f"the drain); {len(refused)} refused before acceptance {dict(codes)}: {len(by_service)} by the service, "
        f"{len(by_grpc)} by gRPC before any handler ran"
    )
    assert sorted(o.request_id for o in outcomes) == sorted(f"drain-{i}" for i in range(REQUESTS + BURST))
    # Nothing the handler accepted failed: every request it ran ended OK on both sides.
    assert {rid for rid, code in handled.items() if code != "UNAVAILABLE"} == {o.request_id for o in ok}
    assert set(handled.values()) <= {"OK", "UNAVAILABLE"}, Counter(handled.values())
    assert len(by_service) + len(by_grpc) == len(refused)
    assert all(o.code == "UNAVAILABLE" for o in by_service)
    # gRPC answers calls it received but never dispatched with UNAVAILABLE (connection closing) or CANCELLED
    # (shutdown of calls still queued in the server); neither ran any work, both are safe to send again.
    assert set(codes) <= {"UNAVAILABLE", "CANCELLED"}, codes
    # The run must have exercised both sides of the signal.
    assert ok and refused and drained
