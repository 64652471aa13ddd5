"""The least a call can cost here: a bare grpc.aio server that answers without any work.

    python -m bench.grpc_floor --port 0 --metrics-port -1

No servicekit, no interceptors, no model: ``EmotionService.Classify`` is refused at once with
RESOURCE_EXHAUSTED (what a full queue answers) and KServe ``ModelInfer`` returns a fixed 7-label output.
Benchmarks serve it beside the real service and measure it with the same client in the same run, so a
figure such as "refusal p99" or "requests/s at 64 clients" has the floor of Python gRPC on this machine
next to it: the part of a cost that no server-side change can remove.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc
from servicekit.pb.inference import grpc_service_pb2, grpc_service_pb2_grpc

LABELS = 7


class RefusingEmotion(emotion_pb2_grpc.EmotionServiceServicer):  # type: ignore[misc]
    """Classify answers RESOURCE_EXHAUSTED at once; GetModelInfo answers empty (clients probe it first)."""

    async def GetModelInfo(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return emotion_pb2.GetModelInfoResponse()

    async def Classify(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        context.set_code(grpc.StatusCode.RESOURCE_EXHAUSTED)
        context.set_details("queue full")


class ConstantInference(grpc_service_pb2_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """ModelInfer returns zeros of the emotion model's output shape, whatever it is sent."""

    async def ModelInfer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        reply = grpc_service_pb2.ModelInferResponse(model_name=request.model_name, id=request.id)
        reply.outputs.add(name="probabilities", datatype="FP32", shape=[1, LABELS])
        reply.raw_output_contents.append(bytes(4 * LABELS))
        return reply


async def serve(host: str, port: int) -> None:
    server = grpc.aio.server()
    emotion_pb2_grpc.add_EmotionServiceServicer_to_server(RefusingEmotion(), server)
    grpc_service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(ConstantInference(), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await checker.set("", health_pb2.HealthCheckResponse.SERVING)
    # The line bench.common.ServerProcess reads the port from.
    logging.getLogger("grpc_floor").info("floor listening on %s:%d", host, bound)
    await server.wait_for_termination()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--metrics-port", type=int, default=-1, help="accepted for ServerProcess; unused")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
