"""`python -m fuzz --seconds 1800 --seed 1 --out fuzz-findings/`: fuzz soc2lint and sum up."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .campaign import Settings, run
from .snippets import BY_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    parser.add_argument("--seed", type=int, default=1, help="random seed (a run is repeatable)")
    parser.add_argument("--out", type=Path, help="directory for minimised failing inputs")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input before a hang")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space limit per input")
    parser.add_argument("--max-inputs", type=int, help="stop after this many inputs")
    parser.add_argument("--exclude", action="append", default=[], metavar="SNIPPET",
                        help="leave out a named snippet (repeatable)")
    parser.add_argument("--no-minimise", action="store_true", help="save failures as found")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.exclude) - set(BY_NAME))
    if unknown:
        parser.error(f"unknown snippet: {', '.join(unknown)}")
    summary = run(Settings(args.seconds, args.seed, args.out, args.timeout, args.memory_mb,
                           frozenset(args.exclude), not args.no_minimise, args.max_inputs),
                  log=lambda line: print(line, flush=True))
    print("\n".join(summary.lines()))
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
