"""Report sections about evidence over time: curated vs imported vs measured counts, score history.

The Markdown lines are built here; the HTML page renders the same data from ``templates/origins.html.j2``
and ``templates/history.html.j2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ranker.catalog import ModelCard
from ranker.engine import catalog_records
from ranker.evidence import EvidenceStore, HistoryEntry, Source

ORIGIN_NOTE = (
    "Curated evidence is entered by hand in the catalog cards (signals and dated facts, each with its source);"
    " imported evidence comes from external data (hub model info, pairwise outcome files), counted by source;"
    " measured evidence comes from this ranker's live probes and matches."
    " Written by: who stored the records and through what (an authenticated identity, the ranker's own"
    " schedule, or a command on the ranker's host); not recorded for records stored before the store kept it."
)
UNRECORDED = "not recorded"
HISTORY_EMPTY = "No score history yet: the ranker records every score it computes on its re-evaluation schedule."


@dataclass(frozen=True)
class EvidenceOrigin:
    """Where one model's evidence comes from: curated (catalog), imported (by source), measured here."""

    model_id: str
    name: str
    curated: int
    imported: Mapping[str, int]
    live: int
    submitted: int
    retracted: int
    writers: Mapping[str, int] = field(default_factory=dict)

    @property
    def imported_total(self) -> int:
        """Records imported from external data, over all sources."""
        return sum(self.imported.values())

    @property
    def imported_text(self) -> str:
        """Imported records by source, ``"source: n, ..."`` (``""`` when none)."""
        return ", ".join(f"{ref}: {n}" for ref, n in sorted(self.imported.items()))

    @property
    def written_by(self) -> str:
        """Who wrote the stored records, most records first (``-`` when none are stored)."""
        ranked = sorted(self.writers.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{writer}: {n}" for writer, n in ranked) or "-"


def evidence_origin(store: EvidenceStore, card: ModelCard) -> EvidenceOrigin:
    """Count a model's evidence by origin (a pairwise import counts as imported, by its source)."""
    imported: dict[str, int] = {}
    writers: dict[str, int] = {}
    live = submitted = 0
    for r in store.records(card.id):
        writer = f"{r.submitted_by} via {r.submitted_via}" if r.submitted_by or r.submitted_via else UNRECORDED
        writers[writer] = writers.get(writer, 0) + 1
        if r.source_ref:
            imported[r.source_ref] = imported.get(r.source_ref, 0) + 1
        elif r.source in (Source.PROBE, Source.MATCH):
            live += 1
        elif r.source is Source.SUBMITTED:
            submitted += 1
    retracted = len(store.records(card.id, include_retracted=True)) - len(store.records(card.id))
    return EvidenceOrigin(
        card.id, card.display_name, len(catalog_records(card)), imported, live, submitted, retracted, writers
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def origins_markdown(origins: Sequence[EvidenceOrigin]) -> list[str]:
    """The curated / imported / measured table as Markdown lines."""
    out: list[str] = []
    out += ["", "## Evidence: curated and imported", "", ORIGIN_NOTE, ""]
    out += [
        "| Model | Curated (catalog) | Imported | Measured here | Submitted | Retracted | Written by |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in origins:
        sources = o.imported_text or "-"
        out.append(f"| `{o.model_id}` | {o.curated} | {o.imported_total} ({_md_escape(sources)}) | {o.live} |"
                   f" {o.submitted} | {o.retracted} | {_md_escape(o.written_by)} |")  # fmt: skip
    return out


def history_markdown(histories: Mapping[str, Sequence[HistoryEntry]]) -> list[str]:
    """One line per model with a score history."""
    out: list[str] = []
    out += ["", "## Score history", ""]
    if not histories:
        out.append(HISTORY_EMPTY)
    for model_id, entries in sorted(histories.items()):
        first, last = entries[0], entries[-1]
        out.append(
            f"- `{model_id}`: {len(entries)} scores from {first.computed_at:%Y-%m-%d %H:%M} ({first.score:.1f})"
            f" to {last.computed_at:%Y-%m-%d %H:%M} ({last.score:.1f})"
        )
    return out
