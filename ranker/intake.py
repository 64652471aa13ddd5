"""Adding a model by its hub id: card from the model info, catalog updated, adoption evidence imported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ranker.adoption import Cohort, adoption_records
from ranker.catalog import BUNDLED_DIR, Catalog, CatalogError, ModelCard, load_catalog, parse_card
from ranker.evidence import EvidenceRecord
from ranker.hub import card_data, check_hub_id, retrieved_at
from servicekit.errors import AlreadyExists, FailedPrecondition, InvalidInput


def write_card(directory: Path, data: Mapping[str, Any]) -> Catalog:
    """Add one card (YAML data) to the catalog folder ``directory``; return the catalog with it.

    An empty or missing folder is first seeded with the bundled cards, so a new card joins them.
    The card is validated on its own and with the rest (unique id, known ``relates_to``) before it
    is written; a card whose id is taken raises :class:`CardExists`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not any(directory.glob("*.yaml")):
        for bundled in sorted(BUNDLED_DIR.glob("*.yaml")):
            (directory / bundled.name).write_text(bundled.read_text(encoding="utf-8"), encoding="utf-8")
    model_id = str(data.get("id", ""))
    target = directory / f"{model_id}.yaml"
    card = parse_card(dict(data), target.name)
    current = load_catalog(directory)
    existing = current.get(card.id)
    if existing is not None:
        raise CardExists(f"id: model id {card.id!r} is already in the catalog ({existing.source_file})")
    if card.hub_id and (other := current.by_hub_id(card.hub_id)) is not None:
        raise CardExists(f"hub_id: {card.hub_id!r} already has a card ({other.source_file})")
    catalog = Catalog([*current, card])
    text = "# Created from Hugging Face model info by python -m ranker add-model.\n"
    text += yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    target.write_text(text, encoding="utf-8")
    return catalog


class CardExists(CatalogError):
    """A card with this id (or hub id) is already in the catalog."""


@dataclass(frozen=True)
class AddedModel:
    """The new card, the catalog that now holds it, and the records to import."""

    card: ModelCard
    catalog: Catalog
    records: list[EvidenceRecord]


def add_model(
    catalog_dir: Path | None,
    hub_id: str,
    snapshot: Mapping[str, Any],
    cohorts: Mapping[str, Cohort],
    model_id: str = "",
) -> AddedModel:
    """Write the card of ``snapshot`` into ``catalog_dir``; return it with its adoption records."""
    check_hub_id(hub_id)
    if str(snapshot.get("id", "")).lower() != hub_id.lower():
        raise InvalidInput(f"model_info_json.id: {snapshot.get('id')!r} is not the requested hub id {hub_id!r}")
    if catalog_dir is None:
        raise FailedPrecondition("catalog_dir: adding a model needs a catalog folder of your own (--catalog-dir)")
    data = card_data(snapshot, model_id)
    try:
        catalog = write_card(catalog_dir, data)
    except CardExists as exc:
        raise AlreadyExists(str(exc)) from None
    except CatalogError as exc:
        raise InvalidInput(str(exc)) from None
    card = catalog.get(str(data["id"]))
    assert card is not None  # write_card validated and added it
    records = adoption_records(card.id, card.artifact_type, snapshot, retrieved_at(snapshot), cohorts)
    return AddedModel(card, catalog, records)
