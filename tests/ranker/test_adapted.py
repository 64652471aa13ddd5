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
    assert card.id == "tiny-flux-dark" and card.relates_to == "tiny-flux" and not card.reference
    assert card.provenance.source.endswith("pytorch_lora_weights.safetensors")
    assert adaptation.sha256 in card.provenance.note
    assert card.fact("base_model") == "tiny-flux" and card.relation == "LoRA adapter of tiny-flux"
    assert {c.id for c in base.capabilities} < {c.id for c in card.capabilities}
    assert card.capability("lora-adapter") is not None
    extended = with_derived(catalog, [card])
    assert extended.get("tiny-flux-dark") == card and card in extended.variants_of("tiny-flux")
    # Evidence rows for the derived model, stored durably beside the base's.
    store = EvidenceStore(tmp_path / "evidence.sqlite")
    try:
        stored = store.add_many(adaptation_evidence(card, adaptation))
        assert stored and all(r.model_id == "tiny-flux-dark" and r.source is Source.SUBMITTED for r in stored)
        assert {r.probe for r in store.records("tiny-flux-dark")} >= {"adaptation.manifest.steps"}
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


def test_add_adapted_writes_a_card_the_catalog_reads_back_and_a_comparison_shows_both(
    adapter: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ranker.adapted import card_data
    from ranker.catalog import parse_card
    from ranker.cli import main

    card = derive_card(find_base(load_catalog(), read_adaptation(adapter)), read_adaptation(adapter))
    reread = parse_card(card_data(card), f"{card.id}.yaml")
    assert (reread.id, reread.relates_to, reread.relation, reread.weights) == (
        card.id,
        card.relates_to,
        card.relation,
        card.weights,
    )
    assert set(reread.capabilities) == set(card.capabilities) and reread.facts == card.facts
    catalog_dir, db = tmp_path / "catalog", str(tmp_path / "e.sqlite3")
    common = ["--catalog-dir", str(catalog_dir), "--db-path", db]
    assert main(["add-adapted", str(adapter), *common]) == 0
    assert "card written" in capsys.readouterr().out
    assert load_catalog(catalog_dir).get("tiny-flux-dark") is not None
    with EvidenceStore(db) as store:
        (record, *_) = store.records("tiny-flux-dark")
        assert record.submitted_via == "ranker add-adapted" and record.submitted_by.startswith("local:")
    assert main(["compare", "tiny-flux", "tiny-flux-dark", *common]) == 0
    out = capsys.readouterr().out
    assert "Tiny FLUX (embedded)" in out and "dark (LoRA adapter)" in out
    assert main(["add-adapted", str(adapter), *common]) == 2  # the same id again is refused
    assert "already in the catalog" in capsys.readouterr().err
