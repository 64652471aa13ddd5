"""The tiny ViT architecture and its processor, with the reference model's labels."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

import synthfaces


@dataclass(frozen=True)
class TinyViTSpec:
    """Size of the tiny ViT; the defaults are what the committed model uses."""

    image_size: int = 64
    patch_size: int = 8
    hidden_size: int = 128
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 256

    def as_dict(self) -> dict[str, int]:
        """The spec as plain JSON-able values."""
        return asdict(self)


def build_config(spec: TinyViTSpec) -> ViTConfig:
    """A ``ViTConfig`` with the reference model's ``id2label`` order (see ``synthfaces.LABELS``)."""
    id2label = dict(enumerate(synthfaces.LABELS))
    return ViTConfig(
        image_size=spec.image_size,
        patch_size=spec.patch_size,
        hidden_size=spec.hidden_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        intermediate_size=spec.intermediate_size,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        layer_norm_eps=1e-12,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={name: i for i, name in id2label.items()},
        architectures=["ViTForImageClassification"],
    )


def build_model(spec: TinyViTSpec) -> ViTForImageClassification:
    """A freshly initialised tiny ViT (the caller seeds torch first)."""
    return ViTForImageClassification(build_config(spec))


def build_processor(spec: TinyViTSpec) -> ViTImageProcessor:
    """The reference model's preprocessing at the tiny model's input size.

    Bilinear resize, rescale by 1/255, normalise with mean = std = 0.5.
    """
    return ViTImageProcessor(
        do_resize=True,
        size={"height": spec.image_size, "width": spec.image_size},
        resample=2,  # PIL bilinear, like the reference processor
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )


def count_parameters(model: ViTForImageClassification) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
