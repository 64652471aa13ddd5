"""ServiceHost with a real grpc.aio server: health, reflection, errors, metrics, drain, limits."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from servicekit.channels import open_channel
from servicekit.server import ServiceHost
from servicekit.settings import ServerSettings
from tests.servicekit.echo import SERVICE, EchoComponent, method


async def _status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return int(response.status)


async def test_health_not_serving_until_component_started() -> None:
    component = EchoComponent(hold_start=True)
    host = ServiceHost(ServerSettings(), component)
    await host.start()
    try:
        assert await _status(host.port) == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await _status(host.port, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
        component.release_start.set()
        await host.wait_ready(5)
        assert await _status(host.port) == health_pb2.HealthCheckResponse.SERVING
        assert await _status(host.port, SERVICE) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await host.stop(grace=0)
    assert component.stopped


async def test_reflection_lists_every_service(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def one() -> reflection_pb2.ServerReflectionRequest:
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names = []
        async for response in stub.ServerReflectionInfo(one()):
            names = [s.name for s in response.list_services_response.service]
    assert set(names) == {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


@pytest.mark.parametrize(
    ("payload", "code", "fragment"),
    [
        (b"invalid", grpc.StatusCode.INVALID_ARGUMENT, "max_pixels_per_image"),
        (b"overloaded", grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full"),
        (b"missing", grpc.StatusCode.NOT_FOUND, "not found"),
        (b"notready", grpc.StatusCode.UNAVAILABLE, "loading"),
        (b"crash", grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
async def test_domain_errors_map_to_status(
    echo_host: ServiceHost, payload: bytes, code: grpc.StatusCode, fragment: str
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await method(channel, "Fail")(payload, timeout=5)
    assert info.value.code() == code
    assert fragment in (info.value.details() or "")
    assert "secret" not in (info.value.details() or ""), "internal details must not leak"
    trailers = dict(info.value.trailing_metadata() or ())
    assert trailers.get("x-request-id")


async def test_request_id_is_echoed_from_client(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        call = method(channel, "Echo")(b"hi", metadata=(("x-request-id", "abc123"),), timeout=5)
        assert await call == b"hi"
        assert dict(await call.trailing_metadata())["x-request-id"] == "abc123"


async def test_stream_error_after_items_is_mapped(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        call = channel.unary_stream(f"/{SERVICE}/Stream")(b"3", timeout=5)
        got = []
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for item in call:
                got.append(item)
    assert got == [b"0", b"1", b"2"]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of the one series ``name{labels}``; a missing series fails the test (it is not zero)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no series {name} with {labels} in the scrape")


async def test_metrics_count_by_code(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        for _ in range(3):
            await method(channel, "Echo")(b"x", timeout=5)
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError):
                await method(channel, "Fail")(b"invalid", timeout=5)
    text = await asyncio.to_thread(_scrape, echo_host.metrics_port)
    assert _sample(text, "grpc_server_handled_total", grpc_method="Echo", grpc_code="OK") == 3
    assert _sample(text, "grpc_server_handled_total", grpc_method="Fail", grpc_code="INVALID_ARGUMENT") == 2
    # The histogram observed each call: every Echo lands in the +Inf bucket, and the 15 ms bucket (an
    # explicit bound of the latency buckets) exists and holds no more calls than were made.
    assert _sample(text, "grpc_server_handling_seconds_bucket", grpc_method="Echo", le="+Inf") == 3
    assert 0 <= _sample(text, "grpc_server_handling_seconds_bucket", grpc_method="Echo", le="0.015") <= 3
    assert _sample(text, "grpc_server_handling_seconds_count", grpc_method="Echo") == 3
    assert _sample(text, "grpc_server_handling_seconds_bucket", grpc_method="Fail", le="+Inf") == 2


async def test_graceful_drain_finishes_in_flight_and_refuses_new() -> None:
    host = ServiceHost(ServerSettings(grace_seconds=5.0), EchoComponent())
    await host.start()
    await host.wait_ready(5)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        in_flight = asyncio.ensure_future(method(channel, "Slow")(b"0.6", timeout=10))
        await asyncio.sleep(0.2)
        stopping = asyncio.ensure_future(host.stop())
        await asyncio.sleep(0.1)
        assert await _status_or_unavailable(host.port) != health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await method(channel, "Echo")(b"late", timeout=2)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await in_flight == b"done"
        await stopping


async def _status_or_unavailable(port: int) -> int:
    try:
        return await _status(port)
    except grpc.RpcError:
        return -1


async def test_oversized_message_is_refused(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await method(channel, "Echo")(b"x" * (65 * 1024), timeout=5)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert await method(channel, "Echo")(b"ok", timeout=5) == b"ok"


async def test_unparsable_request_bytes_are_invalid_argument(echo_host: ServiceHost) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{echo_host.port}") as channel:
        raw_check = channel.unary_unary("/grpc.health.v1.Health/Check")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await raw_check(b"\xff\xff\xff\xff", timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid protobuf" in (info.value.details() or "")
        assert await _status(echo_host.port) == health_pb2.HealthCheckResponse.SERVING
    text = await asyncio.to_thread(_scrape, echo_host.metrics_port)
    assert _sample(text, "grpc_server_handled_total", grpc_method="Check", grpc_code="INVALID_ARGUMENT") == 1


async def test_drain_delay_answers_unavailable_while_health_says_not_serving() -> None:
    host = ServiceHost(ServerSettings(grace_seconds=5.0, drain_delay_seconds=1.0), EchoComponent())
    await host.start()
    await host.wait_ready(5)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        assert await method(channel, "Echo")(b"before", timeout=5) == b"before"
        stopping = asyncio.ensure_future(host.stop())
        await asyncio.sleep(0.2)
        assert await _status(host.port) == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await method(channel, "Echo")(b"during", timeout=2, wait_for_ready=False)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in (info.value.details() or "")
        await stopping


async def test_one_connection_holds_at_most_its_stream_share_and_others_still_get_in() -> None:
    component = EchoComponent()
    host = ServiceHost(ServerSettings(max_streams_per_connection=2, grace_seconds=1.0), component)
    await host.start()
    await host.wait_ready(10)
    address = f"127.0.0.1:{host.port}"
    try:
        # Channels to one address share a connection unless each keeps its own subchannel pool.
        own = [("grpc.use_local_subchannel_pool", 1)]
        async with (
            grpc.aio.insecure_channel(address, options=own) as flood,
            grpc.aio.insecure_channel(address, options=own) as other,
        ):
            held = [asyncio.ensure_future(method(flood, "Hold")(str(i).encode(), timeout=30)) for i in range(6)]
            for _ in range(200):  # until the server runs what the connection may open
                if component.holding >= 2:
                    break
                await asyncio.sleep(0.01)
            assert await method(other, "Echo")(b"through", timeout=5) == b"through"
            await asyncio.sleep(0.1)  # would let a third stream of the flooding connection start, were it allowed
            assert component.holding == 2
            component.release_held.set()
            outcomes = await asyncio.gather(*held, return_exceptions=True)
        # A queued call that opens its stream just as another closes can race the limit; HTTP/2 then refuses
        # the stream (REFUSED_STREAM, never processed), which the client sees as retryable UNAVAILABLE.
        answered = [o for o in outcomes if isinstance(o, bytes)]
        refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert len(answered) + len(refused) == 6 and len(answered) >= 2
        assert all(r.code() == grpc.StatusCode.UNAVAILABLE and "RST_STREAM" in (r.details() or "") for r in refused)
    finally:
        await host.stop(grace=0)


async def test_a_method_called_before_the_drain_is_refused_during_it() -> None:
    # The wrapped handler is built once per method, at its first call; the drain is decided per call.
    host = ServiceHost(ServerSettings(drain_delay_seconds=5.0, grace_seconds=1.0), EchoComponent())
    await host.start()
    await host.wait_ready(10)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        assert await method(channel, "Echo")(b"a", timeout=5) == b"a"
        stopping = asyncio.ensure_future(host.stop(grace=5.0))
        for _ in range(200):
            if await _status(host.port) == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            await asyncio.sleep(0.01)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await method(channel, "Echo")(b"b", timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        await stopping


async def test_a_drain_refusal_is_retried_on_another_replica() -> None:
    # The refusal must go out as a status alone (trailers-only): a status that follows response headers commits
    # the call, and the client's retry policy would hand the UNAVAILABLE to the caller instead of retrying.
    hosts = [ServiceHost(ServerSettings(drain_delay_seconds=3.0, grace_seconds=1.0), EchoComponent()) for _ in "ab"]
    for host in hosts:
        await host.start()
        await host.wait_ready(10)
    draining = asyncio.ensure_future(hosts[0].stop(grace=1.0))
    try:
        for _ in range(200):
            if await _status(hosts[0].port) == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            await asyncio.sleep(0.01)
        outcomes: list[bytes | str] = []
        async with open_channel([f"127.0.0.1:{host.port}" for host in hosts]) as channel:
            for i in range(20):
                try:
                    outcomes.append(await method(channel, "Echo")(str(i).encode(), timeout=1))
                except grpc.aio.AioRpcError as error:
                    outcomes.append(error.code().name)
        assert outcomes == [str(i).encode() for i in range(20)]
    finally:
        await asyncio.wait_for(draining, 30)
        await hosts[1].stop(grace=0)
