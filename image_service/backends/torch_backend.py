"""Transformer on PyTorch: the pipeline's own module, eager or compiled with ``torch.compile``."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("emoflux.image.torch")


class TorchBackend:
    """Keeps the pipeline's transformer; optionally compiles it in place (``nn.Module.compile``)."""

    def __init__(self, *, compile: bool = False, mode: str | None = None) -> None:
        self.compile = compile
        self.mode = mode
        self.name = "torch-compile" if compile else "torch"

    def install(self, pipe: Any) -> None:
        """Compile the transformer in place when asked; the class and ``config`` stay as diffusers expects."""
        if self.compile:
            # In-place compile keeps the module (and its .config) so the pipeline needs no change.
            pipe.transformer.compile(mode=self.mode, dynamic=None)
            log.info("transformer compiled with torch.compile (mode %s)", self.mode or "default")
