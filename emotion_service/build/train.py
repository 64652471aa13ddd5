"""Train the embedded tiny ViT emotion classifier on synthetic faces.

    python -m emotion_service.build.train --steps 3000 --out emotion_service/embedded/tiny

Recipe: fresh faces rendered for every batch, with a curriculum on the strength of the
nuisances (near-clean faces first, full variation later), random flips and shifts, AdamW with
linear warmup and cosine decay, label smoothing and gradient clipping. Progress lines report loss, accuracy and speed; a
checkpoint in ``--work-dir`` lets an interrupted run resume. The result is evaluated on fresh
faces from a data seed never used in training and written with ``training_manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import synthfaces
from emotion_service.build.training.data import FaceStream, augment, difficulty_schedule, load_or_make, to_pixel_values
from emotion_service.build.training.evaluate import classification_metrics, int8_agreement, predict_logits
from emotion_service.build.training.manifest import TRAINING_LIBRARIES, save_model_dir
from emotion_service.build.training.model import (
    TinyViTSpec,
    build_model,
    build_processor,
    count_parameters,
)
from servicekit.provenance import library_versions

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "embedded" / "tiny"
QUALITY_DOMAIN = "synthetic faces"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (every one has a default that reproduces the committed model)."""
    p = argparse.ArgumentParser(
        prog="python -m emotion_service.build.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model directory to write")
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/emoflux_vit_train"),
        help="checkpoint and data cache (not committed)",
    )
    p.add_argument("--steps", type=int, default=3000, help="optimiser steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min-lr-ratio", type=float, default=0.02, help="final lr / peak lr")
    p.add_argument("--warmup-steps", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--label-smoothing", type=float, default=0.05)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument(
        "--max-shift", type=int, default=0, help="extra random shift in pixels (the renderer jitters position already)"
    )
    p.add_argument("--seed", type=int, default=0, help="initialisation and batch-order seed")
    p.add_argument("--data-seed", type=int, default=1, help="seed of the stream of training faces")
    p.add_argument(
        "--ramp",
        type=float,
        default=0.4,
        help="fraction of steps over which the nuisance strength of training faces rises from 0 to 1",
    )
    p.add_argument("--full-share", type=float, default=0.75, help="share of full-strength faces after the ramp")
    p.add_argument("--val-seed", type=int, default=7_000_001, help="seed of the periodic check")
    p.add_argument("--val-size", type=int, default=700)
    p.add_argument(
        "--eval-seed", type=int, default=9_000_001, help="seed of the final evaluation faces (never used in training)"
    )
    p.add_argument("--eval-size", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument(
        "--publish-min-acc",
        type=float,
        default=0.6,
        help="write --out whenever the periodic check beats this and the last one",
    )
    p.add_argument("--no-int8", action="store_true", help="skip the ONNX int8 agreement check")
    p.add_argument("--resume", action="store_true", help="continue from --work-dir's checkpoint")
    p.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start from the weights of a saved model directory (fine-tuning with a new schedule)",
    )
    p.add_argument("--image-size", type=int, default=TinyViTSpec.image_size)
    p.add_argument("--patch-size", type=int, default=TinyViTSpec.patch_size)
    p.add_argument("--hidden-size", type=int, default=TinyViTSpec.hidden_size)
    p.add_argument("--layers", type=int, default=TinyViTSpec.num_hidden_layers)
    p.add_argument("--heads", type=int, default=TinyViTSpec.num_attention_heads)
    p.add_argument("--mlp-size", type=int, default=TinyViTSpec.intermediate_size)
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "eval_size", "val_size", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def lr_factor(step: int, steps: int, warmup: int, min_ratio: float) -> float:
    """Linear warmup to 1, then cosine decay to ``min_ratio`` at ``steps``."""
    if step < warmup:
        return (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, steps - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def _optimizer(model: torch.nn.Module, args: argparse.Namespace) -> torch.optim.AdamW:
    """AdamW without weight decay on biases, norms, the CLS token and position embeddings."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.ndim <= 1 or "position_embeddings" in name or "cls_token" in name:
            no_decay.append(param)
        else:
            decay.append(param)
    groups = [
        {"params": decay, "weight_decay": args.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.999))


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _signature(args: argparse.Namespace) -> dict[str, Any]:
    """Options a resumed run must share with the checkpoint."""
    skip = {"out", "work_dir", "resume", "threads", "log_every", "no_int8", "publish_min_acc"}
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in skip}


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run training and the final evaluation; write ``args.out``; return the manifest."""
    start = time.monotonic()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    spec = TinyViTSpec(args.image_size, args.patch_size, args.hidden_size, args.layers, args.heads, args.mlp_size)
    model = build_model(spec)
    if args.init_from is not None:
        # safetensors only: a model directory written by this script (or any same-shaped ViT).
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(args.init_from / "model.safetensors")))
        _log(f"initialised from {args.init_from}")
    processor = build_processor(spec)
    opt = _optimizer(model, args)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, args.steps, args.warmup_steps, args.min_lr_ratio)
    )
    _log(f"tiny ViT {spec.as_dict()}: {count_parameters(model):,} parameters")

    cache = args.work_dir / "data"
    stream = FaceStream(args.data_seed, spec.image_size)
    x_val, y_val = load_or_make(args.val_size, args.val_seed, spec.image_size, False, cache)
    data_seconds = time.monotonic() - start

    ckpt_path = args.work_dir / "checkpoint.pt"
    step, history, best_published, train_seconds = 0, [], -1.0, 0.0
    if args.resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=True)
        if ckpt["signature"] != _signature(args):
            raise SystemExit(f"{ckpt_path} was written with different options; drop --resume")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        rng.bit_generator.state = ckpt["rng"]
        stream.rng.bit_generator.state = ckpt["data_rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        step, history = ckpt["step"], ckpt["history"]
        best_published, train_seconds = ckpt["best_published"], ckpt["train_seconds"]
        _log(f"resumed from step {step}")

    def checkpoint() -> None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save(
            {
                "signature": _signature(args),
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "rng": rng.bit_generator.state,
                "data_rng": stream.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "history": history,
                "best_published": best_published,
                "train_seconds": train_seconds,
            },
            tmp,
        )
        tmp.replace(ckpt_path)

    def manifest_base() -> dict[str, Any]:
        return {
            "model": "tiny ViT emotion classifier",
            "weights": "synthetic-trained",
            "quality_domain": QUALITY_DOMAIN,
            "labels": list(synthfaces.LABELS),
            "architecture": {
                "class": "ViTForImageClassification",
                **spec.as_dict(),
                "parameters": count_parameters(model),
                "dtype": "float32",
            },
            "preprocessing": "ViTImageProcessor: bilinear resize to image_size, x/255, mean=std=0.5",
            "data": {
                "generator": "synthfaces",
                "train_seed": args.data_seed,
                "train_faces": "fresh every step (synthfaces.render with a difficulty curriculum)",
                "train_faces_seen": step * args.batch_size,
                "val_seed": args.val_seed,
                "augmentation": {"hflip": 0.5, "max_shift_px": args.max_shift},
                "curriculum": {
                    "difficulty": "ceiling rises 0 -> 1 over the ramp, faces drawn at ceiling*sqrt(U); "
                    "afterwards full_share at 1, the rest sqrt(U)",
                    "ramp_fraction_of_steps": args.ramp,
                    "full_share": args.full_share,
                },
            },
            "training": {
                "seed": args.seed,
                "initialised_from": None if args.init_from is None else str(args.init_from),
                "steps": step,
                "planned_steps": args.steps,
                "batch_size": args.batch_size,
                "optimizer": {
                    "name": "AdamW",
                    "betas": [0.9, 0.999],
                    "weight_decay": args.weight_decay,
                    "no_decay": "biases, norms, cls_token, position_embeddings",
                },
                "lr_schedule": {
                    "type": "linear warmup + cosine decay",
                    "peak_lr": args.lr,
                    "warmup_steps": args.warmup_steps,
                    "min_lr": args.lr * args.min_lr_ratio,
                },
                "label_smoothing": args.label_smoothing,
                "grad_clip": args.grad_clip,
                "threads": args.threads,
                "data_generation_seconds": round(data_seconds, 1),
                "train_seconds": round(train_seconds, 1),
                "wall_seconds": round(time.monotonic() - start, 1),
                "history": history,
            },
            "libraries": library_versions(TRAINING_LIBRARIES),
        }

    model.train()
    window_loss, window_correct, window_n, t_window = 0.0, 0, 0, time.monotonic()
    while step < args.steps:
        t0 = time.monotonic()
        difficulty = difficulty_schedule(step / args.steps, args.ramp, args.full_share, rng, args.batch_size)
        xb, yb = stream.batch(difficulty)
        xb = augment(xb, rng, args.max_shift)
        pixels, targets = to_pixel_values(xb), torch.from_numpy(yb)

        logits = model(pixel_values=pixels).logits
        loss = torch.nn.functional.cross_entropy(logits, targets, label_smoothing=args.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        sched.step()
        step += 1
        train_seconds += time.monotonic() - t0

        window_loss += loss.item() * len(yb)
        window_correct += int((logits.argmax(1) == targets).sum())
        window_n += len(yb)
        if step % args.log_every == 0 or step == args.steps:
            elapsed = time.monotonic() - t_window
            rate = window_n / max(elapsed, 1e-9)
            eta = (args.steps - step) * args.batch_size / max(rate, 1e-9)
            entry = {
                "step": step,
                "loss": round(window_loss / window_n, 4),
                "train_acc": round(window_correct / window_n, 4),
            }
            history.append(entry)
            _log(
                f"step {step}/{args.steps} loss {entry['loss']:.4f} acc {entry['train_acc']:.3f} "
                f"lr {sched.get_last_lr()[0]:.2e} {rate:.0f} img/s eta {eta / 60:.1f} min"
            )
            window_loss, window_correct, window_n, t_window = 0.0, 0, 0, time.monotonic()

        if step % args.val_every == 0 and step < args.steps:
            val = classification_metrics(predict_logits(model, x_val).argmax(1), y_val, synthfaces.LABELS)
            history[-1]["val_acc"] = round(val["accuracy"], 4)
            _log(
                f"  val acc {val['accuracy']:.3f} min recall {val['min_class_recall']:.3f} "
                + json.dumps({k: round(v, 2) for k, v in val["per_class_recall"].items()})
            )
            if val["accuracy"] >= args.publish_min_acc and val["accuracy"] > best_published:
                best_published = val["accuracy"]
                manifest = manifest_base()
                manifest["status"] = "intermediate checkpoint; final evaluation pending"
                manifest["metrics"] = {"periodic_check": val}
                save_model_dir(args.out, model, processor, manifest)
                _log(f"  published intermediate model to {args.out}")
            checkpoint()

    checkpoint()
    _log(f"final evaluation on {args.eval_size} fresh faces (seed {args.eval_seed})")
    x_eval, y_eval = load_or_make(args.eval_size, args.eval_seed, spec.image_size, False, cache)
    metrics = classification_metrics(predict_logits(model, x_eval).argmax(1), y_eval, synthfaces.LABELS)
    metrics["eval_seed"] = args.eval_seed
    metrics["clean_mode"] = False
    if not args.no_int8:
        metrics.update(int8_agreement(model, x_eval))
    manifest = manifest_base()
    manifest["status"] = "final"
    manifest["metrics"] = metrics
    manifest = save_model_dir(args.out, model, processor, manifest)
    summary = {k: v for k, v in metrics.items() if not isinstance(v, list | dict)}
    _log("final: " + json.dumps(summary))
    _log("recall: " + json.dumps({k: round(v, 3) for k, v in metrics["per_class_recall"].items()}))
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m emotion_service.build.train``."""
    train(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
