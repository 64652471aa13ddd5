"""Render benchmark figures from bench/results/*.json into marked blocks of the docs.

Usage: python tools/gen_bench_docs.py [--check] [--docs DIR] [--results DIR]

A block is the text between ``<!-- bench:NAME -->`` and ``<!-- /bench -->`` in a Markdown file under
docs/. Its body is whatever the renderer registered as NAME returns from the committed results, so a
figure in the docs cannot drift from the JSON it comes from. ``--check`` rewrites nothing: it prints a
diff of every stale block and exits 1. To add figures from another result file, write a function
``(results_dir) -> str`` and register it in RENDERERS; then place the block's markers in a doc.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import io
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "bench" / "results"
BLOCK = re.compile(r"(<!-- bench:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /bench -->)", re.S)
OPENER = re.compile(r"<!-- bench:([a-z0-9-]+) -->")

Renderer = Callable[[Path], str]


def _load(results: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / name).read_text())
    return data


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _load_avg(machine: dict[str, Any]) -> str:
    one, five, fifteen = machine.get("loadavg_1_5_15", [float("nan")] * 3)
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min) on {machine.get('cpu_count')} cores"


# -- renderers ------------------------------------------------------------------------------------------------
def image_serving(results: Path) -> str:
    """bench/results/image.json: served vs in-process, torch vs ONNX Runtime step time, batched requests."""
    r = _load(results, "image.json")
    w, machine, four = r["workload"], r["machine"], r["four_requests"]
    steps = r["per_step_seconds"]
    verdict = "within" if r["served_over_inprocess_ok"] else "over"
    lines = [
        f"From `bench/results/image.json` ({w['variant']}, {w['width']}x{w['height']}, {w['steps']} steps, "
        f"{w['device']} {w['dtype']}, {machine['threads']} torch thread, {machine['cpu_count']} cores; "
        f"{machine.get('note', '')}):",
        "",
        *_table(
            ["figure", "value"],
            [
                (
                    f"in-process call (+ PNG), median of {r['repetitions']['single']}",
                    f"{r['inprocess_seconds']:.3f} s",
                ),
                ("served over gRPC, median", f"{r['served_seconds']:.3f} s"),
                (
                    "`served_over_inprocess` (ratio of medians)",
                    f"**{r['served_over_inprocess']:.3f}** ({verdict} the bar {r['served_over_inprocess_bar']:.2f})",
                ),
                ("median of paired ratios", f"{r['served_over_inprocess_paired_median']:.3f}"),
                *(
                    [
                        (
                            "queue-to-first-step overhead at 1 client (GenerateStream's first step event minus the "
                            "in-process call's first step callback), medians",
                            f"{r['first_step']['queue_to_first_step_overhead_ms']:.1f} ms "
                            f"(paired: {r['first_step']['paired_overhead_median_ms']:.1f} ms)",
                        )
                    ]
                    if "first_step" in r
                    else []
                ),
                ("denoising step, torch", f"{steps['torch']:.4f} s"),
                ("denoising step, ONNX Runtime CPU", f"{steps['onnxruntime-cpu']:.4f} s"),
                ("ONNX Runtime step / torch step", f"**{r['onnx_over_torch_step']:.2f}x**"),
                (f"4 requests batched (median of {r['repetitions']['batch']})", f"{four['batched_seconds']:.3f} s"),
                ("4 requests one after another", f"{four['sequential_seconds']:.3f} s"),
                ("batched speed-up", f"**{four['speedup']:.2f}x** (batch sizes seen {four['batch_sizes_seen']})"),
            ],
        ),
        "",
        f"A lone served request also waits the {r['batch_delay_ms']:g} ms batch delay.",
    ]
    return "\n".join(lines) + "\n"


def _load_steps_table(r: dict[str, Any]) -> list[str]:
    bound = f"p99 <= {r['bound_ms']:g} ms"
    rows = [
        (
            f"{s['target_rate']:g}",
            s["attempt"],
            f"{s['requests_per_s']:.3g}",
            f"{s['latency_p50_ms']:.1f}",
            f"{s['latency_p99_ms']:.1f}",
            sum(s["errors"].values()),
            "yes" if s["passes"] else "no",
        )
        for s in r["steps"]
    ]
    return _table(["target/s", "attempt", "achieved/s", "p50 ms", "p99 ms", "errors", bound], rows)


def _load_summary(r: dict[str, Any], unit: str = "requests/s") -> list[str]:
    out = []
    for key in ("under_bound", "under_15ms"):
        found = r.get(key)
        if not found:
            continue
        if found["achieved_requests_per_s"] is None:
            out.append(f"Highest rate with p99 <= {found['bound_ms']:g} ms: none.")
        else:
            out.append(
                f"Highest rate with p99 <= {found['bound_ms']:g} ms: **{found['achieved_requests_per_s']:.3g} {unit} "
                f"achieved** (offered {found['target_rate']:g}/s, attempt {found['attempt']}, "
                f"p99 {found['latency_p99_ms']:g} ms)."
            )
    a = r["attempts"]
    retried = ", ".join(f"{x:g}/s" for x in a["rates_passing_only_on_a_retry"]) or "none"
    out.append(
        f"Attempts: {a['attempts_run']} over {a['rates_tried']} rates (up to "
        f"{r['settings']['attempts_per_rate']} per rate; a rate passes when any attempt passes, and every "
        f"attempt is listed); {a['rates_passing']} rates passed, passed only on a retry: {retried}."
    )
    return out


def load_emotion(results: Path) -> str:
    """bench/results/load.json: every attempt of the emotion sweep and what it concludes."""
    r = _load(results, "load.json")
    lines = [
        f"From `bench/results/load.json` ({r['settings']['seconds_per_step']:g} s steps, "
        f"{_load_avg(r['machine'])}). {r['workload']}:",
        "",
        *_load_steps_table(r),
        "",
        " ".join(_load_summary(r)),
    ]
    return "\n".join(lines) + "\n"


def load_image(results: Path) -> str:
    """bench/results/load_image.json: the image sweep's attempts and what it concludes."""
    r = _load(results, "load_image.json")
    lines = [
        f"From `bench/results/load_image.json` ({r['settings']['budget_s']:g} s budget, "
        f"{_load_avg(r['machine'])}). {r['workload']}:",
        "",
        *_load_steps_table(r),
        "",
        " ".join(_load_summary(r)),
    ]
    return "\n".join(lines) + "\n"


