"""Reading adapter files without a server: rank, layers, base variant, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_service.adapters import inspect_adapter
from image_service.jobs import AdapterWeight
from image_service.sources import VariantSource
from servicekit.errors import FailedPrecondition
from tests.image_service.adapters_fixture import write_random_adapter


@pytest.fixture(scope="module")
def cool(tmp_path_factory: pytest.TempPathFactory, tiny_source: VariantSource) -> Path:
    out = tmp_path_factory.mktemp("adapter") / "cool"
    write_random_adapter(tiny_source, out, seed=2, rank=8)
    return out


def test_inspect_adapter_reads_rank_layers_and_refuses_non_adapters(cool: Path, tmp_path: Path) -> None:
    info = inspect_adapter("cool", cool, "ignored")
    assert (info.rank, info.base_variant) == (8, "tiny-flux") and info.layers >= 8
    (tmp_path / "weights.bin").write_bytes(b"pickle")
    with pytest.raises(FailedPrecondition, match=r"not a \.safetensors file"):
        inspect_adapter("x", tmp_path / "weights.bin", "tiny-flux")
    with pytest.raises(FailedPrecondition, match="does not exist"):
        inspect_adapter("x", tmp_path / "missing", "tiny-flux")
    (tmp_path / "broken.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(FailedPrecondition, match="not a readable safetensors file"):
        inspect_adapter("x", tmp_path / "broken.safetensors", "tiny-flux")


def test_adapter_weight_label() -> None:
    assert AdapterWeight("warm", 0.5).label() == "warm:0.5"


def test_adapters_for_a_variant_the_server_does_not_load_stop_the_start(tmp_path: Path) -> None:
    import json

    import torch
    from prometheus_client import CollectorRegistry
    from safetensors.torch import save_file

    from image_service.component import ImageComponent
    from tests.image_service.conftest import server_settings

    folder = tmp_path / "dev-style"
    folder.mkdir()
    save_file({"transformer.blocks.0.attn.to_q.lora_A.weight": torch.zeros(4, 8)}, str(folder / "style.safetensors"))
    (folder / "adapter_manifest.json").write_text(json.dumps({"base_variant": "flux.1-dev"}))
    component = ImageComponent(server_settings(lora=(f"style={folder}",)), CollectorRegistry())
    with pytest.raises(FailedPrecondition, match=r"lora: adapters for flux\.1-dev, which this server does not load"):
        component.adapters_by_variant()
    (folder / "adapter_manifest.json").unlink()  # no manifest: the default variant is the base
    grouped = component.adapters_by_variant()
    assert list(grouped) == ["tiny-flux"] and grouped["tiny-flux"]["style"].rank == 4


@pytest.mark.parametrize(
    ("backend", "applies"),
    [
        ("torch", True),
        ("torch-compile", True),
        ("onnxruntime-cpu", False),
        ("onnxruntime-cuda", False),
        ("tensorrt", False),
    ],
)
def test_only_pytorch_backends_apply_adapters(backend: str, applies: bool) -> None:
    from image_service.adapters import can_apply_adapters, refuse_backend

    assert can_apply_adapters(backend) is applies
    assert f"the {backend} backend" in str(refuse_backend(backend))
