"""Real LoRA adapter files for tiny-flux, written the way ``image_service.build.finetune`` writes them.

A freshly added LoRA starts with zero "B" matrices (no effect); the fixtures draw B from a seeded
normal distribution instead, so each adapter changes the images visibly without minutes of training.
"""

from __future__ import annotations

from pathlib import Path

import torch

from image_service.build.finetune import LoraRecipe, add_lora, save_adapter
from image_service.pipeline import load_pipeline
from image_service.sources import VariantSource


def write_random_adapter(source: VariantSource, out: Path, *, seed: int, rank: int = 4, std: float = 0.3) -> Path:
    """Write a rank-``rank`` adapter with seeded random B matrices for ``source`` into ``out``."""
    pipe = load_pipeline(source, torch.float32)
    params = add_lora(pipe.transformer, LoraRecipe(rank=rank, alpha=rank, seed=seed))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in pipe.transformer.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * std)
    assert params
    return save_adapter(pipe, out, {"base_variant": source.spec.name, "description": f"random adapter seed {seed}"})