def load_perf_analyzer(results: Path) -> str:
    """bench/results/load_perf_analyzer.json: perf_analyzer's rows per concurrency."""
    r = _load(results, "load_perf_analyzer.json")
    rows = [
        (
            row["concurrency"],
            f"{row['inferences_per_s']:.1f}",
            f"{row['latency_p50_ms']:.1f}",
            f"{row['latency_p90_ms']:.1f}",
            f"{row['latency_p99_ms']:.1f}",
            f"{row['server_queue_ms']:.1f}",
            f"{row['server_compute_infer_ms']:.1f}",
        )
        for row in r["rows"]
    ]
    interval = r["settings"]["measurement_interval_ms"] / 1000
    lines = [
        f"From `bench/results/load_perf_analyzer.json` ({r['mode']}, batch {r['batch_size']}, {interval:g} s "
        f"windows, {_load_avg(r['machine'])}):",
        "",
        *_table(["concurrency", "infer/s", "p50 ms", "p90 ms", "p99 ms", "server queue ms", "server infer ms"], rows),
    ]
    return "\n".join(lines) + "\n"


def _bench(name: str) -> Any:
    """A module of bench/ (its report functions are the one place a table's layout is defined)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"bench.{name}")


def emotion_serving(results: Path) -> str:
    """bench/results/emotion.json: the ViT-B serving table and its ratios (bench/emotion.py)."""
    return str(_bench("emotion").serving_report(_load(results, "emotion.json"))).rstrip("\n") + "\n"


def emotion_host_path(results: Path) -> str:
    """bench/results/emotion.json: the host-path section (tiny model, raw vs served, CPU per request)."""
    return str(_bench("emotion").host_report(_load(results, "emotion.json")["host_path"])).rstrip("\n") + "\n"


def emotion_profile(results: Path) -> str:
    """bench/results/emotion_profile.json: the py-spy profile's top entries, before and after."""
    return str(_bench("profile_emotion").report(_load(results, "emotion_profile.json"))).rstrip("\n") + "\n"


