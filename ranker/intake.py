"""Adding a model by its hub id: card from the model info, catalog updated, adoption evidence imported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranker.adoption import Cohort, adoption_records
from ranker.catalog import CardExists, Catalog, CatalogError, ModelCard, write_card
from ranker.evidence import EvidenceRecord
from ranker.hub import card_data, check_hub_id, retrieved_at
from servicekit.errors import AlreadyExists, FailedPrecondition, InvalidInput


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
