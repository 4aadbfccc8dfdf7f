"""The fuzz loop: make inputs, run them, minimise and save each new failure, sum up."""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import child
from .case import Case
from .generate import generate
from .minimise import minimise
from .mutate import mutate
from .seeds import load


@dataclass(frozen=True)
class Settings:
    """How long, from which seed, where to save, and the per-input limits."""

    seconds: float = 60.0
    seed: int = 1
    out: Path | None = None
    timeout: float = 10.0
    memory_mb: int = 2048
    exclude: frozenset[str] = frozenset()
    minimise: bool = True
    max_inputs: int | None = None


@dataclass
class Summary:
    """What a run did: inputs tried, failures by kind and signature, peak child memory."""

    tried: int = 0
    kinds: Counter = field(default_factory=Counter)
    signatures: Counter = field(default_factory=Counter)
    peak_rss_kb: int = 0
    slowest: float = 0.0
    saved: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(self.kinds.values())

    def lines(self) -> list[str]:
        lines = [f"inputs tried: {self.tried}",
                 f"crashes: {self.kinds['crash']}",
                 f"hangs: {self.kinds['hang']}",
                 f"memory blow-ups: {self.kinds['memory']}",
                 f"peak child memory (max RSS): {self.peak_rss_kb / 1024:.0f} MiB",
                 f"slowest input: {self.slowest:.2f} s",
                 f"distinct failure signatures: {len(self.signatures)}"]
        lines += [f"  {count:5d}  {sig}" for sig, count in self.signatures.most_common()]
        lines += [f"saved: {path}" for path in self.saved]
        return lines


def next_case(rng: random.Random, seeds: list[Case], exclude: frozenset[str]) -> Case:
    """A generated case a quarter of the time, else a mutated seed."""
    if rng.random() < 0.25:
        return generate(rng, exclude)
    return mutate(rng, rng.choice(seeds), seeds, exclude)


def run(settings: Settings, log=print) -> Summary:
    """Fuzz for `settings.seconds` (or `max_inputs`) and return the summary."""
    child.warm_up()
    rng = random.Random(settings.seed)
    seeds = load()
    summary = Summary()
    memory = settings.memory_mb * 1024 * 1024
    work = Path(tempfile.mkdtemp(prefix="soc2lint-fuzz-"))
    deadline = time.monotonic() + settings.seconds
    try:
        while time.monotonic() < deadline and (settings.max_inputs is None
                                                or summary.tried < settings.max_inputs):
            case = next_case(rng, seeds, settings.exclude)
            outcome = child.run(case, work / "case", settings.timeout, memory)
            summary.tried += 1
            summary.peak_rss_kb = max(summary.peak_rss_kb, outcome.max_rss_kb)
            summary.slowest = max(summary.slowest, outcome.seconds)
            if not outcome.failed:
                continue
            summary.kinds[outcome.kind] += 1
            summary.signatures[outcome.signature] += 1
            if summary.signatures[outcome.signature] > 1:
                continue
            log(f"[{summary.tried}] {outcome.signature} ({' / '.join(case.steps)})")
            if settings.out is not None:
                summary.saved.append(_save(case, outcome, settings, work, deadline))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _save(case: Case, outcome: child.Outcome, settings: Settings, work: Path,
          deadline: float) -> Path:
    """Minimise the case (keeping its signature) and write it under `settings.out`."""
    memory = settings.memory_mb * 1024 * 1024
    small = case
    if settings.minimise:
        def fails_alike(trial: Case) -> bool:
            return child.run(trial, work / "trial", settings.timeout, memory).signature == \
                outcome.signature

        hang = outcome.kind == "hang"
        small = minimise(case, fails_alike, budget_runs=12 if hang else 300,
                         budget_seconds=max(15.0, min(120.0, deadline - time.monotonic())))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", outcome.signature).strip("-")[:60]
    digest = hashlib.sha1(outcome.signature.encode()).hexdigest()[:8]
    folder = settings.out / f"{slug}-{digest}"
    small.write(folder / "minimised")
    case.write(folder / "original")
    (folder / "stderr.txt").write_text(outcome.stderr, encoding="utf-8")
    (folder / "info.json").write_text(json.dumps({
        "signature": outcome.signature, "kind": outcome.kind, "exit_code": outcome.code,
        "seconds": round(outcome.seconds, 3), "max_rss_kb": outcome.max_rss_kb,
        "target": case.target, "steps": list(case.steps), "seed": settings.seed,
        "reproduce": f"cd {folder / 'minimised'} && python -m soc2lint {' '.join(child.ARGS)}",
    }, indent=2) + "\n", encoding="utf-8")
    return folder
