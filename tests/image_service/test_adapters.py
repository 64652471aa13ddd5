"""LoRA adapters per request on a real server: listing, switching without reloads, batching by adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import pytest_asyncio
import torch

from image_service.adapters import inspect_adapter, load_adapters
from image_service.encoding import png_text
from image_service.sources import VariantSource
from servicekit.errors import FailedPrecondition
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.image_service.adapters_fixture import write_random_adapter
from tests.image_service.conftest import Server, decode, running_server, server_settings
from tests.image_service.test_server import request, start_blocker, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def adapter_dirs(tmp_path_factory: pytest.TempPathFactory, tiny_source: VariantSource) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    write_random_adapter(tiny_source, root / "warm", seed=1, rank=4)
    write_random_adapter(tiny_source, root / "cool", seed=2, rank=8)
    return {"warm": root / "warm", "cool": root / "cool"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(adapter_dirs: dict[str, Path]) -> AsyncIterator[Server]:
    lora = tuple(f"{name}={path}" for name, path in adapter_dirs.items())
    async with running_server(server_settings(lora=lora)) as srv:
        yield srv


def adapters(*pairs: tuple[str, float | None]) -> list[image_pb2.AdapterWeight]:
    return [
        image_pb2.AdapterWeight(name=n) if s is None else image_pb2.AdapterWeight(name=n, scale=s) for n, s in pairs
    ]


async def pixels(server: Server, **fields: Any) -> np.ndarray:
    reply = await server.stub.Generate(request(seed=7, num_inference_steps=3, **fields))
    return decode(reply.images[0].data)


async def test_list_variants_shows_adapters_with_their_base(server: Server, adapter_dirs: dict[str, Path]) -> None:
    reply = await server.stub.ListVariants(image_pb2.ListVariantsRequest())
    tiny = next(v for v in reply.variants if v.name == "tiny-flux")
    assert [a.name for a in tiny.adapters] == ["cool", "warm"]
    cool, warm = tiny.adapters
    assert cool.base_variant == warm.base_variant == "tiny-flux"
    assert (cool.rank, warm.rank) == (8, 4)
    assert warm.layers > 0 and len(warm.sha256) == 64 and warm.source.startswith(str(adapter_dirs["warm"]))
    assert warm.description == "random adapter seed 1"
    assert all(not v.adapters for v in reply.variants if v.name != "tiny-flux")


async def test_adapters_change_images_and_switching_never_reloads_the_base(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = server.component.runtime.variants["tiny-flux"]
    pipe = loaded.pipe
    transformer = pipe.transformer
    base_weight = transformer.transformer_blocks[0].attn.to_q.base_layer.weight
    before = base_weight.detach().clone()
    loads: list[str] = []
    original = pipe.load_lora_weights
    monkeypatch.setattr(pipe, "load_lora_weights", lambda *a, **k: (loads.append("lora"), original(*a, **k))[1])
    base = await pixels(server)
    warm = await pixels(server, adapters=adapters(("warm", None)))
    cool = await pixels(server, adapters=adapters(("cool", 1.0)))
    both = await pixels(server, adapters=adapters(("warm", 1.0), ("cool", 1.0)))
    half = await pixels(server, adapters=adapters(("warm", 0.5)))
    off = await pixels(server, adapters=adapters(("warm", 0.0)))
    warm_again = await pixels(server, adapters=adapters(("warm", 1.0)))
    base_again = await pixels(server)
    # Each adapter (and their sum) changes the image; scale 0 is the base weights.
    for changed in (warm, cool, both, half):
        assert np.abs(changed - base).mean() > 2.0
    assert np.abs(both - warm).mean() > 2.0 and np.abs(both - cool).mean() > 2.0
    assert np.abs(half - warm).mean() > 1.0
    assert np.abs(off - base).max() <= 1
    # Switching back and forth gives the same pixels: nothing accumulated in the weights.
    assert np.array_equal(warm_again, warm) and np.array_equal(base_again, base)
    # Nothing was loaded again and the base module and its weights are the ones loaded at start.
    assert loads == []
    assert pipe.transformer is transformer and server.component.runtime.variants["tiny-flux"] is loaded
    assert transformer.transformer_blocks[0].attn.to_q.base_layer.weight is base_weight
    assert torch.equal(base_weight, before)


async def test_response_and_png_say_which_adapters_made_the_image(server: Server) -> None:
    reply = await server.stub.Generate(request(seed=3, adapters=adapters(("cool", 0.75), ("warm", None))))
    assert [(a.name, a.scale) for a in reply.adapters] == [("cool", 0.75), ("warm", 1.0)]
    assert png_text(reply.images[0].data)["adapters"] == "cool:0.75,warm:1"
    plain = await server.stub.Generate(request(seed=3))
    assert not plain.adapters and "adapters" not in png_text(plain.images[0].data)


async def test_only_requests_with_equal_adapters_and_scales_share_a_run(server: Server) -> None:
    blocker, _ = await start_blocker(server)
    wanted = [
        adapters(("warm", 1.0)),
        adapters(("warm", 0.5)),
        adapters(("warm", None)),  # unset scale = 1.0: the same key as the first
        [],
        adapters(("cool", 1.0), ("warm", 1.0)),
        adapters(("warm", 1.0), ("cool", 1.0)),  # the same set in another order
    ]
    calls = [
        asyncio.ensure_future(server.stub.Generate(request(seed=40 + i, num_inference_steps=3, adapters=a)))
        for i, a in enumerate(wanted)
    ]
    await wait_for(lambda: server.component.runtime.batcher.queue_depth == len(wanted))
    blocker.cancel()
    replies = await asyncio.gather(*calls)
    assert [r.batch_size for r in replies] == [2, 1, 2, 1, 2, 2]
    # Each image is the one its own adapters give alone (batched matmuls round differently: 1 level).
    for i, (a, reply) in enumerate(zip(wanted, replies, strict=True)):
        alone = await server.stub.Generate(request(seed=40 + i, num_inference_steps=3, adapters=a))
        assert alone.batch_size == 1
        assert np.abs(decode(alone.images[0].data) - decode(reply.images[0].data)).max() <= 1


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (adapters(("nope", None)), "adapters[0].name"),
        (adapters(("warm", None), ("warm", 0.5)), "adapters[1].name"),
        (adapters(("warm", 9.0)), "adapters[0].scale"),
        (adapters(("cool", float("nan"))), "adapters[0].scale"),
    ],
)
async def test_bad_adapter_requests_are_invalid_argument(server: Server, bad, field: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(request(adapters=bad))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(field)


async def test_onnx_backend_refuses_adapters_naming_the_backend(adapter_dirs: dict[str, Path]) -> None:
    async with running_server(server_settings(backend="onnx")) as onnx:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await onnx.stub.Generate(request(adapters=adapters(("warm", None))))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "onnxruntime-cpu backend" in info.value.details()
        # Loading an adapter into the exported graph is refused the same way (what --lora does at start).
        loaded = onnx.component.runtime.variants["tiny-flux"]
        info_warm = inspect_adapter("warm", adapter_dirs["warm"], "tiny-flux")
        with pytest.raises(FailedPrecondition, match="onnxruntime-cpu backend"):
            load_adapters(loaded, {"warm": info_warm})
        ok = await onnx.stub.Generate(request(seed=1))
        assert not ok.adapters


async def test_compiled_transformer_hot_swaps_adapters_without_recompiling(adapter_dirs: dict[str, Path]) -> None:
    from torch._dynamo.utils import counters

    lora = tuple(f"{name}={path}" for name, path in adapter_dirs.items())
    async with running_server(server_settings(lora=lora, torch_compile=True)) as compiled:
        loaded = compiled.component.runtime.variants["tiny-flux"]
        assert loaded.backend == "torch-compile" and loaded.hotswap_slot is not None
        graphs = dict(counters["stats"])
        base = await pixels(compiled)
        warm = await pixels(compiled, adapters=adapters(("warm", None)))
        cool = await pixels(compiled, adapters=adapters(("cool", 1.0)))
        half = await pixels(compiled, adapters=adapters(("warm", 0.5)))
        warm_again = await pixels(compiled, adapters=adapters(("warm", 1.0)))
        base_again = await pixels(compiled)
        for changed in (warm, cool, half):
            assert np.abs(changed - base).mean() > 2.0
        assert np.abs(warm - cool).mean() > 2.0 and np.abs(half - warm).mean() > 1.0
        assert np.abs(warm_again - warm).max() <= 1 and np.abs(base_again - base).max() <= 1
        # No new graph was traced while switching adapters and scales.
        assert dict(counters["stats"]) == graphs
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await compiled.stub.Generate(request(adapters=adapters(("warm", None), ("cool", None))))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "torch-compile backend hot-swaps one adapter" in info.value.details()
