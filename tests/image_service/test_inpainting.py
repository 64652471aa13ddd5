"""Inpainting on a real server: the masked region is repainted, everything else is kept; bad masks refused."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest
import pytest_asyncio
import torch
from PIL import Image

import synthfaces
from image_service.encoding import png_text
from image_service.inpainting import composite, decode_mask, inpaint_pipeline
from image_service.pipeline import LoadedVariant
from image_service.validation import RequestOptions, validate
from image_service.variants import published_variant
from servicekit.errors import InvalidInput
from servicekit.pb.emoflux.image.v1 import image_pb2
from tests.image_service.conftest import Server, decode, running_server, server_settings

SIZE = 64


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def face(seed: int = 500, size: int = SIZE) -> Image.Image:
    return synthfaces.render("happy", seed, size=size, clean=True)


def box_mask(size: int = SIZE, box: tuple[int, int, int, int] = (16, 32, 48, 56)) -> np.ndarray:
    """White (repaint) inside ``box`` = (left, top, right, bottom), black elsewhere."""
    mask = np.zeros((size, size), np.uint8)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = 255
    return mask


def inpaint_request(reference: Image.Image, mask: np.ndarray, **fields) -> image_pb2.GenerateRequest:
    fields.setdefault("prompt", "a photo of a sad face")
    fields.setdefault("width", SIZE)
    fields.setdefault("height", SIZE)
    fields.setdefault("num_inference_steps", 4)
    fields.setdefault("seed", 1)
    return image_pb2.GenerateRequest(reference_images=[png(reference)], mask=png(Image.fromarray(mask)), **fields)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[Server]:
    async with running_server(server_settings()) as srv:
        yield srv


@pytest.mark.asyncio(loop_scope="module")
async def test_masked_region_changes_and_the_rest_is_returned_exactly(server: Server) -> None:
    reference = face()
    mask = box_mask()
    reply = await server.stub.Generate(inpaint_request(reference, mask))
    out = decode(reply.images[0].data)
    ref = np.asarray(reference, dtype=np.int16)
    outside, inside = mask == 0, mask == 255
    # Tolerance outside the mask: none (the pixel composite keeps the reference's bytes; PNG is lossless).
    assert np.abs(out - ref)[outside].max() == 0
    # Inside, a sad mouth is drawn over the happy one: a clear change (mean over 8 levels of 255).
    assert np.abs(out - ref)[inside].mean() > 8
    assert png_text(reply.images[0].data)["inpainted"] == "strength 1"


@pytest.mark.asyncio(loop_scope="module")
async def test_reference_and_mask_are_resized_to_the_output_size(server: Server) -> None:
    reference = face(size=128)
    mask = box_mask(128, (32, 64, 96, 112))
    reply = await server.stub.Generate(inpaint_request(reference, mask, width=SIZE, height=SIZE, seed=2))
    out = decode(reply.images[0].data)
    assert out.shape == (SIZE, SIZE, 3)
    resized = np.asarray(reference.resize((SIZE, SIZE), Image.Resampling.LANCZOS), dtype=np.int16)
    small_mask = box_mask(SIZE)
    assert np.abs(out - resized)[small_mask == 0].max() == 0


@pytest.mark.asyncio(loop_scope="module")
async def test_strength_zero_keeps_the_reference_inside_too(server: Server) -> None:
    reference = face(seed=501)
    full = await server.stub.Generate(inpaint_request(reference, box_mask(), seed=4))
    gentle = await server.stub.Generate(inpaint_request(reference, box_mask(), seed=4, strength=0.3))
    ref = np.asarray(reference, dtype=np.int16)
    inside = box_mask() == 255
    changed_full = np.abs(decode(full.images[0].data) - ref)[inside].mean()
    changed_gentle = np.abs(decode(gentle.images[0].data) - ref)[inside].mean()
    assert changed_gentle < changed_full


def _bad_image() -> bytes:
    return b"\x89PNG\r\n\x1a\nnot really"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("build", "field", "words"),
    [
        (lambda: inpaint_request(face(), box_mask(32, (4, 4, 20, 20))), "mask", "differs from reference_images[0]"),
        (lambda: inpaint_request(face(), np.zeros((SIZE, SIZE), np.uint8)), "mask", "no white pixel"),
        (lambda: inpaint_request(face(), box_mask() // 2), "mask", "no white pixel"),  # grey 127 < 128
        (
            lambda: image_pb2.GenerateRequest(prompt="a face", reference_images=[png(face())], mask=_bad_image()),
            "mask",
            "cannot be decoded",
        ),
        (
            lambda: image_pb2.GenerateRequest(prompt="a face", mask=png(Image.fromarray(box_mask()))),
            "mask",
            "exactly one reference image",
        ),
        (
            lambda: image_pb2.GenerateRequest(prompt="a face", reference_images=[png(face())]),
            "reference_images",
            "only for inpainting",
        ),
        (lambda: inpaint_request(face(), box_mask(), strength=1.5), "strength", "out of range"),
        (lambda: inpaint_request(face(), box_mask(), strength=0.0), "strength", "leaves no denoising step"),
    ],
)
async def test_bad_masks_are_invalid_argument_naming_the_field(server: Server, build, field: str, words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await server.stub.Generate(build())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(f"{field}:") and words in info.value.details()


@pytest.mark.asyncio(loop_scope="module")
async def test_inpainting_is_listed_as_a_capability(server: Server) -> None:
    reply = await server.stub.ListVariants(image_pb2.ListVariantsRequest())
    by_name = {v.name: v for v in reply.variants}
    assert image_pb2.CAPABILITY_INPAINTING in by_name["tiny-flux"].capabilities
    fill = by_name["flux.1-fill-dev"]
    assert fill.pipeline_class == "FluxFillPipeline" and list(fill.capabilities) == [
        image_pb2.CAPABILITY_INPAINTING,
        image_pb2.CAPABILITY_GUIDANCE_DISTILLED,
    ]


def test_inpainting_pipeline_shares_the_loaded_modules(tiny_loaded: LoadedVariant) -> None:
    inpaint = inpaint_pipeline(tiny_loaded)
    assert type(inpaint).__name__ == "FluxInpaintPipeline"
    for name in ("transformer", "vae", "text_encoder", "text_encoder_2"):
        assert getattr(inpaint, name) is getattr(tiny_loaded.pipe, name)
    assert inpaint_pipeline(tiny_loaded) is inpaint  # built once


def test_pipeline_blending_alone_keeps_far_pixels_within_its_tolerance(tiny_loaded: LoadedVariant) -> None:
    """Without the composite, the pipeline's latent-space blending keeps pixels 8+ px away from the mask
    to a mean of 12 levels of 255 (the VAE's reconstruction error), while the masked region changes more."""
    inpaint = inpaint_pipeline(tiny_loaded)
    reference = face(seed=502)
    mask = box_mask()
    out = inpaint(
        prompt="a photo of a sad face",
        image=reference,
        mask_image=Image.fromarray(mask),
        width=SIZE,
        height=SIZE,
        num_inference_steps=8,
        strength=1.0,
        generator=torch.Generator().manual_seed(0),
        output_type="np",
        max_sequence_length=16,
    ).images[0]
    diff = np.abs(np.round(out * 255) - np.asarray(reference, dtype=np.float64)).max(axis=-1)
    far = np.ones(mask.shape, bool)
    far[24:64, 8:56] = False  # everything within 8 px of the box (one latent cell) is left out
    assert diff[far].mean() <= 12
    assert diff[mask == 255].mean() > diff[far].mean() + 5
    # The composite then restores every unmasked pixel exactly.
    kept = composite(np.round(out * 255).astype(np.uint8), reference, Image.fromarray(mask))
    assert np.array_equal(kept[mask == 0], np.asarray(reference)[mask == 0])


def test_validation_refuses_masks_on_variants_without_inpainting(tiny_loaded: LoadedVariant) -> None:
    kontext = published_variant("flux.1-kontext-dev")
    assert kontext is not None
    options = RequestOptions(prompt="x", reference_images=(b"ref",), mask=b"mask")
    with pytest.raises(InvalidInput, match=r"^mask: variant 'flux\.1-kontext-dev' has no inpainting"):
        validate(options, kontext, lambda p: 1, lambda: 0)
    fill = published_variant("flux.1-fill-dev")
    assert fill is not None
    with pytest.raises(InvalidInput, match=r"^mask: variant 'flux\.1-fill-dev' only inpaints"):
        validate(RequestOptions(prompt="x"), fill, lambda p: 1, lambda: 0)
    params = validate(options, fill, lambda p: 1, lambda: 0)
    assert params.masked and params.strength == 1.0


def test_decode_mask_binarises_at_128() -> None:
    grey = np.full((8, 8), 127, np.uint8)
    grey[2:4, 2:4] = 128
    mask = decode_mask(png(Image.fromarray(grey)), (8, 8))
    values = np.asarray(mask)
    assert set(np.unique(values)) == {0, 255} and (values == 255).sum() == 4


@pytest.mark.asyncio(loop_scope="module")
async def test_ranker_inpainting_probe_passes_on_the_real_service(server: Server) -> None:
    from ranker.catalog import load_catalog
    from ranker.clients import ServiceClients
    from ranker.probes import REGISTRY, NotApplicable, ProbeContext, ProbeSettings, Target

    reply = await server.stub.ListVariants(image_pb2.ListVariantsRequest())
    variants = {v.name: v for v in reply.variants}
    card = load_catalog().get("tiny-flux")
    assert card is not None
    address = f"127.0.0.1:{server.host.port}"
    clients = ServiceClients(address, address, rpc_timeout=60.0)
    try:
        ctx = ProbeContext(clients, ProbeSettings())
        probe = REGISTRY["generator.inpainting"]

        def target(name: str) -> Target:
            return Target(card, "image", name, "synthetic-trained", False, "test", info=variants[name])

        (m,) = await probe.run(ctx, [target("tiny-flux")])
        assert m.passed and m.capability == "inpainting" and m.value == 0.0, m.detail
        assert m.detail["inside_mean_change"] >= 2.0
        with pytest.raises(NotApplicable):
            await probe.run(ctx, [target("flux.1-kontext-dev")])
    finally:
        await clients.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_full_queue_refuses_before_decoding_the_reference(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import image_service.runtime as runtime_module

    decoded: list[int] = []
    original = runtime_module.decode_references

    def counting(images: tuple[bytes, ...]) -> list[object]:
        decoded.append(len(images))
        return original(images)

    monkeypatch.setattr(runtime_module, "decode_references", counting)
    batcher = server.component.runtime.batcher
    held = batcher.reserve(batcher.policy.max_queue_size)  # the queue is full
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await server.stub.Generate(inpaint_request(face(), box_mask()), timeout=30)
    finally:
        held.release()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert decoded == [], "the refused request's reference image was decoded"
    # With room again the same request is decoded and served, and its room is given back afterwards.
    reply = await server.stub.Generate(inpaint_request(face(), box_mask()), timeout=120)
    assert len(reply.images) == 1 and decoded == [1]
    batcher.reserve(batcher.policy.max_queue_size).release()
