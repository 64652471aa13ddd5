import json
from pathlib import Path

import pytest

from image_service.sources import parse_pairs, resolve
from image_service.variants import (
    DEV_LICENSE,
    FOUR_MEGAPIXELS,
    PUBLISHED_VARIANTS,
    TINY_FLUX,
    Capability,
    GuidanceMode,
    WeightsOrigin,
    build_tiny_spec,
    image_tokens,
    known_names,
    published_variant,
    read_recommended,
    tiny_flux_spec,
)
from servicekit.errors import NotFound


def test_published_variants_match_their_model_cards() -> None:
    schnell = published_variant("flux.1-schnell")
    dev = published_variant("flux.1-dev")
    kontext = published_variant("flux.1-kontext-dev")
    klein = published_variant("flux.2-klein-4b")
    assert schnell and dev and kontext and klein
    assert (schnell.pipeline_class, schnell.hub_id, schnell.license) == (
        "FluxPipeline",
        "black-forest-labs/FLUX.1-schnell",
        "apache-2.0",
    )
    assert (schnell.defaults.num_inference_steps, schnell.defaults.guidance_scale) == (4, 0.0)
    assert schnell.defaults.max_sequence_length == 256 == schnell.limits.max_prompt_tokens
    assert schnell.guidance_mode is GuidanceMode.NONE and schnell.supports(Capability.FEW_STEP)
    assert (dev.defaults.num_inference_steps, dev.defaults.guidance_scale, dev.defaults.max_sequence_length) == (
        28,
        3.5,
        512,
    )
    assert dev.license == DEV_LICENSE and dev.supports(Capability.GUIDANCE_DISTILLED)
    assert kontext.pipeline_class == "FluxKontextPipeline" and kontext.limits.max_reference_images == 1
    assert kontext.supports(Capability.IMAGE_EDITING)
    assert klein.pipeline_class == "Flux2KleinPipeline" and klein.license == "apache-2.0"
    assert klein.supports(Capability.MULTI_REFERENCE) and klein.limits.max_reference_images > 1


@pytest.mark.parametrize("spec", PUBLISHED_VARIANTS, ids=lambda s: s.name)
def test_published_limits_are_flux_sizes(spec) -> None:
    lim = spec.limits
    assert (lim.min_width, lim.max_width, lim.min_height, lim.max_height) == (256, 2048, 256, 2048)
    assert lim.size_multiple == 16 and lim.max_pixels == FOUR_MEGAPIXELS
    assert lim.min_steps <= spec.defaults.num_inference_steps <= lim.max_steps
    assert lim.min_guidance_scale <= spec.defaults.guidance_scale <= lim.max_guidance_scale
    assert spec.weights_origin is WeightsOrigin.PRETRAINED and spec.hub_id.startswith("black-forest-labs/")


def test_known_names_are_sorted_and_include_the_default() -> None:
    names = known_names()
    assert names == sorted(names) and TINY_FLUX in names and len(names) == len(set(names)) == 6


def test_read_recommended_takes_the_training_manifest_section() -> None:
    manifest = {
        "recipe": {"steps": 4000},
        "recommended_inference": {
            "num_inference_steps": 8,
            "guidance_scale": 1.0,
            "true_cfg_scale": 2.5,
            "height": 64,
            "width": 64,
            "max_sequence_length": 16,
            "note": "text",
        },
    }
    found = read_recommended(manifest)
    assert found == {
        "num_inference_steps": 8,
        "guidance_scale": 1.0,
        "true_cfg_scale": 2.5,
        "width": 64,
        "height": 64,
        "max_sequence_length": 16,
    }
    assert read_recommended({"size": [128, 96]}) == {"width": 128, "height": 96}


def test_tiny_spec_true_cfg_uses_the_true_cfg_scale_and_clamps_sizes() -> None:
    spec = build_tiny_spec(
        GuidanceMode.TRUE_CFG,
        {"true_cfg_scale": 2.5, "guidance_scale": 1.0, "width": 70, "height": 4096, "max_sequence_length": 16},
        WeightsOrigin.SYNTHETIC_TRAINED,
    )
    assert spec.defaults.guidance_scale == 2.5
    assert (spec.defaults.width, spec.defaults.height) == (64, 512)
    assert spec.limits.max_prompt_tokens == spec.defaults.max_sequence_length == 16
    assert spec.supports(Capability.NEGATIVE_PROMPT) and spec.quality_domain
    random = build_tiny_spec()
    assert random.weights_origin is WeightsOrigin.RANDOM and not random.quality_domain
    assert "Random weights" in random.description


def test_tiny_flux_spec_reads_a_pipeline_directory(tmp_path: Path) -> None:
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text(json.dumps({"guidance_embeds": True}))
    spec = tiny_flux_spec(tmp_path, WeightsOrigin.RANDOM)
    assert spec.guidance_mode is GuidanceMode.EMBEDDED and spec.embedded and spec.hub_id == ""


def test_resolve_unknown_variant_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nope"):
        resolve("nope", {}, tmp_path)
    source = resolve("flux.1-dev", {}, tmp_path)
    assert (source.location, source.local) == ("black-forest-labs/FLUX.1-dev", False)
    local = resolve("flux.1-dev", parse_pairs(["flux.1-dev=/models/dev"], "variant_dir"), tmp_path)
    assert (local.location, local.local) == ("/models/dev", True)


def test_parse_pairs_rejects_malformed_entries() -> None:
    with pytest.raises(ValueError, match="variant_dir"):
        parse_pairs(["just-a-path"], "variant_dir")


def test_image_tokens() -> None:
    assert image_tokens(1024, 1024) == 4096 and image_tokens(256, 64) == 64
