"""Adding a model by hub id from model-info snapshots, and adoption imported against the cohort file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelInfo

from ranker.adoption import COHORTS_FILE, adoption_records, load_cohorts, log_scale
from ranker.catalog import load_catalog, parse_card
from ranker.cli import main
from ranker.engine import Ranker
from ranker.evidence import EvidenceStore, Source
from ranker.hub import card_data, read_snapshot, retrieved_at
from ranker.intake import add_model
from servicekit.errors import AlreadyExists, FailedPrecondition, InvalidInput

HUB = Path(__file__).resolve().parent / "data" / "hub"
DIMA = HUB / "dima806--facial_emotions_image_detection.json"
SCHNELL = HUB / "black-forest-labs--FLUX.1-schnell.json"
SDXL = HUB / "stabilityai--sdxl-turbo.json"


@pytest.mark.parametrize("path", sorted(HUB.glob("*.json")), ids=lambda p: p.stem)
def test_snapshots_are_in_the_model_info_shape(path: Path) -> None:
    info = ModelInfo(**json.loads(path.read_text()))
    assert info.id and info.pipeline_tag and info.downloads is not None and info.last_modified is not None


def test_card_from_model_info_decomposes_capabilities_with_sources() -> None:
    data = card_data(read_snapshot(DIMA))
    card = parse_card(data, f"{data['id']}.yaml")
    assert card.id == "facial-emotions-image-detection" and card.hub_id == "dima806/facial_emotions_image_detection"
    assert card.artifact_type == "image-classifier" and card.reference
    ids = [c.id for c in card.capabilities]
    assert {"image-classification", "emotion-classification", "hosted-inference", "safetensors-weights"} == set(ids)
    facts = {k: f.value for k, f in card.facts.items()}
    assert facts == {
        "publisher": "dima806",
        "license": "apache-2.0",
        "library": "transformers",
        "parameters": "85.8M",
        "architecture": "ViTForImageClassification",
        "base_model": "google/vit-base-patch16-224-in21k",
        "released": "2023-11-17",
        "updated": "2024-10-13",
    }
    page = "https://huggingface.co/dima806/facial_emotions_image_detection"
    for item in [*card.facts.values()]:
        assert (item.provenance.source, item.provenance.date) == (page, "2026-11-26")
    assert all((c.provenance.source, c.provenance.date) == (page, "2026-11-26") for c in card.capabilities)
    flux = parse_card(card_data(read_snapshot(SCHNELL), "flux-schnell-hub"), "flux-schnell-hub.yaml")
    assert flux.artifact_type == "text-to-image" and flux.fact("library") == "diffusers"
    assert {c.id for c in parse_card(card_data(read_snapshot(SDXL)), "sdxl-turbo.yaml").capabilities} >= {
        "text-to-image",
        "onnx-export",
    }


def test_bad_snapshots_are_refused_naming_the_field(tmp_path: Path) -> None:
    cases = {
        "list.json": ("[]", "expected a JSON object"),
        "noid.json": ('{"pipeline_tag": "text-to-image"}', r"noid.json.id: required"),
        "badid.json": ('{"id": "no slash"}', "expected a hub id 'owner/name'"),
        "when.json": ('{"id": "a/b", "retrievedAt": "soon"}', r"when.json.retrievedAt: not an ISO 8601 time"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InvalidInput, match=message):
            read_snapshot(tmp_path / name)
    with pytest.raises(InvalidInput, match="no pipeline_tag"):
        card_data({"id": "a/b", "retrievedAt": "2026-11-26T00:00:00Z"})


def test_log_scale_is_monotone_and_bounded() -> None:
    counts = [0, 1, 10, 1_000, 100_000, 1_000_000, 5_000_000]
    values = [log_scale(c, 1_000_000) for c in counts]
    assert values == sorted(values) and values[0] == 0.0 and values[-2] == values[-1] == 1.0
    assert log_scale(-5, 10) == 0.0
    with pytest.raises(ValueError, match="reference must be positive"):
        log_scale(1, 0)


def test_adoption_depends_on_the_cohort_file_not_on_the_catalog(tmp_path: Path) -> None:
    cohorts = load_cohorts()
    snapshot = read_snapshot(DIMA)
    when = retrieved_at(snapshot)
    records = {r.probe: r for r in adoption_records("m", "image-classifier", snapshot, when, cohorts)}
    assert set(records) == {
        "adoption.downloads-recent",
        "adoption.downloads-all-time",
        "adoption.likes",
        "freshness.last-modified",
    }
    assert all(r.source is Source.IMPORTED and r.source_ref.startswith("huggingface:") for r in records.values())
    ref = cohorts["image-classifier"].references["downloads-recent"]
    assert records["adoption.downloads-recent"].value == pytest.approx(log_scale(158234, ref))
    # A cohort file with a larger reference lowers the value; nothing else does.
    raised = yaml.safe_load(COHORTS_FILE.read_text())
    raised["image-classifier"]["downloads-recent"] = ref * 100
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raised))
    other = adoption_records("m", "image-classifier", snapshot, when, load_cohorts(tmp_path / "c.yaml"))
    assert other[0].value < records["adoption.downloads-recent"].value
    raised["text-to-image"]["likes"] = -1
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raised))
    with pytest.raises(ValueError, match=r"text-to-image.likes: expected a positive count"):
        load_cohorts(tmp_path / "bad.yaml")


def test_only_the_newest_snapshot_of_a_count_counts(tmp_path: Path) -> None:
    cohorts = load_cohorts()
    snapshot = read_snapshot(SCHNELL)
    catalog = load_catalog()
    with EvidenceStore(tmp_path / "e.sqlite3") as store:
        ranker = Ranker(catalog, store, as_of=dt.date(2026, 11, 26), samples=50)
        old = retrieved_at(snapshot) - dt.timedelta(days=30)
        store.add_many(adoption_records("flux-1-schnell", "text-to-image", {**snapshot, "downloads": 0}, old, cohorts))
        stale = ranker.score("flux-1-schnell").component("adoption")
        store.add_many(adoption_records("flux-1-schnell", "text-to-image", snapshot, retrieved_at(snapshot), cohorts))
        fresh = ranker.score("flux-1-schnell").component("adoption")
        assert fresh.evidence_count == stale.evidence_count == 3
        assert fresh.value > stale.value


def test_add_model_writes_a_card_beside_the_bundled_ones(tmp_path: Path) -> None:
    cohorts = load_cohorts()
    folder = tmp_path / "catalog"
    added = add_model(folder, "stabilityai/sdxl-turbo", read_snapshot(SDXL), cohorts)
    assert added.card.id == "sdxl-turbo" and (folder / "sdxl-turbo.yaml").is_file()
    reloaded = load_catalog(folder)
    assert "flux-1-pro" in reloaded and reloaded.get("sdxl-turbo") == added.card.__class__(
        **{**added.card.__dict__, "source_file": "sdxl-turbo.yaml"}
    )
    assert {r.probe for r in added.records} >= {"adoption.likes", "freshness.last-modified"}
    with pytest.raises(AlreadyExists, match="hub_id: 'stabilityai/sdxl-turbo' already has a card"):
        add_model(folder, "stabilityai/sdxl-turbo", read_snapshot(SDXL), cohorts, "sdxl-again")
    with pytest.raises(AlreadyExists, match="id: model id 'facial-emotions-image-detection' is already"):
        add_model(folder, "dima806/facial_emotions_image_detection", read_snapshot(DIMA), cohorts)
    with pytest.raises(InvalidInput, match="is not the requested hub id"):
        add_model(folder, "someone/else", read_snapshot(SDXL), cohorts)
    with pytest.raises(FailedPrecondition, match="catalog_dir"):
        add_model(None, "stabilityai/sdxl-turbo", read_snapshot(SDXL), cohorts)


def test_cli_add_model_from_a_snapshot_saves_and_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--catalog-dir", str(tmp_path / "cards"), "--db-path", str(tmp_path / "e.sqlite3")]
    saved = tmp_path / "saved.json"
    args = ["add-model", "stabilityai/sdxl-turbo", "--from", str(SDXL), "--save", str(saved), "--id", "sdxl-turbo"]
    assert main([*args, *common]) == 0
    out = capsys.readouterr().out
    assert "card written" in out and "4 evidence records imported" in out
    assert read_snapshot(saved) == read_snapshot(SDXL)
    assert main(["import-adoption", str(saved), *common]) == 0
    assert "sdxl-turbo: 0 records imported (4 already stored)" in capsys.readouterr().out
    assert main(["score", "sdxl-turbo", "--explain", "3", *common, "--as-of", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert "adoption.downloads-all-time" in out or "adoption.downloads-recent" in out
    assert main(["add-model", "stabilityai/sdxl-turbo", "--from", str(SDXL), *common]) == 2
    assert "is already in the catalog" in capsys.readouterr().err


def test_add_model_without_a_reachable_hub_says_to_use_a_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    from tests.ranker.conftest import dead_address

    # Point the hub client at a loopback port nothing listens on (no test ever reaches the real hub).
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", f"http://{dead_address()}")
    args = [
        "add-model",
        "stabilityai/sdxl-turbo",
        "--catalog-dir",
        str(tmp_path / "c"),
        "--db-path",
        str(tmp_path / "e"),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "hub_id: cannot read the model info of 'stabilityai/sdxl-turbo' from the hub" in err
    assert "use a snapshot file (--from)" in err and not (tmp_path / "c").exists()
