"""Command line: ``python -m synthfaces grid --out PATH`` writes a labelled sample grid."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from synthfaces.dataset import sample_grid


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m synthfaces", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    grid = sub.add_parser("grid", help="write a labelled PNG grid, one row per label")
    grid.add_argument("--out", required=True, help="output PNG path")
    grid.add_argument("--seed", type=int, default=0, help="grid seed (default 0)")
    grid.add_argument("--per-label", type=int, default=8, help="faces per row (default 8)")
    grid.add_argument("--size", type=int, default=64, help="face size in pixels (default 64)")
    grid.add_argument("--clean", action="store_true", help="clean faces: no nuisances")
    args = parser.parse_args(argv)
    if args.command == "grid":
        sample_grid(args.out, seed=args.seed, per_label=args.per_label, size=args.size, clean=args.clean)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
