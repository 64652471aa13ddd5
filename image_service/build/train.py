"""Train the embedded tiny FLUX pipeline to draw the seven expressions of synthetic faces.

``python -m image_service.build.train --out image_service/embedded/tiny-flux [--flow-minutes 45]``

Builds the tiny pipeline of :data:`TRAINED_CONFIG` (``image_service.build.tinyflux``), trains its
autoencoder briefly on synthetic faces (``synthfaces``, mostly the clean variant), freezes it, then
trains transformer and text encoders with rectified flow (see
``image_service.build.training.flux_training``). The result is a plain diffusers directory loadable with
``FluxPipeline.from_pretrained(out)`` plus ``training_manifest.json`` (data, recipe, versions,
timings, metrics, checksums and recommended inference settings). With ``--classifier`` the final
weights are evaluated against the emotion classifier and a sample grid can be written.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import FluxPipeline

import synthfaces
from image_service.build.tinyflux import TinyFluxConfig, build_random_pipeline
from image_service.build.training.evaluate import Classifier, InferenceSettings, agreement, write_grid
from image_service.build.training.flux_training import (
    DecoderRecipe,
    FlowRecipe,
    VaeRecipe,
    encode_latents,
    finetune_decoder,
    recipe_dict,
    set_latent_normalisation,
    train_flow,
    train_vae,
)
from image_service.build.training.prompts import LABELS
from servicekit.provenance import sha256_file

# Sizes of the trained pipeline: 8x autoencoder (64x64 -> 8x8x16 latents -> 16 packed tokens),
# 1 double + 3 single transformer blocks of 4 heads x 32, width-64 text encoders. Shift 1 without
# dynamic shifting so that inference noise levels match the training distribution.
TRAINED_CONFIG = TinyFluxConfig(
    text_width=64,
    text_layers=2,
    text_heads=4,
    vae_channels=(8, 16, 32, 64),
    vae_layers_per_block=1,
    latent_channels=16,
    vae_norm_groups=8,
    vae_mid_attention=False,
    num_layers=1,
    num_single_layers=3,
    attention_head_dim=32,
    num_attention_heads=4,
    axes_dims_rope=(8, 12, 12),
    guidance_embeds=False,
    scheduler_shift=1.0,
    dynamic_shifting=False,
)

RECOMMENDED = InferenceSettings(num_inference_steps=8, true_cfg_scale=1.0, max_sequence_length=16)
MANIFEST = "training_manifest.json"
_VERSIONED = ("torch", "diffusers", "transformers", "tokenizers", "safetensors", "numpy", "pillow")


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sha256s(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST
    }


def _param_counts(pipe: FluxPipeline) -> dict[str, int]:
    names = ("transformer", "vae", "text_encoder", "text_encoder_2")
    return {n: sum(p.numel() for p in getattr(pipe, n).parameters()) for n in names}


def _dataset(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    if tuple(synthfaces.LABELS) != LABELS:
        raise RuntimeError(f"synthfaces.LABELS {synthfaces.LABELS} differ from the prompt labels {LABELS}")
    n_varied = round(args.faces * args.varied_fraction)
    clean = synthfaces.make_dataset(args.faces - n_varied, args.data_seed, clean=True)
    varied = synthfaces.make_dataset(n_varied, args.data_seed + 1, clean=False)
    return np.concatenate([clean[0], varied[0]]), np.concatenate([clean[1], varied[1]])


def write_manifest(out: Path, info: dict[str, object]) -> None:
    """Write ``training_manifest.json`` with checksums of every other file in ``out``."""
    checksums = _sha256s(out)
    manifest = {**info, "files_sha256": checksums, "size_bytes": sum((out / f).stat().st_size for f in checksums)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (every one has a default)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("image_service/embedded/tiny-flux"))
    p.add_argument("--seed", type=int, default=0, help="weight and sampling seed")
    p.add_argument("--data-seed", type=int, default=1234, help="synthfaces dataset seed")
    p.add_argument("--faces", type=int, default=12000, help="training faces")
    p.add_argument("--varied-fraction", type=float, default=0.0, help="share of varied (non-clean) faces")
    p.add_argument("--init-from", type=Path, default=None, help="continue from a saved pipeline (skips the VAE)")
    p.add_argument("--vae-steps", type=int, default=VaeRecipe.steps)
    p.add_argument("--vae-minutes", type=float, default=float("inf"))
    p.add_argument("--decoder-steps", type=int, default=DecoderRecipe.steps, help="decoder-only fine-tuning")
    p.add_argument("--decoder-minutes", type=float, default=float("inf"))
    p.add_argument("--flow-steps", type=int, default=FlowRecipe.steps)
    p.add_argument("--flow-minutes", type=float, default=float("inf"))
    p.add_argument("--batch-size", type=int, default=FlowRecipe.batch_size)
    p.add_argument("--lr", type=float, default=FlowRecipe.lr)
    p.add_argument("--warmup", type=int, default=FlowRecipe.warmup)
    p.add_argument("--checkpoint-every", type=int, default=500, help="save EMA weights every N flow steps")
    p.add_argument("--threads", type=int, default=1, help="torch threads (another job may share the CPU)")
    p.add_argument("--classifier", type=Path, default=None, help="emotion classifier dir for the final evaluation")
    p.add_argument("--eval-seeds", type=int, default=30)
    p.add_argument("--grid", type=Path, default=None, help="sample grid PNG (needs --classifier)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run both phases, save the pipeline and its manifest; return 0."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    vae_recipe = VaeRecipe(steps=args.vae_steps, max_seconds=args.vae_minutes * 60)
    decoder_recipe = DecoderRecipe(steps=args.decoder_steps, max_seconds=args.decoder_minutes * 60)
    flow_recipe = FlowRecipe(
        steps=args.flow_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        text_lr=args.lr,
        warmup=args.warmup,
        max_seconds=args.flow_minutes * 60,
        max_sequence_length=RECOMMENDED.max_sequence_length,
    )
    images, labels = _dataset(args)
    _log(f"dataset: {len(images)} faces ({args.varied_fraction:.0%} varied), {time.monotonic() - t0:.0f}s")
    metrics: dict[str, object] = {}
    prior_steps: dict[str, int] = {}
    prior_wall = 0.0
    if args.init_from is not None:
        pipe = FluxPipeline.from_pretrained(args.init_from)
        pipe.vae.requires_grad_(False)
        raw = encode_latents(pipe, images)
        latents = (raw - pipe.vae.config.shift_factor) * pipe.vae.config.scaling_factor
        previous = json.loads((args.init_from / MANIFEST).read_text()) if (args.init_from / MANIFEST).exists() else {}
        keep = ("steps", "total_steps", "wall_seconds", "total_wall_seconds", "recipe", "continued_from")
        metrics["continued_from"] = {k: previous.get(k) for k in keep}
        metrics["continued_from"]["metrics"] = {  # type: ignore[index]
            k: v for k, v in previous.get("metrics", {}).items() if k != "evaluation"
        }
        prior_steps = previous.get("total_steps", previous.get("steps", {}))
        prior_wall = float(previous.get("total_wall_seconds", previous.get("wall_seconds", 0.0)))
    else:
        pipe = build_random_pipeline(seed=args.seed, cfg=TRAINED_CONFIG)
        metrics.update(train_vae(pipe, images, vae_recipe, args.seed, _log))
        latents = set_latent_normalisation(pipe, encode_latents(pipe, images))
    pipe.set_progress_bar_config(disable=True)
    _log(f"latents {tuple(latents.shape)} shift {pipe.vae.config.shift_factor} scale {pipe.vae.config.scaling_factor}")

    def info(flow_steps: int, final: bool) -> dict[str, object]:
        steps = {
            "vae": int(metrics.get("vae_steps", 0)),  # type: ignore[call-overload]
            "flow": flow_steps,
            "decoder": int(metrics.get("decoder_steps", 0)),  # type: ignore[call-overload]
        }
        wall = round(time.monotonic() - t0, 1)
        return {
            "weights": "synthetic-trained",
            "final": final,
            "description": "Tiny FLUX-shaped pipeline trained on synthetic cartoon faces with seven expressions.",
            "data": {
                "generator": "synthfaces",
                "seed": args.data_seed,
                "faces": len(images),
                "varied_fraction": args.varied_fraction,
                "size": 64,
            },
            "prompts": "image_service.build.training.prompts (canonical: 'a photo of a {label} face')",
            "seed": args.seed,
            "command": "python -m image_service.build.train " + " ".join(argv if argv is not None else sys.argv[1:]),
            "steps": steps,
            "total_steps": {k: v + int(prior_steps.get(k, 0)) for k, v in steps.items()},
            "recipe": recipe_dict(vae_recipe, decoder_recipe, flow_recipe),
            "model_config": TRAINED_CONFIG.to_dict(),
            "parameters": _param_counts(pipe),
            "versions": {name: importlib.metadata.version(name) for name in _VERSIONED},
            "python": sys.version.split()[0],
            "torch_threads": args.threads,
            "wall_seconds": wall,
            "total_wall_seconds": round(wall + prior_wall, 1),
            "metrics": {**metrics, "quality_domain": "synthetic faces"},
            "recommended_inference": {
                **RECOMMENDED.call_kwargs(),
                "note": "max_sequence_length must be 16 (the T5 side saw 16 tokens in training); "
                "set true_cfg_scale > 1 with negative_prompt '' for classifier-free guidance",
            },
        }

    def checkpoint(step: int) -> None:
        pipe.save_pretrained(out, safe_serialization=True)
        write_manifest(out, info(step, final=False))
        _log(f"checkpoint at flow step {step} -> {out}")

    ema, flow_metrics = train_flow(
        pipe, latents, labels, flow_recipe, args.seed, _log, checkpoint, args.checkpoint_every
    )
    metrics.update(flow_metrics)
    ema.copy_to_live()
    metrics.update(finetune_decoder(pipe, images, decoder_recipe, args.seed, _log))
    pipe.save_pretrained(out, safe_serialization=True)
    if args.classifier is not None:
        evaluation, samples = agreement(pipe, Classifier(args.classifier), list(range(args.eval_seeds)), RECOMMENDED)
        metrics["evaluation"] = evaluation
        _log(f"agreement {evaluation['agreement_overall']} per emotion {evaluation['agreement_per_emotion']}")
        if args.grid is not None:
            write_grid(samples, args.grid)
    write_manifest(out, info(int(flow_metrics["flow_steps"]), final=True))  # type: ignore[call-overload]
    _log(f"done in {time.monotonic() - t0:.0f}s -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
