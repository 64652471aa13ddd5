"""Settings, start-up order (NOT_SERVING until loaded and warmed) and the component's wiring."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from image_service.component import ImageComponent, batch_policy
from image_service.settings import ImageSettings
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.image_service.conftest import running_server, server_settings


def test_settings_defaults_env_and_flags() -> None:
    defaults = ImageSettings.load([], env={})
    assert (defaults.port, defaults.metrics_port, defaults.default_variant, defaults.backend) == (
        50052,
        9102,
        "tiny-flux",
        "torch",
    )
    env = {"IMAGE_PORT": "6000", "IMAGE_BACKEND": "onnx", "IMAGE_VARIANT_DIR": "flux.1-dev=/m/dev,flux.1-schnell=/m/s"}
    loaded = ImageSettings.load(["--max-batch-images", "2", "--max-queue-images", "6"], env=env)
    assert loaded.port == 6000 and loaded.backend == "onnx" and loaded.max_batch_images == 2
    assert loaded.variant_dir == ("flux.1-dev=/m/dev", "flux.1-schnell=/m/s")
    policy = batch_policy(loaded)
    assert (policy.max_batch_size, policy.max_queue_size, policy.max_concurrent_batches) == (2, 6, 1)
    assert policy.work_conserving  # an idle device starts a lone request at once
    delayed = batch_policy(ImageSettings.load(["--no-work-conserving", "--batch-delay-ms", "7"], env={}))
    assert not delayed.work_conserving and delayed.max_queue_delay_s == pytest.approx(0.007)
    with pytest.raises(SystemExit):
        ImageSettings.load(["--backend", "tensorflow"], env={})
    with pytest.raises(SystemExit, match="max_queue_images"):
        ImageSettings.load(["--max-queue-images", "1"], env={})
    with pytest.raises(SystemExit, match="NAME=PATH"):
        ImageSettings.load([], env={"IMAGE_ONNX_DIR": "no-equals-sign"})
    assert "IMAGE_DEFAULT_VARIANT" in ImageSettings.describe()


def test_variants_to_load_start_with_the_default() -> None:
    from prometheus_client import CollectorRegistry

    settings = server_settings(load_variants=("flux.1-dev", "tiny-flux", "flux.1-dev"))
    component = ImageComponent(settings, CollectorRegistry())
    assert component.variants_to_load() == ["tiny-flux", "flux.1-dev"]


@pytest.mark.asyncio
async def test_not_serving_until_the_default_variant_is_loaded_and_warm() -> None:
    async with running_server(server_settings(), wait=False) as server:
        health = health_pb2_grpc.HealthStub(server.channel)
        check = health_pb2.HealthCheckRequest(service="emoflux.image.v1.ImageService")
        assert (await health.Check(check)).status == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await server.stub.Generate(image_pb2.GenerateRequest(prompt="a face"))
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        listed = await server.stub.ListVariants(image_pb2.ListVariantsRequest())
        assert not any(v.loaded for v in listed.variants)
        await server.host.wait_ready(600)
        assert (await health.Check(check)).status == health_pb2.HealthCheckResponse.SERVING
        assert server.metric("emoflux_image_pipeline_runs_total", variant="tiny-flux", backend="torch") == 0
        reply = await server.stub.Generate(image_pb2.GenerateRequest(prompt="a face", width=64, height=64))
        assert reply.images and reply.timings.total_seconds < 30


@pytest.mark.asyncio
async def test_a_variant_that_cannot_load_keeps_the_server_not_serving(tmp_path) -> None:
    settings = server_settings(default_variant="flux.1-dev", variant_dir=(f"flux.1-dev={tmp_path / 'missing'}",))
    async with running_server(settings, wait=False) as server:
        with pytest.raises(RuntimeError, match="failed to start"):
            await server.host.wait_ready(120)
        assert "not a directory" in str(server.host.startup_error)
        health = health_pb2_grpc.HealthStub(server.channel)
        status = (await health.Check(health_pb2.HealthCheckRequest(service=""))).status
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
