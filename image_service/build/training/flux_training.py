"""Two-phase training of a tiny FLUX pipeline: autoencoder first, then rectified flow.

Phase 1 trains the ``AutoencoderKL`` briefly on faces (reconstruction + small KL), then freezes it,
encodes the whole dataset once and stores the latent shift/scale in the VAE config, exactly where
``FluxPipeline`` reads them when decoding.

Phase 2 trains the ``FluxTransformer2DModel`` together with both text encoders (frozen random
encoders give the seven prompts nearly identical embeddings) with the rectified-flow objective:
``x_t = (1 - s) x0 + s noise``, target ``noise - x0``, noise level ``s`` logit-normal in (0, 1) and
fed to the transformer as the pipeline does (``timestep / 1000`` = ``s``). Prompts go through the
pipeline's own ``encode_prompt`` and latents through its ``_pack_latents`` /
``_prepare_latent_image_ids``, so training sees what inference sees. 10 % of prompts are replaced
by ``""`` so that classifier-free guidance (``negative_prompt=""`` with ``true_cfg_scale``) works.
An EMA of all trained weights is what gets saved.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from diffusers import FluxPipeline
from torch import nn

from image_service.build.training.prompts import training_prompt

Log = Callable[[str], None]


@dataclass(frozen=True)
class VaeRecipe:
    """Autoencoder phase settings."""

    steps: int = 1500
    batch_size: int = 16
    lr: float = 2e-3
    warmup: int = 50
    kl_weight: float = 1e-5
    max_seconds: float = float("inf")


@dataclass(frozen=True)
class DecoderRecipe:
    """Optional decoder-only fine-tuning (encoder frozen, so the latent space does not move)."""

    steps: int = 0
    batch_size: int = 16
    lr: float = 5e-4
    latent_noise: float = 0.1
    max_seconds: float = float("inf")


@dataclass(frozen=True)
class FlowRecipe:
    """Rectified-flow phase settings."""

    steps: int = 6000
    batch_size: int = 64
    lr: float = 1e-3
    text_lr: float = 1e-3
    warmup: int = 200
    final_lr_fraction: float = 0.1
    weight_decay: float = 0.01
    ema_decay: float = 0.999
    prompt_dropout: float = 0.1
    canonical_prompt_p: float = 0.5
    logit_normal_mean: float = 0.0
    logit_normal_std: float = 1.0
    max_sequence_length: int = 16
    grad_clip: float = 1.0
    max_seconds: float = float("inf")


def _lr_factor(step: int, warmup: int, total: int, final: float) -> float:
    """Linear warm-up, then cosine decay to ``final`` of the peak."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _window(losses: list[float], cap: int = 100) -> int:
    """Length of the first/last stretch of losses that summary metrics average over."""
    return min(cap, max(1, len(losses) // 4))


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[n, h, w, 3]`` -> float ``[n, 3, h, w]`` in [-1, 1] (the VAE's input range)."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def train_vae(pipe: FluxPipeline, images: np.ndarray, recipe: VaeRecipe, seed: int, log: Log) -> dict[str, float | int]:
    """Train ``pipe.vae`` in place on ``images`` (uint8 NHWC); return summary metrics."""
    vae = pipe.vae
    vae.train()
    rng = np.random.default_rng([seed, 1])
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(vae.parameters(), lr=recipe.lr, weight_decay=0.0)
    data = images_to_tensor(images)
    start = time.monotonic()
    losses: list[float] = []
    step = 0
    for step in range(recipe.steps):
        for group in opt.param_groups:
            group["lr"] = recipe.lr * _lr_factor(step, recipe.warmup, recipe.steps, 0.05)
        x = data[rng.integers(0, len(data), recipe.batch_size)]
        dist = vae.encode(x).latent_dist
        recon = vae.decode(dist.sample(gen)).sample
        # L1 keeps thin strokes (brows, mouth lines) sharper than MSE alone.
        rec = (recon - x).pow(2).mean() + 0.5 * (recon - x).abs().mean()
        loss = rec + recipe.kl_weight * dist.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(rec.item())
        if step % 100 == 0 or step == recipe.steps - 1:
            log(f"vae step {step} rec {np.mean(losses[-100:]):.4f} ({time.monotonic() - start:.0f}s)")
        if time.monotonic() - start > recipe.max_seconds:
            log(f"vae: time budget reached at step {step}")
            break
    vae.eval()
    vae.requires_grad_(False)
    return {
        "vae_steps": step + 1,
        "vae_seconds": round(time.monotonic() - start, 1),
        "vae_rec_loss_first": float(np.mean(losses[: _window(losses)])),
        "vae_rec_loss_last": float(np.mean(losses[-_window(losses) :])),
    }


def finetune_decoder(
    pipe: FluxPipeline, images: np.ndarray, recipe: DecoderRecipe, seed: int, log: Log
) -> dict[str, float | int]:
    """Sharpen ``pipe.vae``'s decoder with the encoder frozen; return summary metrics.

    The latents the transformer learns stay exactly the same, so this can run before or after the
    flow phase. A little latent noise (relative to the latent std) makes the decoder tolerant of
    the generator's small errors.
    """
    vae = pipe.vae
    if recipe.steps <= 0:
        return {}
    vae.decoder.train().requires_grad_(True)
    rng = np.random.default_rng([seed, 3])
    gen = torch.Generator().manual_seed(seed + 3)
    opt = torch.optim.AdamW(vae.decoder.parameters(), lr=recipe.lr, weight_decay=0.0)
    data = images_to_tensor(images)
    start = time.monotonic()
    losses: list[float] = []
    step = 0
    for step in range(recipe.steps):
        for group in opt.param_groups:
            group["lr"] = recipe.lr * _lr_factor(step, 20, recipe.steps, 0.05)
        x = data[rng.integers(0, len(data), recipe.batch_size)]
        with torch.no_grad():
            z = vae.encode(x).latent_dist.mode()
            z = z + recipe.latent_noise * z.std() * torch.randn(z.shape, generator=gen)
        recon = vae.decode(z).sample
        loss = (recon - x).pow(2).mean() + 0.5 * (recon - x).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == recipe.steps - 1:
            log(f"decoder step {step} rec {np.mean(losses[-100:]):.4f} ({time.monotonic() - start:.0f}s)")
        if time.monotonic() - start > recipe.max_seconds:
            log(f"decoder: time budget reached at step {step}")
            break
    vae.eval().requires_grad_(False)
    return {
        "decoder_steps": step + 1,
        "decoder_seconds": round(time.monotonic() - start, 1),
        "decoder_rec_loss_first": float(np.mean(losses[: _window(losses)])),
        "decoder_rec_loss_last": float(np.mean(losses[-_window(losses) :])),
    }


@torch.no_grad()
def encode_latents(pipe: FluxPipeline, images: np.ndarray, batch_size: int = 64) -> torch.Tensor:
    """Encode faces to raw VAE latent means ``[n, c, h/f, w/f]`` (no shift/scale applied)."""
    chunks = [
        pipe.vae.encode(images_to_tensor(images[i : i + batch_size])).latent_dist.mode()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks)


def set_latent_normalisation(pipe: FluxPipeline, raw: torch.Tensor) -> torch.Tensor:
    """Store shift/scale that make ``raw`` zero-mean, unit-variance in the VAE config; return normalised.

    ``FluxPipeline`` decodes ``latents / scaling_factor + shift_factor``, so these must live in the
    config that ``save_pretrained`` writes.
    """
    shift = round(float(raw.mean()), 6)
    scale = round(float(1.0 / raw.std()), 6)
    pipe.vae.register_to_config(shift_factor=shift, scaling_factor=scale)
    normalised: torch.Tensor = (raw - shift) * scale
    return normalised


class Ema:
    """Exponential moving average of a set of modules' parameters (with the usual warm-up)."""

    def __init__(self, modules: Iterable[nn.Module], decay: float) -> None:
        self.modules = list(modules)
        self.shadow = [copy.deepcopy(m).requires_grad_(False) for m in self.modules]
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Blend the live weights into the average."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for live, avg in zip(self.modules, self.shadow, strict=True):
            for p_avg, p in zip(avg.parameters(), live.parameters(), strict=True):
                p_avg.lerp_(p, 1.0 - d)

    @torch.no_grad()
    def copy_to_live(self) -> list[list[torch.Tensor]]:
        """Load the averages into the live modules; return the live weights for :meth:`restore`."""
        backup = [[p.detach().clone() for p in m.parameters()] for m in self.modules]
        for live, avg in zip(self.modules, self.shadow, strict=True):
            for p, p_avg in zip(live.parameters(), avg.parameters(), strict=True):
                p.copy_(p_avg)
        return backup

    @torch.no_grad()
    def restore(self, backup: list[list[torch.Tensor]]) -> None:
        """Undo :meth:`copy_to_live`."""
        for live, saved in zip(self.modules, backup, strict=True):
            for p, q in zip(live.parameters(), saved, strict=True):
                p.copy_(q)


def flow_loss(
    pipe: FluxPipeline,
    latents: torch.Tensor,
    prompts: list[str],
    gen: torch.Generator,
    recipe: FlowRecipe,
) -> torch.Tensor:
    """Rectified-flow loss of the pipeline's transformer on normalised latents ``[b, c, h, w]``."""
    b, c, h, w = latents.shape
    unique = sorted(set(prompts))
    embeds, pooled, text_ids = pipe.encode_prompt(
        prompt=unique, prompt_2=unique, device=latents.device, max_sequence_length=recipe.max_sequence_length
    )
    where = torch.tensor([unique.index(p) for p in prompts])
    noise = torch.randn(latents.shape, generator=gen)
    sigma = torch.sigmoid(recipe.logit_normal_mean + recipe.logit_normal_std * torch.randn(b, generator=gen))
    s = sigma.view(b, 1, 1, 1)
    noisy = (1.0 - s) * latents + s * noise
    packed = pipe._pack_latents(noisy, b, c, h, w)
    target = pipe._pack_latents(noise - latents, b, c, h, w)
    img_ids = pipe._prepare_latent_image_ids(b, h // 2, w // 2, latents.device, latents.dtype)
    guidance = torch.full((b,), 1.0) if pipe.transformer.config.guidance_embeds else None
    pred = pipe.transformer(
        hidden_states=packed,
        timestep=sigma,  # the pipeline passes timestep / 1000 == sigma
        guidance=guidance,
        pooled_projections=pooled[where],
        encoder_hidden_states=embeds[where],
        txt_ids=text_ids,
        img_ids=img_ids,
        return_dict=False,
    )[0]
    loss: torch.Tensor = (pred - target).pow(2).mean()
    return loss


def train_flow(
    pipe: FluxPipeline,
    latents: torch.Tensor,
    labels: np.ndarray,
    recipe: FlowRecipe,
    seed: int,
    log: Log,
    checkpoint: Callable[[int], None] | None = None,
    checkpoint_every: int = 0,
) -> tuple[Ema, dict[str, object]]:
    """Train transformer + text encoders in place; return the EMA and summary metrics.

    ``checkpoint(step)`` is called every ``checkpoint_every`` steps with EMA weights loaded.
    """
    trained: list[nn.Module] = [pipe.transformer, pipe.text_encoder, pipe.text_encoder_2]
    ema = Ema(trained, recipe.ema_decay)
    if recipe.steps <= 0:
        return ema, {"flow_steps": 0}
    for m in trained:
        m.train().requires_grad_(True)
    opt = torch.optim.AdamW(
        [
            {"params": list(pipe.transformer.parameters()), "lr": recipe.lr, "base_lr": recipe.lr},
            {
                "params": [*pipe.text_encoder.parameters(), *pipe.text_encoder_2.parameters()],
                "lr": recipe.text_lr,
                "base_lr": recipe.text_lr,
            },
        ],
        weight_decay=recipe.weight_decay,
    )
    params = [p for m in trained for p in m.parameters()]
    rng = np.random.default_rng([seed, 2])
    gen = torch.Generator().manual_seed(seed + 2)
    start = time.monotonic()
    losses: list[float] = []
    step = 0
    for step in range(recipe.steps):
        factor = _lr_factor(step, recipe.warmup, recipe.steps, recipe.final_lr_fraction)
        for group in opt.param_groups:
            group["lr"] = group["base_lr"] * factor
        idx = rng.integers(0, len(latents), recipe.batch_size)
        prompts = [
            ""
            if rng.random() < recipe.prompt_dropout
            else training_prompt(int(labels[i]), rng, recipe.canonical_prompt_p)
            for i in idx
        ]
        loss = flow_loss(pipe, latents[idx], prompts, gen, recipe)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(params, recipe.grad_clip)
        opt.step()
        ema.update()
        losses.append(loss.item())
        if step % 50 == 0 or step == recipe.steps - 1:
            rate = (step + 1) / (time.monotonic() - start)
            log(f"flow step {step} loss {np.mean(losses[-50:]):.4f} lr {factor * recipe.lr:.2e} ({rate:.2f} it/s)")
        if checkpoint is not None and checkpoint_every and (step + 1) % checkpoint_every == 0:
            _with_ema(ema, trained, functools.partial(checkpoint, step + 1))
        if time.monotonic() - start > recipe.max_seconds:
            log(f"flow: time budget reached at step {step}")
            break
    for m in trained:
        m.eval().requires_grad_(False)
    return ema, {
        "flow_steps": step + 1,
        "flow_seconds": round(time.monotonic() - start, 1),
        "flow_loss_first": float(np.mean(losses[: _window(losses, 200)])),
        "flow_loss_last": float(np.mean(losses[-_window(losses, 200) :])),
    }


def _with_ema(ema: Ema, modules: list[nn.Module], fn: Callable[[], None]) -> None:
    """Run ``fn`` with EMA weights loaded and modules in eval mode, then restore."""
    backup = ema.copy_to_live()
    for m in modules:
        m.eval()
    try:
        fn()
    finally:
        ema.restore(backup)
        for m in modules:
            m.train()


def recipe_dict(vae: VaeRecipe, decoder: DecoderRecipe, flow: FlowRecipe) -> dict[str, object]:
    """Both recipes as plain JSON-able dicts (for the manifest)."""

    def clean(d: dict[str, object]) -> dict[str, object]:
        return {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in d.items()}

    return {"vae": clean(asdict(vae)), "decoder": clean(asdict(decoder)), "flow": clean(asdict(flow))}
