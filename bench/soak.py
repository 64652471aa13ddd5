"""Soak: every service as a real process under a mixed load for N minutes; nothing may grow or get lost.

What runs: two emotion_service replicas (the tiny bundle), image_service (tiny-flux, torch on CPU), the
ranker (bearer-token authorisation on, probing both emotion replicas through one comma-separated address
list) and the HTTP gateway (bearer tokens, per-client limits), started the way ``make demo`` starts them
(:class:`ranker.demo.Service`).

What they get, all at once for ``--minutes``: valid calls (Classify, ClassifyStream, KServe ModelInfer,
Generate, GenerateStream, ranker reads, SubmitEvidence with a write token, an occasional Evaluate round,
gateway classification and text-to-image); hostile ones (undecodable and truncated images, a PNG whose
header claims a huge size, too many images, an oversized message, malformed KServe tensors, out-of-range
generation sizes, NaN evidence, missing or wrong tokens, garbage HTTP bodies); and cancelled ones (client
cancels after a random delay, 1 ms deadlines, streams abandoned half way). At 30 % of the run one emotion
replica is stopped with SIGTERM and started again on the same port.

Every ``--sample-seconds`` it records, per process (from /proc/<pid>): RSS, open file descriptors,
threads; and (from each /metrics) queue depths, RPCs in flight and RPCs handled by status code.

Pass rule (all must hold):

* RSS: the least-squares slope of each process's RSS over the second half of the run is below
  ``--rss-slope-mb-per-min`` (default 2 MiB/min; the first half is warm-up: arenas, executor threads
  and caches fill there).
* File descriptors and threads: the most seen in the second half, and the level after the load stops,
  are at most the most seen in the first half plus a small slack (``FD_SLACK``, ``THREAD_SLACK``).
* Queues drain: every batcher's queue depth and every in-flight gauge is 0 once the load has stopped.
* No INTERNAL or UNKNOWN anywhere (client side or in any service's ``grpc_server_handled_total``), no
  HTTP 500 from the gateway, every process alive and SERVING at the end and exiting 0 on SIGTERM (the
  restarted replica too), and no client still waiting on a call 3 minutes after the load stopped.
* Nothing accepted is lost: every OK Classify has one result per image sent, every OK Generate the
  images asked for, every gateway 200 a label list or image bytes, every completed ClassifyStream one
  answer per item, and every SubmitEvidence the ranker acknowledged is in its SQLite store after the
  ranker has been stopped (SIGTERM, exit code 0).

Writes ``bench/results/soak.json`` (or ``--out``) and prints a table; exit code 0 when the rule holds.
``python bench/soak.py --minutes 30`` gives the documented figure; ``tests/faults/test_soak.py`` runs 3.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import math
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python bench/soak.py` from anywhere
    sys.path.insert(0, str(REPO))

from ranker.demo import Service, wait_serving  # noqa: E402
from ranker.evidence import EvidenceStore, Source  # noqa: E402
from servicekit.auth import hash_token, new_token  # noqa: E402
from servicekit.channels import address_is_serving, open_channel  # noqa: E402
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2, emotion_pb2_grpc  # noqa: E402
from servicekit.pb.emoflux.image.v1 import image_pb2, image_pb2_grpc  # noqa: E402
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2, ranker_pb2_grpc  # noqa: E402
from servicekit.pb.inference import grpc_service_pb2 as kpb  # noqa: E402
from servicekit.pb.inference import grpc_service_pb2_grpc as kpb_grpc  # noqa: E402

RESULTS = REPO / "bench" / "results"
TINY_BUNDLE = REPO / "build" / "models" / "emotion" / "tiny"
IMAGE_MODELS = REPO / "build" / "models" / "image"
EMOTION_HEALTH = "emoflux.emotion.v1.EmotionService"
IMAGE_HEALTH = "emoflux.image.v1.ImageService"
RANKER_HEALTH = "emoflux.ranker.v1.RankerService"

FD_SLACK = 16  # a few client connections may be open at any moment (round-robin subchannels, scrapes)
THREAD_SLACK = 4
RSS_SLOPE_MB_PER_MIN = 2.0
FAULT_CODES = ("INTERNAL", "UNKNOWN")
MAX_IMAGES = 4  # the emotion replicas' --max-images-per-request
MAX_MESSAGE = 1024 * 1024  # every service's --max-message-bytes
MODEL = "emotion-tiny"  # the catalog id submitted evidence is about
CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}  # numeric codes in stream error events


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# processes


@dataclass
class Gateway(Service):
    """The HTTP gateway as a subprocess: one port serves the routes, /health and /metrics."""

    def start(self, log_dir: Path) -> None:
        """Start ``python -m gateway`` on ``port``, logging to ``log_dir/<name>.log``."""
        self.metrics_port = self.port
        self.log_path = log_dir / f"{self.name}.log"
        self.log = self.log_path.open("ab")
        command = [sys.executable, "-m", "gateway", "--port", str(self.port), *self.extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://127.0.0.1:{self.port}"


def proc_stats(pid: int) -> dict[str, float]:
    """RSS (MiB), open file descriptors and threads of ``pid`` from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_kib = int(fields["VmRSS"].split()[0])
    return {
        "rss_mb": round(rss_kib / 1024, 2),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(fields["Threads"]),
    }


