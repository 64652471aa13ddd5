"""Where the emotion server's CPU goes on the host path: py-spy samples under load, summarised to JSON.

    python bench/profile_emotion.py                       # KServe raw tensors and Classify, 64 clients
    python bench/profile_emotion.py --label before --server-flags="--no-work-conserving --spinning"

The server (tiny model, fp32, max batch 64) runs as a subprocess; ``py-spy record`` samples every
non-idle thread of it while closed-loop clients drive one API. The summary keeps the functions with the
most samples, by self time (the function itself was running) and by total time (it was on the stack),
as shares of all samples. Results: ``bench/results/emotion_profile.json``, one entry per ``--label``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import emotion_host
from bench.common import RESULTS, closed_loop, log, machine, running
from bench.emotion import workload_jpeg
from emotion_service.bundle import default_bundle_dir, load_bundle

_LINE = re.compile(r":\d+\)$")


def frame_name(frame: str) -> str:
    """``fn (path/to/module.py:123)`` -> ``fn (module.py)``: lines of one function count together."""
    name = _LINE.sub(")", frame.strip())
    head, _, where = name.partition(" (")
    return f"{head} ({Path(where.rstrip(')')).name})" if where else head


def summarise(raw: str, top: int) -> dict[str, Any]:
    """Self and total sample shares of the ``top`` functions in py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count

    def shares(counter: collections.Counter[str]) -> list[list[Any]]:
        return [[name, round(count / samples, 3)] for name, count in counter.most_common(top)]

    return {"samples": samples, "self": shares(own), "total": shares(total)}


async def profile_api(api: str, flags: list[str], clients: int, seconds: float, rate: int, top: int) -> dict[str, Any]:
    """Run the server, drive ``api`` with ``clients`` closed-loop clients and sample it for ``seconds``."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    tiny = load_bundle(default_bundle_dir())
    async with running("emotion_service", emotion_host.server_args(tiny, tuple(flags))) as server:
        assert server.proc is not None
        if api == "kserve":
            channel, call = emotion_host.kserve_call(server.address, tiny)
        else:
            channel, call = emotion_host.classify_call(server.address, workload_jpeg())
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "profile.txt"
            cmd = [py_spy, "record", "--pid", str(server.proc.pid), "--duration", str(int(seconds)),
                   "--rate", str(rate), "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
            async with channel:
                await call()
                spy = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                load = await closed_loop(call, clients=clients, warmup_s=0.0, seconds=seconds + 1)
                await spy.wait()
            if spy.returncode != 0 or not out.exists():
                raise RuntimeError(f"py-spy failed ({spy.returncode}): {shlex.join(cmd)}")
            summary = summarise(out.read_text(), top)
    log(f"profiled {api} at {clients} clients: {summary['samples']} samples, {load.summary()['requests_per_s']} req/s")
    return {"clients": clients, "seconds": seconds, "requests_per_s": load.summary()["requests_per_s"], **summary}


def report(results: dict[str, Any], rows: int = 10) -> str:
    """One Markdown table per API: the top self-time functions of each label side by side."""
    from bench.common import table

    labels = list(results)
    parts = []
    for api in ("kserve", "classify"):
        header = ["rank"]
        for label in labels:
            entry = results[label][api]
            header.append(f"{label}: {entry['requests_per_s']} req/s, {entry['samples']} samples (self share)")
        body = []
        for rank in range(rows):
            line: list[Any] = [rank + 1]
            for label in labels:
                top = results[label][api]["self"]
                line.append(f"{top[rank][1]:.1%} `{top[rank][0]}`" if rank < len(top) else "")
            body.append(line)
        flags = "; ".join(f"{label}: {' '.join(results[label]['server_flags']) or 'defaults'}" for label in labels)
        parts.append(f"{api} at {results[labels[0]][api]['clients']} clients ({flags})\n\n" + table(body, header))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="after", help="name of this profile in the results file")
    parser.add_argument("--server-flags", default="", help="extra emotion_service flags (one string)")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS / "emotion_profile.json")
    parser.add_argument(
        "--print-report", action="store_true", help="print the Markdown tables of the existing --out file and exit"
    )
    args = parser.parse_args(argv)
    if args.print_report:
        print(report(json.loads(args.out.read_text())))
        return 0
    flags = shlex.split(args.server_flags)
    entry: dict[str, Any] = {"server_flags": flags, "machine_before": machine()}
    for api in ("kserve", "classify"):
        entry[api] = asyncio.run(profile_api(api, flags, args.clients, args.seconds, args.rate, args.top))
    entry["machine_after"] = machine()
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results[args.label] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for api in ("kserve", "classify"):
        print(f"\n{args.label} {api}: self")
        for name, share in entry[api]["self"]:
            print(f"  {share:6.1%}  {name}")
    print(f"\nwrote {args.label} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
