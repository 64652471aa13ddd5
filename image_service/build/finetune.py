"""Fine-tune a FLUX variant on a folder of captioned images: a LoRA adapter the image service serves.

``python -m image_service.build.finetune --data DIR --out DIR [--variant tiny-flux] [--variant-dir PATH]
[--rank 8] [--steps 300] [--batch-size 8] [--lr 1e-3] [--size 64] [--checkpoint-every 50]``

``--data`` holds images (PNG/JPEG/WebP) with their captions, either as ``NAME.txt`` next to each
``NAME.png`` or as a ``metadata.jsonl`` of ``{"file_name": ..., "text": ...}`` lines (the Hugging
Face ImageFolder layout). The base pipeline stays frozen; peft adds low-rank matrices to the
transformer's attention projections and only those train, with the rectified-flow objective the
embedded model was trained with (``image_service.build.training.flux_training.flow_loss``).

Training is resumable: every ``--checkpoint-every`` steps the adapter, the optimiser and the random
state go to ``OUT/checkpoints/step-N/``; a later run with the same ``--out`` continues from the
newest one. The result, ``OUT/pytorch_lora_weights.safetensors`` (diffusers' LoRA layout) with
``OUT/adapter_manifest.json`` (base, data, recipe, losses, versions, digests), is served with
``python -m image_service --lora NAME=OUT``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from image_service.adapters import ADAPTER_FILE, ADAPTER_MANIFEST
from image_service.build.training.flux_training import FlowRecipe, encode_latents, flow_loss
from image_service.pipeline import load_pipeline
from image_service.sources import VariantSource, parse_pairs, resolve
from servicekit.errors import InvalidInput
from servicekit.provenance import library_versions, sha256_file

ADAPTER_NAME = "finetune"  # the adapter's name while training (must not clash with nn.Module attributes)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CHECKPOINTS = "checkpoints"
# Attention projections of both FLUX block kinds (double-stream and single-stream).
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out")
LIBRARIES = ("torch", "diffusers", "transformers", "peft", "safetensors")

Log = Callable[[str], None]


@dataclass(frozen=True)
class LoraRecipe:
    """What and how long to train."""

    rank: int = 8
    alpha: int = 8
    steps: int = 300
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    size: int = 64
    seed: int = 0
    max_sequence_length: int = 16
    logit_normal_mean: float = 0.0
    logit_normal_std: float = 1.0
    target_modules: tuple[str, ...] = TARGET_MODULES


@dataclass
class CaptionedImages:
    """A training set: uint8 images ``[n, size, size, 3]``, one caption each, and where they came from."""

    images: np.ndarray
    captions: list[str]
    files: list[str] = field(default_factory=list)


def read_captions(folder: Path) -> dict[str, str]:
    """Caption per image file name: ``metadata.jsonl`` when present, else ``NAME.txt`` beside each image."""
    metadata = folder / "metadata.jsonl"
    if metadata.is_file():
        captions: dict[str, str] = {}
        for number, line in enumerate(metadata.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or "file_name" not in row or "text" not in row:
                raise InvalidInput(f"{metadata}:{number}: expected {{'file_name': ..., 'text': ...}}")
            captions[str(row["file_name"])] = str(row["text"])
        return captions
    captions = {}
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() in IMAGE_SUFFIXES:
            text = image.with_suffix(".txt")
            if not text.is_file():
                raise InvalidInput(f"{image}: no caption ({text.name} or metadata.jsonl)")
            captions[image.name] = text.read_text().strip()
    return captions


def load_images(folder: Path, size: int) -> CaptionedImages:
    """Load every captioned image of ``folder``, centre-cropped to a square and resized to ``size``."""
    if not folder.is_dir():
        raise InvalidInput(f"data: {folder} is not a directory")
    captions = read_captions(folder)
    if not captions:
        raise InvalidInput(f"data: {folder} holds no captioned images ({', '.join(IMAGE_SUFFIXES)})")
    arrays = []
    for name in sorted(captions):
        with Image.open(folder / name) as image:
            rgb = image.convert("RGB")
        side = min(rgb.size)
        left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
        square = rgb.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
        arrays.append(np.asarray(square, dtype=np.uint8))
    names = sorted(captions)
    return CaptionedImages(np.stack(arrays), [captions[n] for n in names], names)


def normalised_latents(pipe: Any, images: np.ndarray) -> torch.Tensor:
    """VAE latents of ``images`` with the pipeline's own shift and scale (as its decoder expects)."""
    raw = encode_latents(pipe, images)
    config = pipe.vae.config
    shift = float(getattr(config, "shift_factor", 0.0) or 0.0)
    latents: torch.Tensor = (raw - shift) * float(config.scaling_factor)
    return latents


