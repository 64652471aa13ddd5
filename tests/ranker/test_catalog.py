"""The bundled catalog and validation errors that name the file and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ranker.catalog import BUNDLED_DIR, Catalog, CatalogError, load_catalog
from ranker.probes import REGISTRY

REFERENCE_FLUX = {
    "text-to-image",
    "multi-reference",
    "free-evaluation-tier",
    "api-variant-selection",
    "few-step-generation",
    "open-weight-dev-variant",
    "flux2-size-variants",
    "configurable-resolution",
}


def test_reference_cards_have_the_pages_capabilities(catalog: Catalog) -> None:
    facial = catalog.get("facial-emotions-image-detection")
    flux = catalog.get("flux-1-pro")
    assert facial is not None and flux is not None
    assert facial.reference and flux.reference
    assert len(facial.capabilities) == 5 and len(flux.capabilities) == 13
    assert {c.id for c in facial.capabilities} == {
        "emotion-classification",
        "local-inference",
        "hosted-inference-endpoint",
        "batch-inference",
        "ekman-label-mapping",
    }
    assert {c.id for c in flux.capabilities} >= REFERENCE_FLUX
    added = [c for c in flux.capabilities if c.origin == "catalog"]
    assert len(added) == 5 and all(c.description.startswith("Added by this catalog") for c in added)
    assert (facial.display_name, flux.display_name) == ("facial_emotions_image_detection", "FLUX.1 Pro")
    assert facial.fact("pricing") == flux.fact("pricing") == "Free"


def test_every_fact_has_provenance(catalog: Catalog) -> None:
    for card in catalog:
        assert card.provenance.source and card.provenance.date, card.id
        for key, fact in card.facts.items():
            assert fact.provenance.source and re.match(r"\d{4}-\d{2}-\d{2}$", fact.provenance.date), (card.id, key)
        for item in (*card.capabilities, *card.signals):
            assert item.provenance.source and item.provenance.date, (card.id, item)


def test_served_variants_relate_to_a_reference_and_say_their_weights(catalog: Catalog) -> None:
    variants = [c for c in catalog if not c.reference]
    ids = {c.id for c in variants}
    assert {"emotion-tiny", "tiny-flux", "flux-1-schnell", "flux-1-dev", "flux-1-kontext-dev", "flux-2-klein-4b"} <= ids
    for card in variants:
        assert card.relates_to in ("facial-emotions-image-detection", "flux-1-pro"), card.id
        assert card.served_by is not None and card.weights.origin != "unspecified", card.id
    assert catalog.get("emotion-tiny").weights.origin == "synthetic-trained"  # type: ignore[union-attr]
    assert catalog.get("tiny-flux-random").weights.random  # type: ignore[union-attr]
    assert [c.id for c in catalog.variants_of("facial-emotions-image-detection")] == [
        "emotion-tiny",
        "emotion-tiny-random",
        "emotion-vit-base-random",
    ]


def test_every_listed_probe_exists(catalog: Catalog) -> None:
    for card in catalog:
        for capability in card.capabilities:
            for probe in capability.probes:
                assert probe in REGISTRY, (card.id, capability.id, probe)


def test_served_names_map_to_the_right_card(catalog: Catalog) -> None:
    assert catalog.match_served("image", "tiny-flux", "synthetic-trained").id == "tiny-flux"  # type: ignore[union-attr]
    assert catalog.match_served("image", "tiny-flux", "random").id == "tiny-flux-random"  # type: ignore[union-attr]
    assert catalog.match_served("image", "flux.1-schnell", "random") is None
    assert (
        catalog.match_served("emotion", "emoflux/tiny-vit-emotion-synthetic", "synthetic-trained").id == "emotion-tiny"
    )  # type: ignore[union-attr]


def _write(directory: Path, name: str, data: object) -> None:
    (directory / name).write_text(yaml.safe_dump(data, sort_keys=False))


def _card(card_id: str, **changes: object) -> dict[str, object]:
    data = yaml.safe_load((BUNDLED_DIR / "flux-1-pro.yaml").read_text())
    data["id"] = card_id
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["capabilities"][2].update(date="2024/08/01"),
            r"bad\.yaml: capabilities\[2\]\.date: expected YYYY-MM-DD",
        ),
        (
            lambda d: d["capabilities"][0].pop("source"),
            r"bad\.yaml: capabilities\[0\]\.source: required field is missing",
        ),
        (lambda d: d["signals"][1].update(value=1.5), r"bad\.yaml: signals\[1\]\.value: expected a number in \[0, 1\]"),
        (lambda d: d["signals"][0].update(component="hype"), r"bad\.yaml: signals\[0\]\.component: expected one of"),
        (lambda d: d["facts"]["pricing"].pop("date"), r"bad\.yaml: facts\.pricing\.date: required field is missing"),
        (lambda d: d["facts"].update(color={"value": "red"}), r"bad\.yaml: facts\.color: unknown fact"),
        (lambda d: d.update(popularity=3), r"bad\.yaml: popularity: unknown field"),
        (lambda d: d.update(id="Bad_Id"), r"bad\.yaml: id: expected a lower-case slug"),
        (lambda d: d.update(reference="yes"), r"bad\.yaml: reference: expected true or false"),
        (lambda d: d["capabilities"].append(dict(d["capabilities"][0])), r"duplicate capability id 'text-to-image'"),
        (lambda d: d.update(reference=False), r"bad\.yaml: relates_to: a card that is not a reference model must name"),
        (
            lambda d: d.update(served_by={"service": "image", "names": ["x"]}),
            r"bad\.yaml: weights\.origin: a served variant",
        ),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path: Path, change: object, message: str) -> None:
    data = _card("bad")
    change(data)  # type: ignore[operator]
    _write(tmp_path, "bad.yaml", data)
    with pytest.raises(CatalogError, match=message):
        load_catalog(tmp_path)


def test_all_problems_of_a_file_are_reported(tmp_path: Path) -> None:
    data = _card("bad")
    data["capabilities"][0]["date"] = "yesterday"  # type: ignore[index]
    data["signals"][0]["value"] = -1  # type: ignore[index]
    _write(tmp_path, "bad.yaml", data)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert "capabilities[0].date" in str(info.value) and "signals[0].value" in str(info.value)


def test_cross_card_checks(tmp_path: Path) -> None:
    _write(tmp_path, "variant.yaml", _card("variant", reference=False, relates_to="missing-model"))
    with pytest.raises(CatalogError, match=r"variant\.yaml: relates_to: unknown model 'missing-model'"):
        load_catalog(tmp_path)
    _write(tmp_path, "variant.yaml", _card("other"))
    with pytest.raises(CatalogError, match=r"variant\.yaml: id: must match the file name 'variant'"):
        load_catalog(tmp_path)
    (tmp_path / "variant.yaml").write_text("id: [unclosed\n")
    with pytest.raises(CatalogError, match=r"variant\.yaml: not valid YAML"):
        load_catalog(tmp_path)


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no \*\.yaml model cards"):
        load_catalog(tmp_path)
