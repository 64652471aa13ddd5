"""PyTorch reference backend on the bundle's Hugging Face directory (CUDA when present, fp16 there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from emotion_service.backends import warmup_batches
from emotion_service.bundle import Bundle
from servicekit.errors import FailedPrecondition


class TorchBackend:
    """``ViTForImageClassification`` in eval mode; ``run`` is thread-safe (inference mode, no state)."""

    name = "torch"

    def __init__(self, bundle: Bundle, *, device: str = "auto", precision: str = "fp32", threads: int = 0) -> None:
        import torch
        from transformers import ViTForImageClassification

        if bundle.hf_dir is None:
            raise FailedPrecondition(
                f"the bundle at {bundle.path} has no HF directory; re-export it without --no-hf for the torch backend"
            )
        has_cuda = torch.cuda.is_available()
        if device == "tensorrt":
            raise FailedPrecondition("device 'tensorrt' is an onnxruntime provider; torch runs on cpu or cuda")
        if device == "cuda" and not has_cuda:
            raise FailedPrecondition("device 'cuda' requested but torch sees no CUDA device; use --device cpu or auto")
        target = "cuda" if device == "cuda" or (device == "auto" and has_cuda) else "cpu"
        if precision not in ("fp32", "fp16"):
            raise FailedPrecondition(f"the torch backend runs fp32 or fp16 (fp16 on CUDA), not {precision!r}")
        if precision == "fp16" and target != "cuda":
            raise FailedPrecondition("precision 'fp16' on the torch backend needs CUDA; use fp32 on cpu")
        if threads > 0:
            torch.set_num_threads(threads)  # process-wide: torch has one intra-op pool
        self._torch = torch
        self._dtype = torch.float16 if precision == "fp16" else torch.float32
        model = ViTForImageClassification.from_pretrained(bundle.hf_dir, use_safetensors=True, trust_remote_code=False)
        self._model = model.to(device=target, dtype=self._dtype).eval()
        self._device = torch.device(target)
        prep = bundle.preprocessing
        self.input_shape = (3, prep.height, prep.width)
        self.num_labels = bundle.num_labels
        self.execution_provider = target
        self.providers: tuple[str, ...] = (target,)
        self.precision = precision

    def run(self, pixels: np.ndarray) -> np.ndarray:
        """float32 ``[N, 3, H, W]`` -> float32 logits ``[N, num_labels]``."""
        if pixels.dtype != np.float32 or pixels.ndim != 4 or tuple(pixels.shape[1:]) != self.input_shape:
            raise ValueError(
                f"expected float32 [N, {', '.join(map(str, self.input_shape))}], got {pixels.dtype} {pixels.shape}"
            )
        return self.run_device(self._torch.from_numpy(np.ascontiguousarray(pixels)))

    def run_device(self, batch: Any) -> np.ndarray:
        """A float32 torch tensor ``[N, 3, H, W]`` on any device -> float32 logits on the host."""
        torch = self._torch
        with torch.inference_mode():
            inputs = batch.to(self._device, dtype=self._dtype, non_blocking=True)
            logits = self._model(pixel_values=inputs).logits
            out: np.ndarray = logits.float().cpu().numpy()
        return out

    def warmup(self, batch_sizes: Sequence[int] = (1,)) -> float:
        """Run each batch size once (allocations, cuDNN/cuBLAS autotuning); returns seconds."""
        return warmup_batches(self, self.input_shape, batch_sizes)

    def __repr__(self) -> str:
        return f"TorchBackend(device={self.execution_provider!r}, precision={self.precision!r})"
