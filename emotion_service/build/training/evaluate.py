"""Quality metrics of a trained classifier: accuracy, per-class recall, confusion, int8 agreement."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import ViTForImageClassification

from emotion_service.build.training.data import to_pixel_values


@torch.no_grad()
def predict_logits(model: ViTForImageClassification, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """fp32 logits ``[n, num_labels]`` for uint8 NHWC images already at the model's input size."""
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        out.append(model(pixel_values=to_pixel_values(images[i : i + batch_size])).logits.numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, model.config.num_labels), np.float32)


def classification_metrics(predictions: np.ndarray, targets: np.ndarray, labels: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, recall per label and the confusion matrix (rows: true label, cols: predicted)."""
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (targets, predictions), 1)
    support = confusion.sum(axis=1)
    recall = {
        name: float(confusion[i, i] / support[i]) if support[i] else float("nan") for i, name in enumerate(labels)
    }
    return {
        "n": len(targets),
        "accuracy": float((predictions == targets).mean()) if len(targets) else float("nan"),
        "per_class_recall": recall,
        "min_class_recall": float(min(recall.values())),
        "confusion_matrix": confusion.tolist(),
        "confusion_labels": list(labels),
    }


class _LogitsOnly(torch.nn.Module):
    """Wraps the HF model so the exported graph has one input and one output."""

    def __init__(self, model: ViTForImageClassification) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.model(pixel_values=pixel_values).logits
        return logits


def export_onnx(model: ViTForImageClassification, path: Path) -> None:
    """Export fp32 ONNX (dynamo exporter) with a dynamic batch axis."""
    size = int(model.config.image_size)
    example = torch.zeros(2, 3, size, size)  # batch 2: a batch-1 example would pin the axis
    batch = torch.export.Dim("batch", min=1, max=4096)
    wrapper = _LogitsOnly(model).eval()
    torch.onnx.export(
        wrapper,
        (example,),
        str(path),
        dynamo=True,
        input_names=["pixel_values"],
        output_names=["logits"],
        dynamic_shapes=({0: batch},),
        external_data=False,  # one self-contained file (the tiny model is well under 2 GB)
        verbose=False,
    )


def onnx_logits(path: Path, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Run an ONNX classifier on uint8 NHWC images with ONNX Runtime (CPU, one thread)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = []
    for i in range(0, len(images), batch_size):
        x = to_pixel_values(images[i : i + batch_size]).numpy()
        out.append(session.run(None, {name: x})[0])
    return np.concatenate(out)


def int8_agreement(model: ViTForImageClassification, images: np.ndarray) -> dict[str, float]:
    """Export to ONNX, quantise dynamically to int8 and compare top-1 with PyTorch fp32.

    Returns the fp32 ONNX parity (max |logit diff|), the int8 top-1 agreement with fp32 and the
    int8 file size.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    reference = predict_logits(model, images)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.onnx"
        int8 = Path(tmp) / "model.int8.onnx"
        export_onnx(model, fp32)
        fp32_logits = onnx_logits(fp32, images)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        int8_logits = onnx_logits(int8, images)
        int8_bytes = int8.stat().st_size
        fp32_bytes = fp32.stat().st_size
    return {
        "onnx_fp32_max_abs_logit_diff": float(np.abs(fp32_logits - reference).max()),
        "int8_top1_agreement": float((int8_logits.argmax(1) == reference.argmax(1)).mean()),
        "onnx_fp32_bytes": float(fp32_bytes),
        "onnx_int8_bytes": float(int8_bytes),
    }
