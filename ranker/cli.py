"""Command line: ``python -m ranker [serve] | evaluate | compare | report | add-model | ... | score``.

The evidence commands are add-model, import-adoption, import-pairwise, retract and score.

``evaluate``, ``compare`` and ``report`` work directly on the evidence store and call the emotion
and image services themselves (no ranker server needed); every ranker setting (``--db-path``,
``--emotion-addresses``, ...) is accepted after the command's own options.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ranker.adapted import adaptation_evidence, card_data, derive_card, find_base, read_adaptation
from ranker.adoption import adoption_records, load_cohorts
from ranker.attribution import local_submitter, submitted_as
from ranker.catalog import CatalogError, load_catalog
from ranker.clients import ServiceClients
from ranker.compare import Comparison, Leader
from ranker.component import build_component, probe_settings
from ranker.engine import Ranker
from ranker.evaluation import Evaluator, Finished, Progress, Recorded
from ranker.evidence import EvidenceStore
from ranker.hub import fetch_snapshot, read_snapshot, retrieved_at, write_snapshot
from ranker.intake import add_model, write_card
from ranker.pairwise import read_pairwise
from ranker.plan import EvaluationRequest
from ranker.probes import REGISTRY, ProbeContext
from ranker.report import build_report, write_report
from ranker.scoring import ScoringPolicy, load_policy
from ranker.settings import RankerSettings
from servicekit.errors import InvalidInput, NotFound, ServiceError
from servicekit.server import run_service

COMMANDS = (
    "serve",
    "evaluate",
    "compare",
    "report",
    "add-model",
    "add-adapted",
    "import-adoption",
    "import-pairwise",
    "retract",
    "score",
)


def format_table(headline: str, names: tuple[str, str], rows: Sequence[tuple[str, str, str, bool, bool]]) -> str:
    """A plain-text comparison table; rows are (name, value_a, value_b, a_leads, b_leads)."""
    width0 = max([len("Feature"), *(len(r[0]) for r in rows)])
    width1 = max([len(names[0]), *(len(r[1]) + 2 for r in rows)])
    width2 = max([len(names[1]), *(len(r[2]) + 2 for r in rows)])
    lines = [headline, "", f"{'Feature':<{width0}}  {names[0]:<{width1}}  {names[1]:<{width2}}"]
    lines.append(f"{'-' * width0}  {'-' * width1}  {'-' * width2}")
    for name, a, b, a_leads, b_leads in rows:
        cell_a = a + (" *" if a_leads else "")
        cell_b = b + (" *" if b_leads else "")
        lines.append(f"{name:<{width0}}  {cell_a:<{width1}}  {cell_b:<{width2}}")
    lines.append("(* leads on the row)")
    return "\n".join(lines)


def format_comparison(comparison: Comparison) -> str:
    """A comparison as text: table, verdict, notes."""
    rows = [(r.name, r.value_a, r.value_b, r.leader is Leader.A, r.leader is Leader.B) for r in comparison.rows]
    text = format_table(comparison.headline, (comparison.a.name, comparison.b.name), rows)
    text += f"\n\nVerdict: {comparison.verdict}"
    for note in comparison.notes:
        text += f"\n  - {note}"
    return text


def _open_ranker(settings: RankerSettings) -> Ranker:
    policy = load_policy(settings.weights_file) if settings.weights_file else ScoringPolicy()
    return Ranker(
        load_catalog(settings.catalog_dir),
        EvidenceStore(settings.db_path),
        policy,
        samples=settings.bootstrap_samples,
        seed=settings.bootstrap_seed,
        as_of=settings.as_of_date(),
    )


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


async def evaluate(
    settings: RankerSettings, request: EvaluationRequest, *, show_progress: bool = True, stream: TextIO | None = None
) -> Finished:
    """Run one evaluation round with a progress bar; return its summary."""
    ranker = _open_ranker(settings)
    clients = ServiceClients(settings.emotion_addresses, settings.image_addresses, settings.rpc_timeout_seconds)
    evaluator = Evaluator(
        ranker.catalog,
        ranker.store,
        clients,
        ProbeContext(clients, probe_settings(settings)),
        probe_timeout=settings.probe_timeout_seconds,
    )
    out = stream if stream is not None else sys.stderr
    bar: tqdm[Any] | None = None
    finished: Finished | None = None
    try:
        async for event in evaluator.run(request):
            if isinstance(event, Progress):
                if bar is None and event.total and show_progress:
                    bar = tqdm(total=event.total, desc="evaluating", unit="probe", file=out)
                if event.probe and event.message != "started":
                    line = f"{event.probe:<34} {event.model_id:<28} {event.message}"
                    if bar is not None:
                        bar.update(event.done - bar.n)
                        bar.write(line, file=out)
                    else:
                        print(line, file=out)
                elif not event.probe:
                    print(event.message, file=out)
                elif bar is not None:
                    bar.set_postfix_str(f"{event.probe} on {event.model_id}")
            elif isinstance(event, Recorded):
                pass
            elif isinstance(event, Finished):
                finished = event
    finally:
        if bar is not None:
            bar.close()
        await clients.close()
        ranker.store.close()
    assert finished is not None
    return finished


def _evaluate_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    request = EvaluationRequest(
        model_ids=_split(args.models),
        probes=_split(args.probes),
        include_match=args.match,
        deadline_seconds=args.deadline if args.deadline is not None else settings.evaluate_deadline_seconds,
    )
    finished = asyncio.run(evaluate(settings, request))
    print(
        f"probes run {finished.probes_run}, failed {finished.probes_failed}, skipped {finished.probes_skipped};"
        f" {finished.evidence_recorded} records stored in {settings.db_path} (run {finished.run_id})"
    )
    ranker = _open_ranker(settings)
    try:
        for model_id in finished.model_ids:
            result = ranker.score(model_id)
            print(f"  {model_id:<32} {result.score:6.1f}  [{result.low:.1f}, {result.high:.1f}]")
    finally:
        ranker.store.close()
    return 0


def _compare_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    ranker = _open_ranker(settings)
    try:
        comparison = ranker.compare(args.model_a, args.model_b)
    finally:
        ranker.store.close()
    if args.json:
        views = (comparison.a, comparison.b)
        print(
            json.dumps(
                {
                    "headline": comparison.headline,
                    "winner": comparison.winner,
                    "verdict": comparison.verdict,
                    "rows": [[r.name, r.value_a, r.value_b, r.leader.value] for r in comparison.rows],
                    "scores": {v.card.id: [v.score.score, v.score.low, v.score.high] for v in views},
                },
                indent=2,
            )
        )
    else:
        print(format_comparison(comparison))
    return 0


def _report_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    ranker = _open_ranker(settings)
    try:
        pairs = []
        for pair in args.pair or []:
            parts = _split(pair)
            if len(parts) != 2:
                raise SystemExit(f"--pair takes MODEL_A,MODEL_B, got {pair!r}")
            pairs.append((parts[0], parts[1]))
        steps = ["comparisons", "leaderboard", "pages"]
        with tqdm(total=len(steps), desc="report", unit="step", file=sys.stderr) as bar:
            data = build_report(ranker, pairs)
            bar.update(2)
            md_path, html_path = write_report(data, Path(args.out))
            bar.update(1)
    finally:
        ranker.store.close()
    for comparison in data.comparisons:
        print(format_comparison(comparison), end="\n\n")
    print(f"report written: {md_path}\n                {html_path}")
    return 0


def _add_model_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    snapshot = read_snapshot(Path(args.from_file)) if args.from_file else fetch_snapshot(args.hub_id)
    if args.save:
        write_snapshot(snapshot, Path(args.save))
        print(f"model info saved: {args.save}")
    added = add_model(settings.catalog_dir, args.hub_id, snapshot, load_cohorts(settings.cohorts_file), args.id)
    print(f"card written: {settings.catalog_dir}/{added.card.id}.yaml ({added.card.artifact_type}, "
          f"{len(added.card.capabilities)} capabilities)")  # fmt: skip
    with EvidenceStore(settings.db_path) as store:
        stored = store.add_many(added.records)
    print(f"{len(stored)} evidence records imported ({len(added.records) - len(stored)} already stored)")
    return 0


def _add_adapted_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    if settings.catalog_dir is None:
        raise InvalidInput("--catalog-dir: add-adapted writes a card into a catalog folder; name one")
    adaptation = read_adaptation(Path(args.path), args.name or None)
    # An empty folder is seeded with the bundled cards by write_card; until then the bundled ones apply.
    seeded = settings.catalog_dir.is_dir() and any(settings.catalog_dir.glob("*.yaml"))
    base = find_base(load_catalog(settings.catalog_dir if seeded else None), adaptation)
    card = derive_card(base, adaptation)
    data = card_data(card)
    data["id"] = args.id or card.id
    write_card(settings.catalog_dir, data)
    written = replace(card, id=data["id"])
    with EvidenceStore(settings.db_path) as store:
        stored = store.add_many(adaptation_evidence(written, adaptation))
    print(f"card written: {settings.catalog_dir}/{written.id}.yaml ({adaptation.kind} of {base.id})")
    print(f"{len(stored)} evidence records from its manifest; compare: python -m ranker compare {base.id} {written.id}")
    return 0


def _import_adoption_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    ranker = _open_ranker(settings)
    cohorts = load_cohorts(settings.cohorts_file)
    try:
        for name in args.files:
            snapshot = read_snapshot(Path(name))
            card = ranker.catalog.by_hub_id(str(snapshot["id"]))
            if card is None:
                raise InvalidInput(f"{name}: no card has hub_id {snapshot['id']!r} (add it with add-model)")
            records = adoption_records(card.id, card.artifact_type, snapshot, retrieved_at(snapshot, name), cohorts)
            stored = ranker.store.add_many(records)
            print(f"{card.id}: {len(stored)} records imported ({len(records) - len(stored)} already stored)")
    finally:
        ranker.store.close()
    return 0


def _import_pairwise_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    ranker = _open_ranker(settings)
    try:
        records = read_pairwise(Path(args.file), ranker.catalog)
        stored = ranker.store.add_many(records)
        print(f"{len(records) // 2} games read, {len(stored) // 2} new (records stored: {len(stored)})")
    finally:
        ranker.store.close()
    return 0


def _retract_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    with EvidenceStore(settings.db_path) as store:
        count = store.retract(args.source_ref, args.reason)
    if not count:
        raise NotFound(f"source_ref: no record has source {args.source_ref!r}")
    print(f"{args.source_ref}: {count} records no longer count (kept for audit)")
    return 0


def _score_main(args: argparse.Namespace, settings: RankerSettings) -> int:
    ranker = _open_ranker(settings)
    try:
        as_of = None
        if args.at:
            try:
                as_of = dt.date.fromisoformat(args.at)
            except ValueError:
                raise InvalidInput(f"--at: expected YYYY-MM-DD, got {args.at!r}") from None
        result = ranker.score(args.model_id, as_of)
        interval = f"[{result.low:.1f}, {result.high:.1f}]"
        print(f"{args.model_id} as of {result.as_of.isoformat()}: {result.score:.1f} {interval}")
        for c in result.components:
            print(f"  {c.label:<12} {c.value:.2f} x {c.weight:.2f}" + ("  (prior)" if c.from_prior else ""))
        if args.explain and as_of is None:
            _, influences = ranker.explain(args.model_id, args.explain)
            print("records that moved it most:")
            for item in influences:
                r = item.record
                what = f"{r.probe:<30} {r.value:.3g} {r.unit} [{r.source.value}]"
                print(f"  {item.delta:+6.2f}  {item.component:<11} {what}")
    finally:
        ranker.store.close()
    return 0


_DESCRIPTIONS = {
    "evaluate": "Probe the models the emotion and image services serve and store the evidence.",
    "compare": "Compare two models row by row and print the verdict.",
    "report": "Write the comparison report as Markdown and a self-contained HTML page.",
    "add-model": "Add a model to the catalog (--catalog-dir) from its Hugging Face model info.",
    "add-adapted": "Add a LoRA adapter or a fine-tuned bundle to the catalog (--catalog-dir), derived from its base.",
    "import-adoption": "Import downloads, likes and last-modified dates from model-info snapshot files.",
    "import-pairwise": "Import pairwise outcomes (JSONL: query, model_a, model_b, winner, source, time).",
    "retract": "Retract an evidence source: its records stop counting and stay stored.",
    "score": "Print a model's score, now or as of a date, and what moved it most.",
}


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m ranker {command}",
        description=_DESCRIPTIONS[command],
        epilog="Ranker settings (see python -m ranker --help) may follow, e.g. --db-path, --emotion-addresses.",
    )
    if command == "evaluate":
        parser.add_argument("--models", default="", help="comma-separated model ids (default: every served model)")
        parser.add_argument(
            "--probes", default="", help=f"comma-separated probe names (default: all that apply): {', '.join(REGISTRY)}"
        )
        parser.add_argument(
            "--match", action=argparse.BooleanOptionalAction, default=True, help="run cross-model matches"
        )
        parser.add_argument("--deadline", type=float, default=None, help="time budget in seconds")
    elif command == "compare":
        parser.add_argument("model_a")
        parser.add_argument("model_b")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    elif command == "add-model":
        parser.add_argument("hub_id", help="Hugging Face hub id, owner/name")
        parser.add_argument("--id", default="", help="catalog id (default: from the hub id's name)")
        parser.add_argument("--from", dest="from_file", help="read the model info from this snapshot file")
        parser.add_argument("--save", help="write the model info snapshot to this file")
    elif command == "add-adapted":
        parser.add_argument("path", help="an adapter folder (adapter_manifest.json) or a fine-tune output folder")
        parser.add_argument("--name", default="", help="the adaptation's name (default: from its manifest)")
        parser.add_argument("--id", default="", help="catalog id (default: <base id>+<name>)")
    elif command == "import-adoption":
        parser.add_argument("files", nargs="+", help="model-info snapshot files (written by add-model --save)")
    elif command == "import-pairwise":
        parser.add_argument("file", help="JSONL of pairwise outcomes")
    elif command == "retract":
        parser.add_argument("source_ref", help="the source to retract, e.g. pairwise:arena")
        parser.add_argument("--reason", default="", help="why (kept with the retraction)")
    elif command == "score":
        parser.add_argument("model_id")
        parser.add_argument("--at", default="", help="date YYYY-MM-DD: the score from the evidence known by then")
        parser.add_argument("--explain", type=int, default=5, help="show the N records that moved it most (0: none)")
    elif command == "report":
        parser.add_argument("--out", default="build/report", help="output folder (default: build/report)")
        parser.add_argument("--pair", action="append", help="MODEL_A,MODEL_B to compare (repeatable)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to serving or to a command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else "serve"
    rest = argv[1:] if argv and argv[0] in COMMANDS else argv
    if command == "serve":
        return run_service(RankerSettings.load(rest), build_component)
    args, remaining = _parser(command).parse_known_args(rest)
    settings = RankerSettings.load(remaining)
    try:
        handler = {
            "evaluate": _evaluate_main,
            "compare": _compare_main,
            "report": _report_main,
            "add-model": _add_model_main,
            "add-adapted": _add_adapted_main,
            "import-adoption": _import_adoption_main,
            "import-pairwise": _import_pairwise_main,
            "retract": _retract_main,
            "score": _score_main,
        }[command]
        with submitted_as(local_submitter(f"ranker {command}")):
            return handler(args, settings)
    except (ServiceError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