def scrape(port: int) -> dict[str, Any]:
    """Queue depths, in-flight gauges and handled RPCs by code from http://127.0.0.1:PORT/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    queue = 0.0
    in_flight = 0.0
    codes: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_queue_depth"):
                queue += sample.value
            elif sample.name == "grpc_server_in_flight_rpcs":
                in_flight += sample.value
            elif sample.name == "emoflux_gateway_http_in_flight_requests":
                in_flight += sample.value - 1  # this scrape is itself an HTTP request in flight
            elif sample.name == "grpc_server_handled_total":
                codes[sample.labels["grpc_code"]] += int(sample.value)
            elif sample.name == "emoflux_gateway_http_requests_total":
                codes[f"HTTP {sample.labels['code']}"] += int(sample.value)
    return {"queue_depth": queue, "in_flight": in_flight, "handled": dict(codes)}


# ---------------------------------------------------------------------------------------------------------
# requests


def png(width: int, height: int, seed: int) -> bytes:
    """A PNG of random pixels (the services take the whole image as one face)."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a PNG) with its IHDR rewritten to claim ``width`` x ``height`` (a pixel bomb)."""
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    return data[:16] + bytes(ihdr) + struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr))) + data[33:]


VALID_IMAGES = tuple(png(48 + 8 * i, 40 + 8 * i, i) for i in range(6))


