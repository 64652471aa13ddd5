"""Shared fixtures: the embedded tiny-flux pipeline and real image servers on port 0."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import torch
from PIL import Image
from prometheus_client import CollectorRegistry

from image_service.backends import BackendKind, BackendOptions
from image_service.component import ImageComponent
from image_service.jobs import Job
from image_service.pipeline import LoadedVariant, load_variant
from image_service.settings import ImageSettings
from image_service.sources import VariantSource, resolve
from image_service.validation import RequestOptions, validate
from image_service.variants import TINY_FLUX
from servicekit.channels import open_channel
from servicekit.pb.emoflux.image.v1 import image_pb2_grpc
from servicekit.server import ServiceHost

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[2]
# The same directory `make setup` builds into, so exports and the random pipeline are reused.
MODELS_DIR = REPO / "build" / "models" / "image"
CPU = torch.device("cpu")
# One intra-op thread: on a shared 2-core machine more threads thrash (10x slower steps).
THREADS = 1
torch.set_num_threads(THREADS)


@pytest.fixture(scope="session")
def tiny_source() -> VariantSource:
    return resolve(TINY_FLUX, {}, MODELS_DIR)


@pytest.fixture(scope="session")
def tiny_loaded(tiny_source: VariantSource) -> LoadedVariant:
    options = BackendOptions(kind=BackendKind.TORCH, device=CPU, dtype=torch.float32)
    return load_variant(tiny_source, backend=options)


def make_job(loaded: LoadedVariant, **options: Any) -> Job:
    """A validated job for ``loaded`` (seed 0 unless given)."""
    options.setdefault("seed", 0)
    params = validate(RequestOptions(**options), loaded.spec.with_max_images(8), loaded.count_tokens, lambda: 0)
    return Job(params=params)


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def server_settings(**overrides: Any) -> ImageSettings:
    base = ImageSettings(
        port=0,
        metrics_port=0,
        models_dir=MODELS_DIR,
        device="cpu",
        batch_delay_ms=5.0,
        max_batch_images=4,
        max_queue_images=8,
        grace_seconds=1.0,
        access_log=False,
        torch_threads=THREADS,
        ort_threads=THREADS,
    )
    return replace(base, **overrides)


class Server:
    """A running image server and a client stub."""

    def __init__(self, host: ServiceHost, stub: image_pb2_grpc.ImageServiceStub, channel: grpc.aio.Channel) -> None:
        self.host = host
        self.stub = stub
        self.channel = channel

    @property
    def component(self) -> ImageComponent:
        component = self.host.component
        assert isinstance(component, ImageComponent)
        return component

    def metric(self, name: str, **labels: str) -> float:
        value = self.host.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


@asynccontextmanager
async def running_server(settings: ImageSettings, *, wait: bool = True) -> AsyncIterator[Server]:
    registry = CollectorRegistry()
    host = ServiceHost(settings, ImageComponent(settings, registry), registry)
    await host.start()
    channel = open_channel(f"127.0.0.1:{host.port}", retry=False)
    try:
        if wait:
            await host.wait_ready(600)
        yield Server(host, image_pb2_grpc.ImageServiceStub(channel), channel)
    finally:
        await channel.close()
        await host.stop(grace=0)
