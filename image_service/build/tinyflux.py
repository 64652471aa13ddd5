"""Build a tiny FLUX-shaped diffusers pipeline entirely offline.

Every component of a real FLUX.1 pipeline is present with the same classes (CLIP and T5 text
encoders, ``AutoencoderKL``, ``FluxTransformer2DModel``, ``FlowMatchEulerDiscreteScheduler``) but at
toy sizes, and the tokenizers are word-level vocabularies built in code, so nothing is downloaded.
With random weights the pipeline is useful for wiring and speed tests; ``image_service.build.train``
reuses the same builders to train one that draws expressive faces.

Run ``python -m image_service.build.tinyflux --out DIR`` to save a random pipeline.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import CLIPTextConfig, CLIPTextModel, PreTrainedTokenizerFast, T5Config, T5EncoderModel

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
# Ids 0-3. CLIP pools at the argmax token id when eos is 2, so eos must not be 2.
SPECIAL_TOKENS: tuple[str, ...] = (PAD_TOKEN, UNK_TOKEN, BOS_TOKEN, EOS_TOKEN)
CLIP_MAX_LENGTH = 77

# The seven expression labels (same order as ``synthfaces.LABELS``) and the words that name them.
EMOTION_WORDS: dict[str, tuple[str, ...]] = {
    "sad": ("sad", "sadness", "unhappy", "crying"),
    "disgust": ("disgust", "disgusted"),
    "angry": ("angry", "anger", "mad", "furious"),
    "neutral": ("neutral", "calm", "expressionless"),
    "fear": ("fear", "fearful", "scared", "afraid", "frightened"),
    "surprise": ("surprise", "surprised", "astonished", "shocked"),
    "happy": ("happy", "happiness", "smiling", "joyful", "smile"),
}

_COMMON_WORDS: tuple[str, ...] = (
    "a", "an", "the", "of", "with", "and", "in", "on", "at", "to", "is", "very", "looking", "showing",
    "photo", "picture", "image", "drawing", "cartoon", "illustration", "sketch", "portrait", "painting",
    "render", "face", "faces", "person", "man", "woman", "boy", "girl", "child", "people", "head",
    "expression", "emotion", "feeling", "eyes", "mouth", "brows", "eyebrows", "smiling", "frowning",
    "close", "up", "closeup", "simple", "clean", "colorful", "small", "big", "tiny", "cute", "funny",
    "realistic", "digital", "art", "style", "background", "white", "plain", "red", "green", "blue",
    "yellow", "black", "dark", "light", "bright", "one", "single", "front", "view", "high", "quality",
    "detailed", "astronaut", "cat", "dog", "house", "tree", "sky", "sun", "landscape", "flower",
    ",", ".", "!",
)  # fmt: skip


def vocabulary() -> list[str]:
    """Return the word list of the tiny tokenizers: special tokens first, then unique words in order."""
    words: list[str] = list(SPECIAL_TOKENS)
    seen = set(words)
    for group in (*EMOTION_WORDS.values(), _COMMON_WORDS):
        for word in group:
            if word not in seen:
                seen.add(word)
                words.append(word)
    return words


def _word_level(vocab: list[str], template: str) -> Tokenizer:
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token=UNK_TOKEN))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    specials = [(t, vocab.index(t)) for t in (BOS_TOKEN, EOS_TOKEN)]
    tok.post_processor = processors.TemplateProcessing(single=template, special_tokens=specials)
    return tok


def build_tokenizers() -> tuple[PreTrainedTokenizerFast, PreTrainedTokenizerFast]:
    """Return ``(clip_side, t5_side)`` word-level tokenizers sharing one vocabulary.

    The CLIP-side one wraps a prompt in ``<s> ... </s>`` and pads to 77 tokens like CLIP's; the
    T5-side one appends ``</s>`` like T5's. Unknown words map to ``<unk>``.
    """
    vocab = vocabulary()
    common = {"unk_token": UNK_TOKEN, "pad_token": PAD_TOKEN, "eos_token": EOS_TOKEN}
    clip = PreTrainedTokenizerFast(
        tokenizer_object=_word_level(vocab, f"{BOS_TOKEN} $A {EOS_TOKEN}"),
        bos_token=BOS_TOKEN,
        model_max_length=CLIP_MAX_LENGTH,
        **common,
    )
    t5 = PreTrainedTokenizerFast(tokenizer_object=_word_level(vocab, f"$A {EOS_TOKEN}"), model_max_length=512, **common)
    return clip, t5


@dataclass(frozen=True)
class TinyFluxConfig:
    """Sizes of the tiny components. The defaults are the smallest FLUX-shaped pipeline that works.

    Shape rules (FLUX's): transformer ``in_channels`` = 4 x ``latent_channels`` (2x2 packing);
    ``joint_attention_dim`` = T5 width; ``pooled_projection_dim`` = CLIP width;
    ``sum(axes_dims_rope)`` = ``attention_head_dim``.
    """

    text_width: int = 32
    text_layers: int = 2
    text_heads: int = 2
    vae_channels: tuple[int, ...] = (8, 16, 32, 32)
    vae_layers_per_block: int = 1
    latent_channels: int = 16
    vae_norm_groups: int = 8
    vae_mid_attention: bool = True
    vae_shift_factor: float = 0.1159
    vae_scaling_factor: float = 0.3611
    num_layers: int = 1
    num_single_layers: int = 1
    attention_head_dim: int = 16
    num_attention_heads: int = 2
    axes_dims_rope: tuple[int, int, int] = (4, 4, 8)
    guidance_embeds: bool = True
    # FLUX.1-dev's scheduler settings; a trained tiny model may prefer shift 1 without dynamic shifting.
    scheduler_shift: float = 3.0
    dynamic_shifting: bool = True

    def __post_init__(self) -> None:
        if sum(self.axes_dims_rope) != self.attention_head_dim:
            raise ValueError(
                f"axes_dims_rope must sum to attention_head_dim={self.attention_head_dim}, got {self.axes_dims_rope}"
            )
        if self.text_width % self.text_heads:
            raise ValueError(f"text_width={self.text_width} must be divisible by text_heads={self.text_heads}")

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able view (for manifests)."""
        return asdict(self)


def build_text_encoders(cfg: TinyFluxConfig, vocab_size: int) -> tuple[CLIPTextModel, T5EncoderModel]:
    """Return random ``(CLIPTextModel, T5EncoderModel)`` of width ``cfg.text_width`` in eval mode."""
    ids = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    clip = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=cfg.text_width,
            intermediate_size=cfg.text_width * 2,
            projection_dim=cfg.text_width,
            num_hidden_layers=cfg.text_layers,
            num_attention_heads=cfg.text_heads,
            max_position_embeddings=CLIP_MAX_LENGTH,
            pad_token_id=ids[PAD_TOKEN],
            bos_token_id=ids[BOS_TOKEN],
            eos_token_id=ids[EOS_TOKEN],
        )
    )
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=vocab_size,
            d_model=cfg.text_width,
            d_kv=cfg.text_width // cfg.text_heads,
            d_ff=cfg.text_width * 2,
            num_layers=cfg.text_layers,
            num_heads=cfg.text_heads,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=32,
            dropout_rate=0.0,
            feed_forward_proj="gated-gelu",
            pad_token_id=ids[PAD_TOKEN],
            eos_token_id=ids[EOS_TOKEN],
            decoder_start_token_id=ids[PAD_TOKEN],
        )
    )
    return clip.eval(), t5.eval()