def hostile_images(rng: random.Random) -> list[emotion_pb2.Image]:
    """One of: random bytes, a truncated PNG, a pixel bomb, a lying raw buffer, no source."""
    base = rng.choice(VALID_IMAGES)
    kind = rng.randrange(5)
    if kind == 0:
        return [emotion_pb2.Image(data=rng.randbytes(rng.randrange(1, 512)))]
    if kind == 1:
        return [emotion_pb2.Image(data=base[: rng.randrange(40, len(base) // 2)])]  # cut inside the pixel data
    if kind == 2:
        return [emotion_pb2.Image(data=png_claiming(base, 60000, 60000))]
    if kind == 3:
        return [emotion_pb2.Image(raw=emotion_pb2.RawImage(width=4096, height=4096, rgb=b"\x00" * 30))]
    return [emotion_pb2.Image()]


@dataclass
class Tally:
    """Client-side outcomes: per operation, per status code; plus what was lost and what was acknowledged."""

    codes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    lost: list[str] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)

    def add(self, op: str, code: str) -> None:
        self.codes[op][code] += 1

    def loss(self, what: str) -> None:
        if len(self.lost) < 50:
            self.lost.append(what)
        self.codes["lost"][what.split(":", 1)[0]] += 1

    def faults(self) -> dict[str, int]:
        """INTERNAL/UNKNOWN/HTTP 500 seen by the clients, per operation."""
        out = {}
        for op, codes in self.codes.items():
            n = sum(codes.get(c, 0) for c in (*FAULT_CODES, "HTTP 500"))
            if n:
                out[op] = n
        return out


async def rpc(tally: Tally, op: str, call: Awaitable[Any]) -> Any:
    """Await ``call``; count its status under ``op``; return the reply or None."""
    try:
        reply = await call
    except grpc.aio.AioRpcError as error:
        tally.add(op, error.code().name)
        return None
    except asyncio.CancelledError:
        tally.add(op, "CANCELLED")
        return None
    tally.add(op, "OK")
    return reply


@dataclass
class Load:
    """The mixed load; each ``*_loop`` runs until ``stop`` is set."""

    emotion: str  # comma-separated replica addresses
    image: str
    ranker: str
    gateway: str
    read_token: str
    write_token: str
    stop: asyncio.Event
    tally: Tally = field(default_factory=Tally)
    rng: random.Random = field(default_factory=lambda: random.Random(15))
    batch_number: int = 0

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    def channel(self, address: str, token: str | None = None) -> grpc.aio.Channel:
        return open_channel(address, max_message_bytes=4 * MAX_MESSAGE, token=token)

    async def classify_loop(self) -> None:
        """Valid Classify (OK answers checked), hostile ones, cancelled ones and 1 ms deadlines."""
        async with self.channel(self.emotion) as channel:
            stub = emotion_pb2_grpc.EmotionServiceStub(channel)
            while not self.stop.is_set():
                kind = self.rng.random()
                if kind < 0.5:
                    count = self.rng.randint(1, MAX_IMAGES)
                    images = [emotion_pb2.Image(data=self.rng.choice(VALID_IMAGES)) for _ in range(count)]
                    request = emotion_pb2.ClassifyRequest(images=images, top_k=3)
                    reply = await rpc(self.tally, "Classify", stub.Classify(request, timeout=30))
                    if reply is not None and len(reply.results) != count:
                        self.tally.loss(f"Classify: {len(reply.results)} results for {count} images")
                elif kind < 0.7:
                    request = emotion_pb2.ClassifyRequest(images=hostile_images(self.rng))
                    await rpc(self.tally, "Classify hostile", stub.Classify(request, timeout=30))
                elif kind < 0.8:
                    many = [emotion_pb2.Image(data=VALID_IMAGES[0])] * (MAX_IMAGES + 3)
                    await rpc(self.tally, "Classify too many", stub.Classify(emotion_pb2.ClassifyRequest(images=many)))
                elif kind < 0.85:
                    huge = emotion_pb2.Image(data=b"\x89PNG" + b"\x00" * (MAX_MESSAGE + 1024))
                    request = emotion_pb2.ClassifyRequest(images=[huge])
                    await rpc(self.tally, "Classify oversized", stub.Classify(request, timeout=30))
                elif kind < 0.93:
                    request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=VALID_IMAGES[1])])
                    await rpc(self.tally, "Classify 1 ms deadline", stub.Classify(request, timeout=0.001))
                else:
                    request = emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=VALID_IMAGES[2])] * 2)
                    call = stub.Classify(request, timeout=30)
                    await asyncio.sleep(self.rng.uniform(0, 0.02))
                    call.cancel()
                    await rpc(self.tally, "Classify cancelled", call)
                await self.pause(0.02)

    async def stream_loop(self) -> None:
        """ClassifyStream runs of a few items (every answer checked), some abandoned half way."""
        async with self.channel(self.emotion) as channel:
            stub = emotion_pb2_grpc.EmotionServiceStub(channel)
            while not self.stop.is_set():
                items = self.rng.randint(2, 6)
                abandon = self.rng.random() < 0.3
                requests = []
                for i in range(items):
                    images = hostile_images(self.rng) if i % 3 == 2 else [emotion_pb2.Image(data=VALID_IMAGES[i])]
                    requests.append(
                        emotion_pb2.ClassifyStreamRequest(
                            request_id=f"item-{i}", request=emotion_pb2.ClassifyRequest(images=images)
                        )
                    )
                call = stub.ClassifyStream(iter(requests), timeout=60)
                answered: set[str] = set()
                try:
                    async for reply in call:
                        answered.add(reply.request_id)
                        if reply.WhichOneof("outcome") == "response" and len(reply.response.results) != 1:
                            self.tally.loss(f"ClassifyStream: {len(reply.response.results)} results for 1 image")
                        if abandon:
                            call.cancel()
                            break
                except grpc.aio.AioRpcError as error:
                    self.tally.add("ClassifyStream", error.code().name)
                else:
                    if abandon:
                        self.tally.add("ClassifyStream abandoned", "CANCELLED")
                    else:
                        self.tally.add("ClassifyStream", "OK")
                        if len(answered) != items:
                            self.tally.loss(f"ClassifyStream: {len(answered)} answers for {items} items")
                await self.pause(0.2)

    async def kserve_loop(self) -> None:
        """KServe ModelInfer: valid FP32 tensors (batch checked), malformed shapes and sizes, tiny deadlines."""
        async with self.channel(self.emotion) as channel:
            stub = kpb_grpc.GRPCInferenceServiceStub(channel)
            meta = None
            while meta is None and not self.stop.is_set():
                meta = await rpc(
                    self.tally, "ModelMetadata", stub.ModelMetadata(kpb.ModelMetadataRequest(name="emotion"))
                )
                if meta is None:
                    await self.pause(1)
            if meta is None:
                return
            shape = [int(d) for d in meta.inputs[0].shape[1:]]
            while not self.stop.is_set():
                batch = self.rng.randint(1, 4)
                kind = self.rng.random()
                request = kpb.ModelInferRequest(model_name="emotion")
                tensor_shape = [batch, *shape]
                data = np.random.default_rng(self.rng.randrange(1 << 30)).random(tensor_shape, dtype=np.float32)
                payload = data.tobytes()
                if kind < 0.15:
                    tensor_shape = [batch, *shape[:-1], shape[-1] + 1]  # shape disagrees with the bytes
                elif kind < 0.25:
                    payload = payload[: len(payload) // 2]
                request.inputs.add(name="pixel_values", datatype="FP32", shape=tensor_shape)
                request.raw_input_contents.append(payload)
                timeout = 0.001 if 0.25 <= kind < 0.3 else 30
                op = "ModelInfer" if kind >= 0.3 else "ModelInfer hostile"
                reply = await rpc(self.tally, op, stub.ModelInfer(request, timeout=timeout))
                if reply is not None and op == "ModelInfer" and reply.outputs[0].shape[0] != batch:
                    self.tally.loss(f"ModelInfer: output batch {reply.outputs[0].shape} for {batch}")
                await self.pause(0.05)

    async def image_loop(self) -> None:
        """Generate (images counted), GenerateStream (some cancelled), out-of-range requests, tiny deadlines."""
        async with self.channel(self.image) as channel:
            stub = image_pb2_grpc.ImageServiceStub(channel)
            while not self.stop.is_set():
                kind = self.rng.random()
                request = image_pb2.GenerateRequest(
                    prompt=self.rng.choice(("a happy face", "a sad face", "a surprised face")),
                    width=64,
                    height=64,
                    num_inference_steps=2,
                    num_images=self.rng.randint(1, 2),
                    seed=self.rng.randrange(1 << 32),
                )
                if kind < 0.4:
                    reply = await rpc(self.tally, "Generate", stub.Generate(request, timeout=120))
                    if reply is not None and len(reply.images) != request.num_images:
                        self.tally.loss(f"Generate: {len(reply.images)} images for {request.num_images}")
                elif kind < 0.6:
                    bad = image_pb2.GenerateRequest(prompt="x", width=self.rng.choice((7, 100000)), height=64)
                    bad.num_inference_steps = self.rng.choice((0, 100000))
                    await rpc(self.tally, "Generate hostile", stub.Generate(bad, timeout=30))
                elif kind < 0.7:
                    await rpc(self.tally, "Generate 1 ms deadline", stub.Generate(request, timeout=0.001))
                else:
                    cancel = kind < 0.85
                    call = stub.GenerateStream(image_pb2.GenerateStreamRequest(request=request), timeout=120)
                    op = "GenerateStream cancelled" if cancel else "GenerateStream"
                    try:
                        images = 0
                        outcome = "CANCELLED" if cancel else "OK"
                        async for event in call:
                            kind_of_event = event.WhichOneof("event")
                            if kind_of_event == "step" and cancel:
                                call.cancel()
                                break
                            if kind_of_event == "completed":
                                images = len(event.completed.response.images)
                            elif kind_of_event == "error":
                                outcome = CODE_NAMES.get(event.error.code, str(event.error.code))
                    except grpc.aio.AioRpcError as error:
                        self.tally.add(op, error.code().name)
                    else:
                        self.tally.add(op, outcome)
                        if outcome == "OK" and images != request.num_images:
                            self.tally.loss(f"GenerateStream: {images} images for {request.num_images}")
                await self.pause(0.1)

    async def ranker_loop(self) -> None:
        """Tagged SubmitEvidence with the write token (acks recorded), reads, refusals, an Evaluate now and then."""
        async with self.channel(self.ranker, self.write_token) as writer, self.channel(self.ranker) as anonymous:
            write = ranker_pb2_grpc.RankerServiceStub(writer)
            read = ranker_pb2_grpc.RankerServiceStub(anonymous)
            last_evaluate = last_submit = time.monotonic()
            while not self.stop.is_set():
                kind = self.rng.random()
                # At most one batch a second: the store (and the ranker's scoring work) grows with every record,
                # and the soak is about leaks, not about how the scorer scales with 30 minutes of evidence.
                if kind < 0.4 and time.monotonic() - last_submit < 1.0:
                    kind = 0.6 + 0.4 * self.rng.random()
                if kind < 0.4:
                    last_submit = time.monotonic()
                    tag = f"soak-{self.batch_number}"
                    self.batch_number += 1
                    records = [
                        ranker_pb2.Evidence(
                            model_id=MODEL, capability="emotion-classification", probe="soak.submit", value=float(i),
                            unit="count", passed=True, detail=json.dumps({"batch": tag, "i": i}),
                        )
                        for i in range(self.rng.randint(1, 5))
                    ]  # fmt: skip
                    request = ranker_pb2.SubmitEvidenceRequest(evidence=records)
                    reply = await rpc(self.tally, "SubmitEvidence", write.SubmitEvidence(request, timeout=30))
                    if reply is not None:
                        if reply.accepted != len(records):
                            self.tally.loss(f"SubmitEvidence: accepted {reply.accepted} of {len(records)}")
                        self.tally.acknowledged.add(tag)
                elif kind < 0.5:
                    nan = ranker_pb2.Evidence(model_id=MODEL, capability="emotion-classification", probe="x")
                    nan.value = math.nan
                    request = ranker_pb2.SubmitEvidenceRequest(evidence=[nan])
                    await rpc(self.tally, "SubmitEvidence hostile", write.SubmitEvidence(request, timeout=30))
                elif kind < 0.55:
                    record = ranker_pb2.Evidence(model_id=MODEL, capability="emotion-classification", probe="x")
                    request = ranker_pb2.SubmitEvidenceRequest(evidence=[record])
                    await rpc(self.tally, "SubmitEvidence no token", read.SubmitEvidence(request, timeout=30))
                elif kind < 0.7:
                    await rpc(self.tally, "Leaderboard", read.Leaderboard(ranker_pb2.LeaderboardRequest(), timeout=30))
                elif kind < 0.8:
                    compare = ranker_pb2.CompareRequest(model_a=MODEL, model_b=self.rng.choice((MODEL, "nope")))
                    await rpc(self.tally, "Compare", read.Compare(compare, timeout=30))
                elif kind < 0.9:
                    score = ranker_pb2.GetScoreRequest(model_id=self.rng.choice((MODEL, "", "\x00" * 3)))
                    await rpc(self.tally, "GetScore", read.GetScore(score, timeout=30))
                else:
                    await rpc(self.tally, "ListModels", read.ListModels(ranker_pb2.ListModelsRequest(), timeout=30))
                if time.monotonic() - last_evaluate > 60:
                    last_evaluate = time.monotonic()
                    await self.evaluate(write)
                await self.pause(0.05)

    async def evaluate(self, stub: ranker_pb2_grpc.RankerServiceStub) -> None:
        """One Evaluate round of the served emotion model (probes hit both replicas), with a short budget."""
        request = ranker_pb2.EvaluateRequest(model_ids=[MODEL])
        request.deadline.FromSeconds(40)
        finished = False
        try:
            async for event in stub.Evaluate(request, timeout=90):
                finished = finished or event.WhichOneof("event") == "finished"
        except grpc.aio.AioRpcError as error:
            self.tally.add("Evaluate", error.code().name)
            return
        self.tally.add("Evaluate", "OK")
        if not finished:
            self.tally.loss("Evaluate: the stream ended without Finished")

    async def gateway_loop(self) -> None:
        """HTTP: classification with a read token, text-to-image with a write token, refusals, garbage."""
        while not self.stop.is_set():
            kind = self.rng.random()
            image = self.rng.choice(VALID_IMAGES)
            if kind < 0.4:
                status, body = await self.http("/models/emotion", image, self.read_token)
                self.tally.add("gateway classify", f"HTTP {status}")
                if status == 200 and not (isinstance(body, list) and body and "label" in body[0]):
                    self.tally.loss(f"gateway classify: 200 without labels: {str(body)[:80]}")
            elif kind < 0.55:
                payload = json.dumps(
                    {"inputs": "a happy face", "parameters": {"height": 64, "width": 64, "num_inference_steps": 2}}
                ).encode()
                status, body = await self.http("/models/flux", payload, self.write_token, "application/json")
                self.tally.add("gateway text-to-image", f"HTTP {status}")
                if status == 200 and not (isinstance(body, bytes) and body[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0")):
                    self.tally.loss("gateway text-to-image: 200 without an image")
            elif kind < 0.65:
                status, _ = await self.http("/models/emotion", image, None)
                self.tally.add("gateway no token", f"HTTP {status}")
            elif kind < 0.75:
                status, _ = await self.http("/models/flux", b'{"inputs": "x"}', self.read_token, "application/json")
                self.tally.add("gateway read token on write route", f"HTTP {status}")
            else:
                garbage = self.rng.choice((self.rng.randbytes(200), b'{"inputs": 12', b"", b"\x89PNG\r\n\x1a\n"))
                route = self.rng.choice(("/models/emotion", "/models/flux", "/models/nope"))
                status, _ = await self.http(route, garbage, self.write_token, "application/json")
                self.tally.add("gateway hostile", f"HTTP {status}")
            await self.pause(0.1)

    async def http(self, path: str, body: bytes, token: str | None, content_type: str | None = None) -> tuple[int, Any]:
        """POST ``body`` to the gateway (in a thread); the status and the decoded JSON or raw bytes."""

        def post() -> tuple[int, Any]:
            request = urllib.request.Request(self.gateway + path, data=body, method="POST")
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            if content_type:
                request.add_header("Content-Type", content_type)
            try:
                with urllib.request.urlopen(request, timeout=120) as reply:
                    data = reply.read()
                    status = reply.status
                    kind = reply.headers.get("Content-Type", "")
            except urllib.error.HTTPError as error:
                return error.code, error.read()
            except OSError as error:
                return 0, str(error)
            return status, json.loads(data) if kind.startswith("application/json") else data

        return await asyncio.to_thread(post)


# ---------------------------------------------------------------------------------------------------------
# the run


@dataclass
class Soak:
    """Processes, samples and the verdict of one soak run."""

    minutes: float
    sample_seconds: float
    work: Path
    rss_slope_limit: float
    gateway: bool = True
    services: dict[str, Service] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    started_at: float = 0.0
    restart_exit_code: int | None = None
    hung: int = 0  # load loops that did not stop within 3 minutes of the end of the load

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def event(self, what: str) -> None:
        log(what)
        self.events.append({"t": round(self.elapsed(), 1), "event": what})

    def start(self) -> tuple[str, str]:
        """Start every process; return the (read, write) bearer tokens."""
        logs = self.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        read_token, write_token = new_token(), new_token()
        tokens = self.work / "tokens.txt"
        tokens.write_text(f"{hash_token(read_token)} soak-reader read\n{hash_token(write_token)} soak-writer write\n")
        limits = ["--max-message-bytes", str(MAX_MESSAGE), "--grace-seconds", "5"]
        emotion_flags = [
            "--bundle", str(TINY_BUNDLE), "--precisions", "fp32", "--max-images-per-request", str(MAX_IMAGES),
            "--max-request-bytes", str(256 * 1024), *limits,
        ]  # fmt: skip
        for name in ("emotion-a", "emotion-b"):
            self.services[name] = Service(name, "emotion_service", EMOTION_HEALTH, extra=emotion_flags)
        image_flags = ["--models-dir", str(IMAGE_MODELS), "--device", "cpu", "--torch-threads", "1"]
        self.services["image"] = Service("image", "image_service", IMAGE_HEALTH, extra=[*image_flags, *limits])
        emotion = ",".join(self.services[n].address for n in ("emotion-a", "emotion-b"))
        ranker_flags = [
            "--db-path", str(self.work / "evidence.sqlite3"), "--emotion-addresses", emotion,
            "--image-addresses", self.services["image"].address, "--auth-tokens-file", str(tokens),
            "--bootstrap-samples", "200", *limits,
        ]  # fmt: skip
        self.services["ranker"] = Service("ranker", "ranker", RANKER_HEALTH, extra=ranker_flags)
        if self.gateway:
            gateway_flags = [
                "--emotion-addresses", emotion, "--image-addresses", self.services["image"].address,
                "--auth-tokens-file", str(tokens), "--max-body-bytes", str(MAX_MESSAGE),
            ]  # fmt: skip
            self.services["gateway"] = Gateway("gateway", "gateway", "", extra=gateway_flags)
        for service in self.services.values():
            service.start(logs)
        return read_token, write_token

    async def wait_ready(self, timeout: float) -> None:
        grpc_services = [s for s in self.services.values() if not isinstance(s, Gateway)]
        await wait_serving(grpc_services, timeout)
        for service in grpc_services:
            if service.problem:
                raise RuntimeError(f"{service.name}: {service.problem}\n{service.log_tail(30)}")
        if "gateway" in self.services:
            deadline = time.monotonic() + timeout
            while not await self.gateway_healthy():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gateway not healthy:\n{self.services['gateway'].log_tail(30)}")
                await asyncio.sleep(0.5)

    async def gateway_healthy(self) -> bool:
        gateway = self.services["gateway"]
        assert isinstance(gateway, Gateway)
        try:
            await asyncio.to_thread(urllib.request.urlopen, gateway.url + "/health", None, 5)
        except OSError:
            return False
        return True

    async def sample(self, phase: str) -> None:
        """One sample of every process (a process that is not running is recorded as down)."""
        row: dict[str, Any] = {"t": round(self.elapsed(), 1), "phase": phase, "processes": {}}
        for name, service in self.services.items():
            process = service.process
            if process is None or process.poll() is not None:
                row["processes"][name] = {"down": True}
                continue
            try:
                stats: dict[str, Any] = proc_stats(process.pid)
                stats["pid"] = process.pid
                stats.update(await asyncio.to_thread(scrape, service.metrics_port))
            except (OSError, ValueError) as error:
                stats = {"down": True, "error": str(error)}
            row["processes"][name] = stats
        self.samples.append(row)

    async def sampler(self, stop: asyncio.Event, phase: Callable[[], str]) -> None:
        while not stop.is_set():
            await self.sample(phase())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.sample_seconds)

    async def restart(self, name: str) -> None:
        """SIGTERM one replica, wait for its drain and exit, start it again on the same ports."""
        old = self.services[name]
        assert old.process is not None
        self.event(f"SIGTERM {name} (pid {old.process.pid})")
        old.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(old.process.wait, 60)
        if old.log is not None:
            old.log.close()
        self.event(f"{name} exited with code {code}")
        new = Service(name, old.module, old.health_name, port=old.port, metrics_port=old.metrics_port, extra=old.extra)
        await asyncio.sleep(1.0)
        new.start(self.work / "logs" / "restarted")  # a fresh log beside the first one
        self.services[name] = new
        deadline = time.monotonic() + 180
        while not await address_is_serving(new.address, new.health_name):
            if (new.process is not None and new.process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come back:\n{new.log_tail(30)}")
            await asyncio.sleep(0.5)
        self.event(f"{name} SERVING again (pid {new.process.pid if new.process else '?'})")
        self.restart_exit_code = code

    async def run(self) -> dict[str, Any]:
        (self.work / "logs" / "restarted").mkdir(parents=True, exist_ok=True)
        read_token, write_token = self.start()
        try:
            await self.wait_ready(600)
            self.started_at = time.monotonic()
            self.event("all SERVING; load starts")
            duration = self.minutes * 60
            load_stop, sampler_stop = asyncio.Event(), asyncio.Event()
            gateway = self.services.get("gateway")
            load = Load(
                emotion=",".join(self.services[n].address for n in ("emotion-a", "emotion-b")),
                image=self.services["image"].address,
                ranker=self.services["ranker"].address,
                gateway=gateway.url if isinstance(gateway, Gateway) else "",
                read_token=read_token,
                write_token=write_token,
                stop=load_stop,
            )
            phase = {"name": "first half"}
            sampler = asyncio.create_task(self.sampler(sampler_stop, lambda: phase["name"]))
            loops = [load.classify_loop(), load.classify_loop(), load.stream_loop(), load.kserve_loop()]
            loops += [load.image_loop(), load.ranker_loop()]
            if gateway is not None:
                loops.append(load.gateway_loop())
            workers = [asyncio.create_task(loop) for loop in loops]

            async def schedule() -> None:
                await asyncio.sleep(0.3 * duration)
                await self.restart("emotion-b")
                await asyncio.sleep(max(0.0, 0.5 * duration - self.elapsed()))
                phase["name"] = "second half"
                self.event("second half begins")
                await asyncio.sleep(max(0.0, duration - self.elapsed()))

            await schedule()
            load_stop.set()
            self.event("load stops")
            # Every call has a deadline, so a loop still running 3 minutes after the stop is a hang.
            done, pending = await asyncio.wait(workers, timeout=180)
            for task in done:
                if task.exception() is not None:
                    raise RuntimeError(f"a load loop failed: {task.exception()!r}") from task.exception()
            self.hung = len(pending)
            for task in pending:
                task.cancel()
            phase["name"] = "quiet"
            await asyncio.sleep(max(2 * self.sample_seconds, 10))
            sampler_stop.set()
            await sampler
            await self.sample("after load")
            serving = {name: await self.is_serving(name) for name in self.services}
        finally:
            exit_codes = self.stop_all()
        store = EvidenceStore(self.work / "evidence.sqlite3")
        try:
            stored = {json.loads(r.detail)["batch"] for r in store.records(MODEL) if r.source is Source.SUBMITTED}
        finally:
            store.close()
        missing = sorted(load.tally.acknowledged - stored)
        for tag in missing[:20]:
            load.tally.loss(f"SubmitEvidence: acknowledged batch {tag} not in the store")
        return self.verdict(load.tally, serving, exit_codes, len(missing))

    async def is_serving(self, name: str) -> bool:
        service = self.services[name]
        if isinstance(service, Gateway):
            return await self.gateway_healthy()
        return await address_is_serving(service.address, service.health_name)

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for name, service in reversed(list(self.services.items())):
            service.stop(grace=30)
            codes[name] = service.process.returncode if service.process is not None else None
        return codes

    def verdict(
        self, tally: Tally, serving: dict[str, bool], exit_codes: dict[str, int | None], missing: int
    ) -> dict[str, Any]:
        """Apply the pass rule to the samples and the tallies."""
        per_process: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        last = self.samples[-1]["processes"]
        for name in self.services:
            rows = [(s["t"], s["phase"], s["processes"].get(name, {})) for s in self.samples]
            rows = [(t, phase, p) for t, phase, p in rows if not p.get("down")]
            first = [p for _, phase, p in rows if phase == "first half"]
            second = [(t, p) for t, phase, p in rows if phase == "second half"]
            if not first or len(second) < 3:
                problems.append(f"{name}: too few samples ({len(first)} + {len(second)})")
                continue
            slope = rss_slope([t for t, _ in second], [p["rss_mb"] for _, p in second])
            summary = {
                "rss_mb_first": first[0]["rss_mb"],
                "rss_mb_half": second[0][1]["rss_mb"],
                "rss_mb_end": last[name].get("rss_mb"),
                "rss_slope_mb_per_min": round(slope, 3),
                "fds_first_half_max": max(p["fds"] for p in first),
                "fds_second_half_max": max(p["fds"] for _, p in second),
                "fds_after_load": last[name].get("fds"),
                "threads_first_half_max": max(p["threads"] for p in first),
                "threads_second_half_max": max(p["threads"] for _, p in second),
                "threads_after_load": last[name].get("threads"),
                "queue_depth_max": max(p["queue_depth"] for _, _, p in rows),
                "queue_depth_after_load": last[name].get("queue_depth"),
                "in_flight_after_load": last[name].get("in_flight"),
                "handled": last[name].get("handled", {}),
                "serving_at_end": serving.get(name, False),
                "exit_code": exit_codes.get(name),
            }
            faults = {c: n for c, n in summary["handled"].items() if c in (*FAULT_CODES, "HTTP 500") and n}
            checks = {
                "rss slope": slope < self.rss_slope_limit,
                "fds bounded": summary["fds_second_half_max"] <= summary["fds_first_half_max"] + FD_SLACK
                and (summary["fds_after_load"] or 0) <= summary["fds_first_half_max"] + FD_SLACK,
                "threads bounded": summary["threads_second_half_max"]
                <= summary["threads_first_half_max"] + THREAD_SLACK
                and (summary["threads_after_load"] or 0) <= summary["threads_first_half_max"] + THREAD_SLACK,
                "queues drained": summary["queue_depth_after_load"] == 0 and summary["in_flight_after_load"] == 0,
                "no INTERNAL/UNKNOWN": not faults,
                "serving at end": summary["serving_at_end"],
                "clean exit": summary["exit_code"] == 0,
            }
            summary["checks"] = checks
            per_process[name] = summary
            problems += [f"{name}: {check} failed" for check, ok in checks.items() if not ok]
        client_faults = tally.faults()
        if client_faults:
            problems.append(f"clients saw INTERNAL/UNKNOWN/HTTP 500: {client_faults}")
        if tally.lost:
            problems.append(f"lost: {tally.lost[:5]}")
        if self.hung:
            problems.append(f"{self.hung} load loop(s) still waiting on a call 3 minutes after the load stopped")
        if self.restart_exit_code != 0:
            problems.append(f"the replica's SIGTERM exit code was {self.restart_exit_code}")
        ok_calls = sum(c.get("OK", 0) + c.get("HTTP 200", 0) for op, c in tally.codes.items() if op != "lost")
        return {
            "minutes": self.minutes,
            "sample_seconds": self.sample_seconds,
            "rule": {
                "rss_slope_mb_per_min_below": self.rss_slope_limit,
                "fd_slack": FD_SLACK,
                "thread_slack": THREAD_SLACK,
                "text": (__doc__ or "").split("Pass rule (all must hold):", 1)[1].split("Writes ", 1)[0].strip(),
            },
            "passed": not problems,
            "problems": problems,
            "processes": per_process,
            "client_codes": {op: dict(c) for op, c in sorted(tally.codes.items())},
            "ok_calls": ok_calls,
            "evidence_batches_acknowledged": len(tally.acknowledged),
            "evidence_batches_missing": missing,
            "events": self.events,
            "samples": self.samples,
        }


def rss_slope(times: Sequence[float], rss: Sequence[float]) -> float:
    """Least-squares slope of RSS (MiB) over time (s), in MiB per minute."""
    t = np.asarray(times, dtype=float)
    y = np.asarray(rss, dtype=float)
    if len(t) < 2 or np.ptp(t) == 0:
        return 0.0
    return float(np.polyfit(t, y, 1)[0] * 60)


def print_table(result: dict[str, Any]) -> None:
    """The per-process figures and the client outcomes, as Markdown tables."""
    header = (
        "| process | RSS MiB start / half / end | RSS slope MiB/min | fds 1st / 2nd / after "
        "| threads 1st / 2nd / after | max queue | verdict |"
    )
    lines = [header, "|" + "---|" * 7]
    for name, p in result["processes"].items():
        failed = [c for c, ok in p["checks"].items() if not ok]
        lines.append(
            f"| {name} | {p['rss_mb_first']} / {p['rss_mb_half']} / {p['rss_mb_end']} | {p['rss_slope_mb_per_min']} "
            f"| {p['fds_first_half_max']} / {p['fds_second_half_max']} / {p['fds_after_load']} "
            f"| {p['threads_first_half_max']} / {p['threads_second_half_max']} / {p['threads_after_load']} "
            f"| {p['queue_depth_max']:.0f} | {'ok' if not failed else 'FAIL: ' + ', '.join(failed)} |"
        )
    lines += ["", "| client operation | outcomes |", "|---|---|"]
    for op, codes in result["client_codes"].items():
        lines.append(f"| {op} | {', '.join(f'{c} {n}' for c, n in sorted(codes.items()))} |")
    print("\n".join(lines))
    print(
        f"\n{result['minutes']} min, {result['ok_calls']} successful calls, "
        f"{result['evidence_batches_acknowledged']} evidence batches acknowledged, "
        f"{result['evidence_batches_missing']} missing: {'PASS' if result['passed'] else 'FAIL'}"
    )
    for problem in result["problems"]:
        print(f"  - {problem}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the loaded run (default 30)")
    parser.add_argument("--sample-seconds", type=float, default=10.0, help="sampling period (default 10)")
    parser.add_argument(
        "--rss-slope-mb-per-min",
        type=float,
        default=RSS_SLOPE_MB_PER_MIN,
        help=f"pass bound of each process's RSS slope over the second half (default {RSS_SLOPE_MB_PER_MIN})",
    )
    parser.add_argument("--no-gateway", action="store_true", help="leave the HTTP gateway out")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json", help="results JSON")
    parser.add_argument("--work", type=Path, default=None, help="logs and evidence store (default: a temp dir)")
    parser.add_argument("--print", type=Path, default=None, help="print the tables of a results JSON and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print is not None:  # the tables of an earlier run, e.g. for docs/operations.md
        earlier = json.loads(args.print.read_text())
        print_table(earlier)
        return 0 if earlier["passed"] else 1
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        work.mkdir(parents=True, exist_ok=True)
        soak = Soak(args.minutes, args.sample_seconds, work, args.rss_slope_mb_per_min, gateway=not args.no_gateway)
        result = asyncio.run(soak.run())
        result["machine"] = {"cpu_count": os.cpu_count(), "loadavg_1_5_15": [round(v, 2) for v in os.getloadavg()]}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print_table(result)
        log(f"wrote {args.out} (logs in {work / 'logs'})")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