def add_lora(transformer: Any, recipe: LoraRecipe) -> list[torch.nn.Parameter]:
    """Freeze ``transformer`` and add a trainable LoRA adapter; return its parameters."""
    from peft import LoraConfig

    transformer.requires_grad_(False)
    # peft matches names by suffix and skips absent ones (single-stream blocks have no add_*_proj).
    config = LoraConfig(
        r=recipe.rank, lora_alpha=recipe.alpha, init_lora_weights="gaussian", target_modules=list(recipe.target_modules)
    )
    transformer.add_adapter(config, adapter_name=ADAPTER_NAME)
    transformer.set_adapters([ADAPTER_NAME])
    params = [p for name, p in transformer.named_parameters() if "lora_" in name]
    for p in params:
        p.requires_grad_(True)
    return params


def adapter_state(transformer: Any) -> dict[str, torch.Tensor]:
    """The adapter's weights in peft's layout (``...lora_A.weight``), detached and contiguous."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(transformer, adapter_name=ADAPTER_NAME)
    return {k: v.detach().contiguous() for k, v in state.items()}


def latest_checkpoint(out: Path) -> Path | None:
    """The newest ``OUT/checkpoints/step-N`` directory with a complete checkpoint, or None."""
    found = [p for p in (out / CHECKPOINTS).glob("step-*") if (p / "state.json").is_file()]
    return max(found, key=lambda p: int(p.name.split("-")[1]), default=None)


def save_checkpoint(
    out: Path, step: int, transformer: Any, optimiser: torch.optim.Optimizer, state: dict[str, Any]
) -> Path:
    """Write a resumable checkpoint (adapter, optimiser, rng and loss history); ``state.json`` last."""
    target = out / CHECKPOINTS / f"step-{step}"
    target.mkdir(parents=True, exist_ok=True)
    save_file(adapter_state(transformer), str(target / "adapter.safetensors"))
    torch.save(optimiser.state_dict(), target / "optimizer.pt")
    # The marker of a complete checkpoint is written after everything it vouches for.
    (target / "state.json").write_text(json.dumps({**state, "step": step}))
    return target


def restore_checkpoint(path: Path, transformer: Any, optimiser: torch.optim.Optimizer) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`; return its state."""
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(transformer, load_file(str(path / "adapter.safetensors")), adapter_name=ADAPTER_NAME)
    optimiser.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
    state: dict[str, Any] = json.loads((path / "state.json").read_text())
    return state