def build_vae(cfg: TinyFluxConfig) -> AutoencoderKL:
    """Return a random ``AutoencoderKL`` (downsampling 2**(len(vae_channels)-1)) in eval mode."""
    n = len(cfg.vae_channels)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * n,
        up_block_types=("UpDecoderBlock2D",) * n,
        block_out_channels=cfg.vae_channels,
        layers_per_block=cfg.vae_layers_per_block,
        latent_channels=cfg.latent_channels,
        norm_num_groups=cfg.vae_norm_groups,
        sample_size=64,
        use_quant_conv=False,
        use_post_quant_conv=False,
        mid_block_add_attention=cfg.vae_mid_attention,
        shift_factor=cfg.vae_shift_factor,
        scaling_factor=cfg.vae_scaling_factor,
        force_upcast=False,
    )
    return vae.eval()


def build_transformer(cfg: TinyFluxConfig) -> FluxTransformer2DModel:
    """Return a random ``FluxTransformer2DModel`` sized by ``cfg`` in eval mode."""
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=4 * cfg.latent_channels,
        num_layers=cfg.num_layers,
        num_single_layers=cfg.num_single_layers,
        attention_head_dim=cfg.attention_head_dim,
        num_attention_heads=cfg.num_attention_heads,
        joint_attention_dim=cfg.text_width,
        pooled_projection_dim=cfg.text_width,
        guidance_embeds=cfg.guidance_embeds,
        axes_dims_rope=cfg.axes_dims_rope,
    )
    return transformer.eval()


def build_scheduler(cfg: TinyFluxConfig) -> FlowMatchEulerDiscreteScheduler:
    """Return the flow-matching Euler scheduler FLUX uses."""
    return FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000,
        shift=cfg.scheduler_shift,
        use_dynamic_shifting=cfg.dynamic_shifting,
        base_shift=0.5,
        max_shift=1.15,
        base_image_seq_len=256,
        max_image_seq_len=4096,
    )


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch for the block without disturbing the caller's global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_components(cfg: TinyFluxConfig | None = None, seed: int = 0) -> dict[str, object]:
    """Return the keyword arguments of ``FluxPipeline(...)``: all seven components, random weights.

    Each module is seeded separately (``seed`` plus a fixed offset), so the same seed and config
    always give the same weights, whatever the caller's RNG state.
    """
    cfg = cfg or TinyFluxConfig()
    tokenizer, tokenizer_2 = build_tokenizers()
    with _seeded(seed):
        text_encoder, text_encoder_2 = build_text_encoders(cfg, len(tokenizer))
    with _seeded(seed + 1):
        vae = build_vae(cfg)
    with _seeded(seed + 2):
        transformer = build_transformer(cfg)
    return {
        "scheduler": build_scheduler(cfg),
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": tokenizer,
        "text_encoder_2": text_encoder_2,
        "tokenizer_2": tokenizer_2,
        "transformer": transformer,
    }


def build_random_pipeline(seed: int = 0, cfg: TinyFluxConfig | None = None) -> FluxPipeline:
    """Return a tiny FLUX pipeline with random weights (deterministic for a given seed)."""
    return FluxPipeline(**build_components(cfg, seed))  # type: ignore[arg-type]


def save_random_pipeline(out_dir: str | Path, seed: int = 0, cfg: TinyFluxConfig | None = None) -> Path:
    """Build a random tiny pipeline and ``save_pretrained`` it to ``out_dir``; return the path.

    Two saves with the same seed produce byte-identical weight files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    build_random_pipeline(seed, cfg).save_pretrained(out, safe_serialization=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m image_service.build.tinyflux --out DIR [--seed N]``."""
    parser = argparse.ArgumentParser(description="Save a tiny FLUX pipeline with random weights.")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="weight seed (default 0)")
    args = parser.parse_args(argv)
    path = save_random_pipeline(args.out, seed=args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
