"""The transformer's tensor signature shared by the ONNX export, ONNX Runtime and TensorRT.

FLUX.1's ``FluxTransformer2DModel`` is called by the diffusers pipelines with keyword tensors; the exported
graph takes them positionally under fixed names (the names NVIDIA's TensorRT diffusion demo uses) and
returns one tensor, the velocity prediction. :class:`StandInTransformer` is what a pipeline sees in place
of the torch module when another runtime computes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

BASE_INPUTS: tuple[str, ...] = (
    "hidden_states",
    "encoder_hidden_states",
    "pooled_projections",
    "timestep",
    "img_ids",
    "txt_ids",
)
GUIDANCE_INPUT = "guidance"
OUTPUT_NAME = "sample"
ONNX_FILE = "transformer.onnx"
"""The exported transformer's file name inside an export directory (written at build time, read when serving)."""
# Which axis of each input is the batch (B), image-sequence (S) or text-sequence (T) dimension.
DYNAMIC_AXES: dict[str, dict[int, str]] = {
    "hidden_states": {0: "batch", 1: "img_seq"},
    "encoder_hidden_states": {0: "batch", 1: "txt_seq"},
    "pooled_projections": {0: "batch"},
    "timestep": {0: "batch"},
    "img_ids": {0: "img_seq"},
    "txt_ids": {0: "txt_seq"},
    "guidance": {0: "batch"},
}


def input_names(guidance_embeds: bool) -> tuple[str, ...]:
    """Graph input names, in order, for a transformer with or without a guidance embedding."""
    return (*BASE_INPUTS, GUIDANCE_INPUT) if guidance_embeds else BASE_INPUTS


def example_inputs(
    config: Any, batch: int, img_seq: int, txt_seq: int, dtype: torch.dtype, device: Any
) -> tuple[torch.Tensor, ...]:
    """Random inputs of the given sizes for a transformer with ``config`` (positional, graph order)."""
    gen = torch.Generator("cpu").manual_seed(1234)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device=device, dtype=dtype)

    tensors = [
        rnd(batch, img_seq, config.in_channels),
        rnd(batch, txt_seq, config.joint_attention_dim),
        rnd(batch, config.pooled_projection_dim),
        torch.rand(batch, generator=gen).to(device=device, dtype=dtype),
        # Position ids like the pipeline's: (0, row, col) for image tokens, zeros for text tokens.
        torch.stack([torch.zeros(img_seq), torch.arange(img_seq) // 8, torch.arange(img_seq) % 8], dim=1).to(
            device=device, dtype=dtype
        ),
        torch.zeros(txt_seq, 3).to(device=device, dtype=dtype),
    ]
    if config.guidance_embeds:
        tensors.append(torch.full((batch,), 3.5).to(device=device, dtype=torch.float32))
    return tuple(tensors)


class ExportWrapper(torch.nn.Module):
    """Positional-tensor front of a ``FluxTransformer2DModel`` for ``torch.onnx.export``."""

    def __init__(self, transformer: torch.nn.Module, guidance_embeds: bool) -> None:
        super().__init__()
        self.transformer = transformer
        self.guidance_embeds = guidance_embeds

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        timestep: torch.Tensor,
        img_ids: torch.Tensor,
        txt_ids: torch.Tensor,
        guidance: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Run the transformer on the graph inputs (``guidance`` only with a guidance embedding)."""
        out = self.transformer(
            hidden_states=hidden_states,
            encoder_hidden_states=encoder_hidden_states,
            pooled_projections=pooled_projections,
            timestep=timestep,
            img_ids=img_ids,
            txt_ids=txt_ids,
            guidance=guidance if self.guidance_embeds else None,
            return_dict=False,
        )
        return out[0]  # type: ignore[no-any-return]


class StandInTransformer(torch.nn.Module):
    """Looks like ``FluxTransformer2DModel`` to a diffusers pipeline; subclasses compute the output.

    diffusers reads ``config`` (``in_channels``, ``guidance_embeds``), ``dtype`` and ``device`` (for the
    execution device), enters ``cache_context(name)`` around each call and takes ``[0]`` of the result.
    """

    def __init__(self, config: Any, dtype: torch.dtype, device: torch.device) -> None:
        super().__init__()
        self.config = config
        self._dtype = dtype
        self._device = device
        self.calls = 0

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the tensors the pipeline feeds and receives."""
        return self._dtype

    @property
    def device(self) -> torch.device:
        """Device the pipeline keeps its latents on."""
        return self._device

    @contextlib.contextmanager
    def cache_context(self, name: str) -> Iterator[None]:
        """No cache: a no-op context (diffusers' cache hooks do not apply to an external runtime)."""
        yield

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        pooled_projections: torch.Tensor,
        timestep: torch.Tensor,
        img_ids: torch.Tensor,
        txt_ids: torch.Tensor,
        guidance: torch.Tensor | None = None,
        joint_attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = False,
        **_: Any,
    ) -> tuple[torch.Tensor]:
        """Gather the named inputs, run them, return ``(sample,)`` like the torch module."""
        if joint_attention_kwargs:
            unsupported = sorted(joint_attention_kwargs)
            raise NotImplementedError(f"joint_attention_kwargs {unsupported} (LoRA, IP-adapter) need the torch backend")
        # diffusers' deprecated 3-D ids: the first row is the shared one.
        img_ids = img_ids[0] if img_ids.ndim == 3 else img_ids
        txt_ids = txt_ids[0] if txt_ids.ndim == 3 else txt_ids
        feeds = {
            "hidden_states": hidden_states,
            "encoder_hidden_states": encoder_hidden_states,
            "pooled_projections": pooled_projections,
            "timestep": timestep,
            "img_ids": img_ids,
            "txt_ids": txt_ids,
        }
        if self.config.guidance_embeds:
            if guidance is None:
                raise ValueError("this transformer has a guidance embedding: guidance is required")
            feeds["guidance"] = guidance
        self.calls += 1
        return (self.run(feeds),)

    def run(self, feeds: dict[str, torch.Tensor]) -> torch.Tensor:
        """Compute the velocity prediction for ``feeds`` (implemented by each runtime)."""
        raise NotImplementedError