def train_adapter(
    pipe: Any,
    data: CaptionedImages,
    recipe: LoraRecipe,
    out: Path,
    *,
    checkpoint_every: int = 0,
    progress: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """Train a LoRA on ``pipe``'s transformer in place (resuming from ``out``'s checkpoints); return metrics."""
    torch.manual_seed(recipe.seed)
    latents = normalised_latents(pipe, data.images)
    params = add_lora(pipe.transformer, recipe)
    optimiser = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    flow = FlowRecipe(
        max_sequence_length=recipe.max_sequence_length,
        logit_normal_mean=recipe.logit_normal_mean,
        logit_normal_std=recipe.logit_normal_std,
    )
    rng = np.random.default_rng([recipe.seed, 7])
    gen = torch.Generator().manual_seed(recipe.seed + 7)
    losses: list[float] = []
    start_step = 0
    resumed = latest_checkpoint(out)
    if resumed is not None:
        state = restore_checkpoint(resumed, pipe.transformer, optimiser)
        start_step = int(state["step"])
        losses = [float(x) for x in state["losses"]]
        rng.bit_generator.state = state["numpy_rng"]
        gen.set_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
        log(f"resumed from {resumed} at step {start_step}")
    pipe.transformer.train()
    started = time.monotonic()
    bar = tqdm(total=recipe.steps, initial=start_step, desc="lora", unit="step", disable=not progress, file=sys.stderr)
    for step in range(start_step, recipe.steps):
        idx = rng.integers(0, len(latents), recipe.batch_size)
        loss = flow_loss(pipe, latents[idx], [data.captions[int(i)] for i in idx], gen, flow)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, recipe.grad_clip)
        optimiser.step()
        losses.append(float(loss.item()))
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        if checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < recipe.steps:
            state = {
                "losses": losses,
                "numpy_rng": rng.bit_generator.state,
                "torch_rng": gen.get_state().tolist(),
            }
            save_checkpoint(out, step + 1, pipe.transformer, optimiser, state)
    bar.close()
    pipe.transformer.eval()
    window = max(1, min(20, len(losses) // 4))
    return {
        "steps": recipe.steps,
        "resumed_from_step": start_step,
        "seconds_this_run": round(time.monotonic() - started, 1),
        "loss_first": round(float(np.mean(losses[:window])), 5) if losses else None,
        "loss_last": round(float(np.mean(losses[-window:])), 5) if losses else None,
    }


def save_adapter(pipe: Any, out: Path, manifest: dict[str, Any]) -> Path:
    """Write the adapter in diffusers' LoRA layout and its manifest; return the weights file."""
    out.mkdir(parents=True, exist_ok=True)
    type(pipe).save_lora_weights(str(out), transformer_lora_layers=adapter_state(pipe.transformer))
    weights = out / ADAPTER_FILE
    manifest = {**manifest, "adapter_file": ADAPTER_FILE, "adapter_sha256": sha256_file(weights)}
    (out / ADAPTER_MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return weights


def base_provenance(source: VariantSource) -> dict[str, Any]:
    """Where the base weights came from, with the transformer's digest when local."""
    info: dict[str, Any] = {"variant": source.spec.name, "location": source.location, "local": source.local}
    if source.local:
        weights = sorted((source.path / "transformer").glob("*.safetensors"))
        info["transformer_sha256"] = {w.name: sha256_file(w) for w in weights}
        info["weights_origin"] = source.spec.weights_origin.value
    return info


def finetune(
    source: VariantSource,
    data_dir: Path,
    out: Path,
    recipe: LoraRecipe,
    *,
    description: str = "",
    checkpoint_every: int = 0,
    progress: bool = True,
    log: Log = print,
) -> Path:
    """Train and save an adapter for ``source`` on ``data_dir``; return the weights file."""
    data = load_images(data_dir, recipe.size)
    pipe = load_pipeline(source, torch.float32)
    log(f"{len(data.captions)} captioned images from {data_dir}; base {source.spec.name} ({source.location})")
    metrics = train_adapter(pipe, data, recipe, out, checkpoint_every=checkpoint_every, progress=progress, log=log)
    manifest = {
        "kind": "lora",
        "base_variant": source.spec.name,
        "base": base_provenance(source),
        "description": description,
        "data": {
            "folder": str(data_dir),
            "images": len(data.captions),
            "captions": sorted(set(data.captions))[:20],
        },
        "recipe": asdict(recipe),
        "metrics": metrics,
        "versions": library_versions(LIBRARIES),
        "command": "python -m image_service.build.finetune " + shlex.join(sys.argv[1:]),
    }
    weights = save_adapter(pipe, out, manifest)
    log(f"adapter written to {weights}")
    return weights


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of images with captions")
    p.add_argument("--out", type=Path, required=True, help="where the adapter and checkpoints go")
    p.add_argument("--variant", default="tiny-flux", help="base variant (default tiny-flux)")
    p.add_argument("--variant-dir", default=None, help="local diffusers directory of the base variant")
    p.add_argument("--models-dir", type=Path, default=Path("build/models/image"))
    p.add_argument("--description", default="", help="what the adapter teaches (goes into its manifest)")
    p.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints (0 = none)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    defaults = LoraRecipe()
    for name in ("rank", "alpha", "steps", "batch_size", "size", "seed", "max_sequence_length"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    for name in ("lr",):
        p.add_argument(f"--{name}", type=float, default=getattr(defaults, name))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    args = parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    pairs = parse_pairs([f"{args.variant}={args.variant_dir}"] if args.variant_dir else [], "variant_dir")
    source = resolve(args.variant, pairs, args.models_dir)
    recipe = LoraRecipe(
        rank=args.rank,
        alpha=args.alpha,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        size=args.size,
        seed=args.seed,
        max_sequence_length=args.max_sequence_length,
    )
    finetune(
        source,
        args.data,
        args.out,
        recipe,
        description=args.description,
        checkpoint_every=args.checkpoint_every,
        progress=not args.no_progress,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
