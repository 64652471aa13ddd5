"""The exported form of the classifier: [CLS]-only last layer and eager attention, same logits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from emotion_service.build import embedded
from emotion_service.build.export import export_bundle
from emotion_service.build.inference_graph import (
    CLS_ONLY_LAST_LAYER,
    FULL,
    cls_only,
    eager_attention,
    inference_module,
    supports_cls_only,
)
from emotion_service.bundle import Bundle


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return embedded.build_model(embedded.recipe("tiny-random"))


def _pixels(batch: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, 64, 64, generator=g) * 2 - 1


@pytest.mark.parametrize("batch", [1, 3])
def test_cls_only_gives_the_models_logits(model: torch.nn.Module, batch: int) -> None:
    x = _pixels(batch, seed=batch)
    with torch.no_grad():
        reference = model(pixel_values=x).logits
        reduced = cls_only(model)(x)
    assert reduced.shape == reference.shape == (batch, 7)
    assert (reduced - reference).abs().max().item() < 1e-5
    # the reduction is not a copy of the model's own forward: its last layer sees one query token
    assert reference.abs().max().item() > 1e-3


def test_cls_only_tracks_every_weight_of_the_last_layer(model: torch.nn.Module) -> None:
    """Perturbing a weight the [CLS] path reads changes both outputs the same way.

    The perturbation is random: a constant added to every weight would be cancelled by the LayerNorm.
    """
    x = _pixels(2, seed=7)
    last = model.vit.layers[-1]  # type: ignore[union-attr,index]
    original = last.mlp.fc2.weight.detach().clone()
    try:
        with torch.no_grad():
            before = cls_only(model)(x)
            last.mlp.fc2.weight.add_(0.05 * torch.randn(original.shape, generator=torch.Generator().manual_seed(1)))
            after = cls_only(model)(x)
            reference = model(pixel_values=x).logits
    finally:
        with torch.no_grad():
            last.mlp.fc2.weight.copy_(original)
    assert (after - before).abs().max().item() > 1e-3
    assert (after - reference).abs().max().item() < 1e-5


def test_other_layouts_are_exported_whole(model: torch.nn.Module) -> None:
    assert supports_cls_only(model)
    assert inference_module(model)[1] == CLS_ONLY_LAST_LAYER

    class Other(torch.nn.Module):
        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            return pixel_values.mean(dim=(2, 3))

    other = Other()
    assert not supports_cls_only(other)
    module, form = inference_module(other)
    assert form == FULL and module.inner is other


def test_eager_attention_is_restored_even_on_error(model: torch.nn.Module) -> None:
    before = model.config._attn_implementation  # type: ignore[union-attr]
    with pytest.raises(RuntimeError), eager_attention(model):
        assert model.config._attn_implementation == "eager"  # type: ignore[union-attr]
        raise RuntimeError("boom")
    assert model.config._attn_implementation == before  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    out: Path = tmp_path_factory.mktemp("graph") / "tiny-random"
    return export_bundle("tiny-random", out, precisions=("fp32", "int8"), progress=lambda _: None)


def test_exported_graph_is_the_reduced_eager_form(exported: Bundle) -> None:
    assert exported.manifest["graph"] == {"form": CLS_ONLY_LAST_LAYER, "attention": "eager"}
    graph = onnx.load(str(exported.onnx_files["fp32"])).graph
    ops = Counter(node.op_type for node in graph.node)
    # no SDPA NaN guard over the attention scores
    assert ops["IsNaN"] == 0 and ops["Where"] == 0
    layers = exported.manifest["architecture"]["num_hidden_layers"]
    assert ops["Softmax"] == layers
    # the last MLP runs on the [CLS] token alone: its hidden activation is [batch, 1, intermediate]
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(exported.onnx_files["fp32"]))).graph
    intermediate = exported.manifest["architecture"]["intermediate_size"]
    shapes = [[d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim] for v in inferred.value_info]
    mlp = [s for s in shapes if len(s) == 3 and s[2] == intermediate]
    assert [1] in [s[1:2] for s in mlp], mlp  # the [CLS]-only MLP
    assert len([s for s in mlp if s[1] != 1]) >= layers - 1  # every other layer sees all tokens
    assert exported.manifest["parity"]["fp32"]["max_abs_logit_diff"] <= 1e-4
    assert np.isfinite(exported.manifest["parity"]["int8"]["max_abs_prob_diff"])
