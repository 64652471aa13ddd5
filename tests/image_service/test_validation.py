import math

import pytest

from image_service.jobs import ImageFormat
from image_service.validation import RequestOptions, validate, validate_preview_size
from image_service.variants import GuidanceMode, WeightsOrigin, build_tiny_spec, published_variant
from servicekit.errors import InvalidInput

SPEC = build_tiny_spec().with_max_images(4)
CFG_SPEC = build_tiny_spec(GuidanceMode.TRUE_CFG, {}, WeightsOrigin.SYNTHETIC_TRAINED)


def words(prompt: str) -> int:
    return len(prompt.split()) + 1  # like T5: one token per word plus </s>


def check(options: RequestOptions, spec=SPEC):
    return validate(options, spec, words, lambda: 42)


def test_defaults_are_filled_in() -> None:
    params = check(RequestOptions(prompt="a happy face"))
    d = SPEC.defaults
    assert (params.width, params.height, params.num_inference_steps) == (d.width, d.height, d.num_inference_steps)
    assert params.guidance_scale == d.guidance_scale and params.num_images == 1
    assert params.seed == 42 and params.output_format is ImageFormat.PNG and params.quality == 90
    assert params.prompt_tokens == 4 and not params.prompt_truncated
    assert params.seeds() == [42]


def test_seed_is_kept_and_image_seeds_wrap_at_64_bits() -> None:
    params = check(RequestOptions(prompt="x", seed=2**64 - 1, num_images=3))
    assert params.seeds() == [2**64 - 1, 0, 1]


def test_long_prompts_are_truncated_not_refused() -> None:
    prompt = " ".join(["face"] * 200)
    params = check(RequestOptions(prompt=prompt))
    assert params.prompt_truncated and params.prompt_tokens == SPEC.limits.max_prompt_tokens


@pytest.mark.parametrize(
    ("options", "field", "limit"),
    [
        (RequestOptions(prompt=""), "prompt", "must not be empty"),
        (RequestOptions(prompt="   "), "prompt", "must not be empty"),
        (RequestOptions(prompt="x", width=100), "width", "multiple of 16"),
        (RequestOptions(prompt="x", height=8), "height", "multiple of 16"),
        (RequestOptions(prompt="x", width=1024), "width", "[64, 512]"),
        (RequestOptions(prompt="x", height=48), "height", "[64, 512]"),
        (RequestOptions(prompt="x", num_inference_steps=501), "num_inference_steps", "[1, 500]"),
        (RequestOptions(prompt="x", guidance_scale=math.nan), "guidance_scale", "finite"),
        (RequestOptions(prompt="x", guidance_scale=math.inf), "guidance_scale", "finite"),
        (RequestOptions(prompt="x", guidance_scale=-1.0), "guidance_scale", "[0, 20]"),
        (RequestOptions(prompt="x", guidance_scale=21.0), "guidance_scale", "[0, 20]"),
        (RequestOptions(prompt="x", num_images=5), "num_images", "max_images 4"),
        (RequestOptions(prompt="x", output_format="gif"), "output_format", "png, jpeg, webp"),
        (RequestOptions(prompt="x", quality=101), "quality", "[1, 100]"),
        (RequestOptions(prompt="x", reference_images=(b"png",) * 2), "reference_images", "at most 1"),
        (RequestOptions(prompt="x", reference_images=(b"png",)), "reference_images", "only for inpainting"),
        (RequestOptions(prompt="x", strength=0.5), "strength", "image-to-image"),
        (RequestOptions(prompt="x", negative_prompt="blurry"), "negative_prompt", "negative prompts"),
    ],
)
def test_bad_input_names_field_and_limit(options: RequestOptions, field: str, limit: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check(options)
    message = str(info.value)
    assert message.startswith(f"{field}:") and limit in message


def test_too_many_pixels_is_refused() -> None:
    spec = published_variant("flux.1-dev")
    assert spec is not None
    with pytest.raises(InvalidInput, match=r"width\*height: 2048x2048 = 4194304 pixels exceeds max_pixels 4000000"):
        validate(RequestOptions(prompt="x", width=2048, height=2048), spec, words, lambda: 1)
    assert validate(RequestOptions(prompt="x", width=2048, height=1952), spec, words, lambda: 1).width == 2048
    with pytest.raises(InvalidInput, match=r"width\*height: 512x512 = 262144 pixels exceeds max_pixels 196608"):
        check(RequestOptions(prompt="x", width=512, height=512))
    assert check(RequestOptions(prompt="x", width=512, height=384)).height == 384


def test_reference_and_negative_prompt_where_supported() -> None:
    kontext = published_variant("flux.1-kontext-dev")
    assert kontext is not None
    params = validate(RequestOptions(prompt="x", reference_images=(b"img",)), kontext, words, lambda: 1)
    assert params.reference_count == 1
    with pytest.raises(InvalidInput, match="at most 1"):
        validate(RequestOptions(prompt="x", reference_images=(b"a", b"b")), kontext, words, lambda: 1)
    with pytest.raises(InvalidInput, match=r"reference_images\[0\]: empty"):
        validate(RequestOptions(prompt="x", reference_images=(b"",)), kontext, words, lambda: 1)
    assert check(RequestOptions(prompt="x", negative_prompt="sad"), CFG_SPEC).negative_prompt == "sad"


def test_preview_size() -> None:
    assert validate_preview_size(0) == 128 and validate_preview_size(64) == 64
    with pytest.raises(InvalidInput, match="preview_size: 513 exceeds the maximum 512"):
        validate_preview_size(513)