def _printed(function: Callable[[], object]) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        function()
    return buffer.getvalue().rstrip("\n") + "\n"


def fuzz(results: Path) -> str:
    """bench/results/fuzz.json: calls per fuzz target and outcome (tests/faults/fuzzing.py)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    fuzzing = importlib.import_module("tests.faults.fuzzing")
    data = _load(results, "fuzz.json")
    head = (
        f"{data['cases']:,} calls over {data['targets']} targets in {data['seconds']:.0f} s, "
        f"{data['faults']} faults (`item` counts answers inside streams):\n\n"
    )
    return head + str(fuzzing.markdown_table(data["outcomes"])).rstrip("\n") + "\n"


def soak(results: Path) -> str:
    """bench/results/soak.json: per-process growth, client outcomes and the verdict (bench/soak.py)."""
    data = _load(results, "soak.json")
    return _printed(lambda: _bench("soak").print_table(data))


def tracing(results: Path) -> str:
    """bench/results/tracing.json: the same server with tracing off and on, alternated."""
    return str(_bench("tracing_overhead").report(_load(results, "tracing.json"))).rstrip("\n") + "\n"


def emotion_vs_mlserver(results: Path) -> str:
    """bench/results/mlserver.json: emoflux and MLServer on the same model, requests and client."""
    r = _load(results, "mlserver.json")
    head = f"From `bench/results/mlserver.json` ({r['model']}; MLServer: {r['mlserver']}):\n\n"
    return head + str(_bench("mlserver").report(r)).rstrip("\n") + "\n"


def fairness(results: Path) -> str:
    """bench/results/fairness.json: a light client beside a flooder, without and with a queue share."""
    return str(_bench("fairness").report(_load(results, "fairness.json"))).rstrip("\n") + "\n"


def refusal(results: Path) -> str:
    """bench/results/refusal.json: what a refusal costs under overload, before and after."""
    return str(_bench("refusal").report(_load(results, "refusal.json"))).rstrip("\n") + "\n"


RENDERERS: dict[str, Renderer] = {
    "fuzz": fuzz,
    "soak": soak,
    "tracing": tracing,
    "fairness": fairness,
    "refusal": refusal,
    "emotion-serving": emotion_serving,
    "emotion-host-path": emotion_host_path,
    "emotion-profile": emotion_profile,
    "emotion-vs-mlserver": emotion_vs_mlserver,
    "image-serving": image_serving,
    "load-emotion": load_emotion,
    "load-image": load_image,
    "load-perf-analyzer": load_perf_analyzer,
}


# -- blocks -----------------------------------------------------------------------------------------------------
def render_text(text: str, results: Path, where: str = "") -> str:
    """``text`` with the body of every bench block replaced by its renderer's output."""
    opened = OPENER.findall(text)
    found = [m.group("name") for m in BLOCK.finditer(text)]
    if opened != found:
        raise SystemExit(f"{where}: a bench block is not closed with <!-- /bench --> (opened: {opened})")
    unknown = sorted(set(found) - set(RENDERERS))
    if unknown:
        raise SystemExit(f"{where}: unknown bench block(s) {unknown}; known: {sorted(RENDERERS)}")
    return BLOCK.sub(lambda m: m.group(1) + RENDERERS[m.group("name")](results) + m.group(4), text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when a block is stale")
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    stale = 0
    for path in sorted(args.docs.glob("*.md")):
        text = path.read_text()
        if "<!-- bench:" not in text:
            continue
        new = render_text(text, args.results, where=str(path))
        if new == text:
            continue
        if args.check:
            stale += 1
            sys.stdout.writelines(
                difflib.unified_diff(text.splitlines(True), new.splitlines(True), str(path), f"{path} (from JSON)")
            )
        else:
            path.write_text(new)
            print(f"wrote {path}")
    if stale:
        print(f"{stale} doc(s) have stale benchmark figures: run python tools/gen_bench_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
