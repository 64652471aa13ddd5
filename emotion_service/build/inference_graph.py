"""The module that is exported to ONNX: the classifier reduced to the work its logits need.

``ViTForImageClassification`` runs every token through every layer and then reads only the final
state of the [CLS] token. Tokens do not mix after the last attention, so in the last layer only the
[CLS] query, its attention row, the output projection, the MLP and the final LayerNorm are needed.
Keys and values still come from every token. Restricting the rest to [CLS] is exact: the logits are
the same function of the pixels, and the export's fp32 parity check (max |logit diff| <= 1e-4 against
the unmodified PyTorch model) enforces it. On ViT-B/16 this removes about 1/12 of the matrix
multiplications (the same saving as dropping one layer).

Attention is exported in its eager form (matmul, softmax, matmul). torch.onnx's decomposition of
``scaled_dot_product_attention`` adds a NaN guard (IsNaN + Where over every score) and more
transposes: 1-13 % of an int8 CPU run, depending on how busy the machine is (docs/emotion.md).

Any model that does not have the expected layout is exported whole, through :func:`logits_only`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

FULL = "full"
CLS_ONLY_LAST_LAYER = "cls-only-last-layer"

# The attribute paths the [CLS]-only form reads (transformers 5 layout of ViTForImageClassification).
_LAYER_PARTS = (
    "layernorm_before",
    "layernorm_after",
    "attention.q_proj",
    "attention.k_proj",
    "attention.v_proj",
    "attention.o_proj",
    "attention.head_dim",
    "attention.scaling",
    "mlp",
)


def logits_only(model: Any) -> Any:
    """The whole model as a module with one input (pixel_values) and one output (logits)."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            logits: torch.Tensor = self.inner(pixel_values=pixel_values).logits
            return logits

    return LogitsOnly(model).eval()


def _has(obj: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def supports_cls_only(model: Any) -> bool:
    """Whether ``model`` has the ViT layout (embeddings, layers, final LayerNorm, linear classifier)."""
    vit = getattr(model, "vit", None)
    layers = getattr(vit, "layers", None)
    if vit is None or not layers or not all(_has(vit, p) for p in ("embeddings", "layernorm")):
        return False
    if getattr(vit, "pooler", None) is not None or not hasattr(model, "classifier"):
        return False
    return all(_has(layers[-1], p) for p in _LAYER_PARTS)


def cls_only(model: Any) -> Any:
    """``model`` with its last layer computed for the [CLS] token only (see the module docstring)."""
    import torch

    class ClsOnlyLastLayer(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            inner: Any = self.inner  # a transformers model: its submodules are typed by layout, not class
            vit = inner.vit
            hidden = vit.embeddings(pixel_values)
            for layer in vit.layers[:-1]:
                hidden = layer(hidden)
            last = vit.layers[-1]
            attention = last.attention
            normed = last.layernorm_before(hidden)
            batch = normed.shape[0]
            head_dim = attention.head_dim

            def heads(x: torch.Tensor) -> torch.Tensor:  # [B, T, H*D] -> [B, H, T, D]
                return x.view(batch, x.shape[1], -1, head_dim).transpose(1, 2)

            query = heads(attention.q_proj(normed[:, :1]))
            key = heads(attention.k_proj(normed))
            value = heads(attention.v_proj(normed))
            weights = torch.softmax(torch.matmul(query, key.transpose(2, 3)) * attention.scaling, dim=-1)
            attended = torch.matmul(weights, value).transpose(1, 2).reshape(batch, 1, -1)
            cls = attention.o_proj(attended) + hidden[:, :1]
            cls = cls + last.mlp(last.layernorm_after(cls))
            logits: torch.Tensor = inner.classifier(vit.layernorm(cls)[:, 0])
            return logits

    return ClsOnlyLastLayer(model).eval()


def inference_module(model: Any) -> tuple[Any, str]:
    """The module to export and the name of its form (:data:`CLS_ONLY_LAST_LAYER` or :data:`FULL`)."""
    if supports_cls_only(model):
        return cls_only(model), CLS_ONLY_LAST_LAYER
    return logits_only(model), FULL


@contextlib.contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Run ``model``'s attention in its eager form inside the block, restoring the setting after."""
    config = getattr(model, "config", None)
    previous = getattr(config, "_attn_implementation", None)
    if config is None or previous is None:
        yield
        return
    config._attn_implementation = "eager"
    try:
        yield
    finally:
        config._attn_implementation = previous
