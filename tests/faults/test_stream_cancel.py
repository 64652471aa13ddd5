"""Clients that leave a response stream half way: the server stays up, logs CANCELLED, leaks nothing.

A client that cancels a ClassifyStream (or KServe ModelStreamInfer) after its first answer leaves the server's
response generator suspended. It must be closed inside the call (servicekit's handler wrapper writes the
responses itself for that reason); closed later by the event loop's finaliser, after gRPC had freed the
call, it read the peer of a freed call and the process died with SIGSEGV within a few dozen streams.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.inference import grpc_service_pb2 as kpb
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc
from tests.e2e.procs import EMOTION_HEALTH, Launcher, assert_healthy
from tests.faults import hostile

STREAMS = 60  # the crash took 7 to 40 abandoned streams on an idle machine
ITEMS = 4


def _classify_items() -> list[emotion_pb2.ClassifyStreamRequest]:
    seeds = [s for s in hostile.seed_images() if s.startswith(b"\x89PNG")]
    return [
        emotion_pb2.ClassifyStreamRequest(
            request_id=f"item-{i}",
            request=emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=seeds[i % len(seeds)])]),
        )
        for i in range(ITEMS)
    ]


def _infer_items(shape: list[int]) -> list[kpb.ModelInferRequest]:
    items = []
    for i in range(ITEMS):
        request = kpb.ModelInferRequest(model_name="emotion", id=f"item-{i}")
        request.inputs.add(name="pixel_values", datatype="FP32", shape=[1, *shape])
        count = 1
        for dim in shape:
            count *= dim
        request.raw_input_contents.append(b"\x00\x00\x80\x3f" * count)  # 1.0f everywhere
        items.append(request)
    return items


async def _abandon(call: grpc.aio.StreamStreamCall) -> bool:
    """Read the first answer, then cancel; True when an answer came first."""
    async for _ in call:
        call.cancel()
        return True
    return False


@pytest.mark.timeout(180)
async def test_abandoned_response_streams_do_not_crash_the_server(launcher: Launcher) -> None:
    process = launcher.emotion("emotion-streams")
    await launcher.serving(process)
    async with grpc.aio.insecure_channel(process.address) as channel:
        native = emotion_pb2_grpc.EmotionServiceStub(channel)
        kserve = kpb_grpc.GRPCInferenceServiceStub(channel)
        meta = await kserve.ModelMetadata(kpb.ModelMetadataRequest(name="emotion"), timeout=10)
        shape = [int(d) for d in meta.inputs[0].shape[1:]]

        async def client(index: int) -> int:
            answered = 0
            for _ in range(STREAMS // 3):
                if index % 2:
                    call = native.ClassifyStream(iter(_classify_items()), timeout=30)
                else:
                    call = kserve.ModelStreamInfer(iter(_infer_items(shape)), timeout=30)
                answered += await _abandon(call)
            return answered

        answered = sum(await asyncio.gather(*(client(i) for i in range(3))))
        assert answered == STREAMS // 3 * 3, "every stream answered before it was cancelled"
        assert process.alive, process.log_tail(40)
        # Finish with a stream read to its end: the server still answers every item.
        replies = [r async for r in native.ClassifyStream(iter(_classify_items()), timeout=30)]
    assert sorted(r.request_id for r in replies) == [f"item-{i}" for i in range(ITEMS)]
    assert_healthy(process, EMOTION_HEALTH)
    log = process.log_text()
    assert "code=CANCELLED" in log
    # Closed in the wrong context, the scopes' context-variable resets raised into asyncio's log.
    assert "Traceback" not in log, process.log_tail(40)
