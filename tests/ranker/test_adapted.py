"""Adapted models in the ranking: a real LoRA adapter becomes a card derived from tiny-flux with evidence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from image_service.build.finetune import LoraRecipe, finetune
from image_service.build.finetune_demo import write_dataset
from image_service.sources import resolve
from ranker.adapted import adaptation_evidence, derive_card, find_base, read_adaptation, with_derived
from ranker.catalog import CatalogError, load_catalog
from ranker.evidence import EvidenceStore, Source

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adapted")
    write_dataset(root / "data", per_label=1)
    source = resolve("tiny-flux", {}, REPO / "build" / "models" / "image")
    recipe = LoraRecipe(rank=4, alpha=4, steps=2, batch_size=2)
    finetune(
        source, root / "data", root / "dark", recipe, description="darkest skin", progress=False, log=lambda _: None
    )
    return root / "dark"


def test_a_lora_adapter_becomes_a_card_derived_from_its_base(adapter: Path, tmp_path: Path) -> None:
    catalog = load_catalog()
    adaptation = read_adaptation(adapter)
    assert (adaptation.kind, adaptation.name, adaptation.base) == ("lora", "dark", "tiny-flux")
    assert len(adaptation.sha256) == 64 and adaptation.metrics["steps"] == 2.0
    base = find_base(catalog, adaptation)
    assert base.id == "tiny-flux"
    card = derive_card(base, adaptation)
    assert card.id == "tiny-flux+dark" and card.relates_to == "tiny-flux" and not card.reference
    assert card.provenance.source.endswith("pytorch_lora_weights.safetensors")
    assert adaptation.sha256 in card.provenance.note
    assert card.fact("adapted-from") == "tiny-flux" and card.fact("adaptation") == "LoRA adapter"
    assert {c.id for c in base.capabilities} < {c.id for c in card.capabilities}
    assert card.capability("lora-adapter") is not None
    extended = with_derived(catalog, [card])
    assert extended.get("tiny-flux+dark") == card and card in extended.variants_of("tiny-flux")
    # Evidence rows for the derived model, stored durably beside the base's.
    store = EvidenceStore(tmp_path / "evidence.sqlite")
    try:
        stored = store.add_many(adaptation_evidence(card, adaptation))
        assert stored and all(r.model_id == "tiny-flux+dark" and r.source is Source.SUBMITTED for r in stored)
        assert {r.probe for r in store.records("tiny-flux+dark")} >= {"adaptation.manifest.steps"}
        assert adaptation.sha256 in stored[0].detail
    finally:
        store.close()


def test_an_unknown_base_or_folder_is_refused(adapter: Path, tmp_path: Path) -> None:
    catalog = load_catalog()
    adaptation = read_adaptation(adapter)
    with pytest.raises(CatalogError, match=r"no image card serves 'flux\.9'"):
        find_base(catalog, replace(adaptation, base="flux.9"))
    with pytest.raises(CatalogError, match=r"neither adapter_manifest\.json"):
        read_adaptation(tmp_path)
