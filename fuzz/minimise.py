"""Delta debugging: shrink a failing target file while it keeps failing the same way."""

from __future__ import annotations

import time
from collections.abc import Callable

from .case import Case


def _chunks(units: list[bytes], n: int) -> list[tuple[int, int]]:
    size = max(1, len(units) // n)
    return [(i, min(i + size, len(units))) for i in range(0, len(units), size)]


def _reduce(units: list[bytes], still_fails: Callable[[list[bytes]], bool],
            out_of_budget: Callable[[], bool]) -> list[bytes]:
    """ddmin over complements: drop chunks of `units` while `still_fails` holds."""
    n = 2
    while len(units) >= 2 and not out_of_budget():
        for start, end in _chunks(units, n):
            trial = units[:start] + units[end:]
            if still_fails(trial):
                units = trial
                n = max(n - 1, 2)
                break
            if out_of_budget():
                return units
        else:
            if n >= len(units):
                break
            n = min(len(units), n * 2)
    return units


def minimise(case: Case, fails_alike: Callable[[Case], bool], budget_runs: int = 300,
             budget_seconds: float = 120.0) -> Case:
    """The smallest target found (lines first, then bytes) for which `fails_alike` holds,
    within the budgets."""
    deadline = time.monotonic() + budget_seconds
    runs = [0]

    def out_of_budget() -> bool:
        return runs[0] >= budget_runs or time.monotonic() > deadline

    def check(data: bytes) -> bool:
        runs[0] += 1
        return fails_alike(case.with_data(data))

    lines = case.data.split(b"\n")
    lines = _reduce(lines, lambda units: check(b"\n".join(units)), out_of_budget)
    data = b"\n".join(lines)
    if len(data) <= 4096:
        units = [data[i:i + 1] for i in range(len(data))]
        data = b"".join(_reduce(units, lambda units: check(b"".join(units)), out_of_budget))
    return case.with_data(data, "minimised")
