"""What the served models see: the part of ``make demo`` that shows real inputs and outputs.

The embedded classifier was trained on synthetic cartoon faces only, and the embedded generator draws
such faces; this shows both honestly: a real photo (skimage's astronaut) classified as it is, synthetic
faces the classifier has never seen, and one generated face per emotion judged by the classifier.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

import synthfaces
from ranker.clients import EmotionClient, ImageClient
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

PROMPT = "a photo of a {label} face"


@dataclass(frozen=True)
class Judged:
    """One image the classifier judged: what it should be and what it was called."""

    expected: str
    predicted: str
    score: float


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _top(face: emotion_pb2.Face) -> tuple[str, float]:
    return face.top_label, face.top_score


async def astronaut(emotion: EmotionClient) -> list[str]:
    """Classify skimage's astronaut photo with face detection; lines to print."""
    from skimage import data

    reply = await emotion.classify([_png(Image.fromarray(data.astronaut()))], face_mode=emotion_pb2.FACE_MODE_DETECT)
    faces = reply.results[0].faces
    lines = [f"astronaut photo (512x512, a real face): {len(faces)} face(s) found"]
    for face in faces:
        label, score = _top(face)
        box = face.box
        ranked = ", ".join(f"{s.label} {s.score:.2f}" for s in face.scores[:3])
        lines.append(f"  box x={box.x} y={box.y} w={box.width} h={box.height}: {label} ({score:.2f}); top 3: {ranked}")
    lines.append(
        "  note: the embedded classifier was trained on synthetic cartoon faces only; on a real photo its answer"
        " is outside the domain it was measured on."
    )
    return lines


async def synthetic_faces(emotion: EmotionClient, seed: int = 424242) -> list[Judged]:
    """One fresh synthetic face per label (full nuisance variation), classified."""
    images = [synthfaces.render(label, seed + i) for i, label in enumerate(synthfaces.LABELS)]
    reply = await emotion.classify([_png(image) for image in images])
    return [
        Judged(label, *_top(result.faces[0])) for label, result in zip(synthfaces.LABELS, reply.results, strict=True)
    ]


async def generated_faces(emotion: EmotionClient, image: ImageClient, out_dir: Path, seed: int = 7) -> list[Judged]:
    """One generated face per emotion prompt, judged by the classifier; saves a labelled strip PNG."""
    pictures: list[bytes] = []
    for label in synthfaces.LABELS:
        reply = await image.generate(image_pb2.GenerateRequest(prompt=PROMPT.format(label=label), seed=seed))
        pictures.append(reply.images[0].data)
    verdict = await emotion.classify(pictures)
    judged = [
        Judged(label, *_top(result.faces[0])) for label, result in zip(synthfaces.LABELS, verdict.results, strict=True)
    ]
    strip = np.concatenate([np.asarray(Image.open(io.BytesIO(p)).convert("RGB")) for p in pictures], axis=1)
    out_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip).resize((strip.shape[1] * 2, strip.shape[0] * 2), Image.Resampling.NEAREST).save(
        out_dir / "generated_faces.png"
    )
    return judged


def table(title: str, rows: list[Judged]) -> list[str]:
    """Lines of a small expected/predicted table with the agreement count."""
    hits = sum(r.expected == r.predicted for r in rows)
    lines = [f"{title}: {hits}/{len(rows)} classified as intended"]
    lines += [
        f"  {r.expected:<9} -> {r.predicted:<9} {r.score:.2f} {'ok' if r.expected == r.predicted else 'MISS'}"
        for r in rows
    ]
    return lines


async def run(emotion_address: str, image_address: str, out_dir: Path) -> list[str]:
    """All three views, as printable lines; generated faces are saved under ``out_dir``."""
    emotion = EmotionClient(emotion_address, rpc_timeout=60.0)
    image = ImageClient(image_address, rpc_timeout=120.0)
    try:
        lines = await astronaut(emotion)
        lines += table("synthetic faces (unseen seeds)", await synthetic_faces(emotion))
        lines += table(
            f"generated faces ('{PROMPT}', saved to {out_dir / 'generated_faces.png'})",
            await generated_faces(emotion, image, out_dir),
        )
        return lines
    finally:
        await emotion.close()
        await image.close()
